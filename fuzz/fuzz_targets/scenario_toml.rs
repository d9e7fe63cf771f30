//! A scenario file, loaded against the fixture portfolio; the same bytes also go to the policies loader.
//! Either may fail with an `Err`, never panic.

#![no_main]

mod common;

use arstress::input::policy::load_policies;
use arstress::input::scenario::{ScenarioContext, load_scenario};
use arstress::input::source::Source;
use arstress::model::{Portfolio, distinct};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

struct Fixture {
    cx: common::Context,
    portfolio: Portfolio,
    currencies: BTreeSet<String>,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let f = FIXTURE.get_or_init(|| {
        let cx = common::Context::new();
        let portfolio = cx.portfolio();
        let currencies = cx.fx.keys().cloned().collect();
        Fixture { cx, portfolio, currencies }
    });
    let Ok(src) = Source::from_bytes(Path::new("scenarios/fuzz.toml"), data) else { return };
    let sectors = distinct(f.portfolio.buyers.iter().map(|b| b.sector.as_str()));
    let countries = distinct(f.portfolio.buyers.iter().map(|b| b.country.as_str()));
    let rank = |shock: &BTreeMap<String, rust_decimal::Decimal>| f.portfolio.rank_by_exposure(&f.cx.fx, shock);
    let ctx = ScenarioContext {
        portfolio: &f.portfolio,
        currencies: &f.currencies,
        horizon_days: f.cx.calendar.horizon_days(),
        rank_by_exposure: &rank,
        sectors: &sectors,
        countries: &countries,
    };
    let _ = load_scenario(&src, &ctx);
    let _ = load_policies(&src);
});
