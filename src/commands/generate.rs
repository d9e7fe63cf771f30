//! `arstress generate`: a deterministic, synthetic but realistic study for demos and benchmarks.
//!
//! The study looks like the ledger of a European exporter: buyers in 26 countries (weighted toward the
//! euro area), 13 sectors, ratings weighted toward BBB/BB, lognormal sales, credit limits on most buyers,
//! some buyer groups, three insurance policies and the standard set of seven scenarios (docs/scenarios.md).
//!
//! Every random draw comes from [`crate::engine::rng::trial_rng`]: buyer `i` uses its own stream, so the first
//! buyers of a larger study equal those of a smaller one with the same seed (apart from the id padding
//! and group membership). Output is byte-identical for the same options.

use crate::engine::rng::{TrialRng, trial_rng};
use crate::error::Error;
use crate::input::portfolio::BUYER_COLUMNS;
use rand::RngExt;
use rand_distr::{Distribution, LogNormal};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of a generated study.
pub struct GenerateOptions {
    pub buyers: usize,
    pub seed: u64,
    pub trials: u64,
    pub with_invoices: bool,
}

/// Peak memory of generating a study, per buyer: the buyers, their CSV rows and the file's bytes
/// are all held before the file is written. Measured at 1.17 KiB a buyer (two million buyers:
/// 2.19 GiB) and 2.4 KiB with invoices; these keep a third more as a margin.
pub const MEMORY_PER_BUYER: u64 = 1_600;
pub const MEMORY_PER_BUYER_WITH_INVOICES: u64 = 3_300;
/// What generating takes whatever the buyers (the program, the scenario texts).
const GENERATE_BASE_MEMORY: u64 = 16 << 20;
/// Bytes written per buyer: about 95 in buyers.csv and 135 in invoices.csv, with a margin.
pub const DISK_PER_BUYER: u64 = 128;
pub const DISK_PER_BUYER_WITH_INVOICES: u64 = 320;

/// Memory that generating the study of `opts` takes at its peak, in bytes.
pub fn memory_needed(opts: &GenerateOptions) -> u64 {
    let per = if opts.with_invoices { MEMORY_PER_BUYER_WITH_INVOICES } else { MEMORY_PER_BUYER };
    (opts.buyers as u64).saturating_mul(per).saturating_add(GENERATE_BASE_MEMORY)
}

/// Refuses, before anything is written, a study whose generation would not fit in `memory` (when
/// known) or whose files would not fit on the disk holding `dir`.
pub fn check_resources(dir: &Path, opts: &GenerateOptions, memory: Option<u64>) -> Result<(), Error> {
    let need = memory_needed(opts);
    let per = if opts.with_invoices { MEMORY_PER_BUYER_WITH_INVOICES } else { MEMORY_PER_BUYER };
    if let Some(available) = memory
        && need > available
    {
        let fit = available.saturating_sub(GENERATE_BASE_MEMORY) / per;
        return Err(Error::Usage(format!(
            "generate: {} buyers need about {} of memory, but {} is available: generate at most {fit} buyers here",
            opts.buyers,
            crate::limits::bytes(need),
            crate::limits::bytes(available)
        )));
    }
    let disk_per = if opts.with_invoices { DISK_PER_BUYER_WITH_INVOICES } else { DISK_PER_BUYER };
    let disk = (opts.buyers as u64).saturating_mul(disk_per);
    // The disk of the nearest folder that exists (the output folder may not yet).
    let existing = dir.ancestors().find(|d| d.is_dir()).unwrap_or(Path::new("."));
    if let Some(free) = crate::limits::free_disk_bytes(existing)
        && disk > free
    {
        return Err(Error::Usage(format!(
            "generate: {} buyers need about {} of disk in {}, but {} is free",
            opts.buyers,
            crate::limits::bytes(disk),
            existing.display(),
            crate::limits::bytes(free)
        )));
    }
    Ok(())
}

/// Stream keys (the `trial` argument of `trial_rng`) for draws that are not per buyer.
const STREAM_GROUPS: u64 = u64::MAX;
/// Buyer `i`'s invoices use stream `STREAM_INVOICES - i`.
const STREAM_INVOICES: u64 = u64::MAX / 2;

/// Reporting-currency (EUR) units per unit of each currency.
const FX: &[(&str, f64)] = &[
    ("EUR", 1.0),
    ("USD", 0.92),
    ("GBP", 1.17),
    ("CHF", 1.05),
    ("CNY", 0.128),
    ("JPY", 0.0062),
    ("PLN", 0.23),
    ("SEK", 0.087),
    ("CZK", 0.04),
    ("TRY", 0.028),
    ("BRL", 0.17),
    ("MXN", 0.05),
    ("INR", 0.011),
    ("DKK", 0.134),
    ("HUF", 0.0025),
    ("RON", 0.20),
    ("KRW", 0.00068),
];

fn fx_rate(currency: &str) -> f64 {
    FX.iter().find(|(c, _)| *c == currency).map(|&(_, r)| r).unwrap_or(1.0)
}

struct Country {
    code: &'static str,
    weight: f64,
    /// Invoicing currencies with their shares (many non-euro buyers are invoiced in EUR or USD).
    currencies: &'static [(&'static str, f64)],
    legal_forms: &'static [&'static str],
    surnames: &'static [&'static str],
}

const EUR: &[(&str, f64)] = &[("EUR", 1.0)];

