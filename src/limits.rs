//! Resource limits checked before the work starts: memory for the portfolio and for the trials'
//! outcomes, disk space for the reports. A clear error with the figures beats an out-of-memory
//! kill an hour into a batch job.

use crate::error::Error;
use std::path::Path;

/// Memory the process may still use, in bytes: the smaller of the system's available memory
/// (`MemAvailable`) and the room left under the cgroup limit (containers, batch schedulers).
/// `None` where neither can be read (then nothing is refused).
pub fn available_memory() -> Option<u64> {
    let system = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = cgroup_room();
    match (system, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Room under the cgroup memory limit of this process (v2, else v1), if it has one. Reclaimable
/// page cache (`inactive_file`) counts as room: a long-lived container's usage includes it.
fn cgroup_room() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let number = |path: &Path| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let stat = |path: &Path, key: &str| -> u64 {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.lines().find_map(|l| l.strip_prefix(key)?.trim().parse().ok()))
            .unwrap_or(0)
    };
    // v2: "0::/path"; v1: "N:memory:/path" (or a controller list that includes memory).
    let v2 = own.lines().find_map(|l| l.strip_prefix("0::")).map(|rel| (Path::new("/sys/fs/cgroup"), rel));
    let v1 = own.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, rel) = (parts.next()?, parts.next()?, parts.next()?);
        controllers.split(',').any(|c| c == "memory").then_some((Path::new("/sys/fs/cgroup/memory"), rel))
    });
    let (max, current, reclaimable) = match (v2, v1) {
        (Some((root, rel)), _) if root.join(rel.trim_start_matches('/')).join("memory.max").exists() => {
            let dir = root.join(rel.trim_start_matches('/'));
            // "max" (no limit) does not parse: no room to compute.
            (
                number(&dir.join("memory.max"))?,
                number(&dir.join("memory.current"))?,
                stat(&dir.join("memory.stat"), "inactive_file "),
            )
        }
        (_, Some((root, rel))) => {
            // Inside a container the cgroup's own folder is often mounted as the root.
            let dir = [root.join(rel.trim_start_matches('/')), root.to_path_buf()]
                .into_iter()
                .find(|d| d.join("memory.limit_in_bytes").exists())?;
            let max = number(&dir.join("memory.limit_in_bytes"))?;
            if max >= 1 << 60 {
                return None; // v1's "no limit" is a huge number
            }
            (max, number(&dir.join("memory.usage_in_bytes"))?, stat(&dir.join("memory.stat"), "total_inactive_file "))
        }
        _ => return None,
    };
    Some(max.saturating_sub(current.saturating_sub(reclaimable)))
}

/// Resident memory of this process now, in bytes (Linux; `None` elsewhere).
pub fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok().filter(|&p| p > 0).unwrap_or(4096))
}

/// Free space for this user on the disk holding `dir` (`None` where it cannot be read).
pub fn free_disk_bytes(dir: &Path) -> Option<u64> {
    fs4::available_space(dir).ok()
}

/// `n` bytes for people: "512 B", "3.2 MiB", "1.50 GiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    match u {
        0 => format!("{n} B"),
        _ if v < 10.0 => format!("{v:.2} {}", UNITS[u]),
        _ => format!("{v:.1} {}", UNITS[u]),
    }
}

/// Parses a size such as `512MiB`, `4GiB`, `2G`, `1.5GB` or a number of bytes (binary units:
/// `G`, `GB` and `GiB` all mean 2³⁰ bytes, as memory limits are usually meant).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("{text:?}: expected a size such as 512MiB, 4GiB or 2G")),
    };
    let value: f64 = number.parse().map_err(|_| format!("{text:?}: expected a size such as 512MiB, 4GiB or 2G"))?;
    let n = value * scale as f64;
    if !(n.is_finite() && n >= 1.0 && n < u64::MAX as f64) {
        return Err(format!("{text:?}: expected a size of at least 1 byte"));
    }
    Ok(n as u64)
}

/// Memory that loading and validating the portfolio takes, estimated from its files' sizes
/// (parsed rows, buyers, invoices and the checks' indexes: measured at about 8 times the CSV
/// bytes for a million buyers with 2.4 million invoices, and 9.95 times (1.79 GiB for 180 MiB)
/// for two million buyers without invoices; 12 is kept as a margin).
pub const LOAD_BYTES_PER_CSV_BYTE: u64 = 12;

/// Bytes of one outcome value (an `i64`).
pub const BYTES_PER_VALUE: u64 = 8;

