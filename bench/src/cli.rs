//! The command line: clap derive structs for every subcommand, nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "coldfront", version, about = "Serverless functions or a persistent server? Measured.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against their targets and save a result set per scenario.
    Run(RunArgs),
    /// Check scenario files without running them.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files, or directories whose *.toml files are run in name order.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Directory that receives one result set per scenario.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Run only this target (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Allow external targets that are not on loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// Multiply every phase duration by this factor (keeps each phase's shape).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub duration_scale: f64,
    /// Extra trusted CA certificates (PEM file) for https:// targets.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files, or directories of *.toml files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
}
