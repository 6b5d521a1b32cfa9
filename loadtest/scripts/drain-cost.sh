#!/usr/bin/env bash
# What closing many connections costs the gateway: 19,000 (or $CONNECTIONS)
# connections opened with social-blast and closed by the driver, then as many
# opened again and the gateway drained with SIGTERM. Prints the gateway's CPU
# for each and how long the drained process took to exit.
#
# Usage: loadtest/scripts/drain-cost.sh <gateway-binary>
#   SOCIAL_BLAST_BIN  the driver (default: social-blast next to the gateway binary)
#   CONNECTIONS       default 19000
#   PORT              default 18115
set -euo pipefail
cd "$(dirname "$0")/../.."
gateway=$(readlink -f "${1:?usage: drain-cost.sh <gateway-binary>}")
blast=${SOCIAL_BLAST_BIN:-$(dirname "$gateway")/social-blast}
[[ -x $blast ]] || { echo "no social-blast at $blast (set SOCIAL_BLAST_BIN)" >&2; exit 1; }
n=${CONNECTIONS:-19000}
port=${PORT:-18115}
secret=drain-cost-secret-0123456789abcdef0123456
data=$(mktemp -d)
ulimit -n "$(ulimit -Hn)"
"$gateway" --data-dir "$data" --port "$port" --jwt-secret "$secret" --log-level warning > "$data/gateway.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; pkill -f "social-blast connect --port $port" || true; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.2; done
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$pid/stat"; }

"$blast" connect --port "$port" --gateway-pid "$pid" --jwt-secret "$secret" --connections "$n" --hold 2 > "$data/blast1.log"
before=$(cpu); sleep 4; after=$(cpu)
echo "the driver closed $n connections: gateway CPU $(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", b - a }') s in the next 4 s"

"$blast" connect --port "$port" --gateway-pid "$pid" --jwt-secret "$secret" --connections "$n" --hold 60 > "$data/blast2.log" 2>&1 &
sleep 8
before=$(cpu); last=$before; start=$(date +%s.%N)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do last=$(cpu 2>/dev/null || echo "$last"); sleep 0.05; done
end=$(date +%s.%N)
echo "drain of $n (SIGTERM): gateway CPU at least $(awk -v a="$before" -v b="$last" 'BEGIN { printf "%.2f", b - a }') s; the process exited after $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
