/* HS256 access tokens, as the SSO mints them: header {"alg":"HS256","typ":"JWT"},
 * claims sub, exp, did. HMAC-SHA256 from libcrypto. */
#include "blast.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

size_t b64_encode(char *out, const unsigned char *in, size_t n, int url) {
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char web[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *t = url ? web : std;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = t[(v >> 6) & 63]; else if (!url) out[o++] = '=';
        if (!url) out[o++] = '=';
    }
    return o;
}

/* Writes `<header>.<claims>.<signature>` into out; returns its length, 0 if it does not fit. */
size_t jwt_mint(char *out, size_t cap, const char *secret, const char *sub, uint64_t exp) {
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char claims[256];
    size_t sublen = strlen(sub);
    if (sublen > 128) return 0;
    size_t cl = 0;
    memcpy(claims + cl, "{\"sub\":\"", 8); cl += 8;
    memcpy(claims + cl, sub, sublen); cl += sublen;
    memcpy(claims + cl, "\",\"exp\":", 8); cl += 8;
    cl += u64_to_a(claims + cl, exp);
    memcpy(claims + cl, ",\"did\":\"blast\"}", 15); cl += 15;

    if (cap < 4 * (sizeof header + cl) / 3 + 64) return 0;
    size_t o = b64_encode(out, (const unsigned char *)header, sizeof header - 1, 1);
    out[o++] = '.';
    o += b64_encode(out + o, (const unsigned char *)claims, cl, 1);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)out, o, mac, &maclen)) return 0;
    out[o++] = '.';
    o += b64_encode(out + o, mac, maclen, 1);
    return o;
}
