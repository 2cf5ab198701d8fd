#!/usr/bin/env bash
# How exactly coldfront's open model holds an asked arrival rate, and the highest rate one
# generator core sustains: open model, uniform arrivals, keep-alive, against the minimal
# loopback target. Rates 1000 and 10000 req/s, then 20000, 40000, 60000, ... until a step
# fails: fewer than 99% of the asked requests completed in the planned time (or in the run's
# actual time), or any error or timeout. A second verdict, "on time", is send-lag p99 < 1 ms.
#
#   bench/scripts/open-model-accuracy.sh          # DURATION_S=10 STEP=20000 MAX_RATE=400000
#   STEP=50000 MAX_RATE=100000 bench/scripts/open-model-accuracy.sh   # 1k, 10k, 50k, 100k
#
# FLAGS adds `run` flags to every coldfront step, e.g. FLAGS=--busy-poll (the open model turns
# its loop instead of sleeping between requests, so no wake-up from idle delays a send).
#
# With oha installed (`cargo install oha`; OHA=0 to leave it out), oha runs the same rates
# after coldfront (`-q RATE --latency-correction -c MAX_CONNECTIONS`), for a second table.
#
# Both tools get the same connection cap, MAX_CONNECTIONS (default 64): the one-core target's
# throughput falls as the connections it serves rise (wrk -t1 against it: about 77k req/s
# with 32 connections, 53k with 512), so a larger cap for one tool would compare targets,
# not generators.
#
# Generator on CPU 0 (taskset -c 0), target on CPU 1 (loopback_target --threads 1).
# Goal: rate within 1% and send-lag p99 < 1 ms at 1k, 10k and 50k req/s, rate within 1% at
# 100k, and the highest sustained rate at least wrk's closed-model throughput.
set -euo pipefail

DURATION_S="${DURATION_S:-10}"
STEP="${STEP:-20000}"
MAX_RATE="${MAX_RATE:-400000}"
MAX_CONNECTIONS="${MAX_CONNECTIONS:-64}"
FLAGS="${FLAGS:-}"
TIMEOUT="${TIMEOUT:-2s}"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init coldfront-open

ensure_base_commands
bench_prepare
echo "target: $URL (pid $TARGET_PID, CPU 1); coldfront on CPU 0; ${DURATION_S}s per rate" >&2

ROWS="$WORK/rows.txt"
: >"$ROWS"

# run_rate RATE: runs one open-model step, appends a table row, returns 0 when sustained.
run_rate() {
    local rate=$1 name="open-$1"
    cat >"$WORK/$name.toml" <<TOML
name = "$name"
[targets.target]
url = "$URL"
[load]
model = "open"
arrivals = "uniform"
timeout = "$TIMEOUT"
connections = "keep-alive"
max_connections = $MAX_CONNECTIONS
[[load.phases]]
duration = "${DURATION_S}s"
rate = $rate
[[requests]]
path = "/"
TOML
    echo "rate $rate req/s ..." >&2
    # (set -e does not apply inside a function called as an `if` condition: check by hand.)
    local rc=0
    # shellcheck disable=SC2086 # FLAGS is a list of flags
    run_child taskset -c 0 "$COLDFRONT" run --quiet $FLAGS --out "$WORK/out" "$WORK/$name.toml" || rc=$?
    if [ "$rc" -ne 0 ] || [ ! -f "$WORK/out/$name/summary.json" ]; then
        printf '%8s  coldfront run failed (exit %s)  NO\n' "$rate" "$rc" >>"$ROWS"
        return 1
    fi
    python3 - "$WORK/out/$name/summary.json" "$rate" "$DURATION_S" >>"$ROWS" <<'PY'
import json, sys
path, rate, planned = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
t = json.load(open(path))["targets"]["target"]
expected = rate * planned
sent_rps = t["sent"] / planned
done_rps = t["requests"] / planned
actual_rps = t["requests"] / t["duration_s"] if t["duration_s"] > 0 else 0.0
count_err = (t["requests"] - expected) / expected * 100
errors = sum(t["errors"].values())
lag, lat = t["send_lag_ms"], t["latency_ms"]
ok = done_rps >= 0.99 * rate and actual_rps >= 0.99 * rate and errors == 0
print(f'{rate:>8.0f} {sent_rps:>9.1f} {done_rps:>9.1f} {actual_rps:>9.1f} {t["duration_s"]:>7.2f} '
      f'{count_err:>+8.3f} {lag["p50"]:>8.3f} {lag["p99"]:>8.3f} {lag["max"]:>8.2f} '
      f'{lat["p50"]:>8.3f} {lat["p99"]:>8.3f} {errors:>7d} {"yes" if (t.get("generator") or {}).get("limited") else "no":>7}  '
      f'{"yes" if lag["p99"] < 1.0 else "no":>7}  {"yes" if ok else "NO"}')
PY
    tail -1 "$ROWS" | grep -q ' yes$'
}

