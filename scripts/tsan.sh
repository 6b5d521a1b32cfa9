#!/usr/bin/env bash
# The whole Swift suite under ThreadSanitizer, the gateways it starts included.
# Not part of CI (about 13 minutes on 2 cores, after a 2-12 minute build). Reports go to
# $TSAN_DIR (default /tmp/social-tsan), one file per process; the summary
# lines are printed at the end, counted by place.
#
# Synchronization.Mutex takes and releases its lock in uninstrumented code
# when contended (libswiftSynchronization's futex slow paths), so TSan misses
# those happens-before edges and reports every contended critical section as
# a race. scripts/tsan/mutex-annotations.c, preloaded, wraps the lock,
# try-lock and unlock slow paths with __tsan_acquire/__tsan_release on the
# lock word; without it the
# run is noise.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
out="${TSAN_DIR:-/tmp/social-tsan}"
mkdir -p "$out/reports"
rm -f "$out"/reports/*

clang -O1 -shared -fPIC -o "$out/libmutex-annotations.so" scripts/tsan/mutex-annotations.c -ldl
swift build --build-tests --sanitize=thread
bin="$(swift build --show-bin-path --sanitize=thread)"
export SOCIAL_GATEWAY_BIN="$bin/social-gateway"
export TSAN_OPTIONS="log_path=$out/reports/report halt_on_error=0 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan/suppressions.txt"
export LD_PRELOAD="$out/libmutex-annotations.so"
start=$(date +%s)
status=0
swift test --skip-build --sanitize=thread --no-parallel "$@" || status=$?
unset LD_PRELOAD
echo "suite under TSan: exit $status in $(( $(date +%s) - start )) s"
echo "reports: $(ls "$out/reports" | wc -l) files in $out/reports"
grep -h '^SUMMARY' "$out"/reports/* 2>/dev/null | sed 's/ in \$.*//' | sort | uniq -c | sort -rn || true
exit $status
