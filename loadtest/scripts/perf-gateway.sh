#!/usr/bin/env bash
# Profiles a release gateway under one social-blast scenario: starts the gateway
# under `perf record -g` (CPU samples, plus the send/recv/epoll/futex syscalls,
# which inflates their share) on a fresh data directory, runs the driver
# against it, stops the gateway, and leaves the recording in $PERF_OUT.
#
# Usage: loadtest/scripts/perf-gateway.sh <gateway-binary> <social-blast args...>
#   e.g.  loadtest/scripts/perf-gateway.sh .build/release/social-gateway \
#             chat --groups 100 --members 10 --rate 2000 --duration 15
#   FREQ      samples per second (default 2000)
#   PERF_OUT  the recording (default /tmp/social-gateway.perf.data)
#   GWARGS    more gateway arguments
# Then: perf report -i "$PERF_OUT" --no-children -s pid,sym -g none
set -euo pipefail
cd "$(dirname "$0")/../.."
gateway=$(readlink -f "${1:?usage: perf-gateway.sh <gateway-binary> <social-blast args...>}"); shift
blast=${SOCIAL_BLAST_BIN:-$(dirname "$gateway")/social-blast}
out=${PERF_OUT:-/tmp/social-gateway.perf.data}
port=${PORT:-18090}
data=$(mktemp -d)
secret=perf-gateway-secret-0123456789abcdef0123
trap 'rm -rf "$data"' EXIT
perf record -F "${FREQ:-2000}" -g -e cpu-clock \
    -e 'syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,syscalls:sys_enter_recvfrom' \
    -o "$out" -- "$gateway" --data-dir "$data" --port "$port" --jwt-secret "$secret" \
    --log-level warning --rate-limits off ${GWARGS:-} > "$data/gateway.log" 2>&1 &
recorder=$!
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break
    sleep 0.2
done
pid=$(pgrep -f -- "--data-dir $data" | grep -v "^$recorder\$" | head -1)
"$blast" "$@" --port "$port" --gateway-pid "$pid" --jwt-secret "$secret"
kill -INT "$pid"
wait "$recorder" || true
echo "recording: $out"
