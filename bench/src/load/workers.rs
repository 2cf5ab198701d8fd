//! The generator's workers: one OS thread per generator CPU, each running a single-threaded
//! tokio event loop that owns its client (its connections), its [`Segment`] of the schedule
//! and its recorder. Nothing is shared between workers on the per-request path; the ticker
//! adds their recorders' intervals together each second ([`crate::record::Recorders`]).
//!
//! A scenario is split by interleaving: worker `i` of `N` sends the requests with
//! `seq mod N == i` at their original intended times, and gets its whole-number share of each
//! phase's closed-model concurrency and of `max_connections` ([`Segment::share`]). So the
//! workers together send exactly what one would.

use std::sync::Arc;
use std::time::Instant;

use super::schedule::Segment;
use super::{DriveReport, LoadContext};
use crate::scenario::LoadPlan;

/// Which CPUs the generator runs on, whether each worker is pinned to its own, and whether
/// the workers may sleep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GeneratorCpus {
    /// One worker per CPU, in this order.
    pub cpus: Vec<usize>,
    /// Each worker thread is bound to its CPU (`--generator-cpus`); otherwise the workers
    /// float over the process's CPUs.
    pub pinned: bool,
    /// The open model's workers turn their loops instead of sleeping (`--busy-poll`).
    pub busy_poll: bool,
}

impl GeneratorCpus {
    /// How many workers `shard` of a plan gets: one per CPU, but no more than its share of
    /// the connections (a worker with no connection could send nothing).
    pub(crate) fn workers_for(&self, plan: &LoadPlan, shard: Segment) -> usize {
        let connections = shard.share(plan.max_connections as u64) as usize;
        self.cpus.len().clamp(1, connections.max(1))
    }

    /// The CPU worker `index` is pinned to, when pinned.
    fn pin_of(&self, index: usize) -> Option<usize> {
        self.pinned.then(|| self.cpus.get(index).copied()).flatten()
    }
}

/// One worker's part: its segment and its context (client, recorder).
pub(crate) struct WorkerPart {
    pub segment: Segment,
    pub ctx: Arc<LoadContext>,
}

/// Runs every worker's part of `plan` from `start` until each is done, on threads of their
/// own, and reports for all of them.
pub(crate) async fn drive(
    plan: &LoadPlan,
    seed: u64,
    parts: Vec<WorkerPart>,
    cpus: &GeneratorCpus,
    start: Instant,
) -> DriveReport {
    let mut threads = Vec::with_capacity(parts.len());
    for (index, part) in parts.into_iter().enumerate() {
        let plan = plan.clone();
        let pin = cpus.pin_of(index);
        let spawned = std::thread::Builder::new()
            .name(format!("coldfront-gen-{index}"))
            .spawn(move || run_worker(&plan, seed, part, pin, start));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(error) => eprintln!("error: starting generator worker {index}: {error}"),
        }
    }
    let joined = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap_or(DriveReport::default()))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    joined
        .into_iter()
        .fold(DriveReport::default(), |all, one| DriveReport {
            interrupted: all.interrupted || one.interrupted,
            abandoned: all.abandoned + one.abandoned,
        })
}

/// One worker thread: pinned if asked, its own current-thread runtime, its segment.
fn run_worker(
    plan: &LoadPlan,
    seed: u64,
    part: WorkerPart,
    pin: Option<usize>,
    start: Instant,
) -> DriveReport {
    if let Some(cpu) = pin {
        if let Err(error) = pin_current_thread(cpu) {
            eprintln!("warning: generator worker not pinned to CPU {cpu}: {error}");
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: generator worker runtime: {error}");
            return DriveReport::default();
        }
    };
    runtime.block_on(super::drive(plan, seed, part.segment, part.ctx, start))
}

/// Restricts the calling thread (and the threads and processes it creates later) to `cpu`.
pub(crate) fn pin_current_thread(cpu: usize) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
