//! The `arstress` binary: parse, run the library, print the error once, exit 0/1/2.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is_user_error() { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}
