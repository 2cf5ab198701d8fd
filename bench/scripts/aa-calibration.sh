#!/usr/bin/env bash
# A/A calibration of `coldfront compare`: how often it calls identical runs different (its
# false-positive rate), the noise allowance that single-run comparisons need, and whether real
# changes are still caught.
#
#   bench/scripts/aa-calibration.sh                     # RUNS=12 of scenarios/crud-steady.toml
#   RUNS=6 PLANTED=0 bench/scripts/aa-calibration.sh    # a quicker look, no planted changes
#   RUNS_DIR=/tmp/aa bench/scripts/aa-calibration.sh    # keep the runs (and reuse them next time)
#
# 1. Runs SCENARIO RUNS times, one after the other (`--pin`: generator on CPU 0, built-in
#    targets on CPU 1), each into its own result set. Sets already in RUNS_DIR are reused.
# 2. Compares every pair of runs with today's method (`--noise-allowance 0`: the block bootstrap
#    alone) and with the built-in allowances, and prints per metric the share of pairs flagged
#    (improved or regressed) and the share `--fail-on-regression` would fail; the 95th
#    percentile of |relative change| between identical runs, per metric, is the allowance
#    table `compare::noise` carries (printed ready to paste), with its held-out false-positive
#    rate (allowances from the pairs of one half of the runs, judged on the other half's).
# 3. Compares SUBSETS random pairs of disjoint groups of REPS runs each (one side = several
#    runs: the interval between runs), and prints the same shares.
# 4. PLANTED=1: a server made slower on purpose is still caught: `POST /api/report?work_ms=N`
#    on the persistent target, one run of 2 ms against one of 8 ms (single runs, built-in
#    allowances), and `run --repeat 5` of 10 ms against 12 ms (a 20% change).
# Goal: false positives at most 5% per metric with repetitions and with the allowances; both
# planted changes detected as regressions of latency.p50.
set -euo pipefail

RUNS="${RUNS:-12}"
SCENARIO="${SCENARIO:-scenarios/crud-steady.toml}"
REPS="${REPS:-3}"
SUBSETS="${SUBSETS:-40}"
PLANTED="${PLANTED:-1}"
PIN="${PIN:-1}"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init coldfront-aa

ensure_base_commands
require_two_cpus
if [ -z "${COLDFRONT:-}" ]; then
    echo "building (release) ..." >&2
    cargo build --release --quiet -p coldfront --bin coldfront
    COLDFRONT="$TARGET_DIR/release/coldfront"
fi
RUNS_DIR="${RUNS_DIR:-$WORK/runs}"
mkdir -p "$RUNS_DIR"
PIN_FLAG=()
[ "$PIN" = 1 ] && PIN_FLAG=(--pin)
NAME="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$SCENARIO" | head -1)"

# 1. The runs.
for k in $(seq "$RUNS"); do
    set_dir="$RUNS_DIR/run-$k/$NAME"
    if [ -f "$set_dir/summary.json" ]; then
        continue
    fi
    echo "run $k of $RUNS: $SCENARIO ..." >&2
    rm -rf "$RUNS_DIR/run-$k"
    run_child "$COLDFRONT" run --quiet "${PIN_FLAG[@]}" --out "$RUNS_DIR/run-$k" "$SCENARIO" >/dev/null || true
    [ -f "$set_dir/summary.json" ] || { echo "error: run $k left no summary in $set_dir" >&2; exit 1; }
done

# 2 and 3. Every pair, then groups; compared as JSON and judged in Python.
COMPARES="$WORK/compares.jsonl"
: >"$COMPARES"
compare_into() { # LABEL A B [FLAGS...]
    local label=$1 a=$2 b=$3
    shift 3
    "$COLDFRONT" compare "$a" "$b" --format json "$@" |
        python3 -c 'import json,sys; c=json.load(sys.stdin); c["label"]=sys.argv[1]; print(json.dumps(c))' "$label" >>"$COMPARES"
}
echo "comparing every pair of $RUNS runs, twice (today's method, built-in allowances) ..." >&2
for i in $(seq "$RUNS"); do
    for j in $(seq $((i + 1)) "$RUNS"); do
        a="$RUNS_DIR/run-$i/$NAME" b="$RUNS_DIR/run-$j/$NAME"
        compare_into "pair $i $j bootstrap" "$a" "$b" --noise-allowance 0
        compare_into "pair $i $j allowance" "$a" "$b"
    done
