//! Serving a listener until shutdown, the same for both runtimes: accept connections (each
//! served on its own task) until told to stop, then give in-flight requests a grace period.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long in-flight requests may run on after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Accepts connections and spawns `serve(stream)` for each until `shutdown`; returns the
/// connection tasks still running. `who` names the server in messages.
pub(crate) async fn accept_until<F, Fut>(
    who: &str,
    listener: &TcpListener,
    shutdown: impl Future<Output = ()>,
    mut serve: F,
) -> JoinSet<()>
where
    F: FnMut(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return connections,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream));
                }
                Err(error) => {
                    // Out of file descriptors, or a connection aborted before accept.
                    eprintln!("{who}: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

/// Waits for the connections to finish their in-flight requests, at most [`SHUTDOWN_GRACE`],
/// then closes the rest.
pub(crate) async fn drain(who: &str, mut connections: JoinSet<()>) {
    let all_done = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, all_done)
        .await
        .is_err()
    {
        eprintln!(
            "{who}: {} connection(s) still busy after {SHUTDOWN_GRACE:?}; closing them",
            connections.len()
        );
        connections.shutdown().await;
    }
}
