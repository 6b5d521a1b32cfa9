#!/usr/bin/env bash
# Starts three release gateways on this machine joined by a local Redis bus and
# sharing the MongoDB-wire test server (secantusd-py: slow, it proves
# correctness only), for loadtest/RESULTS.md. Prints the --url flags and the
# gateway PIDs; stop everything with: kill $(cat /tmp/lt-cluster/pids)
# Usage: three-nodes.sh <jwt-secret> [extra gateway flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secret=$1; shift
dir=/tmp/lt-cluster
rm -rf "$dir" && mkdir -p "$dir"
redis-server --port 6391 --save '' --appendonly no --daemonize no > "$dir/redis.log" 2>&1 &
echo $! > "$dir/pids"
secantusd-py --host 127.0.0.1 --port 27391 --storage-path :memory: --log-level WARNING > "$dir/mongo.log" 2>&1 &
echo $! >> "$dir/pids"
sleep 3
urls=()
for port in 18201 18202 18203; do
  .build/release/social-gateway --host 127.0.0.1 --port $port --jwt-secret "$secret" \
    --store mongodb://127.0.0.1:27391 --mongo-database loadtest --mongo-write-concern 1 \
    --bus redis://127.0.0.1:6391 --data-dir "$dir/node-$port" --log-level warning "$@" > "$dir/node-$port.log" 2>&1 &
  echo $! >> "$dir/pids"
  urls+=("--url ws://127.0.0.1:$port/ws")
done
for port in 18201 18202 18203; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.2; done
done
echo "${urls[*]}"
echo "gateway pids: $(tail -3 "$dir/pids" | tr '\n' ' ')"
