// Background jobs (targets/src/app/jobs.rs): POST /api/report?async=1 queues CPU work that
// runs after the response; GET /api/jobs/{id} reports it as queued, running, done or failed.
// The registry lives on globalThis, so it is per process (per instance when serverless) and
// shared by every route bundle. One job runs at a time: Node.js has one JavaScript thread
// (the Rust app runs one per core).

import { burnCpu, report } from "./work.js";

/** How many finished jobs stay queryable. */
export const MAX_FINISHED = 10_000;
/** Jobs running at once. */
const WORKERS = 1;

const KEY = Symbol.for("coldfront.nextjs.jobs");

function registry() {
  globalThis[KEY] ??= {
    nextId: 1,
    jobs: new Map(),
    waiting: [],
    running: 0,
    finished: [],
    counts: { queued: 0, running: 0, done: 0, failed: 0 },
  };
  return globalThis[KEY];
}

/** Queues `workMs` of CPU work; returns the job's id (a string). */
export function submit(workMs) {
  const r = registry();
  const id = r.nextId++;
  r.jobs.set(id, { workMs, status: "queued", submittedAt: performance.now() });
  r.counts.queued++;
  r.waiting.push(id);
  setImmediate(pump);
  return String(id);
}

function pump() {
  const r = registry();
  while (r.running < WORKERS && r.waiting.length > 0) {
    const id = r.waiting.shift();
    const job = r.jobs.get(id);
    if (!job) continue;
    r.running++;
    job.status = "running";
    job.queuedFor = performance.now() - job.submittedAt;
    r.counts.queued--;
    r.counts.running++;
    burnCpu(job.workMs)
      .then(
        (work) => finish(id, work),
        () => finish(id, null),
      )
      .finally(() => {
        r.running--;
        pump();
      });
  }
}

function finish(id, work) {
  const r = registry();
  const job = r.jobs.get(id);
  if (!job) return;
  r.counts.running--;
  if (work) {
    job.status = "done";
    job.work = work;
    r.counts.done++;
  } else {
    job.status = "failed";
    r.counts.failed++;
  }
  r.finished.push(id);
  if (r.finished.length > MAX_FINISHED) r.jobs.delete(r.finished.shift());
}

/** The job's JSON (`id`, `status`, `work_ms`, `age_ms`, then `queued_ms` and `report`), or null. */
export function describe(text) {
  if (!/^\+?[0-9]+$/.test(text)) return null;
  const id = Number(text);
  const job = registry().jobs.get(id);
  if (!job) return null;
  const value = {
    id: String(id),
    status: job.status,
    work_ms: job.workMs,
    age_ms: Math.floor(performance.now() - job.submittedAt),
  };
  if (job.queuedFor !== undefined) value.queued_ms = Math.floor(job.queuedFor);
  if (job.work) value.report = report(job.workMs, job.work);
  return value;
}

/** Whether background jobs are enabled (BACKGROUND_JOBS=off answers 501, as serverless Rust). */
export function enabled() {
  return !["off", "0", "false", "no"].includes((process.env.BACKGROUND_JOBS ?? "").toLowerCase());
}

export const DISABLED_MESSAGE = "background jobs need a persistent process";
