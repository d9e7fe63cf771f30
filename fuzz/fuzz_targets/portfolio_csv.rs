//! buyers.csv and invoices.csv: the input up to the first NUL byte is buyers.csv, the rest (if any) invoices.csv
//! (else the fixture's). Loading may fail with an `Err`, never panic; a loaded portfolio is also converted to
//! cents and ranked by exposure, as the study's totals check and `top_n` forced defaults do.

#![no_main]

mod common;

use arstress::input::portfolio::{load_buyers, load_invoices};
use arstress::input::source::Source;
use arstress::model::Portfolio;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

static CONTEXT: OnceLock<common::Context> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let cx = CONTEXT.get_or_init(common::Context::new);
    let ctx = cx.csv();
    let (buyers_bytes, invoices_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, common::INVOICES.as_bytes()),
    };
    let Ok(buyers_src) = Source::from_bytes(Path::new("buyers.csv"), buyers_bytes) else { return };
    let Ok((buyers, _)) = load_buyers(&buyers_src, &ctx) else { return };
    assert!(buyers.windows(2).all(|w| w[0].id < w[1].id), "buyers sorted by unique id");
    let Ok(invoices_src) = Source::from_bytes(Path::new("invoices.csv"), invoices_bytes) else { return };
    let Ok((invoices, _)) = load_invoices(&invoices_src, &buyers, &ctx) else { return };
    assert!(invoices.iter().all(|i| i.buyer < buyers.len()), "invoices point at a buyer");
    let portfolio = Portfolio { buyers, invoices, has_invoice_file: true };
    let none = BTreeMap::new();
    let _ = portfolio.open_invoices_cents(&cx.fx, &none);
    let _ = portfolio.rank_by_exposure(&cx.fx, &none);
});