/// Refuses a portfolio whose files would need more memory than is available.
pub fn check_portfolio_memory(files: &[(std::path::PathBuf, u64)], available: Option<u64>) -> Result<(), Error> {
    let Some(available) = available else { return Ok(()) };
    let csv: u64 = files.iter().map(|f| f.1).sum();
    let need = csv.saturating_mul(LOAD_BYTES_PER_CSV_BYTE);
    if need > available {
        let names: Vec<String> = files.iter().map(|f| f.0.display().to_string()).collect();
        return Err(Error::Usage(format!(
            "the portfolio ({}: {}) needs about {} of memory to load and validate, but {} is available: \
             run on a machine with more memory, or split the portfolio into studies that fit",
            names.join(", "),
            bytes(csv),
            bytes(need),
            bytes(available)
        )));
    }
    Ok(())
}

/// What a run holds at its peak: the trials' outcome rows (the statistics need them all), the
/// measure columns the statistics extract and sort, and what is already resident (the study and
/// its plans).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialMemory {
    pub trials: u64,
    /// Outcome values per trial held at once (the widest scenario's row, or the sum over the
    /// scenarios where all are held together, as a shard does).
    pub measures: usize,
    /// Copies of the rows at the peak: 1 for a run; 2 where a growing vector reallocates (runs
    /// to a target error), where a shard encodes its rows, or where merge decodes a shard beside
    /// the joined rows.
    pub copies: u64,
    /// Columns the statistics extract at once, each with a sorted copy (gross loss, and claims,
    /// net loss and total cost of every policy).
    pub columns: usize,
    /// The scenarios' compiled plans, per-buyer statistics and built reports, whatever the trials
    /// ([`study_bytes`]), in bytes.
    pub study: u64,
    /// Already resident, in bytes.
    pub resident: u64,
}

/// Bytes of one scenario's compiled plan and per-buyer statistics, per buyer (thresholds,
/// schedules, limits, the buyer's sums over trials) and per open invoice; and per buyer and
/// alternative, the contribution accumulators and, when written, a contributions.csv row built in
/// memory. Measured as peak resident memory on generated studies of 50,000 and 200,000 buyers
/// (1 and 3 scenarios, 1 and 4 alternatives, with and without invoices: about 620 bytes a buyer,
/// 45 a buyer and alternative, 95 a contributions.csv row), then raised by half as a margin, so that
/// the estimate stays an upper bound (tests/resources.rs compares it with the peak); the 96 bytes a
/// buyer and alternative also hold the shortfall attribution's per-buyer sum (16). The standard
/// errors of the contributions add, per key (a buyer, and at most one group of its own) and
/// alternative, the sums of squares over trials (16, kept in the outcomes and copied into the
/// contributions), the four tail sums (64) and the shortfall attribution's squares (16): 224 bytes a
/// buyer and alternative more, counted at face value (the per-buyer margin covers the key index).
/// Since issue 20 generated studies run short of cash in their baseline, so the shortfall
/// attribution replays trials of every scenario: a generated study of 30,000 buyers, 7 scenarios
/// and 4 alternatives then peaked at 794 MB against 664 MB estimated with 960 bytes a buyer, and
/// at 801 MB with the Philox stream of issue 21 (the number of replayed trials moves with the
/// draws). 2,000 bytes a buyer keep a margin of about a fifth over the largest peak seen.
pub const PLAN_BYTES_PER_BUYER: u64 = 2000;
pub const PLAN_BYTES_PER_INVOICE: u64 = 96;
pub const STATS_BYTES_PER_BUYER_ALTERNATIVE: u64 = 320;
/// A policy's per-buyer fields in a compiled plan (limits, cover, insured flags): the frontier,
/// whose variants are the plan's policies without per-buyer statistics, counts this instead of
/// [`STATS_BYTES_PER_BUYER_ALTERNATIVE`] (the 45 bytes a buyer and alternative measured above,
/// with a margin).
pub const PLAN_BYTES_PER_BUYER_POLICY: u64 = 64;
pub const CSV_BYTES_PER_CONTRIBUTION_ROW: u64 = 144;

/// What the plans, per-buyer statistics and reports of `scenarios` scenarios take beside the trials'
/// outcome rows (every scenario's plan and statistics are held until the reports are written).
///
/// The per-buyer statistics were measured with 2 worker threads, and much of them are accumulators
/// each worker keeps (per group of trials, and per chunk of replayed tail trials, summed at the
/// end): with `threads` workers they are counted `⌈threads / 2⌉` times, an upper bound.
pub fn study_bytes(
    buyers: usize,
    invoices: usize,
    scenarios: usize,
    alternatives: usize,
    contributions_csv: bool,
    threads: usize,
) -> u64 {
    let copies = threads.div_ceil(2).max(1) as u64;
    let per_buyer = PLAN_BYTES_PER_BUYER
        + alternatives as u64
            * (STATS_BYTES_PER_BUYER_ALTERNATIVE * copies
                + if contributions_csv { CSV_BYTES_PER_CONTRIBUTION_ROW } else { 0 });
    let per_scenario = (buyers as u64)
        .saturating_mul(per_buyer)
        .saturating_add((invoices as u64).saturating_mul(PLAN_BYTES_PER_INVOICE));
    per_scenario
        .saturating_mul(scenarios as u64)
        .saturating_add(report_bytes(scenarios, 0, 0))
        .saturating_add(RUN_OVERHEAD_BYTES)
}

