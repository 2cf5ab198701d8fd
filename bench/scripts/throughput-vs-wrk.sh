#!/usr/bin/env bash
# coldfront's maximum throughput (closed model, keep-alive, one generator core) against wrk -t1
# on the same minimal loopback target, same connection count and duration. Each tool runs
# twice in alternation (wrk, coldfront, wrk, coldfront); the best of each is reported.
#
#   bench/scripts/throughput-vs-wrk.sh            # CONNECTIONS=32 DURATION=10s
#   CONNECTIONS=64 DURATION=5s bench/scripts/throughput-vs-wrk.sh
#
# Generator on CPU 0 (taskset -c 0), target on CPU 1 (loopback_target --threads 1).
# Goal: coldfront/wrk >= 1.0x and CPU per request at or below wrk's; below 0.8x is a defect.
# CPU per request: wrk's whole process (bash `time`); coldfront's generator during the load
# (summary.json generator.cpu_busy × cpus × duration). Then the kernel's part of it (system
# time per request, bash `time` of each whole process; coldfront's includes its setup and
# report): on loopback, the sender's system call also runs the receiver's TCP path, so this
# part bounds what any generator on this kernel can reach per core.
set -euo pipefail

CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-10s}"
ROUNDS=2

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init coldfront-throughput

ensure_base_commands
ensure_command wrk wrk
bench_prepare
echo "target: $URL (pid $TARGET_PID, CPU 1); generators on CPU 0; $CONNECTIONS connections, $DURATION per run" >&2

cat >"$WORK/max-throughput.toml" <<TOML
name = "max-throughput"
[targets.target]
url = "$URL"
[load]
model = "closed"
connections = "keep-alive"
max_connections = $CONNECTIONS
[[load.phases]]
duration = "$DURATION"
concurrency = $CONNECTIONS
[[requests]]
path = "/"
TOML

# A short warm-up so the first measured run does not pay for page faults and cold caches.
taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d1s "$URL/" >/dev/null

WRK_RPS=()
WRK_LAT=()
WRK_CPU=()
WRK_SYS=()
CF_CPU=()
CF_SYS=()
CF_RPS=()
CF_LAT=()
CF_ERR=()
for round in $(seq "$ROUNDS"); do
    echo "round $round/$ROUNDS: wrk ..." >&2
    # bash's `time` gives wrk's own CPU seconds (user + system) on stderr.
    run_child bash -c 'TIMEFORMAT="%U %S"; time "$@"' _ \
        taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$URL/" \
        >"$WORK/wrk-$round.txt" 2>"$WORK/wrk-$round.cpu"
    WRK_RPS+=("$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-$round.txt")")
    WRK_CPU+=("$(python3 - "$WORK/wrk-$round.txt" "$WORK/wrk-$round.cpu" <<'PY'
import re, sys
requests = int(re.search(r"(\d+) requests in", open(sys.argv[1]).read()).group(1))
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
print(f"{(user + system) / requests * 1e6:.2f} {system / requests * 1e6:.2f}")
PY
)")
    WRK_SYS+=("${WRK_CPU[-1]#* }")
    WRK_CPU[-1]="${WRK_CPU[-1]% *}"
    WRK_LAT+=("$(awk '$1 == "50%" {p50=$2} $1 == "99%" {p99=$2} END {print p50 " / " p99}' "$WORK/wrk-$round.txt")")
    if grep -q "Non-2xx\|Socket errors" "$WORK/wrk-$round.txt"; then
        echo "warning: wrk reported errors in round $round:" >&2
        grep "Non-2xx\|Socket errors" "$WORK/wrk-$round.txt" >&2
    fi

    echo "round $round/$ROUNDS: coldfront ..." >&2
    out="$WORK/cf-$round"
    run_child bash -c 'TIMEFORMAT="%U %S"; time "$@"' _ \
        taskset -c 0 "$COLDFRONT" run --quiet --out "$out" "$WORK/max-throughput.toml" \
        2>"$WORK/cf-$round.cpu"
    # The generator's own CPU during the load (summary.generator), not setup or the report.
    read -r rps lat errs cpu sys < <(python3 - "$out/max-throughput/summary.json" "$WORK/cf-$round.cpu" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["targets"]["target"]
lat = t["latency_ms"]
g = t["generator"]
cpu_s = g["cpu_busy"] * g["cpus"] * t["duration_s"]
system = float(open(sys.argv[2]).read().split()[-1])
print(f'{t["throughput_rps"]:.1f}', f'{lat["p50"]:.3f}ms/{lat["p99"]:.3f}ms', sum(t["errors"].values()),
      f'{cpu_s / t["requests"] * 1e6:.2f}', f'{system / t["requests"] * 1e6:.2f}')
PY
)
    CF_CPU+=("$cpu")
    CF_SYS+=("$sys")
    CF_RPS+=("$rps")
    CF_LAT+=("${lat/\// / }")
    CF_ERR+=("$errs")
done

best() { printf '%s\n' "$@" | sort -g | tail -1; }
WRK_BEST="$(best "${WRK_RPS[@]}")"
CF_BEST="$(best "${CF_RPS[@]}")"
RATIO="$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$CF_BEST" "$WRK_BEST")"

echo
echo "== throughput vs wrk: closed model, keep-alive, $CONNECTIONS connections, $DURATION, generator CPU 0, target CPU 1 =="
printf '%-22s %12s %12s %12s   %s\n' "tool" "run 1 req/s" "run 2 req/s" "best req/s" "latency p50 / p99 (per run)"
printf '%-22s %12s %12s %12s   %s\n' "wrk -t1" "${WRK_RPS[0]}" "${WRK_RPS[1]}" "$WRK_BEST" "${WRK_LAT[0]} | ${WRK_LAT[1]}"
printf '%-22s %12s %12s %12s   %s\n' "coldfront (closed)" "${CF_RPS[0]}" "${CF_RPS[1]}" "$CF_BEST" "${CF_LAT[0]} | ${CF_LAT[1]}"
echo "coldfront errors per run: ${CF_ERR[*]}"
echo "CPU per request (µs, per run): wrk ${WRK_CPU[*]}; coldfront ${CF_CPU[*]}"
echo "  of which the kernel's (system time, µs, per run): wrk ${WRK_SYS[*]}; coldfront ${CF_SYS[*]}"
echo "ratio coldfront/wrk: ${RATIO}x   (goal: >= 1.0x; below 0.8x is a defect)"