#[rustfmt::skip]
const COUNTRIES: &[Country] = &[
    Country { code: "DE", weight: 16.0, currencies: EUR, legal_forms: &["GmbH", "GmbH & Co. KG", "AG", "KG"], surnames: &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Bergmann", "Krüger"] },
    Country { code: "FR", weight: 10.0, currencies: EUR, legal_forms: &["SA", "SAS", "SARL"], surnames: &["Dupont", "Martin", "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau"] },
    Country { code: "IT", weight: 8.0, currencies: EUR, legal_forms: &["S.p.A.", "S.r.l."], surnames: &["Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Conti"] },
    Country { code: "ES", weight: 6.0, currencies: EUR, legal_forms: &["S.A.", "S.L."], surnames: &["García", "Fernández", "López", "Martínez", "Sánchez", "Ruiz", "Navarro"] },
    Country { code: "NL", weight: 5.0, currencies: EUR, legal_forms: &["B.V.", "N.V."], surnames: &["de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit"] },
    Country { code: "BE", weight: 3.0, currencies: EUR, legal_forms: &["NV", "SA", "BV"], surnames: &["Peeters", "Janssens", "Maes", "Dubois", "Lambert", "Willems"] },
    Country { code: "AT", weight: 3.0, currencies: EUR, legal_forms: &["GmbH", "AG"], surnames: &["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner"] },
    Country { code: "PT", weight: 1.5, currencies: EUR, legal_forms: &["Lda.", "S.A."], surnames: &["Silva", "Santos", "Ferreira", "Pereira", "Costa", "Oliveira"] },
    Country { code: "IE", weight: 1.0, currencies: EUR, legal_forms: &["Ltd", "DAC"], surnames: &["Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan"] },
    Country { code: "FI", weight: 1.0, currencies: EUR, legal_forms: &["Oy", "Oyj"], surnames: &["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Lehtonen"] },
    Country { code: "PL", weight: 4.0, currencies: &[("PLN", 0.5), ("EUR", 0.5)], legal_forms: &["Sp. z o.o.", "S.A."], surnames: &["Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski"] },
    Country { code: "CZ", weight: 2.0, currencies: &[("CZK", 0.5), ("EUR", 0.5)], legal_forms: &["s.r.o.", "a.s."], surnames: &["Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera"] },
    Country { code: "HU", weight: 1.0, currencies: &[("HUF", 0.4), ("EUR", 0.6)], legal_forms: &["Kft.", "Zrt."], surnames: &["Nagy", "Kovács", "Tóth", "Szabó", "Horváth", "Varga"] },
    Country { code: "RO", weight: 1.0, currencies: &[("RON", 0.4), ("EUR", 0.6)], legal_forms: &["S.R.L.", "S.A."], surnames: &["Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Constantin"] },
    Country { code: "SE", weight: 2.0, currencies: &[("SEK", 0.7), ("EUR", 0.3)], legal_forms: &["AB"], surnames: &["Andersson", "Johansson", "Karlsson", "Nilsson", "Lindqvist", "Eriksson"] },
    Country { code: "DK", weight: 1.0, currencies: &[("DKK", 0.6), ("EUR", 0.4)], legal_forms: &["A/S", "ApS"], surnames: &["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Larsen"] },
    Country { code: "GB", weight: 7.0, currencies: &[("GBP", 0.85), ("EUR", 0.15)], legal_forms: &["Ltd", "PLC", "Limited"], surnames: &["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Clarke", "Harris"] },
    Country { code: "CH", weight: 3.0, currencies: &[("CHF", 0.6), ("EUR", 0.4)], legal_forms: &["AG", "SA", "GmbH"], surnames: &["Meier", "Keller", "Brunner", "Baumann", "Frei", "Zimmermann"] },
    Country { code: "US", weight: 9.0, currencies: &[("USD", 1.0)], legal_forms: &["Inc.", "LLC", "Corp."], surnames: &["Johnson", "Miller", "Davis", "Anderson", "Thompson", "Moore", "Jackson", "White"] },
    Country { code: "CN", weight: 5.0, currencies: &[("CNY", 0.5), ("USD", 0.5)], legal_forms: &["Co., Ltd."], surnames: &["Huaxin", "Hengda", "Ruifeng", "Jintai", "Hongtu", "Dingsheng"] },
    Country { code: "JP", weight: 2.0, currencies: &[("JPY", 0.8), ("USD", 0.2)], legal_forms: &["K.K.", "Co., Ltd."], surnames: &["Yamamoto", "Tanaka", "Suzuki", "Takahashi", "Watanabe", "Nakamura"] },
    Country { code: "KR", weight: 1.0, currencies: &[("KRW", 0.5), ("USD", 0.5)], legal_forms: &["Co., Ltd."], surnames: &["Hanil", "Daesung", "Samjin", "Hyosung", "Dongwon"] },
    Country { code: "TR", weight: 2.0, currencies: &[("EUR", 0.6), ("TRY", 0.4)], legal_forms: &["A.Ş.", "Ltd. Şti."], surnames: &["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk"] },
    Country { code: "BR", weight: 2.0, currencies: &[("BRL", 0.6), ("USD", 0.4)], legal_forms: &["Ltda.", "S.A."], surnames: &["Souza", "Lima", "Carvalho", "Almeida", "Ribeiro", "Barbosa"] },
    Country { code: "MX", weight: 1.5, currencies: &[("MXN", 0.5), ("USD", 0.5)], legal_forms: &["S.A. de C.V.", "S. de R.L. de C.V."], surnames: &["Hernández", "González", "Rodríguez", "Ramírez", "Torres", "Flores"] },
    Country { code: "IN", weight: 2.0, currencies: &[("INR", 0.5), ("USD", 0.5)], legal_forms: &["Pvt. Ltd.", "Ltd."], surnames: &["Patel", "Sharma", "Gupta", "Reddy", "Mehta", "Iyer"] },
    Country { code: "AR", weight: 1.0, currencies: &[("USD", 1.0)], legal_forms: &["S.A.", "S.R.L."], surnames: &["Fernández", "Gómez", "Díaz", "Pérez", "Romero", "Sosa"] },
];

/// Sectors with weights, English trade words for names and Chinese industry words for CN names.
#[rustfmt::skip]
const SECTORS: &[(&str, f64, &[&str], &str)] = &[
    ("machinery", 12.0, &["Machine Tools", "Machinery", "Engineering", "Industrial Systems"], "机械制造"),
    ("automotive", 10.0, &["Automotive", "Auto Parts", "Components"], "汽车零部件"),
    ("retail", 10.0, &["Retail", "Stores", "Distribution"], "商贸"),
    ("food", 10.0, &["Foods", "Food Industries", "Agro Foods"], "食品"),
    ("construction", 9.0, &["Construction", "Building Materials", "Builders"], "建材"),
    ("electronics", 9.0, &["Electronics", "Electric", "Technologies"], "电子科技"),
    ("chemicals", 8.0, &["Chemicals", "Chemical Industries", "Coatings"], "化工"),
    ("transport", 7.0, &["Logistics", "Transport", "Freight"], "物流"),
    ("textiles", 5.0, &["Textiles", "Fashion", "Fabrics"], "纺织"),
    ("pharma", 5.0, &["Pharma", "Life Sciences", "Healthcare"], "医药"),
    ("energy", 5.0, &["Energy", "Power", "Renewables"], "能源"),
    ("agriculture", 5.0, &["Agri", "Farming", "Seeds"], "农业"),
    ("metals", 5.0, &["Metals", "Steel", "Metalworks"], "金属材料"),
];

const RATINGS: &[(&str, f64)] =
    &[("AAA", 1.0), ("AA", 4.0), ("A", 15.0), ("BBB", 35.0), ("BB", 30.0), ("B", 12.0), ("CCC", 3.0)];

const TERMS: &[u32] = &[30, 45, 60, 60, 90, 120];

const BRANDS: &[&str] = &[
    "Nordwind",
    "Alpen",
    "Baltic",
    "Atlas",
    "Vega",
    "Orion",
    "Helios",
    "Meridian",
    "Euro",
    "Delta",
    "Polaris",
    "Astra",
    "Centauri",
    "Iberia",
    "Danubia",
    "Rhein",
    "Adriatic",
    "Continental",
    "Summit",
    "Pioneer",
];

const CN_CITIES: &[&str] = &["上海", "深圳市", "宁波", "广州", "苏州", "青岛", "杭州", "天津", "东莞市", "厦门"];
const CN_BRANDS: &[&str] = &["华鑫", "恒达", "瑞丰", "金泰", "宏图", "鼎盛", "永信", "新世纪", "安泰", "嘉禾"];

/// One generated buyer; amounts in cents of the buyer's currency.
struct GenBuyer {
    id: String,
    name: String,
    country: &'static str,
    sector: &'static str,
    rating: &'static str,
    currency: &'static str,
    outstanding: i64,
    terms: u32,
    monthly_sales: i64,
    monthly_sales_eur: f64,
    credit_limit: Option<i64>,
    limit_type: &'static str,
    group: Option<String>,
}

fn pick<'a, T>(rng: &mut TrialRng, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut u = rng.random::<f64>() * total;
    for item in items {
        let w = weight(item);
        if u < w {
            return item;
        }
        u -= w;
    }
    &items[items.len() - 1]
}