/// What a run takes whatever its size: worker threads' stacks and allocator arenas, the statistics'
/// working copies and the fixed part of the reports (measured: a study of 300 buyers peaks about
/// 1 MiB above its resident memory plus its outcomes; kept generous).
pub const RUN_OVERHEAD_BYTES: u64 = 32 << 20;

/// Peak resident memory of this process so far (`VmHWM`, Linux; `None` elsewhere).
pub fn peak_resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kb * 1024)
}

impl TrialMemory {
    fn bytes_per_trial(&self) -> u64 {
        (self.measures as u64 * self.copies + 2 * self.columns as u64) * BYTES_PER_VALUE
    }

    pub fn outcome_bytes(&self) -> u64 {
        self.trials.saturating_mul(self.bytes_per_trial())
    }

    /// The estimated peak: outcomes, plans and statistics, and what is resident.
    pub fn total(&self) -> u64 {
        self.outcome_bytes().saturating_add(self.study).saturating_add(self.resident)
    }

    /// The most trials whose outcomes fit into `available` beside what is resident and the plans.
    pub fn trials_that_fit(&self, available: u64) -> u64 {
        available.saturating_sub(self.resident).saturating_sub(self.study) / self.bytes_per_trial().max(1)
    }

    /// Refuses a run (or a shard, or a merge) whose outcomes would not fit in memory; the message
    /// gives the figures and how to get the same trials within the limit. `what` names the
    /// command and the option that sets the trials, e.g. `run (--trials)`.
    pub fn check(&self, available: Option<u64>, what: &str) -> Result<(), Error> {
        let Some(available) = available else { return Ok(()) };
        if self.total() <= available {
            return Ok(());
        }
        let fit = self.trials_that_fit(available);
        let head = format!(
            "{what}: {} trials × {} measures need about {} of memory ({} for the outcomes, {} for the scenarios' \
             plans, statistics and reports, {} already in use), but {} is available",
            self.trials,
            self.measures,
            bytes(self.total()),
            bytes(self.outcome_bytes()),
            bytes(self.study),
            bytes(self.resident),
            bytes(available),
        );
        if fit == 0 {
            return Err(Error::Usage(format!(
                "{head}: the study itself leaves no room for trials here; run fewer scenarios at a time \
                 (--scenario, one run each), leave contributions.csv out (--format html), run on a machine with \
                 more memory, or set --max-memory if the limit detected is wrong"
            )));
        }
        let shards = self.trials.div_ceil(fit);
        Err(Error::Usage(format!(
            "{head}. Run at most {fit} trials here, or split the run into {shards} or more shards \
             (`arstress run STUDY --shard i/{shards} --out shards/i` on machines with this memory each); \
             `arstress merge` then holds every trial's rows of one scenario on one machine (docs/cluster.md). \
             Set --max-memory if the limit detected is wrong"
        )))
    }
}

/// A rough upper bound on the bytes of the reports: per scenario a fixed part (summary,
/// quantiles, distribution, cash flow, the HTML page) and per buyer and alternative a few
/// contribution rows.
pub fn report_bytes(scenarios: usize, buyers: usize, policies: usize) -> u64 {
    let alternatives = (policies + 1) as u64;
    let per_scenario = 512 * 1024 + alternatives * buyers as u64 * 2 * 120;
    per_scenario.saturating_mul(scenarios as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1.5gb"), Ok(3 << 29));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1G").is_err());
    }

    #[test]
    fn sizes_print_for_people() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.00 MiB");
        assert_eq!(bytes(150 << 30), "150.0 GiB");
    }

    #[test]
    fn trials_that_fit_leave_room_for_what_is_resident() {
        let m =
            TrialMemory { trials: 2_000_000, measures: 100, copies: 1, columns: 4, study: 3 << 20, resident: 1 << 20 };
        let fit = m.trials_that_fit(1 << 30);
        let at = TrialMemory { trials: fit, ..m };
        assert!(at.total() <= 1 << 30);
        assert!(TrialMemory { trials: fit + 1, ..m }.total() > 1 << 30);
        assert!(m.check(Some(1 << 30), "run").is_err());
        assert!(at.check(Some(1 << 30), "run").is_ok());
        assert!(m.check(None, "run").is_ok());
    }
}
