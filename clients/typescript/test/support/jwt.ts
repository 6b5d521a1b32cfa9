/** HS256 access tokens minted with WebCrypto, as the SSO would. */

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const enc = new TextEncoder();

export async function mintToken(
  secret: string,
  claims: { sub: string; did?: string; expiresInSeconds?: number; exp?: number },
): Promise<string> {
  const header = b64url(enc.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload: Record<string, unknown> = {
    sub: claims.sub,
    exp: claims.exp ?? Math.floor(Date.now() / 1000) + (claims.expiresInSeconds ?? 3600),
  };
  if (claims.did) payload.did = claims.did;
  const body = b64url(enc.encode(JSON.stringify(payload)));
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(`${header}.${body}`)));
  return `${header}.${body}.${b64url(sig)}`;
}
