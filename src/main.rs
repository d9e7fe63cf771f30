//! The `arstress` binary: parse, run the library, print the error once, exit 0/1/2 (130/143 when
//! interrupted by SIGINT/SIGTERM).

mod cli;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => cli::exit_on_parse_error(e),
    };
    if let Err(e) = on_interrupt_abandon_reports() {
        eprintln!("warning: cannot install the interrupt handler ({e}); an interrupted run may leave temporary files");
    }
    let result = cli::execute(cli);
    // Capacity planning (and tests): the peak resident memory of this process, which a parent's
    // rusage cannot tell apart from its own (a spawned child's maxrss starts at its parent's).
    if std::env::var_os("ARSTRESS_PRINT_PEAK_MEMORY").is_some()
        && let Some(peak) = arstress::limits::peak_resident_memory()
    {
        let _ = writeln!(std::io::stderr(), "peak resident memory: {peak} bytes");
    }
    // A signal delivered while the last reports were renamed into place (the handler waits for
    // the set): the run ends as interrupted, whichever thread gets here first.
    if let Some(signal) = arstress::interrupt::requested() {
        exit_interrupted(signal);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", arstress::terminal::printable_lines(&format!("{e:#}")));
            if e.is_user_error() { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: let a set of reports being renamed into place finish, remove
/// the temporary files of reports not yet complete, and exit with 128 + the signal number
/// (130, 143, 129), so the report folder keeps its previous reports or holds the complete new set.
/// A signal the process inherited as ignored (`nohup`, background jobs) stays ignored.
fn on_interrupt_abandon_reports() -> std::io::Result<()> {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP].into_iter().filter(|&s| !inherited_as_ignored(s)).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // Set at delivery, before the thread below wakes: main sees it even if it finishes first.
    for &signal in &wanted {
        signal_hook::flag::register_usize(signal, std::sync::Arc::clone(arstress::interrupt::flag()), signal as usize)?;
    }
    let mut signals = signal_hook::iterator::Signals::new(&wanted)?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            exit_interrupted(signal);
        }
    })?;
    Ok(())
}

/// Waits for a set of reports being renamed to be complete, removes the temporary files in flight,
/// says so and exits with 128 + the signal number. The lock taken is held until the exit, so a
/// second caller (the signal thread, or main) waits here until the first has ended the process.
fn exit_interrupted(signal: i32) -> ! {
    use signal_hook::consts::signal::{SIGINT, SIGTERM};
    let (_lock, removed) = arstress::atomic::abandon_writes();
    let name = match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "SIGHUP",
    };
    // Never panics (stderr may be a closed pipe or a hung-up terminal): the exit must happen.
    let _ = writeln!(
        std::io::stderr(),
        "\ninterrupted by {name}: incomplete reports discarded ({removed} temporary file(s) removed); \
         the report folder holds only complete reports"
    );
    std::process::exit(128 + signal);
}

/// Whether `signal` is ignored (`SIG_IGN`) as this process started.
fn inherited_as_ignored(signal: i32) -> bool {
    // SAFETY: sigaction with a null new action only reads the current disposition into `old`,
    // a zeroed plain-old-data struct owned here.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}
