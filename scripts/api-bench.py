"""Backend API throughput: N keep-alive connections, each posting M messages
into one chat as the system (POST /api/v1/chats/{chat_id}/messages).

Usage: SOCIAL_GATEWAY_JWT_SECRET=<the gateway's HS256 secret> \
       python3 scripts/api-bench.py <port> <connections> <posts-per-connection> <chat_id> <run-tag>
Prints requests per second and latency percentiles; every answer must be 201
(a run tag already used makes duplicates: 200, counted as errors).
"""
import base64, hashlib, hmac, http.client, json, os, sys, threading, time
SECRET = os.environ["SOCIAL_GATEWAY_JWT_SECRET"].encode()
def token(scope):
    b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
    h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b(json.dumps({"sub": "bench", "exp": int(time.time()) + 3600, "scope": scope}).encode())
    return h + "." + p + "." + b(hmac.new(SECRET, (h + "." + p).encode(), hashlib.sha256).digest())
port, conns, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
chat = sys.argv[4]
RUN = sys.argv[5]
headers = {"Authorization": "Bearer " + token("social:post"), "Content-Type": "application/json"}
lat, errors = [], []
def worker(i):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for n in range(per):
        body = json.dumps({"text": f"announcement {i}-{n}", "client_msg_id": f"{RUN}-{i}-{n}"})
        t = time.perf_counter()
        c.request("POST", f"/api/v1/chats/{chat}/messages", body, headers)
        r = c.getresponse(); r.read()
        lat.append(time.perf_counter() - t)
        if r.status != 201: errors.append(r.status)
start = time.perf_counter()
ts = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
[t.start() for t in ts]; [t.join() for t in ts]
el = time.perf_counter() - start
lat.sort()
print(f"{conns} conns x {per} posts: {len(lat)/el:.0f} req/s, p50 {lat[len(lat)//2]*1000:.2f} ms, p99 {lat[int(len(lat)*0.99)]*1000:.2f} ms, errors {len(errors)}")