fn one<'a, T>(rng: &mut TrialRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Non-negative cents as a decimal with exactly two places.
fn money(c: i64) -> String {
    debug_assert!(c >= 0);
    format!("{}.{:02}", c / 100, c % 100)
}

fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}

fn company_name(rng: &mut TrialRng, country: &Country, sector: &(&str, f64, &[&str], &str)) -> String {
    if country.code == "CN" && rng.random::<f64>() < 0.6 {
        return format!("{}{}{}有限公司", one(rng, CN_CITIES), one(rng, CN_BRANDS), sector.3);
    }
    let form = one(rng, country.legal_forms);
    let trade = one(rng, sector.2);
    let u = rng.random::<f64>();
    if u < 0.45 {
        format!("{} {trade} {form}", one(rng, country.surnames))
    } else if u < 0.75 {
        format!("{} {trade} {form}", one(rng, BRANDS))
    } else if u < 0.9 && matches!(country.code, "GB" | "US" | "IE") {
        // A comma inside the name, to exercise CSV quoting.
        let a = one(rng, country.surnames);
        let b = one(rng, country.surnames);
        format!("{a}, {b} & Partners {form}")
    } else {
        let a = one(rng, country.surnames);
        let b = one(rng, country.surnames);
        if a == b { format!("{a} {trade} {form}") } else { format!("{a} & {b} {form}") }
    }
}

