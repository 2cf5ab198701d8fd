// The CPU work of POST /api/report (targets/src/app/report.rs): test odd numbers for
// primality until `work_ms` of CPU time is spent. CPU time is the process's
// (process.cpuUsage(): user + system), counted only inside this work's own slices.
//
// Node.js has one JavaScript thread, where the Rust app runs the work on a blocking thread
// pool: to keep the server answering (health checks, SSE, other requests) the work runs in
// slices of about SLICE_MS of CPU, yielding to the event loop in between. Concurrent work
// therefore shares one core: each piece still spends its CPU budget, only its wall time grows.

/** The longest job accepted (10 minutes of CPU). */
export const MAX_WORK_MS = 600_000;
/** Candidates tested between two reads of the CPU clock. */
const CHECK_EVERY = 256;
/** CPU time one slice may take before yielding to the event loop. */
const SLICE_MS = 10;

function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

const cpuMicros = (since) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Spends `workMs` ms of CPU; resolves to `{result, cpu_ms, wall_ms}`. */
export async function burnCpu(workMs) {
  const budget = workMs * 1000;
  const started = performance.now();
  let used = 0;
  let primes = 1; // 2
  let candidate = 3;
  for (;;) {
    const slice = process.cpuUsage();
    for (;;) {
      for (let i = 0; i < CHECK_EVERY; i++) {
        if (isPrime(candidate)) primes++;
        candidate += 2;
      }
      const spent = cpuMicros(slice);
      if (used + spent >= budget) {
        used += spent;
        return {
          result: primes,
          cpu_ms: Math.floor(used / 1000),
          wall_ms: Math.floor(performance.now() - started),
        };
      }
      if (spent >= SLICE_MS * 1000) {
        used += spent;
        break;
      }
    }
    await nextTurn();
  }
}

/** The JSON for a finished piece of work of `workMs`. */
export function report(workMs, work) {
  return { work_ms: workMs, result: work.result, cpu_ms: work.cpu_ms, wall_ms: work.wall_ms };
}
