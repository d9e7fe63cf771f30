//! `arstress init DIR`: a small commented study in which every input key appears with its default
//! (or, where a key has none, commented out with an example value), ready to run as written. The
//! reference of every key is docs/inputs.md; a test checks that every key of
//! [`crate::input::known_keys`] appears here.

use crate::error::Error;
use std::path::Path;

/// The files of the study `init` writes: (path relative to the study folder, text).
pub const FILES: &[(&str, &str)] = &[
    ("study.toml", STUDY),
    ("buyers.csv", BUYERS),
    ("invoices.csv", INVOICES),
    ("policies.toml", POLICIES),
    ("scenarios/baseline.toml", BASELINE),
    ("scenarios/recession.toml", RECESSION),
    ("scenarios/largest-buyer-fails.toml", LARGEST_FAILS),
];

const STUDY: &str = r#"# A study written by `arstress init`: every key with its default, or commented out with an
# example where it has none. Every key and column: docs/inputs.md of arstress.
# Check it with `arstress validate .` and run it with `arstress run . -n 2000`.

name = "my-study"                    # required: shown in reports; the folder is reports/<name>/
as_of = 2027-01-01                   # required: valuation date; day 0 of the horizon
horizon_months = 12                  # required: months simulated, 1..=60
trials = 100000                      # trials per scenario, 1..=1e9 (`run -n` overrides it)
seed = 0                             # seed of the random numbers, 0..=2^63-1 (`run --seed` overrides it)
currency = "EUR"                     # required: reporting currency, ISO 4217
policies = "policies.toml"           # the policies file (without it: no insurance is compared)
scenarios = ["scenarios/*.toml"]     # scenario files or globs, in report order (without: one baseline)

[portfolio]
buyers = "buyers.csv"                # required: one row per buyer
invoices = "invoices.csv"            # open invoices (without it: each buyer's `outstanding` is spread)

[fx]                                 # reporting units per unit of each other currency (default: none)
USD = 0.92

# The cash side (optional; without it no cash is projected). Amounts in the reporting currency.
# [company]
# opening_cash = 1500000             # required in [company]: cash on as_of (may be negative)
# monthly_fixed_outflows = 0         # fixed costs paid every month
# variable_cost_ratio = 0            # share of each month's sales paid out as variable costs, [0, 1]
# credit_line = 0                    # facility drawn before cash counts as short
# advance_rate_insured = 0           # borrowing base: share of insured receivables lent, [0, 1]
# advance_rate_uninsured = 0         # borrowing base: share of uninsured receivables lent, [0, 1]
# minimum_cash = 0                   # cash below this (after the facility) is a shortfall
# bad_debt_reserve = 50000           # reserve the net loss is compared with (no default: no comparison)

# How invoices already overdue at as_of are collected, by days past due (optional; the defaults
# shown). Share collected in each month after as_of; the rest is never collected (written off).
# [collections]
# days_1_30 = [0.60, 0.20, 0.08, 0.04]
# days_31_60 = [0.40, 0.25, 0.12, 0.08]
# days_61_90 = [0.25, 0.20, 0.15, 0.10, 0.05]
# days_91_180 = [0.15, 0.12, 0.10, 0.08, 0.08, 0.07]
# over_180 = [0.08, 0.07, 0.06, 0.06, 0.06, 0.06, 0.06]
# The dunning ladder for late payers (no default: none). At each step, days after the due date, a
# late invoice still open is paid with pay_probability (defaults: reminder 0.30, call 0.40,
# letter 0.30, agency 0.50); the agency keeps fee of what it collects (default 0.15).
# ladder = [{ days = 15, action = "reminder" }, { days = 30, action = "call", pay_probability = 0.40 }, { days = 45, action = "agency", fee = 0.15 }]
"#;

const BUYERS: &str = "\
buyer_id,name,country,sector,rating,pd_1y,currency,outstanding,terms_days,monthly_sales,credit_limit,limit_type,group_id,grade
B001,Alpine Foods GmbH,DE,food,A,,EUR,120000.00,60,80000.00,150000.00,approved,G1,
B002,Alpine Foods Logistics GmbH,AT,transport,BBB,,EUR,40000.00,30,30000.00,50000.00,approved,G1,
B003,Garonne Construction SARL,FR,construction,BB,,EUR,90000.00,90,35000.00,60000.00,approved,,
B004,Tagus Retail SA,PT,retail,B,,EUR,30000.00,60,15000.00,25000.00,discretionary,,C
B005,Lakeside Machinery Inc,US,machinery,,0.02,USD,75000.00,45,40000.00,,none,,
B006,Baltic Chemicals AS,EE,chemicals,BBB,,EUR,20000.00,30,12000.00,40000.00,approved,,
";