done
if [ "$RUNS" -ge $((2 * REPS)) ]; then
    echo "comparing $SUBSETS pairs of disjoint groups of $REPS runs ..." >&2
    python3 - "$RUNS" "$REPS" "$SUBSETS" >"$WORK/groups.txt" <<'PY'
import random, sys
runs, reps, subsets = map(int, sys.argv[1:])
rng = random.Random(20261202)
for _ in range(subsets):
    chosen = rng.sample(range(1, runs + 1), 2 * reps)
    print(" ".join(map(str, chosen[:reps])), "|", " ".join(map(str, chosen[reps:])))
PY
    while IFS='|' read -r left right; do
        side() { local s="" k; for k in $1; do s="$s${s:+,}$RUNS_DIR/run-$k/$NAME"; done; echo "$s"; }
        compare_into "groups $left|$right" "$(side "$left")" "$(side "$right")"
    done <"$WORK/groups.txt"
fi

python3 - "$COMPARES" "$RUNS" <<'PY'
import json, sys
from collections import defaultdict
compares = [json.loads(line) for line in open(sys.argv[1])]
runs = int(sys.argv[2])

def metrics(c):
    for t in c["targets"]:
        for m in t["metrics"]:
            yield t["name"] + " " + m["metric"], m

def significant(m):
    i = m["interval"]
    return i is not None and (i["low"] > 0 or i["high"] < 0)

def flagged(m):
    return m["verdict"] in ("improved", "regressed")

def fails(c):
    return any(m["beyond_tolerance"] for _, m in metrics(c))

def share(flags):
    return sum(flags) / len(flags) if flags else float("nan")

def pct(x):
    return f"{100 * x:5.1f}%"

def p95(values):
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, int(round(0.95 * (len(values) - 1))))
    return values[k]

by_label = defaultdict(list)
for c in compares:
    kind = c["label"].split()[0] + " " + c["label"].split()[-1] if c["label"].startswith("pair") else "groups"
    by_label[kind].append(c)
pairs_bootstrap = by_label["pair bootstrap"]
pairs_allowance = by_label["pair allowance"]
groups = by_label["groups"]

def report(name, cs):
    per_metric = defaultdict(list)
    for c in cs:
        for key, m in metrics(c):
            per_metric[key].append(flagged(m))
    every = [f for flags in per_metric.values() for f in flags]
    print(f"{name}: {len(cs)} comparisons; flagged {pct(share(every))} of metric comparisons; "
          f"--fail-on-regression fails {pct(share([fails(c) for c in cs]))} of comparisons")
    return per_metric

print(f"A/A calibration: {runs} identical runs")
b = report("one run a side, today's method (block bootstrap alone)", pairs_bootstrap)
a = report("one run a side, built-in noise allowances", pairs_allowance)
g = report(f"several runs a side (interval between runs)", groups) if groups else {}
print()
print(f"{'metric':44} {'bootstrap':>10} {'allowance':>10} {'runs':>8} {'p95 |rel|':>10}")
relative = defaultdict(list)
for c in pairs_bootstrap:
    for key, m in metrics(c):
        r = m["relative_change"]
        relative[key].append(abs(r) if r is not None else float("inf"))
for key in sorted(b):
    finite = [r for r in relative[key] if r != float("inf")]
    print(f"{key:44} {pct(share(b[key])):>10} {pct(share(a.get(key, []))):>10} "
          f"{pct(share(g.get(key, []))) if g else '-':>8} {p95(finite):10.3f}")