fn gen_buyer(seed: u64, i: usize, width: usize) -> GenBuyer {
    let mut rng = trial_rng(seed, i as u64);
    let country = pick(&mut rng, COUNTRIES, |c| c.weight);
    let sector = pick(&mut rng, SECTORS, |s| s.1);
    let rating = pick(&mut rng, RATINGS, |r| r.1).0;
    let currency = pick(&mut rng, country.currencies, |c| c.1).0;
    let fx = fx_rate(currency);
    let name = company_name(&mut rng, country, sector);

    let lognormal = LogNormal::new(40_000f64.ln(), 1.2).expect("valid lognormal parameters");
    let monthly_sales_eur = lognormal.sample(&mut rng).min(5_000_000.0);
    let monthly = monthly_sales_eur / fx;
    let terms = *one(&mut rng, TERMS);
    let outstanding = monthly * f64::from(terms) / 30.0 * rng.random_range(0.8..1.2);

    let limited = rng.random::<f64>() < 0.85;
    let discretionary = rng.random::<f64>() < 0.10;
    let factor = rng.random_range(0.6..1.5);
    let (credit_limit, limit_type) = if limited {
        let mut limit = ((outstanding * factor / 1000.0).round() * 1000.0).max(1000.0);
        if discretionary {
            // Discretionary limits stay within the policy's 50,000 EUR maximum.
            let cap = (50_000.0 / fx / 1000.0).floor() * 1000.0;
            limit = limit.min(cap).max(1000.0);
            (Some(cents(limit)), "discretionary")
        } else {
            (Some(cents(limit)), "approved")
        }
    } else {
        (None, "none")
    };

    GenBuyer {
        id: format!("B{:0width$}", i + 1),
        name,
        country: country.code,
        sector: sector.0,
        rating,
        currency,
        outstanding: cents(outstanding),
        terms,
        monthly_sales: cents(monthly),
        monthly_sales_eur,
        credit_limit,
        limit_type,
        group: None,
    }
}

/// About 20% of the buyers, shuffled, cut into groups of 2 to 5.
fn assign_groups(seed: u64, buyers: &mut [GenBuyer]) {
    let n = buyers.len();
    let mut rng = trial_rng(seed, STREAM_GROUPS);
    let mut order: Vec<usize> = (0..n).collect();
    for k in (1..n).rev() {
        let j = rng.random_range(0..=k);
        order.swap(k, j);
    }
    let members = (n as f64 * 0.2).round() as usize;
    let mut chunks = Vec::new();
    let mut at = 0;
    while members - at >= 2 {
        let size = rng.random_range(2..=5usize).min(members - at);
        chunks.push(&order[at..at + size]);
        at += size;
    }
    let width = digits(chunks.len()).max(4);
    for (g, chunk) in chunks.iter().enumerate() {
        let id = format!("G{:0width$}", g + 1);
        for &b in *chunk {
            buyers[b].group = Some(id.clone());
        }
    }
}

/// A folder for `generate --out` or `init` (`what` names it in messages): one that does not exist or
/// is empty, unless `force`.
pub fn refuse_non_empty(what: &str, out: &Path, force: bool) -> Result<(), Error> {
    let Ok(meta) = std::fs::metadata(out) else { return Ok(()) };
    if !meta.is_dir() {
        return Err(Error::Usage(format!("{what} {}: not a folder (a file of that name exists)", out.display())));
    }
    if force {
        return Ok(());
    }
    let mut held: Vec<String> = std::fs::read_dir(out)
        .map_err(|source| Error::Read { path: out.to_path_buf(), source })?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    held.sort();
    let more = if held.len() > 3 { format!(" and {} more", held.len() - 3) } else { String::new() };
    held.truncate(3);
    Err(Error::Usage(format!(
        "{what} {}: the folder is not empty (it holds {}{more}): choose a new or empty folder, or pass --force to \
         write the study over what it holds",
        out.display(),
        held.join(", ")
    )))
}

/// Writes one file atomically (temporary name, then rename), so an interrupted `generate` leaves
/// only complete files.
fn write_file(path: PathBuf, bytes: &[u8]) -> Result<(), Error> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::Internal(format!("generate: {} is not a file path", path.display())));
    };
    crate::atomic::write_files(dir, &[(name.to_string_lossy().into_owned(), bytes.to_vec())])
}

pub(crate) fn csv_bytes(path: &Path, rows: &[Vec<String>]) -> Result<Vec<u8>, Error> {
    let err = |e: csv::Error| Error::Write { path: path.to_path_buf(), source: std::io::Error::other(e) };
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    for row in rows {
        w.write_record(row).map_err(err)?;
    }
    w.into_inner().map_err(|e| Error::Write { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) })
}

