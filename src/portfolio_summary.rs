//! The portfolio summary printed by `validate` and written to `portfolio.csv`: exposure by country,
//! sector, rating and currency, top-10 buyers and groups, concentration (HHI), insured share and
//! exposure above limits. Exposure is the open receivable at day 0 in reporting cents (base fx).

use crate::model::{Portfolio, Study};
use std::collections::BTreeMap;

/// Exposure figures of one group of buyers (cents).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slice {
    pub buyers: u64,
    pub exposure: i64,
    /// Part of the exposure within insured buyers' limits.
    pub insured_exposure: i64,
    /// Part of insured buyers' exposure above their limits.
    pub above_limit: i64,
    pub monthly_sales: i64,
}

impl Slice {
    fn add(&mut self, other: &Slice) {
        self.buyers += other.buyers;
        self.exposure += other.exposure;
        self.insured_exposure += other.insured_exposure;
        self.above_limit += other.above_limit;
        self.monthly_sales += other.monthly_sales;
    }
}

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub section: &'static str,
    pub key: String,
    pub slice: Slice,
}

/// Buyers whose `outstanding` is spread over their payment terms (SPEC §2.2): with invoices.csv, those without
/// a row in it; without the file, every buyer. Only buyers with a non-zero exposure are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spread {
    pub buyers: u64,
    /// Their exposure at day 0 (cents).
    pub exposure: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub spread: Spread,
    pub rows: Vec<Row>,
    pub total: Slice,
    /// Herfindahl–Hirschman index of buyer exposures (0..1).
    pub hhi_buyers: f64,
    /// HHI over groups (a buyer without group is its own group).
    pub hhi_groups: f64,
    pub insured_buyers: u64,
}

/// Builds the summary of a study's portfolio.
pub fn summarize(study: &Study) -> Summary {
    let pf: &Portfolio = &study.portfolio;
    let none = BTreeMap::new();
    let open = pf.open_invoices_cents(&study.fx, &none).unwrap_or_default();
    let slices: Vec<Slice> = pf
        .buyers
        .iter()
        .enumerate()
        .map(|(b, buyer)| {
            let rate = Portfolio::rate(&study.fx, &none, &buyer.currency);
            let exposure: i64 = open.get(b).map_or(0, |v| v.iter().map(|x| x.1).sum());
            let limit = if buyer.is_insured() {
                buyer.credit_limit.and_then(|l| crate::money::to_cents(l, rate)).unwrap_or(0)
            } else {
                0
            };
            let insured = exposure.min(limit);
            Slice {
                buyers: 1,
                exposure,
                insured_exposure: insured,
                above_limit: if limit > 0 { exposure - insured } else { 0 },
                monthly_sales: crate::money::to_cents(buyer.monthly_sales, rate).unwrap_or(0),
            }
        })
        .collect();
    let mut total = Slice::default();
    for s in &slices {
        total.add(s);
    }
    let mut rows = vec![Row { section: "total", key: "all".into(), slice: total.clone() }];
    // Keys borrowed from the buyers: no string is built per buyer (a million buyers summarise in
    // a fraction of a second).
    fn by<'a>(section: &'static str, slices: &[Slice], key: impl Fn(usize) -> &'a str, rows: &mut Vec<Row>) {
        let mut map: BTreeMap<&str, Slice> = BTreeMap::new();
        for (b, s) in slices.iter().enumerate() {
            map.entry(key(b)).or_default().add(s);
        }
        rows.extend(map.into_iter().map(|(k, slice)| Row { section, key: k.to_owned(), slice }));
    }
    let buyers = &pf.buyers;
    by("country", &slices, |b| buyers[b].country.as_str(), &mut rows);
    by("sector", &slices, |b| buyers[b].sector.as_str(), &mut rows);
    by("rating", &slices, |b| buyers[b].rating.as_deref().unwrap_or("(pd_1y)"), &mut rows);
    by("currency", &slices, |b| buyers[b].currency.as_str(), &mut rows);
    by("limit_type", &slices, |b| buyers[b].limit_type.as_str(), &mut rows);

    let mut order: Vec<usize> = (0..slices.len()).collect();
    order.sort_by_key(|&b| std::cmp::Reverse(slices[b].exposure));
    for &b in order.iter().take(10) {
        rows.push(Row { section: "top_buyer", key: pf.buyers[b].id.clone(), slice: slices[b].clone() });
    }
    // Named groups; a buyer without a group is a group of its own (for the HHI only).
    let mut groups: BTreeMap<&str, Slice> = BTreeMap::new();
    for (b, s) in slices.iter().enumerate() {
        if let Some(g) = &pf.buyers[b].group_id {
            groups.entry(g.as_str()).or_default().add(s);
        }
    }
    let mut named: Vec<(&str, &Slice)> = groups.iter().map(|(k, s)| (*k, s)).collect();
    named.sort_by(|a, b| b.1.exposure.cmp(&a.1.exposure).then(a.0.cmp(b.0)));
    for (k, s) in named.into_iter().take(10) {
        rows.push(Row { section: "top_group", key: k.to_owned(), slice: s.clone() });
    }
    let ungrouped = slices.iter().zip(&pf.buyers).filter(|(_, b)| b.group_id.is_none()).map(|(s, _)| s.exposure);
    let mut spread = Spread::default();
    for b in pf.spread_buyers().filter(|&b| slices[b].exposure != 0) {
        spread.buyers += 1;
        spread.exposure += slices[b].exposure;
    }
    Summary {
        spread,
        hhi_buyers: hhi(slices.iter().map(|s| s.exposure), total.exposure),
        hhi_groups: hhi(groups.values().map(|s| s.exposure).chain(ungrouped), total.exposure),
        insured_buyers: pf.buyers.iter().filter(|b| b.is_insured()).count() as u64,
        rows,
        total,
    }
}

/// Herfindahl–Hirschman index `Σ (xᵢ/t)²` from the exact integer sum of squares (order-free).
fn hhi(values: impl Iterator<Item = i64>, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    let squares: u128 = values.map(|x| (x as i128 * x as i128) as u128).sum();
    squares as f64 / (total as f64 * total as f64)
}

impl Summary {
    /// Share of exposure within insured limits.
    pub fn insured_share(&self) -> f64 {
        if self.total.exposure == 0 { 0.0 } else { self.total.insured_exposure as f64 / self.total.exposure as f64 }
    }
}
