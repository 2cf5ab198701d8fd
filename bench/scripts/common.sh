# shellcheck shell=bash
# Setup shared by the benchmark scripts in this folder; sourced, not run. Each script calls
# bench_init, checks its tools with ensure_base_commands / ensure_command, then bench_prepare,
# and runs its long children with run_child (or sets CHILD_PID itself) so that the trap stops them.
# Globals set here: TARGET_DIR, WORK, TARGET_PID, CHILD_PID, COLDFRONT, PORT, URL.

# bench_init PREFIX: moves to the repository root, makes the temporary folder WORK
# (PREFIX.XXXXXX) and installs the trap that stops the target and any child and removes WORK.
bench_init() {
    cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit
    TARGET_DIR="${CARGO_TARGET_DIR:-target}"
    WORK="$(mktemp -d -t "$1.XXXXXX")"
    TARGET_PID=""
    CHILD_PID=""
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

# cleanup: the EXIT trap: stops CHILD_PID and TARGET_PID when still running, removes WORK.
cleanup() {
    for pid in "$CHILD_PID" "$TARGET_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}

# ensure_command COMMAND DEBIAN_PACKAGE: installs the package when missing and running as root.
ensure_command() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing $2 ..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "$2" >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' not found; install the Debian package '$2'" >&2; exit 2; }
}

# ensure_base_commands: the tools every script needs (taskset for pinning, python3 for summaries).
ensure_base_commands() {
    ensure_command taskset util-linux
    ensure_command python3 python3
}

# run_child CMD...: runs CMD in the background (so the trap can stop it) and waits for it.
run_child() {
    "$@" &
    CHILD_PID=$!
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

# require_two_cpus: exits 2 unless there are CPUs 0 (generator) and 1 (target).
require_two_cpus() {
    [ "$(nproc --all)" -ge 2 ] || { echo "error: needs 2 CPUs (generator on 0, target on 1)" >&2; exit 2; }
}

# build_release: builds coldfront and the loopback_target example (release); sets COLDFRONT.
build_release() {
    echo "building (release) ..." >&2
    cargo build --release --quiet -p coldfront --bin coldfront --example loopback_target
    # shellcheck disable=SC2034 # used by the scripts that source this file
    COLDFRONT="$TARGET_DIR/release/coldfront"
}

# start_target: starts loopback_target on CPU 1 (one thread, any free port), waits for its
# "listening on" line and sets TARGET_PID, PORT and URL; exits 1 when it does not come up.
start_target() {
    taskset -c 1 "$TARGET_DIR/release/examples/loopback_target" --port 0 --threads 1 >"$WORK/target.out" 2>&1 &
    TARGET_PID=$!
    for _ in $(seq 200); do
        PORT="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/target.out")"
        if [ -n "$PORT" ]; then
            # shellcheck disable=SC2034 # used by the scripts that source this file
            URL="http://127.0.0.1:$PORT"
            return 0
        fi
        kill -0 "$TARGET_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "error: loopback_target did not start:" >&2
    cat "$WORK/target.out" >&2
    exit 1
}

# bench_prepare: what follows a script's own tool checks: the 2-CPU check, the release build
# and the target (sets COLDFRONT, TARGET_PID, PORT, URL).
bench_prepare() {
    require_two_cpus
    build_release
    start_target
}