const INVOICES: &str = "\
invoice_id,buyer_id,amount,currency,issue_date,due_date
INV-001,B001,60000.00,EUR,2026-11-15,2027-01-14
INV-002,B001,60000.00,EUR,2026-12-15,2027-02-13
INV-003,B003,45000.00,EUR,2026-10-20,2027-01-18
INV-004,B003,45000.00,EUR,2026-11-20,2027-02-18
INV-005,B005,75000.00,USD,2026-12-01,2027-01-15
";

const POLICIES: &str = r#"# Trade credit insurance policies to compare (each beside `none`, no insurance).
# Amounts in the reporting currency; shares as fractions (0.90 = 90%).

[[policy]]
name = "whole-turnover-90"           # required: unique, not "none", no commas
indemnity = 0.90                     # share of a covered loss paid on approved limits, [0, 1]
indemnity_discretionary = 0.90       # on discretionary limits, [0, 1] (default: indemnity)
indemnity_political = 0.90           # on country (political) losses, [0, 1] (default: indemnity)
# discretionary_limit_max = 30000    # cap on discretionary limits (no default: uncapped)
political_cover = false              # whether country (transfer) events are covered
nql = 0                              # non-qualifying loss: covered amounts up to it are not paid
deductible = 0                       # taken off each paid claim
aggregate_first_loss = 0             # per policy year, kept by the insured before the insurer pays
premium_rate = 0.0025                # premium as a share of insured turnover, [0, 1] (default 0)
minimum_premium = 0                  # annual minimum premium
max_liability_multiple = 30          # maximum liability as a multiple of the annual premium, (0, 1000]
# max_liability = 2000000            # ... or as a fixed amount (exactly one of the two is required)
waiting_period_days = 180            # days after due date before a protracted default is claimable
political_waiting_days = 180         # days after a country event's start before its claim
insolvency_claim_days = 60           # days from insolvency to the claim's settlement
claim_payment_days = 30              # days from an agreed claim to its payment
# named_top = 3                      # cover only the N largest insured buyers (no default: all)
"#;

const BASELINE: &str = r#"# Normal conditions: every key of a scenario with its default value.
name = "baseline"                    # scenario name in reports (default: the file name)
description = "Normal conditions"    # free text shown in the reports (default: empty)

[ratings]                            # annual PD per rating grade; these are the defaults
AAA = 0.0001
AA = 0.0002
A = 0.0005
BBB = 0.0014
BB = 0.0056
B = 0.0293
CCC = 0.2612

[credit]
asset_correlation = "basel"          # "basel" (by PD, Basel II corporate) or a fixed R in [0, 1)
factor_weights = { global = 0.6, sector = 0.3, country = 0.1 }   # split of R, summing to 1
copula = "gaussian"                  # "gaussian" or "t" (fatter joint tails)
t_dof = 6.0                          # degrees of freedom of the t copula, (2, 1000]
insolvency_share = 0.6               # share of defaults that are insolvencies (others protracted)
recovery_insolvency = { mean = 0.08, sd = 0.08, lag_days = 540 }   # Beta recovery rate and its delay
recovery_protracted = { mean = 0.25, sd = 0.15, lag_days = 270 }   # the same for protracted default

[payment]
late_share = 0.45                    # share of invoices paid late, [0, 1]
days_late_median = 15.0              # median delay of a late invoice, days > 0
days_late_p90 = 60.0                 # 90th percentile of that delay, days >= the median
cycle_sensitivity = 0.5              # how much the economy moves lateness, [0, 1]
stop_deliveries_after_days = 60      # days overdue after which sales to a buyer stop
# ladder = [{ days = 30, action = "agency", pay_probability = 0.50, fee = 0.10 }]   # replaces the study's

# An early-payment discount on new sales, e.g. 2/10 net (optional; none by default):
# [payment.discount]
# rate = 0.02                        # share of the invoice taken off when paid early, (0, 1)
# days = 10                          # days after issue to pay early (none for terms not longer)
# from_month = 1                     # first month of sales it is offered on, 1..=120
# take_up = { A = 0.6, B = 0.35, C = 0.1 }   # share of sales paid early, per credit grade

