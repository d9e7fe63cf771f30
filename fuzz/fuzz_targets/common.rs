//! Fixtures shared by the fuzz targets: a small valid study (fuzz/fixtures/ and the example's policies and
//! scenarios) and the context the loaders need.

#![allow(dead_code)]

use arstress::calendar::Calendar;
use arstress::input::portfolio::{CsvContext, load_buyers, load_invoices};
use arstress::input::source::Source;
use arstress::model::Portfolio;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;

pub const BUYERS: &str = include_str!("../fixtures/buyers.csv");
pub const INVOICES: &str = include_str!("../fixtures/invoices.csv");
pub const STUDY: &str = include_str!("../fixtures/study.toml");
pub const POLICIES: &str = include_str!("../../scenarios/example/policies.toml");
pub const SCENARIOS: [(&str, &str); 7] = [
    ("baseline.toml", include_str!("../../scenarios/example/scenarios/baseline.toml")),
    ("country-crisis.toml", include_str!("../../scenarios/example/scenarios/country-crisis.toml")),
    ("insurer-retreat.toml", include_str!("../../scenarios/example/scenarios/insurer-retreat.toml")),
    ("mild-recession.toml", include_str!("../../scenarios/example/scenarios/mild-recession.toml")),
    ("sector-shock.toml", include_str!("../../scenarios/example/scenarios/sector-shock.toml")),
    ("severe-recession.toml", include_str!("../../scenarios/example/scenarios/severe-recession.toml")),
    ("top2-default.toml", include_str!("../../scenarios/example/scenarios/top2-default.toml")),
];

/// The fixture study's currency, fx table (EUR reporting, USD at 0.92, XAU at 2500:
/// a large rate, so that fx shocks can reach the limits of an exact decimal) and calendar (2027-01-01, 12 months).
pub struct Context {
    pub currency: String,
    pub fx: BTreeMap<String, Decimal>,
    pub calendar: Calendar,
}

impl Context {
    pub fn new() -> Self {
        let fx = [("EUR", Decimal::ONE), ("USD", Decimal::new(92, 2)), ("XAU", Decimal::from(2500))]
            .into_iter()
            .map(|(c, r)| (c.to_owned(), r))
            .collect();
        let calendar = Calendar::new(time::macros::date!(2027 - 01 - 01), 12);
        Context { currency: "EUR".into(), fx, calendar }
    }

    pub fn csv(&self) -> CsvContext<'_> {
        CsvContext { currency: &self.currency, fx: &self.fx, calendar: &self.calendar }
    }

    /// The fixture portfolio (buyers.csv and invoices.csv of fuzz/fixtures/).
    pub fn portfolio(&self) -> Portfolio {
        let ctx = self.csv();
        let buyers_src = Source::from_bytes(Path::new("buyers.csv"), BUYERS.as_bytes()).expect("fixture is UTF-8");
        let (buyers, _) = load_buyers(&buyers_src, &ctx).expect("fixture buyers load");
        let inv_src = Source::from_bytes(Path::new("invoices.csv"), INVOICES.as_bytes()).expect("fixture is UTF-8");
        let (invoices, _) = load_invoices(&inv_src, &buyers, &ctx).expect("fixture invoices load");
        Portfolio { buyers, invoices, has_invoice_file: true }
    }
}
