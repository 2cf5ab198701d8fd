//! One instance process as the gateway holds it: a supervisor task owns the child, reaps it
//! whenever it exits, and kills it on order. Every instance leads its own process group, and
//! the whole group is killed when the instance ends, so nothing it forked outlives it.
//! Dropping the [`Process`] retires the instance gracefully: a built-in instance exits by
//! itself once its socket closes, a command instance is sent SIGTERM ([`Retire`]); either has
//! [`RETIRE_GRACE`] before SIGKILL. [`Process::kill`] sends SIGKILL at once. The instance
//! counts as alive until it is reaped.

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::oneshot;

use super::metrics::Stats;
use crate::command::signal_group;

/// How long a retired instance may take to exit on its own before SIGKILL.
pub const RETIRE_GRACE: Duration = Duration::from_secs(2);

/// How an instance is asked to end when it retires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// It exits when its connection closes (the built-in instance).
    OnClose,
    /// SIGTERM to its group (a command instance: a user's server does not watch a socket).
    Terminate,
}

/// What the holder asks of the supervisor.
enum Order {
    Kill,
}

pub struct Process {
    orders: Option<oneshot::Sender<Order>>,
    exited: Option<oneshot::Receiver<ExitStatus>>,
}

impl Process {
    /// Hands `child` (which leads its own process group) to a supervisor task; `stats` counts
    /// it alive until it is reaped.
    pub fn supervise(child: Child, retire: Retire, stats: Arc<Stats>) -> Process {
        let (orders, received) = oneshot::channel();
        let (report_exit, exited) = oneshot::channel();
        stats.instance_spawned();
        tokio::spawn(async move {
            let status = supervise(child, retire, received).await;
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

    /// How the process ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.exited.as_mut()?.try_recv().ok()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Dropping the order channel unsent means "retire": see `supervise`.
        drop(self.orders.take());
    }
}

/// Waits for `child` to exit; on a kill order kills its group, on a retirement (the order
/// channel closed unsent) asks it to end as `retire` says and gives it [`RETIRE_GRACE`]
/// first. Whatever is left of its group is killed once it has exited. Returns the exit
/// status when known.
async fn supervise(
    mut child: Child,
    retire: Retire,
    orders: oneshot::Receiver<Order>,
) -> Option<ExitStatus> {
    let Some(pid) = child.id() else {
        return child.wait().await.ok();
    };
    let status = tokio::select! {
        status = child.wait() => status.ok(),
        order = orders => {
            let mut status = None;
            if order.is_err() {
                if retire == Retire::Terminate {
                    signal_group(pid, libc::SIGTERM);
                }
                if let Ok(exited) = tokio::time::timeout(RETIRE_GRACE, child.wait()).await {
                    status = exited.ok();
                }
            }
            if status.is_none() {
                signal_group(pid, libc::SIGKILL);
                status = child.wait().await.ok();
            }
            status
        }
    };
    // What the instance forked and left behind. (Its PID, and so the group's ID, is not
    // reused while any member of the group lives.)
    signal_group(pid, libc::SIGKILL);
    status
}