# The allowance table: per metric (both targets together), the 95th percentile of |relative
# change| between identical runs; and its false-positive rate held out (calibrated on the
# pairs of one half of the runs, judged on the other half's pairs).
def metric_of(key):
    return key.split(" ", 1)[1]

def table(cs):
    values = defaultdict(list)
    for c in cs:
        for key, m in metrics(c):
            r = m["relative_change"]
            if r is not None:
                values[metric_of(key)].append(abs(r))
    return {metric: p95(v) for metric, v in values.items()}

def pair_runs(c):
    return [int(x) for x in c["label"].split()[1:3]]

half = runs // 2
first = [c for c in pairs_bootstrap if max(pair_runs(c)) <= half]
second = [c for c in pairs_bootstrap if min(pair_runs(c)) > half]
held_out = []
for calibrate, judge in ((first, second), (second, first)):
    allowances = table(calibrate)
    for c in judge:
        for key, m in metrics(c):
            r = m["relative_change"]
            beyond = r is None or abs(r) > allowances.get(metric_of(key), 0.0)
            held_out.append(significant(m) and beyond)
print()
print(f"held out: allowances from one half's pairs flag {pct(share(held_out))} of the other half's "
      f"metric comparisons")
print()
print("allowance table (compare::noise::ALLOWANCES):")
for metric, allowance in sorted(table(pairs_bootstrap).items()):
    print(f'    ("{metric}", {allowance:.3f}),')
PY

# 4. Planted changes.
[ "$PLANTED" = 1 ] || exit 0
planted_scenario() { # MS: a scenario whose one request costs MS ms of the server's CPU
    cat >"$WORK/planted-$1.toml" <<TOML
name = "planted"
description = "POST /api/report?work_ms=$1 at a steady rate on the persistent target."
seed = 7
[targets.persistent]
kind = "persistent"
pool = 4
[load]
model = "open"
arrivals = "poisson"
timeout = "5s"
[[load.phases]]
name = "steady"
duration = "20s"
rate = 20
[[requests]]
method = "POST"
path = "/api/report?work_ms=$1"
TOML
}
verdict_of() { # LABEL A B: prints the latency.p50 verdict and the exit code of --fail-on-regression
    local label=$1 rc=0
    "$COLDFRONT" compare "$2" "$3" --format json --fail-on-regression >"$WORK/planted.json" 2>/dev/null || rc=$?
    python3 - "$WORK/planted.json" "$label" "$rc" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
m = next(m for t in c["targets"] for m in t["metrics"] if m["metric"] == "latency.p50")
print(f"{sys.argv[2]}: latency.p50 {m['a']:.2f} -> {m['b']:.2f} ms ({100 * m['relative_change']:+.1f}%), "
      f"interval [{m['interval']['low']:+.2f}, {m['interval']['high']:+.2f}] ms, verdict {m['verdict']}, "
      f"allowance {m['allowance']}, --fail-on-regression exit {sys.argv[3]}")
PY
}
for ms in 2 8 10 12; do planted_scenario "$ms"; done
echo "planted: one run of 2 ms against one of 8 ms ..." >&2
for ms in 2 8; do
    run_child "$COLDFRONT" run --quiet "${PIN_FLAG[@]}" --out "$WORK/planted-$ms" "$WORK/planted-$ms.toml" >/dev/null || true
done
verdict_of "one run a side, 2 ms -> 8 ms" "$WORK/planted-2/planted" "$WORK/planted-8/planted"
echo "planted: five repetitions of 10 ms against five of 12 ms ..." >&2
for ms in 10 12; do
    run_child "$COLDFRONT" run --quiet --repeat 5 "${PIN_FLAG[@]}" --out "$WORK/planted-$ms" "$WORK/planted-$ms.toml" >/dev/null || true
done
verdict_of "five runs a side, 10 ms -> 12 ms" "$WORK/planted-10/planted" "$WORK/planted-12/planted"