fn date_text(day: i64) -> String {
    let d = time::macros::date!(2027 - 01 - 01) + time::Duration::days(day);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Splits `total` cents by `weights`; the last part takes the remainder.
fn split(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    let mut parts = Vec::with_capacity(weights.len());
    let mut left = total;
    for (k, w) in weights.iter().enumerate() {
        let part = if k + 1 == weights.len() { left } else { ((total as f64 * w / sum).floor() as i64).min(left) };
        parts.push(part);
        left -= part;
    }
    parts
}

/// Open invoices of every buyer: `(buyer, amount cents, issue day, due day)`.
fn gen_invoices(seed: u64, buyers: &[GenBuyer]) -> Vec<(usize, i64, i64, i64)> {
    let mut out = Vec::new();
    for (i, b) in buyers.iter().enumerate() {
        let mut rng = trial_rng(seed, STREAM_INVOICES - i as u64);
        let terms = i64::from(b.terms);
        if rng.random::<f64>() < 0.10 {
            // Irregular: 2-4 invoices due between 2026-12-01 and 2027-04-30, often one overdue.
            let n = rng.random_range(2..=4usize);
            let mut dues: Vec<i64> = (0..n).map(|_| rng.random_range(0..=119i64)).collect();
            if rng.random::<f64>() < 0.7 {
                dues[0] = rng.random_range(-31..=-1i64);
            }
            dues.sort_unstable();
            let weights: Vec<f64> = (0..n).map(|_| rng.random_range(0.3..1.0)).collect();
            for (amount, due) in split(b.outstanding, &weights).into_iter().zip(dues) {
                let issue = (due - terms).min(-1 - rng.random_range(0..10i64));
                out.push((i, amount, issue, due));
            }
        } else {
            // As SPEC §2.2 splits `outstanding` ([`crate::model::spread_outstanding`]): k equal
            // parts (remainder to the last) due at the midpoints of the k slices of (0, terms],
            // each issued `terms` days before its due day.
            for (due, amount) in crate::model::spread_outstanding(b.outstanding, b.terms) {
                out.push((i, amount, due - terms, due));
            }
        }
    }
    out
}

fn study_toml(opts: &GenerateOptions, currencies: &BTreeSet<&str>, monthly_sales_eur: f64) -> String {
    let fx: Vec<(String, String)> = FX
        .iter()
        .filter(|&&(c, _)| c != "EUR" && currencies.contains(c))
        .map(|&(c, r)| (c.to_owned(), r.to_string()))
        .collect();
    // A thin-margin company: on-time collections cover 65% variable costs and fixed costs of 34.5%
    // of sales with little to spare, so a sales fall or slower payers consume the cash buffer. An
    // opening cash of about 35% of a month's sales leaves a baseline shortfall in about 1 trial in
    // 100 once the open book falls due evenly (docs/scenarios.md).
    let k = |share: f64| (monthly_sales_eur * share / 1_000.0).round().max(1.0) as i64 * 1_000;
    let mut company = String::new();
    let _ = writeln!(company, "opening_cash = {}", k(0.35));
    let _ = writeln!(company, "monthly_fixed_outflows = {}", k(0.345));
    company.push_str("variable_cost_ratio = 0.65\n");
    let _ = writeln!(company, "credit_line = {}", k(0.25));
    company.push_str("advance_rate_insured = 0.90\nadvance_rate_uninsured = 0.75\n");
    let _ = writeln!(company, "minimum_cash = {}", k(0.05));
    let _ = writeln!(company, "bad_debt_reserve = {}", k(0.03));
    StudyToml {
        comment: "Generated by `arstress generate` (synthetic data for demos and benchmarks).",
        name: &format!("Generated study ({} buyers)", opts.buyers),
        as_of: time::macros::date!(2027 - 01 - 01),
        trials: opts.trials,
        seed: opts.seed,
        currency: "EUR",
        scenarios: None,
        invoices: opts.with_invoices,
        fx: &fx,
        company: Some(&company),
    }
    .render()
}

/// The text of a study.toml: what `generate` and `import` both write (12 months from `as_of`).
pub struct StudyToml<'a> {
    /// The first line's comment (without `# `).
    pub comment: &'a str,
    pub name: &'a str,
    pub as_of: time::Date,
    pub trials: u64,
    pub seed: u64,
    /// The reporting currency.
    pub currency: &'a str,
    /// Scenario files in the order to run them; `None`: the glob `scenarios/*.toml`.
    pub scenarios: Option<&'a [String]>,
    /// Whether the study has an invoices.csv.
    pub invoices: bool,
    /// `(currency, rate)`: reporting-currency units per unit of the currency.
    pub fx: &'a [(String, String)],
    /// The lines of the `[company]` table (the cash side), if any.
    pub company: Option<&'a str>,
}

impl StudyToml<'_> {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# {}", self.comment);
        let _ = writeln!(s, "name = {}", toml_string(self.name));
        let _ = writeln!(s, "as_of = {}\nhorizon_months = 12", self.as_of);
        let _ = writeln!(s, "trials = {}", self.trials);
        let _ = writeln!(s, "seed = {}", self.seed);
        let _ = writeln!(s, "currency = {}\npolicies = \"policies.toml\"", toml_string(self.currency));
        match self.scenarios {
            None => s.push_str("scenarios = [\"scenarios/*.toml\"]\n"),
            Some(files) => {
                s.push_str(
                    "# In the order the report shows them: from the baseline to ever harder stresses.\nscenarios = [\n",
                );
                for f in files {
                    let _ = writeln!(s, "    {},", toml_string(f));
                }
                s.push_str("]\n");
            }
        }
        s.push_str("\n[portfolio]\nbuyers = \"buyers.csv\"\n");
        if self.invoices {
            s.push_str("invoices = \"invoices.csv\"\n");
        }
        if !self.fx.is_empty() {
            let _ = writeln!(s, "\n[fx]                          # {} per 1 unit of the currency", self.currency);
            for (c, r) in self.fx {
                let _ = writeln!(s, "{c} = {r}");
            }
        }
        if let Some(company) = self.company {
            s.push_str("\n[company]                     # the cash side (SPEC §4.7)\n");
            s.push_str(company);
        }
        s
    }
}

/// A TOML basic string (quotes, backslashes and control characters escaped).
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// `country-crisis`: the emerging market with the largest exposure (or the largest country) has a
/// forced transfer moratorium; PDs there triple and other countries carry a small event risk.
fn country_crisis_toml(country: &str) -> String {
    format!(
        "name = \"country-crisis\"\ndescription = \"Transfer moratorium in {country} from day 60 for 180 days (60% transferred at its end), PDs there x3, 2% event risk elsewhere\"\n\n\
         [country_risk]\ndefault_probability = 0.02\n\n[country_risk.countries.{country}]\nprobability = 0.5\nduration_days_median = 180\ntransfer_rate = 0.6\n\n\
         [stress]\npd_multiplier_by_country = {{ {country} = 3.0 }}\nforced_country_events = [{{ country = \"{country}\", start_day = 60, duration_days = 180 }}]\n"
    )
}

/// Rounds up to a multiple of 10,000 (at least 10,000).
fn round_up_10k(x: f64) -> i64 {
    (((x / 10_000.0).ceil() as i64) * 10_000).max(10_000)
}