[country_risk]
default_probability = 0.0            # annual probability of a country (transfer) event, [0, 1]
default_duration_days_median = 180.0 # median duration of an event, days > 0
default_transfer_rate = 0.8          # share of blocked payments paid when the event ends, [0, 1]
# [country_risk.countries.US]        # one table per country overriding the defaults above
# probability = 0.01
# duration_days_median = 120.0
# transfer_rate = 0.5

[stress]
pd_multiplier = 1.0                  # every PD times this, >= 0
pd_multiplier_by_sector = {}         # e.g. { construction = 2.0 }, on top of pd_multiplier
pd_multiplier_by_country = {}        # e.g. { FR = 1.5 }
pd_multiplier_by_rating = {}         # e.g. { B = 2.0 }
# systematic_quantile = 0.95         # fix the global factor at this bad quantile (no default: drawn)
correlation_addon = 0.0              # added to every asset correlation R, (-1, 1)
recovery_multiplier = 1.0            # every recovery rate times this, [0, 100]
sales_multiplier = 1.0               # planned sales times this, [0, 1000]
sales_multiplier_by_sector = {}      # e.g. { retail = 0.8 }
sales_multiplier_by_country = {}     # e.g. { US = 0.9 }
late_share_addon = 0.0               # added to late_share, [-1, 1]
days_late_shift = 0                  # days added to every late payment's delay
fx_shock = {}                        # fx rates times this, e.g. { USD = 0.85 }
forced_defaults = []                 # e.g. [{ buyers = ["B001"], day = 30, kind = "insolvency" }]
forced_country_events = []           # e.g. [{ country = "US", start_day = 60, duration_days = 90 }]
# limit_cuts = { trigger_pd_multiple = 10.0, share = 0.8, cut_to = 0.25, notice_days = 30, lead_days = 90 }

# A terms policy by credit grade for new sales (optional; without it every buyer keeps its terms):
# [terms]
# from_month = 2                     # first month of sales under the policy, 1..=120
# sales_loss_prepaid = 0.25          # share of sales lost at full prepayment (pro rata below), [0, 1]
# sales_loss_per_30_days = 0.03      # share of sales lost per 30 days of shorter terms, [0, 1]
# A = { terms_days = 60 }            # grade A: 60-day terms
# B = { prepaid = 0.5 }              # grade B: half paid before delivery
# C = { cash_in_advance = true }     # grade C: everything paid before delivery

# [disputes]                         # disputed sales (dilution); none without this table
# share = 0.03                       # share of each new sale's amount that is disputed, [0, 1]
# share_by_sector = { construction = 0.12 }   # replaces share for a sector
# resolution_days = 60               # days after the due date the dispute is resolved, 0..3650
# credited = 0.3                     # share of a disputed amount credited to the buyer, [0, 1]
"#;

const RECESSION: &str = r#"# A recession: PDs doubled, the economy fixed at its 95% worst state, slower payers, lower sales,
# and the insurer cutting weak buyers' limits. Keys left out take their defaults.
name = "recession"
description = "Recession: PDs x2, the 95% worst economy, slower payers, 10% lower sales, limit cuts"

[stress]
pd_multiplier = 2.0
systematic_quantile = 0.95
sales_multiplier = 0.9
late_share_addon = 0.10
days_late_shift = 10
limit_cuts = { trigger_pd_multiple = 10.0, share = 0.8, cut_to = 0.25, notice_days = 30, lead_days = 90 }
"#;

const LARGEST_FAILS: &str = r#"# The largest exposure becomes insolvent on day 30, and the US goes through a transfer event.
name = "largest-buyer-fails"
description = "The largest buyer insolvent on day 30; a 90-day transfer moratorium in the US from day 60"

[stress]
forced_defaults = [{ top_n = 1, day = 30, kind = "insolvency" }]
forced_country_events = [{ country = "US", start_day = 60, duration_days = 90 }]
"#;

/// Writes the study of [`FILES`] into `dir` (created if missing), each file atomically. The caller
/// refuses a folder that is not empty first ([`crate::commands::generate::refuse_non_empty`]).
pub fn init(dir: &Path) -> Result<(), Error> {
    for (name, text) in FILES {
        let path = dir.join(name);
        let (Some(parent), Some(file)) = (path.parent(), path.file_name()) else {
            return Err(Error::Internal(format!("init: {} is not a file path", path.display())));
        };
        std::fs::create_dir_all(parent).map_err(|source| Error::Write { path: parent.to_path_buf(), source })?;
        crate::atomic::write_files(parent, &[(file.to_string_lossy().into_owned(), text.as_bytes().to_vec())])?;
    }
    Ok(())
}
