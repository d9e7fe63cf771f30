//! The keys risk contributions are reported by: every buyer, sector, country and group in one
//! index, compiled with the plan so the trials can sum losses per key.

use crate::model::Portfolio;

/// The dimensions contributions are reported by (contributions.csv), in [`KeyIndex`] order.
pub const DIMENSIONS: [&str; 4] = ["buyer", "sector", "country", "group"];

/// Each buyer's key in each of [`DIMENSIONS`], as printed: its id, sector, country and group (a
/// buyer without a group is a group of its own, `buyer:<id>`, as in portfolio.csv).
pub fn dimension_labels(pf: &Portfolio) -> [Vec<String>; 4] {
    let buyers = &pf.buyers;
    [
        buyers.iter().map(|b| b.id.clone()).collect(),
        buyers.iter().map(|b| b.sector.clone()).collect(),
        buyers.iter().map(|b| b.country.clone()).collect(),
        buyers.iter().map(|b| b.group_id.clone().unwrap_or_else(|| format!("buyer:{}", b.id))).collect(),
    ]
}

/// The keys of every dimension in one index: the buyers first (portfolio order, which is by id),
/// then the sectors, countries and groups, each in sorted order. Per-key sums of squares are kept
/// in this order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyIndex {
    /// Per buyer, its key in each dimension (an index over all keys).
    pub of_buyer: Vec<[u32; 4]>,
    /// First key and number of keys of each dimension.
    pub dims: [(usize, usize); 4],
}

impl KeyIndex {
    /// The index of a portfolio, with each dimension's key labels in index order.
    pub fn new(pf: &Portfolio) -> (KeyIndex, [Vec<String>; 4]) {
        let labels = dimension_labels(pf);
        let n = pf.buyers.len();
        let mut of_buyer: Vec<[u32; 4]> = (0..n).map(|b| [b as u32; 4]).collect();
        let mut dims = [(0usize, n); 4];
        let mut names: [Vec<String>; 4] = Default::default();
        names[0] = labels[0].clone();
        let mut next = n;
        for d in 1..4 {
            let sorted: std::collections::BTreeMap<&str, u32> = labels[d].iter().map(|l| (l.as_str(), 0)).collect();
            let sorted: std::collections::BTreeMap<&str, u32> =
                sorted.into_keys().enumerate().map(|(i, l)| (l, i as u32)).collect();
            for (b, l) in labels[d].iter().enumerate() {
                of_buyer[b][d] = (next + sorted[l.as_str()] as usize) as u32;
            }
            dims[d] = (next, sorted.len());
            next += sorted.len();
            names[d] = sorted.into_keys().map(str::to_owned).collect();
        }
        (KeyIndex { of_buyer, dims }, names)
    }

    /// Number of keys over all dimensions.
    pub fn len(&self) -> usize {
        self.dims[3].0 + self.dims[3].1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
