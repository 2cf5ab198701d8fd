'use strict';
// POST /api/report?work_ms=N[&async=1] and GET /api/jobs/:id (targets/src/app/report.rs and
// jobs.rs): N ms of CPU time spent testing odd numbers for primality, inline or as a
// background job.
//
// Node runs JavaScript on one thread, so the work is done in slices of at most SLICE_MS of
// CPU, yielding to the event loop between slices: other requests (health checks, SSE ticks,
// other reports) are served in between instead of waiting for the whole job. CPU time is
// measured with process.cpuUsage() around each slice only, so it counts this work and not
// the requests served in between: under contention cpu_ms stays ~N and only wall_ms grows,
// as in the Rust app. Unlike the Rust app (a thread per report), concurrent reports in one
// Node process share one core.
//
// Background jobs live in this process's memory. In a persistent deployment a job can be
// polled on any later request. In a serverless deployment each instance has its own job
// table, a later GET /api/jobs/:id may reach another instance (404), and the job dies with
// its instance when the platform reclaims it: that is the point of the comparison.

const os = require('node:os');

/** The longest job accepted (10 minutes of CPU). */
const MAX_WORK_MS = 600000;
/** Candidates tested between two reads of the CPU clock. */
const CHECK_EVERY = 256;
/** The most CPU one slice takes before letting the event loop serve others. */
const SLICE_US = 10000;
/** How many finished jobs stay queryable. */
const MAX_FINISHED = 10000;

function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function cpuMicros(since) {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/** Spends `workMs` of CPU finding primes; resolves to {result, cpu_ms, wall_ms}. */
function burnCpu(workMs) {
  const budgetUs = workMs * 1000;
  const started = performance.now();
  let primes = 1; // 2
  let candidate = 3;
  let usedUs = 0;
  return new Promise((resolve) => {
    const slice = () => {
      const sliceStart = process.cpuUsage();
      for (;;) {
        for (let i = 0; i < CHECK_EVERY; i++) {
          if (isPrime(candidate)) primes++;
          candidate += 2;
        }
        const sliceUs = cpuMicros(sliceStart);
        if (usedUs + sliceUs >= budgetUs) {
          usedUs += sliceUs;
          resolve({
            result: primes,
            cpu_ms: Math.floor(usedUs / 1000),
            wall_ms: Math.floor(performance.now() - started),
          });
          return;
        }
        if (sliceUs >= SLICE_US) {
          usedUs += sliceUs;
          setImmediate(slice);
          return;
        }
      }
    };
    slice();
  });
}

/** The JSON of a finished piece of work (keys sorted like the Rust app's json!). */
function report(workMs, work) {
  return { cpu_ms: work.cpu_ms, result: work.result, wall_ms: work.wall_ms, work_ms: workMs };
}

/**
 * The process's background jobs: at most `workers` running at once (the Rust app's
 * available_parallelism; here they interleave on the one JavaScript thread), the rest queued.
 */
class Jobs {
  constructor(workers) {
    this.workers = Math.max(1, workers);
    this.nextId = 1;
    this.jobs = new Map();
    this.queue = [];
    this.finished = [];
    this.running = 0;
  }

  submit(workMs) {
    const id = this.nextId++;
    this.jobs.set(id, { workMs, status: 'queued', submittedAt: performance.now(), queuedFor: null, work: null });
    this.queue.push(id);
    setImmediate(() => this.pump());
    return String(id);
  }

  pump() {
    while (this.running < this.workers && this.queue.length > 0) {
      const id = this.queue.shift();
      const job = this.jobs.get(id);
      job.status = 'running';
      job.queuedFor = performance.now() - job.submittedAt;
      this.running++;
      burnCpu(job.workMs).then(
        (work) => this.finish(id, work),
        () => this.finish(id, null),
      );
    }
  }

  finish(id, work) {
    this.running--;
    const job = this.jobs.get(id);
    job.status = work ? 'done' : 'failed';
    job.work = work;
    this.finished.push(id);
    if (this.finished.length > MAX_FINISHED) this.jobs.delete(this.finished.shift());
    this.pump();
  }

  /** The job's JSON, or undefined for an unknown id (keys sorted like json!). */
  describe(idText) {
    // Rust parses the id as u64: digits with an optional '+'.
    if (!/^\+?[0-9]+$/.test(idText)) return undefined;
    const id = Number(idText);
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const value = { age_ms: Math.floor(performance.now() - job.submittedAt), id: String(id) };
    if (job.queuedFor !== null) value.queued_ms = Math.floor(job.queuedFor);
    if (job.work) value.report = report(job.workMs, job.work);
    value.status = job.status;
    value.work_ms = job.workMs;
    return value;
  }
}

const jobs = new Jobs(os.availableParallelism ? os.availableParallelism() : os.cpus().length);

module.exports = { MAX_WORK_MS, burnCpu, report, jobs };