HIGHEST=0
for rate in 1000 10000; do
    if run_rate "$rate"; then HIGHEST=$rate; fi
done
rate=$STEP
if [ "$HIGHEST" -eq 10000 ]; then
    while [ "$rate" -le "$MAX_RATE" ]; do
        if run_rate "$rate"; then HIGHEST=$rate; else break; fi
        rate=$((rate + STEP))
    done
fi

# oha beside it at the same rates, when installed (`cargo install oha`): `-q RATE
# --latency-correction` on CPU 0, against the same target.
OHA_ROWS="$WORK/oha-rows.txt"
: >"$OHA_ROWS"
if command -v oha >/dev/null 2>&1 && [ "${OHA:-1}" != 0 ]; then
    for rate in $(awk '{print $1}' "$ROWS"); do
        echo "oha at $rate req/s ..." >&2
        out="$WORK/oha-$rate.json"
        if taskset -c 0 oha -q "$rate" -z "${DURATION_S}s" -c "$MAX_CONNECTIONS" --latency-correction \
            --no-tui --output-format json "$URL" >"$out" 2>"$WORK/oha-$rate.err"; then
            python3 - "$out" "$rate" "$DURATION_S" >>"$OHA_ROWS" <<'PY'
import json, sys
path, rate, planned = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
report = json.load(open(path))
summary, percentiles = report["summary"], report["latencyPercentiles"]
done = sum(report.get("statusCodeDistribution", {}).values())
errors = sum(report.get("errorDistribution", {}).values())
ms = lambda key: (percentiles.get(key) or 0.0) * 1000.0
print(f'{rate:>8.0f} {done / planned:>9.1f} {summary["requestsPerSec"]:>9.1f} '
      f'{(done - rate * planned) / (rate * planned) * 100:>+8.3f} {ms("p50"):>8.3f} {ms("p99"):>8.3f} {errors:>7d}')
PY
        else
            printf '%8s  oha failed (see %s)\n' "$rate" "$WORK/oha-$rate.err" >>"$OHA_ROWS"
        fi
    done
fi

echo
echo "== open-model accuracy: uniform arrivals, keep-alive, max_connections $MAX_CONNECTIONS, timeout $TIMEOUT, ${DURATION_S}s per rate, generator CPU 0, target CPU 1${FLAGS:+, $FLAGS} =="
echo "(sent/s and done/s over the planned ${DURATION_S}s; actual/s over the run's measured duration; count err = requests vs rate x duration; times in ms)"
printf '%8s %9s %9s %9s %7s %8s %8s %8s %8s %8s %8s %7s %7s  %7s  %s\n' \
    "asked/s" "sent/s" "done/s" "actual/s" "dur_s" "count%" "lag_p50" "lag_p99" "lag_max" "lat_p50" "lat_p99" "errors" "limited" "on_time" "sustained"
cat "$ROWS"
ON_TIME="$(awk '$(NF-1) == "yes" {best = $1} END {print best + 0}' "$ROWS")"
if [ "$HIGHEST" -ge "$MAX_RATE" ]; then
    echo "highest sustained rate: >= $HIGHEST req/s (MAX_RATE reached)"
else
    echo "highest sustained rate: $HIGHEST req/s (first failing step: the last NO row)"
fi
echo "highest rate sent on time (send-lag p99 < 1 ms): $ON_TIME req/s"
if [ -s "$OHA_ROWS" ]; then
    echo
    echo "== oha $(oha --version | awk '{print $2}') at the same rates: -q RATE --latency-correction -c $MAX_CONNECTIONS, ${DURATION_S}s, CPU 0 (done/s over the planned time; times in ms) =="
    printf '%8s %9s %9s %8s %8s %8s %7s\n' "asked/s" "done/s" "oha rps" "count%" "lat_p50" "lat_p99" "errors"
    cat "$OHA_ROWS"
fi
echo "goal: rate within 1% and send-lag p99 < 1 ms at 1k, 10k and 50k req/s; rate within 1% at 100k (issue 11); highest sustained rate >= wrk's closed-model req/s (throughput-vs-wrk.sh)"
