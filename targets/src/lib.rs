//! coldfront-targets: one application, two runtimes.
//!
//! [`app`] holds the routes and handlers, identical in both runtimes; they see the hosting
//! runtime only through [`app::Services`]. [`persistent`] is the long-lived pooled server,
//! `serverless` the platform emulator; [`command`] runs the user's own HTTP server in either
//! instead of the built-in application. [`db`] is the PostgreSQL schema, seed data and the
//! three ways a runtime reaches the database ([`db::DbAccess`]). [`settings`] holds both
//! runtimes' settings (scenario keys, `serve` flags, the harness→`serve` JSON) and
//! [`metrics`] the `GET /__coldfront/metrics` documents.

pub mod app;
pub mod command;
pub mod db;
mod listen;
pub mod metrics;
pub mod persistent;
pub mod serverless;
pub mod settings;