/// The typical whole-turnover policy (90% indemnity, political cover): the first policy of a
/// generated study and the one policy of an imported one.
pub const WHOLE_TURNOVER_POLICY: &str = r#"# Whole-turnover policy: 90% indemnity on approved limits, 80% on discretionary ones, political cover.
[[policy]]
name = "whole-turnover-90"
indemnity = 0.90
indemnity_discretionary = 0.80
indemnity_political = 0.90
discretionary_limit_max = 50_000
political_cover = true
nql = 5_000
deductible = 0
aggregate_first_loss = 0
premium_rate = 0.0025
minimum_premium = 25_000
max_liability_multiple = 30
waiting_period_days = 180
political_waiting_days = 180
insolvency_claim_days = 60
claim_payment_days = 30
"#;

fn policies_toml(annual_sales_eur: f64) -> String {
    let afl = round_up_10k(annual_sales_eur * 0.01);
    let ml = round_up_10k(annual_sales_eur * 0.05);
    let others = format!(
        r#"# Excess-of-loss policy: the insured keeps an annual aggregate first loss (~1% of annual sales,
# several times the expected annual loss); the insurer pays 95% above it up to a fixed maximum
# liability (~5% of annual sales). No political cover. Catastrophe cover at a low premium.
[[policy]]
name = "excess-of-loss"
indemnity = 0.95
nql = 10_000
deductible = 0
aggregate_first_loss = {afl}
premium_rate = 0.0012
minimum_premium = 20_000
max_liability = {ml}
political_cover = false

# Whole-turnover policy at 95% (85% on discretionary limits): 5 points more cover for a premium
# rate about 30% higher, the usual price of a higher indemnity.
[[policy]]
name = "whole-turnover-95"
indemnity = 0.95
indemnity_discretionary = 0.85
indemnity_political = 0.95
discretionary_limit_max = 50_000
political_cover = true
nql = 5_000
deductible = 0
aggregate_first_loss = 0
premium_rate = 0.0033
minimum_premium = 30_000
max_liability_multiple = 30
waiting_period_days = 180
political_waiting_days = 180
insolvency_claim_days = 60
claim_payment_days = 30
"#
    );
    format!("{WHOLE_TURNOVER_POLICY}\n{others}")
}

/// The cyclical sectors of the generator that a recession hits harder.
const CYCLICAL: [&str; 6] = ["construction", "automotive", "retail", "metals", "textiles", "transport"];

/// `key = { a = m, b = m }` for the listed sectors present in the study (nothing if none is).
fn by_sector(key: &str, sectors: &BTreeSet<&str>, wanted: &[&str], m: &str) -> String {
    let by: Vec<String> =
        wanted.iter().filter(|name| sectors.contains(*name)).map(|name| format!("{name} = {m}")).collect();
    if by.is_empty() { String::new() } else { format!("{key} = {{ {} }}\n", by.join(", ")) }
}

/// `mild-recession`: a normal downturn, PDs ×1.5, slightly lower sales, somewhat more and longer
/// late payments.
fn mild_recession_toml() -> String {
    "name = \"mild-recession\"\ndescription = \"Mild recession: PDs x1.5, sales -5%, 10 points more late payers, 5 days later\"\n\n\
     [stress]\npd_multiplier = 1.5\nsales_multiplier = 0.95\nlate_share_addon = 0.10\ndays_late_shift = 5\n"
        .to_owned()
}

/// `severe-recession`: the global factor held at its 95% worst level, cyclical sectors ×1.5 on
/// top, recoveries ×0.7, sales −15%, more late payers paying 15 days later.
fn severe_recession_toml(sectors: &BTreeSet<&str>) -> String {
    let mut s = String::from(
        "name = \"severe-recession\"\ndescription = \"Severe recession: global factor at its 95% level, cyclical sectors x1.5, recoveries x0.7, sales -15%, 15 points more late payers, 15 days later\"\n\n\
         [stress]\nsystematic_quantile = 0.95\n",
    );
    s += &by_sector("pd_multiplier_by_sector", sectors, &CYCLICAL, "1.5");
    s.push_str("recovery_multiplier = 0.7\nsales_multiplier = 0.85\nlate_share_addon = 0.15\ndays_late_shift = 15\n");
    s
}

/// `sector-shock`: one sector (construction if the study has it, else its largest) in crisis: PDs
/// ×3 and its sales −30%, while the rest of the economy is normal.
fn sector_shock_toml(sector: &str) -> String {
    let key = toml_key(sector);
    format!(
        "name = \"sector-shock\"\ndescription = {}\n\n\
         [stress]\npd_multiplier_by_sector = {{ {key} = 3.0 }}\nsales_multiplier_by_sector = {{ {key} = 0.7 }}\n",
        toml_string(&format!("Crisis in {sector}: PDs there x3, sales there -30%"))
    )
}

/// `insurer-retreat`: the mild recession, in which the insurer also cuts the limits of weak buyers
/// (those whose credit quality falls below 10× their PD without defaulting, 80% of them) to a
/// quarter, with 30 days' notice. Cuts are drawn last, so its trials match the mild recession's
/// draw for draw and the difference is the retreat's alone.
fn insurer_retreat_toml() -> String {
    "name = \"insurer-retreat\"\ndescription = \"The mild recession, in which the insurer cuts the limits of weak buyers to 25% with 30 days' notice\"\n\n\
     [stress]\npd_multiplier = 1.5\nsales_multiplier = 0.95\nlate_share_addon = 0.10\ndays_late_shift = 5\n\
     limit_cuts = { trigger_pd_multiple = 10.0, share = 0.8, cut_to = 0.25, notice_days = 30, lead_days = 90 }\n"
        .to_owned()
}

const BASELINE_TOML: &str =
    "name = \"baseline\"\ndescription = \"Long-run average default rates, recoveries and payment behaviour\"\n";

