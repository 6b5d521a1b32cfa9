/* Finding the few keys a measurement needs in a server message, without
 * parsing the JSON. A key cannot be mistaken for text inside a string: JSON
 * escapes quotes there (`\"seq\":`). The gateway writes no spaces. */
#include "blast.h"

#include <string.h>

const char *scan_find(const char *s, size_t n, const char *key, size_t klen) {
    const char *p = memmem(s, n, key, klen);
    return p ? p + klen : NULL;
}

/* The non-negative integer after `key`; 0 if the key is absent or no digits follow. */
int scan_int(const char *s, size_t n, const char *key, size_t klen, int64_t *out) {
    const char *p = scan_find(s, n, key, klen);
    if (!p) return 0;
    const char *end = s + n;
    int64_t v = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    if (p == start) return 0;
    *out = v;
    return 1;
}

/* The string value after `key` (which ends with the opening quote), without
 * escapes: ids are plain ASCII. 0 if absent or escaped. */
int scan_str(const char *s, size_t n, const char *key, size_t klen, const char **v, size_t *vlen) {
    const char *p = scan_find(s, n, key, klen);
    if (!p) return 0;
    const char *q = memchr(p, '"', (size_t)(s + n - p));
    if (!q) return 0;
    if (memchr(p, '\\', (size_t)(q - p))) return 0;
    *v = p;
    *vlen = (size_t)(q - p);
    return 1;
}

size_t u64_to_a(char *out, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}
