//! Background jobs (persistent runtime only): `POST /api/report?async=1` queues CPU work that
//! runs after the response, at most `workers` at a time; `GET /api/jobs/{id}` reports it as
//! `queued`, `running` or `done` (or `failed` if the runtime dropped it). The most recent
//! [`MAX_FINISHED`] finished jobs are kept.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Response, StatusCode};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;

use super::report::{burn_cpu, report, Work};
use super::{response, Body, Services};

/// How many finished jobs stay queryable.
pub const MAX_FINISHED: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

/// How many jobs are in each state (finished ones: since the process started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

#[derive(Debug)]
struct Job {
    work_ms: u64,
    status: JobStatus,
    submitted_at: Instant,
    queued_for: Option<Duration>,
    work: Option<Work>,
}

#[derive(Default)]
struct Registry {
    jobs: HashMap<u64, Job>,
    finished: VecDeque<u64>,
    counts: JobCounts,
}

/// The process's background job queue.
pub struct Jobs {
    next_id: AtomicU64,
    registry: Mutex<Registry>,
    workers: Arc<Semaphore>,
}

impl Jobs {
    /// A queue running at most `workers` jobs at once (at least one).
    pub fn new(workers: usize) -> Jobs {
        Jobs {
            next_id: AtomicU64::new(1),
            registry: Mutex::default(),
            workers: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    /// Queues `work_ms` of CPU work and returns the job's id. Needs a tokio runtime.
    pub fn submit(self: &Arc<Self>, work_ms: u64) -> String {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.registry.lock().insert(id, work_ms);
        let jobs = Arc::clone(self);
        tokio::spawn(async move { jobs.run(id, work_ms).await });
        id.to_string()
    }

    /// The job's JSON (`id`, `status`, `work_ms`, and its result once done).
    pub fn describe(&self, id: &str) -> Option<serde_json::Value> {
        let id: u64 = id.parse().ok()?;
        let registry = self.registry.lock();
        let job = registry.jobs.get(&id)?;
        let mut value = json!({
            "id": id.to_string(),
            "status": job.status,
            "work_ms": job.work_ms,
            "age_ms": job.submitted_at.elapsed().as_millis() as u64,
        });
        if let Some(queued_for) = job.queued_for {
            value["queued_ms"] = json!(queued_for.as_millis() as u64);
        }
        if let Some(work) = job.work {
            value["report"] = report(job.work_ms, work);
        }
        Some(value)
    }

    pub fn counts(&self) -> JobCounts {
        self.registry.lock().counts
    }

    async fn run(&self, id: u64, work_ms: u64) {
        let Ok(_slot) = self.workers.acquire().await else {
            return self.registry.lock().finish(id, None);
        };
        self.registry.lock().start(id);
        let work = tokio::task::spawn_blocking(move || burn_cpu(Duration::from_millis(work_ms)));
        let work = work.await.ok();
        self.registry.lock().finish(id, work);
    }
}

impl Registry {
    fn insert(&mut self, id: u64, work_ms: u64) {
        let job = Job {
            work_ms,
            status: JobStatus::Queued,
            submitted_at: Instant::now(),
            queued_for: None,
            work: None,
        };
        self.jobs.insert(id, job);
        self.counts.queued += 1;
    }

    fn start(&mut self, id: u64) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.status = JobStatus::Running;
            job.queued_for = Some(job.submitted_at.elapsed());
            self.counts.queued -= 1;
            self.counts.running += 1;
        }
    }

    /// Marks the job done (with its work) or failed (none), and forgets the oldest finished
    /// job past [`MAX_FINISHED`].
    fn finish(&mut self, id: u64, work: Option<Work>) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        match job.status {
            JobStatus::Queued => self.counts.queued -= 1,
            JobStatus::Running => self.counts.running -= 1,
            JobStatus::Done | JobStatus::Failed => return,
        }
        job.status = if work.is_some() {
            self.counts.done += 1;
            JobStatus::Done
        } else {
            self.counts.failed += 1;
            JobStatus::Failed
        };
        job.work = work;
        self.finished.push_back(id);
        if self.finished.len() > MAX_FINISHED {
            if let Some(oldest) = self.finished.pop_front() {
                self.jobs.remove(&oldest);
            }
        }
    }
}

/// `GET /api/jobs/{id}`.
pub fn handle(services: &Services, id: &str) -> Response<Body> {
    let Some(jobs) = &services.jobs else {
        return response::error(
            StatusCode::NOT_IMPLEMENTED,
            "background jobs need a persistent process",
        );
    };
    match jobs.describe(id) {
        Some(job) => response::json(StatusCode::OK, &job),
        None => response::error(StatusCode::NOT_FOUND, &format!("no job {id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_goes_from_queued_to_done() {
        let jobs = Arc::new(Jobs::new(1));
        let first = jobs.submit(40);
        let second = jobs.submit(1);
        // One worker: the second waits behind the first.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(jobs.describe(&second).unwrap()["status"], "queued");
        let counts = jobs.counts();
        assert_eq!((counts.queued, counts.running), (1, 1), "{counts:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while jobs.counts().done < 2 {
            assert!(Instant::now() < deadline, "jobs did not finish");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let done = jobs.describe(&first).unwrap();
        assert_eq!(done["status"], "done");
        assert_eq!(done["report"]["work_ms"], 40);
        assert!(done["report"]["cpu_ms"].as_u64().unwrap() >= 40, "{done}");
        assert!(jobs.describe("999").is_none());
        assert!(jobs.describe("not-a-number").is_none());
    }

    #[test]
    fn only_the_newest_finished_jobs_are_kept() {
        let mut registry = Registry::default();
        let work = Work {
            result: 1,
            cpu_ms: 0,
            wall_ms: 0,
        };
        for id in 0..(MAX_FINISHED as u64 + 5) {
            registry.insert(id, 0);
            registry.finish(id, Some(work));
        }
        assert_eq!(registry.jobs.len(), MAX_FINISHED);
        assert!(!registry.jobs.contains_key(&4));
        assert!(registry.jobs.contains_key(&5));
        assert_eq!(registry.counts.done, MAX_FINISHED as u64 + 5);
        assert_eq!(registry.counts.queued, 0);
    }
}
