// Preloaded by scripts/tsan.sh. Tells ThreadSanitizer about Synchronization.Mutex's slow paths (futex calls
// inside libswiftSynchronization.so, which is not instrumented).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdbool.h>

extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

typedef __attribute__((swiftcall)) void (*lock_slow_fn)(uint32_t, void *__attribute__((swift_context)));
typedef __attribute__((swiftcall)) void (*unlock_slow_fn)(void *__attribute__((swift_context)));
typedef __attribute__((swiftcall)) bool (*try_lock_slow_fn)(void *__attribute__((swift_context)));

__attribute__((swiftcall)) void lock_slow(uint32_t owner, void *__attribute__((swift_context)) self)
    __asm__("$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF");
__attribute__((swiftcall)) void unlock_slow(void *__attribute__((swift_context)) self)
    __asm__("$s15Synchronization12_MutexHandleV11_unlockSlowyyF");
__attribute__((swiftcall)) bool try_lock_slow(void *__attribute__((swift_context)) self)
    __asm__("$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF");

__attribute__((swiftcall)) void lock_slow(uint32_t owner, void *__attribute__((swift_context)) self) {
    static lock_slow_fn real;
    if (!real) real = (lock_slow_fn)dlsym(RTLD_NEXT, "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF");
    real(owner, self);
    if (__tsan_acquire) __tsan_acquire(self);
}

__attribute__((swiftcall)) void unlock_slow(void *__attribute__((swift_context)) self) {
    static unlock_slow_fn real;
    if (!real) real = (unlock_slow_fn)dlsym(RTLD_NEXT, "$s15Synchronization12_MutexHandleV11_unlockSlowyyF");
    if (__tsan_release) __tsan_release(self);
    real(self);
}

__attribute__((swiftcall)) bool try_lock_slow(void *__attribute__((swift_context)) self) {
    static try_lock_slow_fn real;
    if (!real) real = (try_lock_slow_fn)dlsym(RTLD_NEXT, "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF");
    bool locked = real(self);
    if (locked && __tsan_acquire) __tsan_acquire(self);
    return locked;
}
