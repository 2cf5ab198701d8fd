//! The one end-to-end test binary: real processes, real sockets.

mod browser;
mod builtin;
mod command_targets;
mod compare;
mod formats;
mod generator;
mod held;
mod http_client;
mod load;
mod metrics;
mod one_line;
mod persistent;
mod placeholders;
mod postgres;
mod preflight;
mod repeat;
mod scenario;
mod serverless;
mod shard;
mod signals;
mod support;
mod tls;
mod tls_nginx;
