//! The `arstress` binary: parse, run the library, print the error once, exit 0/1/2 (130/143 when
//! interrupted by SIGINT/SIGTERM).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Err(e) = on_interrupt_abandon_reports() {
        eprintln!("warning: cannot install the interrupt handler ({e}); an interrupted run may leave temporary files");
    }
    match cli::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is_user_error() { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: let a set of reports being renamed into place finish, remove
/// the temporary files of reports not yet complete, and exit with 128 + the signal number
/// (130, 143, 129), so the report folder keeps its previous reports or holds the complete new set.
fn on_interrupt_abandon_reports() -> std::io::Result<()> {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // Held until exit: no rename starts after this point.
            let (_lock, removed) = arstress::report::atomic::abandon_writes();
            let name = match signal {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            eprintln!(
                "\ninterrupted by {name}: incomplete reports discarded ({removed} temporary file(s) removed); \
                 the report folder holds only complete reports"
            );
            std::process::exit(128 + signal);
        }
    })?;
    Ok(())
}