/// `top2-default`: the two largest exposures (one when the study has a single buyer) fail on day 30.
fn top2_toml(buyers: usize) -> String {
    format!(
        "name = \"top2-default\"\ndescription = \"The two largest exposures become insolvent on day 30\"\n\n[stress]\nforced_defaults = [{{ top_n = {}, day = 30, kind = \"insolvency\" }}]\n",
        buyers.min(2)
    )
}

/// The standard set of seven scenarios (docs/scenarios.md) for a portfolio of `buyers` buyers
/// whose weight (sales or exposure) per sector and per country is given: `(file name, TOML)` in
/// the order a study lists them, from the baseline to ever harder stresses. The sector shock hits
/// construction if the portfolio has it, else its heaviest sector; the country crisis the heaviest
/// emerging market, else the heaviest country. `generate` and `import` both write these.
pub fn standard_scenarios(
    buyers: usize,
    sector_weight: &BTreeMap<&str, f64>,
    country_weight: &BTreeMap<&str, f64>,
) -> Vec<(String, String)> {
    let heaviest = |weights: &BTreeMap<&str, f64>, filter: &dyn Fn(&str) -> bool| {
        weights.iter().filter(|(k, _)| filter(k)).max_by(|a, b| a.1.total_cmp(b.1)).map(|(k, _)| k.to_string())
    };
    let emerging = ["TR", "AR", "BR", "CN", "MX", "IN"];
    let crisis = heaviest(country_weight, &|c| emerging.contains(&c))
        .or_else(|| heaviest(country_weight, &|_| true))
        .unwrap_or_else(|| "DE".to_owned());
    let sectors: BTreeSet<&str> = sector_weight.keys().copied().collect();
    let shocked = if sectors.contains("construction") {
        "construction".to_owned()
    } else {
        heaviest(sector_weight, &|_| true).unwrap_or_else(|| "construction".to_owned())
    };
    vec![
        ("baseline.toml".to_owned(), BASELINE_TOML.to_owned()),
        ("mild-recession.toml".to_owned(), mild_recession_toml()),
        ("severe-recession.toml".to_owned(), severe_recession_toml(&sectors)),
        ("sector-shock.toml".to_owned(), sector_shock_toml(&shocked)),
        ("country-crisis.toml".to_owned(), country_crisis_toml(&crisis)),
        ("top2-default.toml".to_owned(), top2_toml(buyers)),
        ("insurer-retreat.toml".to_owned(), insurer_retreat_toml()),
    ]
}

/// A TOML key: bare when it can be, else quoted (imported sector labels may hold spaces).
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { key.to_owned() } else { toml_string(key) }
}

