use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = coldfront::cli::Cli::parse();
    match coldfront::run(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            coldfront::Exit::UsageOrInput.into()
        }
    }
}
