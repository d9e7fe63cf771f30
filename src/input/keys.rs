//! Every key and column the loaders accept, per file and table: the list docs/inputs.md documents
//! and `arstress init` writes. The TOML tables are read by serde structs that deny unknown fields;
//! a test sets an unknown key in each table and checks that the loader's list of valid keys there
//! (its "did you mean" choices) is exactly this one, so this list cannot drift from the parser.

use super::portfolio::{BUYER_COLUMNS, INVOICE_COLUMNS};

/// A table of an input file with its keys. `table` is the TOML path of the table (`""` for the
/// top level of the file; `[[…]]` for arrays of tables; `*` for a key chosen by the user, such as a
/// country code), as docs/inputs.md heads it.
pub struct KeyTable {
    pub file: &'static str,
    pub table: &'static str,
    pub keys: &'static [&'static str],
}

const RECOVERY: &[&str] = &["mean", "sd", "lag_days"];
/// The keys of one step of a dunning ladder (`[collections] ladder`, a scenario's `[payment] ladder`).
const LADDER_STEP: &[&str] = &["days", "action", "pay_probability", "fee"];
/// The keys of one grade's terms in a scenario's `[terms]`.
const GRADE_TERMS: &[&str] = &["terms_days", "prepaid", "cash_in_advance"];

/// The TOML tables of a study and their keys, in the order of docs/inputs.md.
pub const KEY_TABLES: &[KeyTable] = &[
    KeyTable {
        file: "study.toml",
        table: "",
        keys: &[
            "name",
            "as_of",
            "horizon_months",
            "trials",
            "seed",
            "currency",
            "policies",
            "scenarios",
            "portfolio",
            "fx",
            "company",
            "collections",
        ],
    },
    KeyTable { file: "study.toml", table: "[portfolio]", keys: &["buyers", "invoices"] },
    KeyTable {
        file: "study.toml",
        table: "[company]",
        keys: &[
            "opening_cash",
            "monthly_fixed_outflows",
            "variable_cost_ratio",
            "credit_line",
            "advance_rate_insured",
            "advance_rate_uninsured",
            "minimum_cash",
            "bad_debt_reserve",
        ],
    },
    KeyTable {
        file: "study.toml",
        table: "[collections]",
        keys: &["days_1_30", "days_31_60", "days_61_90", "days_91_180", "over_180", "ladder"],
    },
    KeyTable { file: "study.toml", table: "[[collections.ladder]]", keys: LADDER_STEP },
    KeyTable { file: "policies.toml", table: "", keys: &["policy"] },
    KeyTable {
        file: "policies.toml",
        table: "[[policy]]",
        keys: &[
            "name",
            "indemnity",
            "indemnity_discretionary",
            "indemnity_political",
            "discretionary_limit_max",
            "political_cover",
            "nql",
            "deductible",
            "aggregate_first_loss",
            "premium_rate",
            "minimum_premium",
            "max_liability_multiple",
            "max_liability",
            "waiting_period_days",
            "political_waiting_days",
            "insolvency_claim_days",
            "claim_payment_days",
            "named_top",
        ],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "",
        keys: &["name", "description", "ratings", "credit", "payment", "country_risk", "stress", "terms", "disputes"],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[terms]",
        keys: &["from_month", "sales_loss_prepaid", "sales_loss_per_30_days", "A", "B", "C"],
    },
    KeyTable { file: "scenarios/*.toml", table: "[terms.A]", keys: GRADE_TERMS },
    KeyTable { file: "scenarios/*.toml", table: "[terms.B]", keys: GRADE_TERMS },
    KeyTable { file: "scenarios/*.toml", table: "[terms.C]", keys: GRADE_TERMS },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[credit]",
        keys: &[
            "asset_correlation",
            "factor_weights",
            "copula",
            "t_dof",
            "insolvency_share",
            "recovery_insolvency",
            "recovery_protracted",
        ],
    },
    KeyTable { file: "scenarios/*.toml", table: "[credit.factor_weights]", keys: &["global", "sector", "country"] },
    KeyTable { file: "scenarios/*.toml", table: "[credit.recovery_insolvency]", keys: RECOVERY },
    KeyTable { file: "scenarios/*.toml", table: "[credit.recovery_protracted]", keys: RECOVERY },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[payment]",
        keys: &[
            "late_share",
            "days_late_median",
            "days_late_p90",
            "cycle_sensitivity",
            "stop_deliveries_after_days",
            "ladder",
            "discount",
        ],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[payment.discount]",
        keys: &["rate", "days", "take_up", "from_month"],
    },
    KeyTable { file: "scenarios/*.toml", table: "[payment.discount.take_up]", keys: &["A", "B", "C"] },
    KeyTable { file: "scenarios/*.toml", table: "[[payment.ladder]]", keys: LADDER_STEP },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[country_risk]",
        keys: &["default_probability", "default_duration_days_median", "default_transfer_rate", "countries"],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[country_risk.countries.*]",
        keys: &["probability", "duration_days_median", "transfer_rate"],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[stress]",
        keys: &[
            "pd_multiplier",
            "pd_multiplier_by_sector",
            "pd_multiplier_by_country",
            "pd_multiplier_by_rating",
            "systematic_quantile",
            "correlation_addon",
            "recovery_multiplier",
            "sales_multiplier",
            "sales_multiplier_by_sector",
            "sales_multiplier_by_country",
            "late_share_addon",
            "days_late_shift",
            "fx_shock",
            "forced_defaults",
            "forced_country_events",
            "limit_cuts",
        ],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[[stress.forced_defaults]]",
        keys: &["buyers", "top_n", "day", "kind"],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[[stress.forced_country_events]]",
        keys: &["country", "start_day", "duration_days"],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[stress.limit_cuts]",
        keys: &["trigger_pd_multiple", "share", "cut_to", "notice_days", "lead_days"],
    },
    KeyTable {
        file: "scenarios/*.toml",
        table: "[disputes]",
        keys: &["share", "share_by_sector", "resolution_days", "credited"],
    },
];

/// Every TOML key as (file, table, key): see [`KEY_TABLES`].
pub fn known_keys() -> Vec<(&'static str, &'static str, &'static str)> {
    KEY_TABLES.iter().flat_map(|t| t.keys.iter().map(move |k| (t.file, t.table, *k))).collect()
}

/// Every CSV column the loaders read, as (file, column); other columns are ignored with a warning.
pub fn csv_columns() -> Vec<(&'static str, &'static str)> {
    let buyers = BUYER_COLUMNS.iter().map(|c| ("buyers.csv", *c));
    buyers.chain(INVOICE_COLUMNS.iter().map(|c| ("invoices.csv", *c))).collect()
}
