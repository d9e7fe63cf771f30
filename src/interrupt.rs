//! An interruption requested by a signal (SIGINT, SIGTERM, SIGHUP). The binary's handler sets the
//! flag at the moment the signal is delivered (an async-signal-safe atomic store), so that work
//! finishing after it (a set of reports renamed into place) still ends the process as interrupted,
//! whichever thread gets there first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The flag: 0, or the number of the signal delivered.
pub fn flag() -> &'static Arc<AtomicUsize> {
    static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// The signal delivered to this process, if any.
pub fn requested() -> Option<i32> {
    match flag().load(Ordering::SeqCst) {
        0 => None,
        signal => i32::try_from(signal).ok(),
    }
}
