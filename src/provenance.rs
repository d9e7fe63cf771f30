//! What produced a set of outcomes: the binary itself.
//!
//! Floating-point results (normal quantiles, `exp`, `ln`) may differ in the last bit between
//! builds, compilers or math libraries, and one flipped default changes a trial. Shards and resume
//! files therefore record the SHA-256 of the executable that wrote them, and are only combined
//! with outcomes of the same executable.

use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// SHA-256 of the running executable (hex), or `"unknown"` if it cannot be read.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::read)
            .map(|bytes| Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_else(|_| "unknown".to_owned())
    })
}
