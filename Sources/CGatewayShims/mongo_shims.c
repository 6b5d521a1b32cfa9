#include <mongoc/mongoc.h>
#include "CGatewayShims.h"

/*
 * Storage for libbson structs whose 128-byte alignment hides their layout
 * from Swift. Any thread may call these.
 *
 * A reply is initialised empty with bson_init, which marks it static: libmongoc
 * re-initialises it in place (also static), so bson_destroy frees only its
 * buffer and the storage itself is released with bson_free.
 *
 * bson_aligned_alloc is C11 aligned_alloc, whose size must be a multiple of
 * the alignment (bson_iter_t is 80 bytes aligned to 128): glibc lets it pass,
 * ThreadSanitizer's allocator and stricter C libraries refuse it.
 */
#define SG_ALIGNED_SIZE(type) ((sizeof(type) + BSON_ALIGNOF(type) - 1) / BSON_ALIGNOF(type) * BSON_ALIGNOF(type))

bson_t *sg_bson_reply_new(void) {
    bson_t *reply = bson_aligned_alloc(BSON_ALIGNOF(bson_t), SG_ALIGNED_SIZE(bson_t));
    bson_init(reply);
    return reply;
}

void sg_bson_reply_free(bson_t *reply) {
    if (!reply) return;
    bson_destroy(reply);
    bson_free(reply);
}

void *sg_bson_iter_new(void) {
    return bson_aligned_alloc(BSON_ALIGNOF(bson_iter_t), SG_ALIGNED_SIZE(bson_iter_t));
}

void sg_bson_iter_free(void *iter) { bson_free(iter); }
