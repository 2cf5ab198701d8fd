//! One instance process as the gateway holds it: a supervisor task owns the child, reaps it
//! whenever it exits, and kills it on order. Dropping the [`Process`] retires the instance
//! gracefully (it has [`RETIRE_GRACE`] to exit after its socket closed, then SIGKILL);
//! [`Process::kill`] sends SIGKILL at once. The instance counts as alive until it is reaped.

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::oneshot;

use super::metrics::Stats;

/// How long a retired instance may take to exit on its own before SIGKILL.
pub const RETIRE_GRACE: Duration = Duration::from_secs(2);

/// What the holder asks of the supervisor.
enum Order {
    Kill,
}

pub struct Process {
    orders: Option<oneshot::Sender<Order>>,
    exited: Option<oneshot::Receiver<ExitStatus>>,
}

impl Process {
    /// Hands `child` to a supervisor task; `stats` counts it alive until it is reaped.
    pub fn supervise(child: Child, stats: Arc<Stats>) -> Process {
        let (orders, received) = oneshot::channel();
        let (report_exit, exited) = oneshot::channel();
        stats.instance_spawned();
        tokio::spawn(async move {
            let status = supervise(child, received).await;
            stats.instance_exited();
            if let Some(status) = status {
                let _ = report_exit.send(status);
            }
        });
        Process {
            orders: Some(orders),
            exited: Some(exited),
        }
    }

    /// SIGKILL now (the supervisor reaps it).
    pub fn kill(mut self) {
        if let Some(orders) = self.orders.take() {
            let _ = orders.send(Order::Kill);
        }
    }

    /// How the process ended, if it ends within `within`: for messages about a crash.
    pub async fn exit_status(&mut self, within: Duration) -> Option<ExitStatus> {
        let exited = self.exited.as_mut()?;
        tokio::time::timeout(within, exited).await.ok()?.ok()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Dropping the order channel unsent means "retire": see `supervise`.
        drop(self.orders.take());
    }
}

/// Waits for `child` to exit; on a kill order kills it, on a retirement (the order channel
/// closed unsent) gives it [`RETIRE_GRACE`] first. Returns the exit status when known.
async fn supervise(mut child: Child, orders: oneshot::Receiver<Order>) -> Option<ExitStatus> {
    tokio::select! {
        status = child.wait() => return status.ok(),
        order = orders => {
            if order.is_err() {
                if let Ok(status) = tokio::time::timeout(RETIRE_GRACE, child.wait()).await {
                    return status.ok();
                }
            }
        }
    }
    let _ = child.start_kill();
    child.wait().await.ok()
}
