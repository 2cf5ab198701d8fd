//! The closed model: per phase, this segment's share of `concurrency` workers loop send → wait
//! for the answer → think, until the phase ends (a think time running past the phase's end is
//! cut there). Latency is measured from each request's actual start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use super::schedule::Segment;
use super::{DriveReport, LoadContext, INTERRUPT_GRACE};
use crate::scenario::{LoadPlan, PhaseLoad};

pub(super) async fn drive(
    plan: &LoadPlan,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    let next_seq = Arc::new(AtomicU64::new(0));
    let mut workers = JoinSet::new();
    let mut phase_start = start;
    for phase in &plan.phases {
        let phase_end = phase_start + phase.duration;
        if let PhaseLoad::Concurrency {
            workers: count,
            think_time,
        } = phase.load
        {
            if !wait_until(phase_start, &ctx).await {
                break;
            }
            for _ in 0..segment.share(count as u64) {
                let ctx = ctx.clone();
                let next_seq = next_seq.clone();
                workers.spawn(async move {
                    while Instant::now() < phase_end && !ctx.cancel.is_cancelled() {
                        let seq = segment.seq(next_seq.fetch_add(1, Ordering::Relaxed));
                        let started = Instant::now();
                        ctx.recorder.record_sent((started - start).as_secs());
                        ctx.send_and_record(seq, started, started + ctx.timeout)
                            .await;
                        if !think_time.is_zero() {
                            let wake = (Instant::now() + think_time).min(phase_end);
                            if !wait_until(wake, &ctx).await {
                                break;
                            }
                        }
                    }
                });
            }
        }
        phase_start = phase_end;
    }
    let finished = tokio::select! {
        _ = drain(&mut workers) => true,
        _ = ctx.cancel.cancelled() => {
            tokio::time::timeout(INTERRUPT_GRACE, drain(&mut workers)).await.is_ok()
        }
    };
    let abandoned = if finished { 0 } else { workers.len() as u64 };
    workers.abort_all();
    DriveReport {
        interrupted: ctx.cancel.is_cancelled(),
        abandoned,
    }
}

async fn drain(workers: &mut JoinSet<()>) {
    while workers.join_next().await.is_some() {}
}

/// Waits for `at`; false when cancelled first.
async fn wait_until(at: Instant, ctx: &LoadContext) -> bool {
    tokio::select! {
        _ = tokio::time::sleep_until(at.into()) => !ctx.cancel.is_cancelled(),
        _ = ctx.cancel.cancelled() => false,
    }
}
