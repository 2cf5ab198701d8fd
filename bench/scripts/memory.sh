#!/usr/bin/env bash
# Whether coldfront's memory stays flat with the length of a run: peak RSS of `coldfront run`
# at 5000 req/s (open model, uniform, keep-alive) for a short and a long run against the
# minimal loopback target.
#
#   bench/scripts/memory.sh                       # SHORT=1m LONG=5m RATE=5000
#   SHORT=20s LONG=100s bench/scripts/memory.sh   # a quick check
#
# Peak RSS: GNU time's "Maximum resident set size" (exact, from getrusage) when /usr/bin/time
# is available, and VmHWM from /proc/PID/status polled every 200 ms in any case.
# Generator on CPU 0 (taskset -c 0), target on CPU 1.
# Goal: the long run's peak RSS within 10% of the short run's.
set -euo pipefail

SHORT="${SHORT:-1m}"
LONG="${LONG:-5m}"
RATE="${RATE:-5000}"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init coldfront-memory

status_kb() { # status_kb PID FIELD → the field's value in kB, or nothing once the process is gone
    sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB$/\1/p" "/proc/$1/status" 2>/dev/null || true
}

ensure_base_commands
if [ ! -x /usr/bin/time ] && [ "$(id -u)" -eq 0 ]; then
    ensure_command /usr/bin/time time || true
fi
bench_prepare
echo "target: $URL (pid $TARGET_PID, CPU 1); coldfront on CPU 0; $RATE req/s for $SHORT and $LONG" >&2

# measure LABEL DURATION: runs coldfront, sets PEAK_KB (best figure), and appends a table row.
ROWS="$WORK/rows.txt"
: >"$ROWS"
measure() {
    local label=$1 duration=$2 name="memory-$1"
    cat >"$WORK/$name.toml" <<TOML
name = "$name"
[targets.target]
url = "$URL"
[load]
model = "open"
arrivals = "uniform"
timeout = "2s"
connections = "keep-alive"
max_connections = 256
[[load.phases]]
duration = "$duration"
rate = $RATE
[[requests]]
path = "/"
TOML
    echo "$label run ($duration) ..." >&2
    local gnu_time_file="$WORK/$name.time"
    if [ -x /usr/bin/time ]; then
        # time forks taskset, which execs coldfront: coldfront is time's only child.
        /usr/bin/time -v -o "$gnu_time_file" taskset -c 0 "$COLDFRONT" run --quiet --out "$WORK/out" "$WORK/$name.toml" &
    else
        taskset -c 0 "$COLDFRONT" run --quiet --out "$WORK/out" "$WORK/$name.toml" &
    fi
    CHILD_PID=$!
    local pid=$CHILD_PID
    if [ -x /usr/bin/time ]; then
        for _ in $(seq 100); do
            pid="$(awk '{print $1}' "/proc/$CHILD_PID/task/$CHILD_PID/children" 2>/dev/null || true)"
            [ -n "$pid" ] && break
            sleep 0.01
        done
        pid="${pid:-$CHILD_PID}"
    fi
    local hwm=0 rss value samples=()
    local started=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        value="$(status_kb "$pid" VmHWM)"
        [ -n "$value" ] && [ "$value" -gt "$hwm" ] && hwm=$value
        rss="$(status_kb "$pid" VmRSS)"
        [ -n "$rss" ] && samples+=("$((SECONDS - started)):$rss")
        sleep 0.2
    done
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    [ "$rc" -eq 0 ] || { echo "error: coldfront exited with $rc" >&2; exit 1; }
    local gnu_kb="-"
    if [ -f "$gnu_time_file" ]; then
        gnu_kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): \([0-9]*\)$/\1/p' "$gnu_time_file")"
    fi
    PEAK_KB=$hwm
    [ "$gnu_kb" != "-" ] && [ -n "$gnu_kb" ] && PEAK_KB=$gnu_kb
    # RSS at about 10%, 50% and 90% of the run: growth over time shows here.
    local n=${#samples[@]} at10="-" at50="-" at90="-"
    if [ "$n" -gt 0 ]; then
        at10="${samples[$((n / 10))]}"
        at50="${samples[$((n / 2))]}"
        at90="${samples[$((n * 9 / 10))]}"
    fi
    read -r requests errors connections < <(python3 - "$WORK/out/$name/summary.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["targets"]["target"]
print(t["requests"], sum(t["errors"].values()), t["connections"]["max_open"])
PY
)
    printf '%-6s %8s %14s %6s %14s %14s %12s %12s %12s\n' "$label" "$duration" "$requests/$errors" "$connections" \
        "$gnu_kb" "$hwm" "${at10#*:}@${at10%%:*}s" "${at50#*:}@${at50%%:*}s" "${at90#*:}@${at90%%:*}s" >>"$ROWS"
}

measure short "$SHORT"
SHORT_KB=$PEAK_KB
measure long "$LONG"
LONG_KB=$PEAK_KB

echo
echo "== memory: open model $RATE req/s, uniform, keep-alive; peak RSS of coldfront run (kB); conns = most connections open at once =="
printf '%-6s %8s %14s %6s %14s %14s %12s %12s %12s\n' "run" "duration" "req/errors" "conns" "maxrss (time)" "VmHWM (poll)" "RSS ~10%" "RSS ~50%" "RSS ~90%"
cat "$ROWS"
python3 - "$SHORT_KB" "$LONG_KB" <<'PY'
import sys
short, long_ = int(sys.argv[1]), int(sys.argv[2])
ratio = long_ / short
print(f"peak RSS: short {short / 1024:.1f} MiB, long {long_ / 1024:.1f} MiB, long/short {ratio:.3f}"
      f" -> {'OK' if ratio <= 1.10 else 'FAIL'} (goal: long within 10% of short, ratio <= 1.10)")
PY
