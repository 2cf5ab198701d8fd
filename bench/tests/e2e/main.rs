//! The one end-to-end test binary: real processes, real sockets.

mod load;
mod support;
mod tls;
