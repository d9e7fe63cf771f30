//! Command-line interface: clap definitions and the commands, thin over the library.

use arstress::commands::generate::{GenerateOptions, generate};
use arstress::error::Error;
use arstress::input::{load_study, study_file};
use arstress::model::Study;
use arstress::portfolio_summary::{self, Summary};
use arstress::report::{self, Timing};
use arstress::run::{RunOptions, TargetError, compile_all, run_plans, run_to_target};
use clap::{Parser, Subcommand};
use indicatif::ProgressDrawTarget;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod progress;

/// `eprintln!` with control characters escaped (all but the line breaks of the message itself):
/// names and paths printed come from users' files ([`arstress::terminal`]).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        // A closed stderr is no reason to fail or panic.
        let _ = writeln!(std::io::stderr(), "{}", arstress::terminal::fitted_lines(&text));
    }};
}

#[derive(Debug, Parser)]
#[command(
    name = "arstress",
    version,
    about = "Monte Carlo stress testing of trade receivables and trade credit insurance",
    max_term_width = 96
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a study and write its reports.
    #[command(after_help = "Examples:
  arstress run scenarios/example                      # every scenario, reports/<study name>/
  arstress run study.toml -n 20000 -s baseline -o out  # a quick look at one scenario
  arstress run study.toml --target-rel-error 0.01     # add trials until ES 99 is within 1%
  arstress run study.toml --format csv,html,xlsx      # also report.xlsx, a sheet per table
  arstress run study.toml --shard 0/4 -o shard-0      # one of four shards, then `arstress merge`")]
    Run(RunArgs),
    /// Check a study's inputs and print a portfolio summary.
    #[command(after_help = "Examples:
  arstress validate scenarios/example
  arstress validate study.toml --format json > portfolio.json")]
    Validate {
        /// Study file or folder (a folder means its study.toml).
        #[arg(default_value = "study.toml")]
        study: PathBuf,
        /// `text` (default) or `json` (schema in docs/reports.md).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Write a synthetic but realistic study of N buyers.
    #[command(after_help = "Examples:
  arstress generate 10000 -o /tmp/big --invoices      # 10,000 buyers with open invoices
  arstress generate 500 -o demo --seed 7 --trials 20000")]
    Generate {
        /// Number of buyers.
        buyers: usize,
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
        /// Seed of the generator (and of the study).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Trials written into study.toml.
        #[arg(long, default_value_t = 100_000)]
        trials: u64,
        /// Also write invoices.csv with open invoices per buyer.
        #[arg(long)]
        invoices: bool,
        /// Memory generating may use, e.g. 8GiB (default: what is available).
        #[arg(long, value_parser = arstress::limits::parse_size)]
        max_memory: Option<u64>,
        /// Write into a folder that is not empty (its study files are replaced).
        #[arg(long)]
        force: bool,
    },
    /// Turn an ERP open-items list or an aged-receivables report (CSV) into a study folder:
    /// buyers.csv, invoices.csv, study.toml, policies.toml and the standard scenarios
    /// (docs/import.md).
    #[command(after_help = "Examples:
  arstress import open-items.csv -o my-study --as-of 2027-01-01
  arstress import aged.csv -o my-study --as-of 2027-03-31 --default-country DE
  arstress import export.csv -o my-study --delimiter ';' --decimal-comma --date-format %d.%m.%Y
  arstress import ledger.csv -o my-study --map map.toml --currency EUR --fx USD=0.92")]
    Import(ImportArgs),
    /// Write a small commented study: every input key with its default (docs/inputs.md).
    #[command(after_help = "Examples:
  arstress init my-study                   # then edit buyers.csv, policies.toml, scenarios/
  arstress validate my-study && arstress run my-study -n 2000
  arstress init my-study --force           # write the study over a folder that is not empty")]
    Init {
        /// Folder to write the study into (created if missing; it must be empty without --force).
        dir: PathBuf,
        /// Write into a folder that is not empty (its study files are replaced).
        #[arg(long)]
        force: bool,
    },
    /// Join the shard folders of one run (`run --shard i/n`) into the reports of a single run.
    #[command(after_help = "Examples:
  arstress merge shard-0 shard-1 shard-2 shard-3 -o reports/h2
  arstress merge shards/* -o reports/h2 --format csv,json,html")]
    Merge {
        /// Shard folders, in any order (together they must cover every trial exactly once).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Report folder.
        #[arg(long, short)]
        out: PathBuf,
        /// The study (default: the path recorded in the shards); its files must be unchanged.
        #[arg(long)]
        study: Option<PathBuf>,
        /// Worker threads for the statistics (results do not depend on it).
        #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
        /// No summary lines.
        #[arg(long, short)]
        quiet: bool,
        /// Report formats, comma-separated: csv, json (summary.json), html (report.html), xlsx
        /// (report.xlsx).
        #[arg(long, default_value = "csv,html", value_delimiter = ',', value_enum)]
        format: Vec<Format>,
        /// Start every CSV file with a UTF-8 byte order mark, so that Excel reads its names right.
        #[arg(long)]
        csv_bom: bool,
        /// Memory the merge may use, e.g. 8GiB (default: what is available).
        #[arg(long, value_parser = arstress::limits::parse_size)]
        max_memory: Option<u64>,
    },
    /// Sweep one policy's terms over ranges (a TOML file) on the same trials: frontier.csv and
    /// frontier.html, premium against ES 99 of the net loss and P(shortfall), efficient variants
    /// marked (docs/frontier.md).
    #[command(after_help = "Examples:
  arstress frontier scenarios/example --sweep sweep.toml -n 100000 -o reports/frontier
  arstress frontier study.toml --sweep sweep.toml -s severe-recession -s baseline")]
    Frontier {
        /// Study file or folder (a folder means its study.toml).
        #[arg(default_value = "study.toml")]
        study: PathBuf,
        /// The sweep: `base = "POLICY"` and a `[sweep]` table of terms and their values.
        #[arg(long)]
        sweep: PathBuf,
        /// Report folder (default: reports/<study name>/frontier/).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Only this scenario (repeatable; default: the study's first).
        #[arg(long = "scenario", short = 's')]
        scenarios: Vec<String>,
        /// Number of trials (overrides study.toml).
        #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
        trials: Option<u64>,
        /// Seed (overrides study.toml).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (results do not depend on it).
        #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
        /// Memory the run may use, e.g. 8GiB (default: what is available).
        #[arg(long, value_parser = arstress::limits::parse_size)]
        max_memory: Option<u64>,
        /// No summary lines.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare two report folders (e.g. the last half-year's run and this one): writes
    /// comparison.csv and prints the headline changes, flagging those beyond the Monte Carlo error.
    #[command(after_help = "Examples:
  arstress compare reports/2026-h1 reports/2026-h2
  arstress compare old new -o /tmp/diff")]
    Compare {
        /// The older report folder.
        old: PathBuf,
        /// The newer report folder.
        new: PathBuf,
        /// Folder for comparison.csv (default: the newer report folder).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Print a shell completion script to stdout.
    #[command(after_help = "Examples:
  arstress completions bash > ~/.local/share/bash-completion/completions/arstress
  arstress completions zsh > ~/.zfunc/_arstress      # with fpath+=(~/.zfunc) in ~/.zshrc
  arstress completions fish > ~/.config/fish/completions/arstress.fish
  arstress completions powershell >> $PROFILE")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout, or write one page per command into a folder.
    #[command(after_help = "Examples:
  arstress man | man -l -
  arstress man --out ~/.local/share/man/man1      # arstress.1, arstress-run.1, ...")]
    Man {
        /// Write arstress.1 and a page per command (arstress-run.1, ...) into this folder.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The ledger: open items (one row per invoice) or an aged balance (one row per customer).
    ledger: PathBuf,
    /// The study folder to write.
    #[arg(long, short)]
    out: PathBuf,
    /// Write into a folder that is not empty (its study files are replaced).
    #[arg(long)]
    force: bool,
    /// Field = "column" lines naming the ledger's columns (buyer_id = "Kunden-Nr").
    #[arg(long)]
    map: Option<PathBuf>,
    /// Valuation date YYYY-MM-DD (default: the latest document date in the ledger).
    #[arg(long, value_parser = parse_iso_date)]
    as_of: Option<time::Date>,
    /// Field delimiter, one character (`;` for European exports).
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    delimiter: u8,
    /// Amounts written 1.234,56 (comma for decimals, point for thousands).
    #[arg(long)]
    decimal_comma: bool,
    /// Layout of the dates, e.g. %d.%m.%Y or %m/%d/%Y (default: YYYY-MM-DD).
    #[arg(long)]
    date_format: Option<String>,
    /// Rating of buyers without one.
    #[arg(long, default_value = "BB")]
    default_rating: String,
    /// Country of buyers without one (default: such buyers are refused).
    #[arg(long)]
    default_country: Option<String>,
    /// The study's reporting currency (default: the ledger's only currency).
    #[arg(long)]
    currency: Option<String>,
    /// Rate of another currency, CUR=RATE: reporting-currency units per 1 CUR (repeatable).
    #[arg(long = "fx", value_parser = parse_fx)]
    fx: Vec<(String, rust_decimal::Decimal)>,
    /// The study's name (default: the ledger's file name without extension).
    #[arg(long)]
    name: Option<String>,
    /// Trials written into study.toml.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    trials: u64,
    /// Seed written into study.toml.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    seed: u64,
}

fn parse_iso_date(s: &str) -> Result<time::Date, String> {
    arstress::input::portfolio::parse_date(s).ok_or_else(|| format!("expected a date YYYY-MM-DD, not {s:?}"))
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s.as_bytes() {
        [b] if b.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
        _ if s == "\\t" || s == "tab" => Ok(b'\t'),
        _ => Err(format!("expected one ASCII character such as ; or , (or tab), not {s:?}")),
    }
}

fn parse_fx(s: &str) -> Result<(String, rust_decimal::Decimal), String> {
    let expected = || format!("expected CUR=RATE such as USD=0.92 (reporting-currency units per 1 USD), not {s:?}");
    let (cur, rate) = s.split_once('=').ok_or_else(expected)?;
    let rate: rust_decimal::Decimal = rate.trim().parse().map_err(|_| expected())?;
    Ok((cur.trim().to_ascii_uppercase(), rate))
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Study file or folder (a folder means its study.toml).
    #[arg(default_value = "study.toml")]
    pub study: PathBuf,
    /// Report folder (default: reports/<study name>/).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Number of trials (overrides study.toml).
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub trials: Option<u64>,
    /// Seed (overrides study.toml).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Trials per block of work (default 1024). Results do not depend on it; it trades cache use
    /// against load balance.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub block_size: Option<u32>,
    /// Run only this scenario (repeatable).
    #[arg(long = "scenario", short = 's')]
    pub scenarios: Vec<String>,
    /// Report formats, comma-separated: csv (the tables), json (summary.json), html (report.html),
    /// xlsx (report.xlsx, a sheet per table).
    #[arg(long, default_value = "csv,html", value_delimiter = ',', value_enum)]
    pub format: Vec<Format>,
    /// Start every CSV file with a UTF-8 byte order mark, so that Excel reads its names right.
    #[arg(long)]
    pub csv_bom: bool,
    /// No progress bar and no summary lines.
    #[arg(long, short)]
    pub quiet: bool,
    /// Keep each finished scenario's trials in the report folder and reuse them when the run is
    /// repeated with unchanged inputs, seed and trials (an interrupted batch resumes where it stopped).
    #[arg(long)]
    pub resume: bool,
    /// Add trials in blocks of 10,000 until the relative standard error of ES 99 of the net loss
    /// is at most this (under every policy and none), or --max-trials is reached.
    #[arg(long, value_parser = parse_rel_error)]
    pub target_rel_error: Option<f64>,
    /// Run only shard i of n (0-based): trials [⌊i·N/n⌋, ⌊(i+1)·N/n⌋) of every scenario, written to
    /// --out as a shard folder for `arstress merge` (docs/cluster.md).
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<arstress::run::shard::ShardSpec>,
    /// `monte-carlo` or `analytic`: the credit-default part by quadrature and FFT, no
    /// simulation (docs/analytic.md).
    #[arg(long, value_enum, default_value_t = Method::MonteCarlo)]
    pub method: Method,
    /// Importance sampling of the global factor for precise tail figures: half the trials draw it
    /// around its 0.5% quantile, every trial weighted by its likelihood ratio (docs/accuracy.md).
    #[arg(long)]
    pub tail_sampling: bool,
    /// Shift of the global factor's mean under --tail-sampling, in standard deviations toward
    /// the bad tail.
    #[arg(long, requires = "tail_sampling", value_parser = parse_shift)]
    pub tail_shift: Option<f64>,
    /// Upper bound on the trials of a run with --target-rel-error.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub max_trials: u64,
    /// Memory the run may use, e.g. 8GiB (default: what the system and the cgroup leave
    /// available). A run that would need more is refused before any trial, with the figures.
    #[arg(long, value_parser = arstress::limits::parse_size)]
    pub max_memory: Option<u64>,
}

/// A report format of `--format` (clap refuses any other value, listing these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The tables (summary.csv, policy_comparison.csv, …).
    Csv,
    /// summary.json.
    Json,
    /// report.html.
    Html,
    /// report.xlsx, a sheet per table.
    Xlsx,
}

/// The reports to write for the formats given.
fn formats_of(formats: &[Format], csv_bom: bool) -> report::Formats {
    let has = |f: Format| formats.contains(&f);
    report::Formats {
        csv: has(Format::Csv),
        json: has(Format::Json),
        html: has(Format::Html),
        xlsx: has(Format::Xlsx),
        csv_bom,
    }
}

/// How `run` computes the loss distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Simulate trials (every part of the model, every report).
    MonteCarlo,
    /// Credit defaults and claims without simulation: analytic.csv and analytic_distribution.csv.
    Analytic,
}

fn parse_shard(s: &str) -> Result<arstress::run::shard::ShardSpec, String> {
    arstress::run::shard::ShardSpec::parse(s)
}

/// A tail-sampling shift in (0, 10].
fn parse_shift(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 10.0 => Ok(x),
        _ => Err(format!("{s:?}: expected a shift between 0 and 10 standard deviations, e.g. 2.5")),
    }
}

/// A relative error in (0, 1).
fn parse_rel_error(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!("{s:?}: expected a relative error between 0 and 1, e.g. 0.01")),
    }
}

/// Prints a command-line error and exits (2; 0 for `--help` and `--version`). A mistyped command
/// that clap finds nothing like (its similarity misses transpositions such as `rnu`) gets the
/// nearest command by edit distance (a swap of two letters counting one).
pub fn exit_on_parse_error(e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() == ErrorKind::InvalidSubcommand
        && e.get(ContextKind::SuggestedSubcommand).is_none()
        && let Some(ContextValue::String(typed)) = e.get(ContextKind::InvalidSubcommand)
    {
        let command = <Cli as clap::CommandFactory>::command();
        let nearest = command
            .get_subcommands()
            .map(|c| c.get_name())
            .filter(|name| *name != "help")
            .map(|name| (strsim::damerau_levenshtein(typed, name), name))
            .filter(|&(d, name)| d <= 2 && d < name.len())
            .min();
        if let Some((_, name)) = nearest {
            say!(
                "error: unrecognized command '{typed}'\n\n  tip: did you mean '{name}'?\n\nUsage: arstress <COMMAND>\n\nFor more information, try '--help'."
            );
            std::process::exit(2);
        }
    }
    e.exit()
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { study, format } => validate(&study, &format),
        Command::Generate { buyers, out, seed, trials, invoices, max_memory, force } => {
            if buyers == 0 {
                return Err(Error::Usage("generate: the number of buyers must be at least 1".into()));
            }
            arstress::commands::generate::refuse_non_empty("--out", &out, force)?;
            let opts = GenerateOptions { buyers, seed, trials, with_invoices: invoices };
            arstress::commands::generate::check_resources(&out, &opts, memory_limit(max_memory))?;
            check_out_writable(&out, 0)?;
            generate(&out, &opts)?;
            say!("wrote a study of {buyers} buyers to {}", out.display());
            Ok(())
        }
        Command::Import(args) => import(args),
        Command::Init { dir, force } => {
            arstress::commands::generate::refuse_non_empty("init", &dir, force)?;
            arstress::commands::init::init(&dir)?;
            say!(
                "wrote a commented study to {}\ncheck it: arstress validate {0}\nrun it:   arstress run {0}",
                dir.display()
            );
            Ok(())
        }
        Command::Merge { shards, out, study, threads, quiet, format, csv_bom, max_memory } => {
            let formats = formats_of(&format, csv_bom);
            merge(&shards, &out, study.as_deref(), threads, quiet, formats, memory_limit(max_memory))
        }
        Command::Frontier { study, sweep, out, scenarios, trials, seed, threads, max_memory, quiet } => {
            frontier(&FrontierArgs { study, sweep, out, scenarios, trials, seed, threads, max_memory, quiet })
        }
        Command::Completions { shell } => {
            let mut bytes = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "arstress", &mut bytes);
            write_stdout(&bytes)
        }
        Command::Man { out } => man(out.as_deref()),
        Command::Compare { old, new, out } => {
            let rows = arstress::commands::compare::compare(&old, &new)?;
            let out = out.unwrap_or_else(|| new.clone());
            let csv = arstress::commands::compare::comparison_csv(&rows)?;
            // comparison.csv is all it writes: refused when that name is one of the files compared.
            let written = out.join("comparison.csv");
            let inputs = [old.join("summary.csv"), new.join("summary.csv")];
            if let Some(input) = inputs.iter().find(|i| same_path(&written, i)) {
                return Err(Error::Usage(format!(
                    "--out {}: comparison.csv there is {}, a file being compared: choose another folder",
                    out.display(),
                    input.display()
                )));
            }
            check_out_writable(&out, csv.len() as u64)?;
            arstress::atomic::write_files(&out, &[("comparison.csv".to_string(), csv)])?;
            print_stdout(&arstress::commands::compare::terminal_table(&rows))?;
            say!("wrote {}", out.join("comparison.csv").display());
            Ok(())
        }
    }
}

/// `arstress man`: the main page on stdout, or every page into `out`.
fn man(out: Option<&Path>) -> Result<(), Error> {
    let command = <Cli as clap::CommandFactory>::command();
    let Some(out) = out else {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(command).render(&mut bytes).map_err(|e| Error::Internal(e.to_string()))?;
        return write_stdout(&bytes);
    };
    let mut pages = Vec::new();
    let mut page = |name: String, command: clap::Command| -> Result<(), Error> {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(command).render(&mut bytes).map_err(|e| Error::Internal(e.to_string()))?;
        pages.push((format!("{name}.1"), bytes));
        Ok(())
    };
    let mut command = command;
    command.build();
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        // Built, a command's display name is `arstress-<command>`.
        let name = sub.get_display_name().map_or_else(|| format!("arstress-{}", sub.get_name()), str::to_owned);
        page(name, sub.clone())?;
    }
    page("arstress".into(), command)?;
    check_out_writable(out, 0)?;
    arstress::atomic::write_files(out, &pages)?;
    say!("wrote {} manual pages to {}", pages.len(), out.display());
    Ok(())
}

/// `import`: the study is built and checked before the folder is touched; warnings on stderr, the
/// summary and the next command on stdout.
fn import(a: ImportArgs) -> Result<(), Error> {
    arstress::commands::generate::refuse_non_empty("--out", &a.out, a.force)?;
    let opts = arstress::commands::import::ImportOptions {
        ledger: a.ledger,
        map: a.map,
        as_of: a.as_of,
        delimiter: a.delimiter,
        decimal_comma: a.decimal_comma,
        date_format: a.date_format,
        default_rating: a.default_rating,
        default_country: a.default_country,
        currency: a.currency,
        fx: a.fx,
        name: a.name,
        trials: a.trials,
        seed: a.seed,
    };
    let imported = arstress::commands::import::import(&opts, &a.out)?;
    for w in &imported.warnings {
        say!("warning: {w}");
    }
    let size: u64 = imported.files.iter().chain(&imported.scenarios).map(|f| f.1.len() as u64).sum();
    check_out_writable(&a.out, size)?;
    arstress::commands::import::write(&a.out, &imported)?;
    let mut text = imported.summary.join("\n");
    text.push_str(&format!(
        "\nwrote {}: study.toml, buyers.csv, invoices.csv, policies.toml, {} scenarios\nnext: arstress run {}\n",
        a.out.display(),
        imported.scenarios.len(),
        a.out.display()
    ));
    print_stdout(&text)
}

/// [`report::check_writable`] for the folder `--out` names: its refusal names the option.
fn check_out_writable(out: &Path, needed: u64) -> Result<(), Error> {
    report::check_writable(out, needed).map_err(|e| match e {
        Error::Folder { path, problem } => Error::Usage(format!("--out {}: {problem}", path.display())),
        e => e,
    })
}

/// Whether two paths name the same existing file.
fn same_path(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Refuses a report folder that holds an input of the study (directly, or as the target of a
/// symbolic link among the study's files): reports written there could replace it.
fn refuse_out_holding_inputs(out: &Path, study: &Study) -> Result<(), Error> {
    // A folder that does not exist yet holds nothing.
    let Ok(folder) = std::fs::canonicalize(out) else { return Ok(()) };
    let parent = |p: &Path| -> Option<PathBuf> {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::canonicalize(dir).ok()
    };
    for input in &study.inputs {
        let target = std::fs::canonicalize(&input.path).ok();
        let held = parent(&input.path).is_some_and(|d| d == folder)
            || target.as_deref().and_then(Path::parent).is_some_and(|d| d == folder);
        if held {
            return Err(Error::Usage(format!(
                "--out {}: the folder holds {}, an input of the study, which reports written there could replace: \
                 choose another folder",
                out.display(),
                input.path.display()
            )));
        }
    }
    Ok(())
}

/// Takes the lock of the report folder for the rest of the command (a second run into it fails
/// at once), warning when a killed run left a mixed set there (this run replaces it).
fn lock_out(out: &Path) -> Result<arstress::atomic::FolderLock, Error> {
    let lock = arstress::atomic::lock_folder(out)?;
    if let Some(files) = lock.mixed() {
        say!(
            "warning: {} holds a mixed set of reports: a run was killed while renaming them into place ({}{}); \
             this run replaces them with a complete set",
            out.display(),
            arstress::atomic::INCOMPLETE_MARKER,
            if files.is_empty() { String::new() } else { format!(" lists {}", files.join(", ")) }
        );
    }
    Ok(lock)
}

/// The memory a command may use: `--max-memory`, else what the system leaves available.
fn memory_limit(max_memory: Option<u64>) -> Option<u64> {
    max_memory.or_else(arstress::limits::available_memory)
}

/// Loads a study after checking that its portfolio files fit into `memory`.
fn load_within(path: &Path, memory: Option<u64>) -> Result<Study, Error> {
    arstress::limits::check_portfolio_memory(&arstress::input::open::portfolio_files(&study_file(path)), memory)?;
    load(path)
}

/// How a command holds the trials' outcome rows at its peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holding {
    /// One scenario's rows at a time.
    Run,
    /// One scenario's rows in a vector that grows as trials are added (a reallocation copies them).
    Growing,
    /// Every scenario's rows together, and their encoded bytes.
    Shard,
    /// One scenario's joined rows beside a shard's file bytes and decoded rows.
    Merge,
    /// A frontier: per trial the gross loss, the peak shortfall without insurance and each
    /// variant's net loss and peak shortfall; no per-buyer statistics or reports.
    Frontier,
}

/// What a command holding `trials` outcome rows of `scenarios` scenarios takes at its peak, beside
/// what is resident: estimated from the study alone, so that it is checked before any plan is
/// compiled or any trial runs.
fn trial_memory(
    study: &Study,
    scenarios: usize,
    tail_sampling: bool,
    trials: u64,
    holding: Holding,
    formats: report::Formats,
    threads: Option<u16>,
) -> arstress::limits::TrialMemory {
    // Worker threads as the pool will have them (`--threads`, else one per core).
    let threads =
        threads.map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get), usize::from);
    let policies = study.policies.len();
    let months = study.calendar.horizon_months() as usize;
    // Plan::row_width of the widest scenario (the retreat block when some scenario cuts limits,
    // the disputes block when some disputes sales), and a weight per trial under tail sampling.
    let layout = arstress::plan::RowLayout::new(
        policies,
        if study.company.is_some() { months } else { 0 },
        study.scenarios.iter().any(|s| s.stress.limit_cuts.share > 0.0),
        study.scenarios.iter().any(|s| s.disputes.any()),
    );
    let width = layout.width() + usize::from(tail_sampling);
    let (measures, copies) = match holding {
        Holding::Run => (width, 1),
        Holding::Growing | Holding::Merge => (width, 2),
        Holding::Shard => (width * scenarios, 2),
        Holding::Frontier => (2 + 2 * policies, 1),
    };
    let (buyers, invoices) = (study.portfolio.buyers.len(), study.portfolio.invoices.len());
    let study_bytes = if holding == Holding::Frontier {
        // The variants are policies of the plan, but no alternative keeps per-buyer statistics.
        arstress::limits::study_bytes(buyers, invoices, scenarios, 1, false, threads)
            + (buyers * policies * scenarios) as u64 * arstress::limits::PLAN_BYTES_PER_BUYER_POLICY
    } else {
        // A shard keeps no per-buyer statistics and builds no reports, but its plans are compiled
        // all at once.
        let contributions_csv = (formats.csv || formats.xlsx) && holding != Holding::Shard;
        arstress::limits::study_bytes(buyers, invoices, scenarios, policies + 1, contributions_csv, threads)
    };
    arstress::limits::TrialMemory {
        trials,
        measures,
        copies,
        // The frontier's statistics extract about three columns per worker at once (a variant's net
        // loss, total cost and peak shortfall).
        columns: if holding == Holding::Frontier { 3 * threads } else { 1 + 3 * policies },
        study: study_bytes,
        resident: arstress::limits::resident_memory().unwrap_or(0),
    }
}

fn report_bytes(study: &Study, plans: &[(arstress::plan::Plan, String)]) -> u64 {
    arstress::limits::report_bytes(plans.len(), study.portfolio.buyers.len(), study.policies.len())
}

fn load(path: &Path) -> Result<Study, Error> {
    let study = load_study(path)?;
    for w in &study.warnings {
        say!("warning: {}", arstress::terminal::printable(w));
    }
    Ok(study)
}

fn run(args: RunArgs) -> Result<(), Error> {
    let formats = formats_of(&args.format, args.csv_bom);
    if args.resume && args.target_rel_error.is_some() {
        return Err(Error::Usage(
            "--resume and --target-rel-error cannot be combined: a run to a target error decides its trials as it goes"
                .into(),
        ));
    }
    if args.resume && args.tail_sampling {
        return Err(Error::Usage(
            "--resume and --tail-sampling cannot be combined: the resume store keeps unweighted trials".into(),
        ));
    }
    let started = Instant::now();
    let memory = memory_limit(args.max_memory);
    let study = load_within(&args.study, memory)?;
    let tail_shift = args.tail_sampling.then(|| args.tail_shift.unwrap_or(arstress::plan::DEFAULT_TAIL_SHIFT));
    let opts = RunOptions {
        trials: args.trials,
        seed: args.seed,
        scenarios: args.scenarios.clone(),
        tail_shift,
        trial_block: args.block_size.map(|b| b as usize),
    };
    let trials = opts.trials.unwrap_or(study.trials);
    let seed = opts.seed.unwrap_or(study.seed);
    let out = args.out.clone().unwrap_or_else(|| default_out(&study.name));
    refuse_out_holding_inputs(&out, &study)?;
    let shard_trials = args.shard.map(|s| s.range(trials)).map(|r| r.end - r.start);
    // The whole run's memory, checked before any plan is compiled (docs/errors.md, memory).
    let mut estimate = None;
    if args.method == Method::MonteCarlo {
        let (held, holding, what) = match (shard_trials, args.target_rel_error) {
            (Some(n), _) => (n, Holding::Shard, "run --shard (--trials)"),
            (None, Some(_)) => (args.max_trials, Holding::Growing, "run (--max-trials)"),
            (None, None) => (trials, Holding::Run, "run (--trials)"),
        };
        let scenarios = arstress::run::select_scenarios(&study, &opts.scenarios)?.len();
        let need = trial_memory(&study, scenarios, args.tail_sampling, held, holding, formats, args.threads);
        need.check(memory, what)?;
        estimate = Some(need.total());
    }
    let plans = compile_all(&study, &opts)?;
    // Shard folders and the resume store also hold the trials' outcomes (8 bytes a value); the
    // resume store only for the scenarios it does not hold yet.
    let mut needed = report_bytes(&study, &plans);
    let store = args.resume.then(|| arstress::run::resume::ResumeStore::new(&out, &study, seed, trials));
    if args.shard.is_some() || args.resume {
        let rows = shard_trials.unwrap_or(trials);
        let stored = |name: &str| store.as_ref().is_some_and(|s| s.has(name));
        for (plan, _) in plans.iter().filter(|(p, _)| !stored(&p.scenario)) {
            needed = needed.saturating_add(rows.saturating_mul(plan.row_width() as u64 * 8));
        }
    }
    check_out_writable(&out, needed)?;
    let _lock = lock_out(&out)?;
    let threads = args.threads.map_or(0, usize::from);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    if args.method == Method::Analytic {
        return run_analytic(&args, &study, &plans, &out, &pool, started);
    }
    if let Some(spec) = args.shard {
        return run_shard(&args, spec, &study, &plans, (trials, seed), &out, &pool);
    }

    // One bar for the trials of every scenario, on a terminal (indicatif draws nothing when
    // stderr is not one).
    let target = || if args.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
    let per_scenario = if args.target_rel_error.is_some() { args.max_trials } else { trials };
    let bar = progress::RunProgress::new(
        target(),
        plans.iter().map(|(plan, _)| plan.scenario.clone()).collect(),
        per_scenario,
    );
    let finish = || bar.finish();
    let tick = |name: &str, n: u64| bar.tick(name, n);
    let result = match args.target_rel_error {
        None => {
            let (result, resumed) =
                pool.install(|| run_plans(&plans, &study.calendar, trials, seed, store.as_ref(), &tick))?;
            finish();
            for (scenario, file) in &resumed.damaged {
                say!(
                    "warning: {}: the stored outcomes of scenario {scenario:?} do not match their SHA-256 (the file \
                     was changed or damaged): recomputed",
                    file.display()
                );
            }
            if !args.quiet && !resumed.reused.is_empty() {
                say!("resumed (inputs unchanged, not recomputed): {}", resumed.reused.join(", "));
            }
            result
        }
        Some(rel_error) => {
            let target = TargetError { rel_error, max_trials: args.max_trials };
            let (result, reached) = pool.install(|| run_to_target(&plans, &study.calendar, seed, target, &tick))?;
            finish();
            for r in &reached {
                let how = if r.reached { "target reached" } else { "stopped at --max-trials, target not reached" };
                say!(
                    "{}: {how}: relative standard error of ES 99 of the net loss {:.4} (target {}) after {} trials",
                    r.scenario,
                    r.rel_error,
                    rel_error,
                    r.trials
                );
            }
            result
        }
    };
    let portfolio = portfolio_summary::summarize(&study);
    let timing = Timing {
        wall_seconds: started.elapsed().as_secs_f64(),
        threads: pool.current_num_threads(),
        memory_estimate: estimate,
    };
    {
        let _spinner = progress::Spinner::new(target(), format!("writing the reports to {}", out.display()));
        report::write(&out, &study, &portfolio, &result, &timing, formats)?;
    }
    if !args.quiet {
        // The answers are the results: stdout. Messages stay on stderr.
        let mut text = String::new();
        for s in &result.scenarios {
            for line in scenario_lines(&study, &portfolio, s) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        print_stdout(&text)?;
        say!("reports written to {} in {:.2} s", out.display(), timing.wall_seconds);
    }
    Ok(())
}

struct FrontierArgs {
    study: PathBuf,
    sweep: PathBuf,
    out: Option<PathBuf>,
    scenarios: Vec<String>,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<u16>,
    max_memory: Option<u64>,
    quiet: bool,
}

/// `frontier`: the variants of a sweep as the study's policies, on the same trials.
fn frontier(a: &FrontierArgs) -> Result<(), Error> {
    let started = Instant::now();
    let memory = memory_limit(a.max_memory);
    let mut study = load_within(&a.study, memory)?;
    let variants = arstress::commands::frontier::load_variants(
        &a.sweep,
        &arstress::commands::frontier::policies_source(&study_file(&a.study))?,
    )?;
    study.policies = variants.policies.clone();
    let scenarios = if a.scenarios.is_empty() {
        study.scenarios.first().map(|s| vec![s.name.clone()]).unwrap_or_default()
    } else {
        a.scenarios.clone()
    };
    let opts = RunOptions { trials: a.trials, seed: a.seed, scenarios, tail_shift: None, trial_block: None };
    let (trials, seed) = (opts.trials.unwrap_or(study.trials), opts.seed.unwrap_or(study.seed));
    let out = a.out.clone().unwrap_or_else(|| default_out(&study.name).join("frontier"));
    refuse_out_holding_inputs(&out, &study)?;
    let selected = arstress::run::select_scenarios(&study, &opts.scenarios)?.len();
    let formats = report::Formats::NONE;
    trial_memory(&study, selected, false, trials, Holding::Frontier, formats, a.threads)
        .check(memory, "frontier (--trials)")?;
    let chosen = arstress::run::select_scenarios(&study, &opts.scenarios)?;
    check_out_writable(&out, 1 << 20)?;
    let _lock = lock_out(&out)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.map_or(0, usize::from))
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    let target = if a.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
    let bar = progress::RunProgress::new(target, chosen.iter().map(|s| s.name.clone()).collect(), trials);
    let result = pool.install(|| {
        arstress::commands::frontier::run_frontier(&study, &chosen, trials, seed, &|n, k| bar.tick(n, k))
    })?;
    bar.finish();
    let files = vec![
        ("frontier.csv".to_owned(), arstress::commands::frontier::frontier_csv(&variants, &result)?),
        (
            "frontier.html".to_owned(),
            arstress::commands::frontier::frontier_html(&study.name, &study.currency, &variants, &result),
        ),
    ];
    report::write_files(&out, &files)?;
    if !a.quiet {
        let efficient = arstress::commands::frontier::rows(&result).iter().filter(|r| r.efficient).count();
        say!(
            "{} variants of {} on {trials} trials, {efficient} efficient (scenario by scenario): {} in {:.2} s",
            variants.policies.len(),
            variants.base,
            out.join("frontier.csv").display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `run --shard i/n`: this shard's trials of every selected scenario, written as a shard folder.
fn run_shard(
    args: &RunArgs,
    spec: arstress::run::shard::ShardSpec,
    study: &Study,
    plans: &[(arstress::plan::Plan, String)],
    (trials, seed): (u64, u64),
    out: &Path,
    pool: &rayon::ThreadPool,
) -> Result<(), Error> {
    if args.resume || args.target_rel_error.is_some() {
        return Err(Error::Usage(
            "--shard runs a fixed trial range: it takes no --resume or --target-rel-error".into(),
        ));
    }
    let range = spec.range(trials);
    let outcomes: Vec<_> = plans
        .iter()
        .map(|(plan, _)| (plan, pool.install(|| arstress::engine::run_trials(plan, seed, range.clone(), &|_| {}))))
        .collect();
    let tail_shift = plans.iter().find_map(|(p, _)| p.tail_sampling.map(|t| t.shift));
    let files = arstress::run::shard::shard_files(study, &args.study, seed, trials, spec, tail_shift, &outcomes)?;
    report::write_files(out, &files)?;
    if !args.quiet {
        say!(
            "shard {}/{}: trials {}..{} of {} written to {}",
            spec.index,
            spec.count,
            range.start,
            range.end,
            trials,
            out.display()
        );
    }
    Ok(())
}

/// `merge`: checks the shards, joins their outcomes and writes the reports of the whole run.
fn merge(
    shards: &[PathBuf],
    out: &Path,
    study: Option<&Path>,
    threads: Option<u16>,
    quiet: bool,
    formats: report::Formats,
    memory: Option<u64>,
) -> Result<(), Error> {
    let started = Instant::now();
    let shards = arstress::run::shard::check_shards(shards)?;
    let m = shards[0].manifest.clone();
    let study_path = study.map_or_else(|| m.study.clone(), Path::to_path_buf);
    let study = load_within(&study_path, memory)?;
    if arstress::run::shard::inputs_of(&study) != m.inputs {
        return Err(Error::Usage(format!(
            "merge: the study at {} is not the one the shards ran: its input files changed (compare their SHA-256 \
             with {})",
            study_path.display(),
            shards[0].dir.join(arstress::run::shard::SHARD_MANIFEST).display()
        )));
    }
    let opts = RunOptions {
        trials: Some(m.trials),
        seed: Some(m.seed),
        scenarios: m.scenarios.iter().map(|s| s.name.clone()).collect(),
        tail_shift: m.shift(),
        trial_block: None,
    };
    refuse_out_holding_inputs(out, &study)?;
    // A shard folder keeps its shard: merged reports written beside it would make a folder that
    // is both a shard and a report set (a later merge would read it as a shard again).
    if out.join(arstress::run::shard::SHARD_MANIFEST).exists() {
        return Err(Error::Usage(format!(
            "--out {}: the folder holds a shard ({}): write the merged reports to another folder",
            out.display(),
            arstress::run::shard::SHARD_MANIFEST
        )));
    }
    let need = trial_memory(&study, m.scenarios.len(), m.shift().is_some(), m.trials, Holding::Merge, formats, threads);
    need.check(memory, "merge (the shards' --trials)")?;
    let plans = compile_all(&study, &opts)?;
    check_out_writable(out, report_bytes(&study, &plans))?;
    let _lock = lock_out(out)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.map_or(0, usize::from))
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    let mut scenarios = Vec::with_capacity(plans.len());
    for (plan, description) in &plans {
        let outcomes = arstress::run::shard::join_scenario(&shards, plan)?;
        scenarios
            .push(pool.install(|| arstress::run::summarize(plan, &study.calendar, description, m.seed, &outcomes))?);
    }
    let result = arstress::run::RunResult { trials: m.trials, seed: m.seed, scenarios, tail_shift: m.shift() };
    let portfolio = portfolio_summary::summarize(&study);
    let timing = Timing {
        wall_seconds: started.elapsed().as_secs_f64(),
        threads: pool.current_num_threads(),
        memory_estimate: Some(need.total()),
    };
    report::write(out, &study, &portfolio, &result, &timing, formats)?;
    if !quiet {
        say!(
            "merged {} shards ({} trials) into {} in {:.2} s",
            shards.len(),
            m.trials,
            out.display(),
            timing.wall_seconds
        );
    }
    Ok(())
}

/// `run --method analytic`: every selected scenario by quadrature and FFT.
fn run_analytic(
    args: &RunArgs,
    study: &Study,
    plans: &[(arstress::plan::Plan, String)],
    out: &Path,
    pool: &rayon::ThreadPool,
    started: Instant,
) -> Result<(), Error> {
    if args.tail_sampling || args.resume || args.target_rel_error.is_some() || args.shard.is_some() {
        return Err(Error::Usage(
            "--method analytic computes distributions without trials: it takes no --tail-sampling, --resume, \
             --target-rel-error or --shard"
                .into(),
        ));
    }
    let scenarios = plans
        .iter()
        .map(|(plan, _)| pool.install(|| arstress::run::analytic::analyze(plan)))
        .collect::<Result<Vec<_>, Error>>()?;
    let portfolio = portfolio_summary::summarize(study);
    let mut files = vec![
        ("analytic.csv".to_owned(), report::analytic::analytic_csv(&scenarios)?),
        ("analytic_distribution.csv".to_owned(), report::analytic::analytic_distribution_csv(&scenarios)?),
        ("portfolio.csv".to_owned(), report::portfolio_csv(&portfolio)?),
    ];
    let timing = Timing {
        wall_seconds: started.elapsed().as_secs_f64(),
        threads: pool.current_num_threads(),
        memory_estimate: None,
    };
    let facts = report::RunFacts {
        method: "analytic",
        seed: None,
        trials: None,
        tail_shift: None,
        scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
        policies: study.policies.iter().map(|p| p.name.clone()).collect(),
    };
    let names: Vec<String> = files.iter().map(|f| f.0.clone()).chain(["manifest.json".to_owned()]).collect();
    let money = report::xlsx::money_columns(&files)?;
    files.push(("manifest.json".to_owned(), report::run_manifest_json(study, &facts, &names, &money, &timing)?));
    report::write_files(out, &files)?;
    if !args.quiet {
        for s in &scenarios {
            let gross = &s.measures[0].dist;
            let level = arstress::stats::TAIL_LEVELS[1];
            say!(
                "{} (analytic): expected gross loss {:.2} {}, ES 99 {:.2}{}",
                s.name,
                gross.mean() / 100.0,
                study.currency,
                gross.expected_shortfall(level) / 100.0,
                if s.notes.is_empty() { String::new() } else { format!(" [{}]", s.notes.join("; ")) }
            );
        }
        say!("reports written to {} in {:.2} s", out.display(), started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// `reports/<study name>/` next to the current directory, the name made file-system safe.
fn default_out(name: &str) -> PathBuf {
    let safe: String =
        name.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    PathBuf::from("reports").join(safe.trim_matches('-'))
}

fn validate(path: &Path, format: &str) -> Result<(), Error> {
    let study = load_within(path, arstress::limits::available_memory())?;
    let summary = portfolio_summary::summarize(&study);
    if format == "json" {
        let json = report::json::validate_json(&study, &report::portfolio_csv(&summary)?, &summary.spread)?;
        return print_stdout(&String::from_utf8_lossy(&json));
    }
    let text = format!("{}{} is valid\n", render_summary(&study, &summary), study_file(path).display());
    print_stdout(&text)
}

/// The closing lines of a scenario: the answers of the report's first screen, each figure with its
/// Monte Carlo error (the cheapest alternative, no insurance included, and the figures of the one
/// it names), under [`arstress::terminal::MAX_COLUMNS`] columns.
fn scenario_lines(study: &Study, portfolio: &Summary, s: &arstress::run::ScenarioResult) -> Vec<String> {
    let answers = arstress::report::answers::answers(s, study, Some(portfolio.total.exposure as f64 / 100.0));
    answers.lines(&study.currency, arstress::terminal::MAX_COLUMNS)
}

fn render_summary(study: &Study, s: &Summary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let cur = &study.currency;
    let p = |text: &str| arstress::terminal::printable(text).into_owned();
    let money = |c: i64| arstress::money::group_thousands(&arstress::money::format_cents(c as i128));
    let _ = writeln!(
        out,
        "study: {} (as of {}, {} months, {} trials, seed {})",
        p(&study.name),
        study.calendar.as_of,
        study.calendar.horizon_months(),
        study.trials,
        study.seed
    );
    let _ = writeln!(
        out,
        "portfolio: {} buyers, {} invoices, exposure {} {cur}, monthly sales {} {cur}",
        s.total.buyers,
        study.portfolio.invoices.len(),
        money(s.total.exposure),
        money(s.total.monthly_sales)
    );
    if study.portfolio.has_invoice_file && s.spread.buyers > 0 {
        let n = s.spread.buyers;
        let _ = writeln!(
            out,
            "note: {n} buyer{} without rows in invoices.csv: outstanding {} {cur} spread over payment terms \
             (as without invoices.csv)",
            if n == 1 { "" } else { "s" },
            money(s.spread.exposure)
        );
    }
    let _ = writeln!(
        out,
        "insured: {} buyers, {:.1}% of exposure within limits, {} {cur} above limits; HHI buyers {:.4}, groups {:.4}",
        s.insured_buyers,
        100.0 * s.insured_share(),
        money(s.total.above_limit),
        s.hhi_buyers,
        s.hhi_groups
    );
    let _ = writeln!(
        out,
        "policies: {}",
        std::iter::once("none".to_owned())
            .chain(study.policies.iter().map(|x| p(&x.name)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "scenarios: {}", study.scenarios.iter().map(|s| p(&s.name)).collect::<Vec<_>>().join(", "));
    let total = s.total.exposure.max(1) as f64;
    let mut last = "";
    for r in s.rows.iter().filter(|r| r.section != "total") {
        if r.section != last {
            let _ = writeln!(out, "\nby {}:", r.section.replace('_', " "));
            last = r.section;
        }
        let _ = writeln!(
            out,
            "  {:<24} {:>6} {:>22} {cur} {:>6.1}%",
            p(&r.key),
            r.slice.buyers,
            money(r.slice.exposure),
            100.0 * r.slice.exposure as f64 / total
        );
    }
    out
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> Result<(), Error> {
    write_stdout(arstress::terminal::fitted_lines(text).as_bytes())
}

/// Writes bytes of our own making (a completion script, a manual page) to stdout as they are.
fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Write { path: PathBuf::from("<stdout>"), source: e })
        }
        _ => Ok(()),
    }
}
