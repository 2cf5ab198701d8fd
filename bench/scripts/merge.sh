#!/usr/bin/env bash
# How long `coldfront merge` takes and how much memory it needs: SHARDS shard processes of one
# open-model run (uniform, keep-alive) started together against the minimal loopback target,
# for a short and a long duration, then their merge, timed.
#
#   bench/scripts/merge.sh                                  # SHARDS=8 RATE=2000 SHORT=1m LONG=10m
#   SHARDS=4 SHORT=10s LONG=1m bench/scripts/merge.sh       # a quick check
#
# Shards on CPU 0 (taskset -c 0), target on CPU 1. Merge time: wall clock of `coldfront merge`
# (which also draws the merged set's charts and report); peak memory: GNU time's maximum
# resident set size. Goal: seconds, and a peak memory that does not grow with the run's length
# (the long merge within 10% of the short one).
set -euo pipefail

SHARDS="${SHARDS:-8}"
RATE="${RATE:-2000}"
SHORT="${SHORT:-1m}"
LONG="${LONG:-10m}"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init coldfront-merge

ensure_base_commands
if [ ! -x /usr/bin/time ] && [ "$(id -u)" -eq 0 ]; then
    ensure_command /usr/bin/time time || true
fi
[ -x /usr/bin/time ] || { echo "error: needs GNU time (/usr/bin/time, Debian package 'time')" >&2; exit 2; }
bench_prepare
echo "target: $URL (pid $TARGET_PID, CPU 1); $SHARDS shards on CPU 0; $RATE req/s in all" >&2

ROWS="$WORK/rows.txt"
: >"$ROWS"

# measure LABEL DURATION: the shards of a DURATION run, then their merge; appends a row.
measure() {
    local label=$1 duration=$2 name="merge-$1"
    cat >"$WORK/$name.toml" <<TOML
name = "$name"
[targets.target]
url = "$URL"
[load]
model = "open"
arrivals = "uniform"
timeout = "2s"
connections = "keep-alive"
max_connections = $((SHARDS * 16))
[[load.phases]]
duration = "$duration"
rate = $RATE
[[requests]]
path = "/"
TOML
    local start_at pids=() i
    start_at=$(($(date +%s) + 3))
    echo "$label: $SHARDS shards of $duration ..." >&2
    for i in $(seq 0 $((SHARDS - 1))); do
        taskset -c 0 "$COLDFRONT" run --quiet --shard "$i/$SHARDS" --start-at "$start_at" \
            --out "$WORK/$label/shard-$i" "$WORK/$name.toml" &
        pids+=("$!")
    done
    for i in "${pids[@]}"; do
        wait "$i" || { echo "error: a shard failed" >&2; exit 1; }
    done
    local sets=()
    for i in $(seq 0 $((SHARDS - 1))); do
        sets+=("$WORK/$label/shard-$i/$name")
    done
    local started_ns ended_ns rc=0
    started_ns=$(date +%s%N)
    /usr/bin/time -v -o "$WORK/$label.time" "$COLDFRONT" merge "${sets[@]}" \
        --out "$WORK/$label/merged" >"$WORK/$label.merge.out" 2>&1 || rc=$?
    ended_ns=$(date +%s%N)
    [ "$rc" -eq 0 ] || { echo "error: merge exited $rc" >&2; cat "$WORK/$label.merge.out" >&2; exit 1; }
    local kb requests hlog_kb
    kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): \([0-9]*\)$/\1/p' "$WORK/$label.time")"
    requests="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["targets"]["target"]["requests"])' \
        "$WORK/$label/merged/$name/summary.json")"
    hlog_kb="$(du -ck "${sets[@]/%//target.hlog}" | tail -1 | cut -f1)"
    printf '%-6s %8s %7s %10s %12s %10.2f %10.1f\n' "$label" "$duration" "$SHARDS" "$requests" "$hlog_kb" \
        "$(echo "($ended_ns - $started_ns) / 1000000000" | bc -l)" "$(echo "$kb / 1024" | bc -l)" >>"$ROWS"
    echo "$kb" >"$WORK/$label.kb"
}

ensure_command bc bc
measure short "$SHORT"
measure long "$LONG"

echo
echo "== coldfront merge: $SHARDS shards, open model $RATE req/s in all, uniform, keep-alive =="
printf '%-6s %8s %7s %10s %12s %10s %10s\n' "run" "duration" "shards" "requests" "hlogs (kB)" "merge (s)" "peak MiB"
cat "$ROWS"
python3 - "$(cat "$WORK/short.kb")" "$(cat "$WORK/long.kb")" <<'PY'
import sys
short, long_ = int(sys.argv[1]), int(sys.argv[2])
ratio = long_ / short
print(f"peak memory: short {short / 1024:.1f} MiB, long {long_ / 1024:.1f} MiB, long/short {ratio:.3f}"
      f" -> {'OK' if ratio <= 1.10 else 'FAIL'} (goal: within 10%, independent of the requests)")
PY
