#!/usr/bin/env bash
# Runs every target of issue #11 ("The hot path") against one release gateway
# binary with social-blast, each on a fresh temporary data directory (the
# driver spawns the gateway: embedded store unless a row says otherwise), and
# prints one table row per target: the gateway's CPU and the driver's CPU side
# by side, the figures, the load average, and whether delivery was verified.
#
# Usage: loadtest/scripts/hotpath-bench.sh <gateway-binary> [label]
#   SOCIAL_BLAST_BIN   the driver (default: social-blast next to the gateway
#                      binary, else the release build's)
#   OUT                directory for the logs (default loadtest/results/hotpath-<label>)
#   ROWS               which rows to run, space-separated (default: all):
#                      chat10k chat1k fanout fanout-memory pipeline throughput connect
#   DURATION           seconds of sending per row (default 20 for chat, 10 otherwise)
#   CALM_MAX_WAIT      before each row, wait up to this many seconds (default 600; 0: do not wait)
#                      for the machine to be quiet: less than CALM_BUSY (default 0.15) cores busy
#                      over 5 s, from /proc/stat. The machine is shared with other builds.
#
# Rate limits: rows whose one connection sends more than the gateway's default
# per-connection message limit (100/s, bursts of 1000) run with
# `--rate-limits off`: fanout (one sender, 16 in flight), pipeline (one
# connection) and throughput (64 senders, 16 in flight each). The chat rows
# (0.2 and 2 messages/s per connection) and connect run with the defaults.
set -uo pipefail
cd "$(dirname "$0")/../.."

gateway=${1:?usage: hotpath-bench.sh <gateway-binary> [label]}
label=${2:-$(basename "$(dirname "$gateway")")}
gateway=$(readlink -f "$gateway")
[[ -x $gateway ]] || { echo "no gateway binary at $gateway" >&2; exit 1; }
blast=${SOCIAL_BLAST_BIN:-$(dirname "$gateway")/social-blast}
if [[ ! -x $blast ]]; then
    blast="$(PATH=/opt/swift/usr/bin:$PATH swift build -c release --show-bin-path)/social-blast"
fi
[[ -x $blast ]] || { echo "no social-blast (build it: swift build -c release --product social-blast)" >&2; exit 1; }
out=${OUT:-loadtest/results/hotpath-$label}
mkdir -p "$out"
rows=${ROWS:-chat10k chat1k fanout fanout-memory pipeline throughput connect}
ulimit -n "$(ulimit -Hn)"

results="$out/results.txt"
: > "$results"
echo "gateway: $gateway" | tee "$out/README.txt"
echo "driver:  $blast" | tee -a "$out/README.txt"
echo "machine: $(nproc) cores, $(uname -r); started $(date -u +%FT%TZ)" | tee -a "$out/README.txt"

# Cores busy over 5 s (all processes), from /proc/stat.
busy_cores() {
    local a b
    a=($(head -1 /proc/stat)); sleep 5; b=($(head -1 /proc/stat))
    local busy=0 total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    busy=$((total - (b[4] - a[4]) - (b[5] - a[5])))
    awk -v b=$busy -v t=$total -v n="$(nproc)" 'BEGIN { printf "%.2f", t ? b / t * n : 0 }'
}

wait_calm() {
    local max=${CALM_MAX_WAIT:-600} limit=${CALM_BUSY:-0.15} waited=0 busy
    ((max > 0)) || return 0
    while :; do
        busy=$(busy_cores)
        awk -v b="$busy" -v l="$limit" 'BEGIN { exit !(b < l) }' && break
        if ((waited >= max)); then echo "   machine still busy ($busy cores) after ${waited} s; running anyway"; return; fi
        sleep 10; waited=$((waited + 15))
    done
    echo "   machine quiet ($busy cores busy over 5 s) after waiting ${waited} s"
}

# run <row> <target text> <social-blast arguments...>
run() {
    local row=$1 target=$2; shift 2
    [[ " $rows " == *" $row "* ]] || return 0
    local log="$out/$row.log"
    echo
    echo "== $row: social-blast $*"
    wait_calm
    echo "   uptime before: $(uptime)"
    "$blast" "$@" --spawn "$gateway" --label "$label $row" > "$log" 2>&1
    local rc=$?
    cat "$log"
    echo "   uptime after:  $(uptime)"
    local line
    line=$(grep '^RESULT ' "$log" | tail -1)
    [[ -n $line ]] || line="RESULT scenario=none verified=0"
    printf '%s\trc=%s\t%s\t%s\t%s\n' "$row" "$rc" "$target" "$*" "$line" >> "$results"
}