/// Writes study.toml, buyers.csv, (invoices.csv if with_invoices), policies.toml and scenarios/*.toml into `dir` (created if missing).
pub fn generate(dir: &Path, opts: &GenerateOptions) -> Result<(), Error> {
    if opts.buyers == 0 {
        return Err(Error::Usage("generate needs at least 1 buyer".into()));
    }
    if opts.seed > i64::MAX as u64 {
        return Err(Error::Usage(format!("seed {} is too large: at most {}", opts.seed, i64::MAX)));
    }
    if !(1..=1_000_000_000).contains(&opts.trials) {
        return Err(Error::Usage(format!("trials {} out of range: expected 1..=1000000000", opts.trials)));
    }
    let scenario_dir = dir.join("scenarios");
    std::fs::create_dir_all(&scenario_dir).map_err(|source| Error::Write { path: scenario_dir.clone(), source })?;

    let width = digits(opts.buyers).max(6);
    // Where the memory available is unknown, an impossible count fails here, not by aborting.
    let mut buyers: Vec<GenBuyer> = Vec::new();
    buyers
        .try_reserve_exact(opts.buyers)
        .map_err(|_| Error::Usage(format!("generate: {} buyers do not fit in this machine's memory", opts.buyers)))?;
    buyers.extend((0..opts.buyers).map(|i| gen_buyer(opts.seed, i, width)));
    assign_groups(opts.seed, &mut buyers);

    let currencies: BTreeSet<&str> = buyers.iter().map(|b| b.currency).collect();
    let annual_sales_eur: f64 = buyers.iter().map(|b| b.monthly_sales_eur).sum::<f64>() * 12.0;

    write_file(dir.join("study.toml"), study_toml(opts, &currencies, annual_sales_eur / 12.0).as_bytes())?;

    let path = dir.join("buyers.csv");
    // The columns of SPEC §2.1 in their usual order; ratings only, so no pd_1y.
    // Ratings only (no pd_1y); grades from the ratings (no grade column).
    let mut rows = vec![
        BUYER_COLUMNS.iter().filter(|c| !["pd_1y", "grade"].contains(*c)).map(|s| s.to_string()).collect::<Vec<_>>(),
    ];
    for b in &buyers {
        rows.push(vec![
            b.id.clone(),
            b.name.clone(),
            b.country.to_owned(),
            b.sector.to_owned(),
            b.rating.to_owned(),
            b.currency.to_owned(),
            money(b.outstanding),
            b.terms.to_string(),
            money(b.monthly_sales),
            b.credit_limit.map(money).unwrap_or_default(),
            b.limit_type.to_owned(),
            b.group.clone().unwrap_or_default(),
        ]);
    }
    let bytes = csv_bytes(&path, &rows)?;
    write_file(path, &bytes)?;

    if opts.with_invoices {
        let path = dir.join("invoices.csv");
        let mut rows: Vec<Vec<String>> = vec![
            ["invoice_id", "buyer_id", "amount", "currency", "issue_date", "due_date"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ];
        let invoices = gen_invoices(opts.seed, &buyers);
        let w = digits(invoices.len()).max(7);
        for (n, &(b, amount, issue, due)) in invoices.iter().enumerate() {
            let buyer = &buyers[b];
            rows.push(vec![
                format!("INV-{:0w$}", n + 1),
                buyer.id.clone(),
                money(amount),
                buyer.currency.to_owned(),
                date_text(issue),
                date_text(due),
            ]);
        }
        let bytes = csv_bytes(&path, &rows)?;
        write_file(path, &bytes)?;
    }

    write_file(dir.join("policies.toml"), policies_toml(annual_sales_eur).as_bytes())?;
    let mut country_sales: BTreeMap<&str, f64> = BTreeMap::new();
    let mut sector_sales: BTreeMap<&str, f64> = BTreeMap::new();
    for b in &buyers {
        *country_sales.entry(b.country).or_default() += b.monthly_sales_eur;
        *sector_sales.entry(b.sector).or_default() += b.monthly_sales_eur;
    }
    for (file, text) in standard_scenarios(opts.buyers, &sector_sales, &country_sales) {
        write_file(scenario_dir.join(file), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn generate_is_byte_identical() {
        let opts = GenerateOptions { buyers: 500, seed: 42, trials: 1000, with_invoices: true };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        generate(a.path(), &opts).unwrap();
        generate(b.path(), &opts).unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa.len(), 11);
        assert_eq!(fa, fb);
        let other = tempfile::tempdir().unwrap();
        generate(other.path(), &GenerateOptions { seed: 43, ..opts }).unwrap();
        assert_ne!(fa["buyers.csv"], files(other.path())["buyers.csv"]);
    }

    #[test]
    fn generated_study_loads() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), &GenerateOptions { buyers: 2000, seed: 7, trials: 500, with_invoices: false }).unwrap();
        let study = crate::input::load_study(dir.path()).unwrap();
        let buyers = &study.portfolio.buyers;
        assert_eq!(buyers.len(), 2000);
        let countries: BTreeSet<&str> = buyers.iter().map(|b| b.country.as_str()).collect();
        let sectors: BTreeSet<&str> = buyers.iter().map(|b| b.sector.as_str()).collect();
        assert!(countries.len() >= 20, "{countries:?}");
        assert!(sectors.len() >= 10, "{sectors:?}");
        assert_eq!(study.trials, 500);
        assert_eq!(study.seed, 7);
        assert_eq!(study.policies.len(), 3);
        assert_eq!(study.scenarios.len(), 7);
        assert!(study.company.is_some());
        assert!(buyers.iter().any(|b| b.name.contains(',')));
        assert!(buyers.iter().any(|b| b.name.ends_with("有限公司")));
        assert!(buyers.iter().any(|b| b.group_id.is_some()));
        let insured = buyers.iter().filter(|b| b.is_insured()).count();
        assert!((1500..1900).contains(&insured), "{insured}");
        assert!(!study.portfolio.has_invoice_file);
    }

    #[test]
    fn generated_study_with_invoices_loads() {
        for n in [1, 3, 300] {
            let dir = tempfile::tempdir().unwrap();
            generate(dir.path(), &GenerateOptions { buyers: n, seed: 11, trials: 100, with_invoices: true }).unwrap();
            let study = crate::input::load_study(dir.path()).unwrap();
            assert_eq!(study.portfolio.buyers.len(), n);
            assert!(study.portfolio.has_invoice_file);
            let with_rows: BTreeSet<usize> = study.portfolio.invoices.iter().map(|i| i.buyer).collect();
            assert_eq!(with_rows.len(), n, "every buyer has open invoices");
            if n == 300 {
                assert!(study.portfolio.invoices.iter().any(|i| i.due_day < 0), "some overdue invoices");
            }
        }
    }

    /// Regular buyers' open invoices are SPEC §2.2's split (due at the midpoints of the slices of
    /// `(0, terms]`, issued `terms` days earlier); every invoice is issued before `as_of` (day 0).
    #[test]
    fn regular_invoices_are_the_spread_of_outstanding_issued_before_as_of() {
        let buyers: Vec<GenBuyer> = (0..300).map(|i| gen_buyer(7, i, 6)).collect();
        let invoices = gen_invoices(7, &buyers);
        assert!(invoices.iter().all(|&(_, _, issue, _)| issue < 0));
        let mut regular = 0;
        for (i, b) in buyers.iter().enumerate() {
            let rows: Vec<(i64, i64)> =
                invoices.iter().filter(|x| x.0 == i).map(|&(_, amount, _, due)| (due, amount)).collect();
            let t = i64::from(b.terms);
            if invoices.iter().filter(|x| x.0 == i).all(|&(_, _, issue, due)| due - issue == t)
                && rows == crate::model::spread_outstanding(b.outstanding, b.terms)
            {
                regular += 1;
            }
        }
        // About 90 % of buyers are regular; the others have irregular rows, most of them overdue.
        assert!((240..=295).contains(&regular), "{regular} regular buyers of 300");
    }

    #[test]
    fn invoices_sum_to_outstanding() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), &GenerateOptions { buyers: 200, seed: 3, trials: 100, with_invoices: true }).unwrap();
        let study = crate::input::load_study(dir.path()).unwrap();
        let mut sums = vec![rust_decimal::Decimal::ZERO; study.portfolio.buyers.len()];
        for inv in &study.portfolio.invoices {
            sums[inv.buyer] += inv.amount;
        }
        for (b, s) in study.portfolio.buyers.iter().zip(sums) {
            assert_eq!(b.outstanding, s, "{}", b.id);
        }
    }
}