chat_d=${DURATION:-20}
d=${DURATION:-10}
run chat10k "p99 <= 5 ms, gateway <= 0.5 core" \
    chat --groups 1000 --members 10 --rate 2000 --duration "$chat_d" --drain-timeout 60
run chat1k "p99 <= 2 ms, gateway <= 0.3 core" \
    chat --groups 100 --members 10 --rate 2000 --duration "$chat_d"
run fanout ">= 700,000 deliveries/s, <= 1.4 us gateway CPU per delivery" \
    fanout --members 1000 --senders 1 --inflight 16 --duration "$d" --rate-limits off
run fanout-memory "(the same on --store memory, for comparison)" \
    fanout --members 1000 --senders 1 --inflight 16 --duration "$d" --rate-limits off --store memory
run pipeline ">= 5,000 acknowledged sends/s, in order" \
    pipeline --inflight 16 --duration "$d" --rate-limits off
run throughput ">= 20,000 stored and acknowledged sends/s" \
    throughput --groups 64 --inflight 16 --duration "$d" --rate-limits off
run connect ">= 20,000 connections/s; 19,000 idle <= 2% of a core; <= 4 KiB each" \
    connect --connections 19000 --hold 40

echo
python3 - "$results" <<'EOF' | tee "$out/table.md"
import shlex, sys
print("| Row | Target | Figures | Gateway CPU | Driver CPU | Load avg (start → end) | Verified |")
print("|---|---|---|---|---|---|---|")
for raw in open(sys.argv[1]):
    row, rc, target, args, line = raw.rstrip("\n").split("\t")
    r = dict(kv.split("=", 1) for kv in shlex.split(line)[1:])
    f = lambda k, fmt="{:.0f}": fmt.format(float(r[k])) if k in r else "?"
    if r.get("scenario") == "connect":
        figures = (f"{f('opened')} opened at **{f('conns_per_s')}/s** (p99 connect→hello {f('connect_p99_ms', '{:.1f}')} ms); "
                   f"idle {f('hold_s')} s: gateway **{float(r['hold_gw_cores'])*100:.2f}% of a core**; "
                   f"**{f('rss_per_conn_kib', '{:.2f}')} KiB** per connection")
        gw = f"set-up {f('setup_gw_cpu_s', '{:.2f}')} s ({f('gw_us_per_conn', '{:.1f}')} µs/conn); hold {f('hold_gw_cpu_s', '{:.2f}')} s"
        drv = f"set-up {f('setup_drv_cpu_s', '{:.2f}')} s; hold {f('hold_drv_cpu_s', '{:.2f}')} s"
    elif r.get("scenario") in ("chat", "fanout", "pipeline", "throughput"):
        figures = (f"{f('acks_per_s')} acks/s, {f('deliveries_per_s')} deliveries/s; "
                   f"delivery p50/p99/p99.9/max {f('del_p50_ms', '{:.2f}')}/{f('del_p99_ms', '{:.2f}')}/"
                   f"{f('del_p999_ms', '{:.2f}')}/{f('del_max_ms', '{:.1f}')} ms; ack p99 {f('ack_p99_ms', '{:.2f}')} ms")
        if r["scenario"] in ("pipeline", "throughput"):
            figures = f"**{f('acks_per_s')} acks/s**; ack p50/p99 {f('ack_p50_ms', '{:.2f}')}/{f('ack_p99_ms', '{:.2f}')} ms"
        gw = (f"{f('gw_cores', '{:.2f}')} cores; {f('gw_us_per_msg', '{:.0f}')} µs/msg, "
              f"{f('gw_us_per_delivery', '{:.2f}')} µs/delivery")
        drv = f"{f('drv_cores', '{:.2f}')} cores"
        if r["scenario"] == "chat":
            drv += f"; its own delays p99: sending {f('lag_p99_ms', '{:.2f}')} ms, reading {f('rdelay_p99_ms', '{:.2f}')} ms"
    else:
        figures, gw, drv = "run failed (see log)", "?", "?"
    load = f"{r.get('load_start', '?')} → {r.get('load_end', '?')}"
    ok = "yes" if r.get("verified") == "1" and rc == "rc=0" else f"**no** ({rc})"
    print(f"| {row} | {target} | {figures} | {gw} | {drv} | {load} | {ok} |")
EOF
echo
echo "logs: $out"
