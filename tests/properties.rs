//! Property tests of the settlement and statistics invariants.

use arstress::claims::{Terms, insurer_recovery_share, settle_year};
use arstress::stats::{MeasureStats, QUANTILE_LEVELS, expected_shortfall_sorted, quantile_sorted};
use proptest::prelude::*;

fn terms() -> impl Strategy<Value = Terms> {
    (0i64..2_000_000, 0i64..1_000_000, 0i64..50_000_000, 0i64..200_000_000).prop_map(
        |(nql, deductible, aggregate_first_loss, max_liability)| Terms {
            nql,
            deductible,
            aggregate_first_loss,
            max_liability,
        },
    )
}

fn claims() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0i64..100_000_000, 0i64..=1_000_000_000), 0..20)
}

proptest! {
    #[test]
    fn settlement_respects_its_caps(t in terms(), c in claims()) {
        let paid = settle_year(&t, &c);
        let mut gross_total = 0i64;
        for (&(covered, q), &pay) in c.iter().zip(&paid) {
            let g = if covered <= t.nql { 0 } else { (arstress::money::apply_ppb(covered, q) - t.deductible).max(0) };
            prop_assert!(0 <= pay && pay <= g, "pay {pay} outside [0, {g}]");
            prop_assert!(pay <= covered);
            gross_total += g;
        }
        let total: i64 = paid.iter().sum();
        // The first loss absorbs first, the maximum liability caps the rest: order does not matter
        // for the total.
        prop_assert_eq!(total, (gross_total - t.aggregate_first_loss).max(0).min(t.max_liability));
    }

    #[test]
    fn net_loss_stays_between_zero_and_gross(unpaid in 1i64..1_000_000_000, rec_ppb in 0i64..=1_000_000_000, pay_ppb in 0i64..=1_000_000_000) {
        let recovery = arstress::money::apply_ppb(unpaid, rec_ppb);
        let pay = arstress::money::apply_ppb(unpaid, pay_ppb);
        let gross = unpaid - recovery;
        let net = gross - pay + insurer_recovery_share(recovery, pay, unpaid);
        prop_assert!(0 <= net && net <= gross, "net {net}, gross {gross}");
    }

    #[test]
    fn quantiles_are_monotone_and_es_dominates_var(values in prop::collection::vec(-1_000_000i64..1_000_000_000, 1..400)) {
        let s = MeasureStats::from_values(&values);
        prop_assert!(s.quantiles.windows(2).all(|w| w[0] <= w[1]));
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for l in QUANTILE_LEVELS {
            let q = quantile_sorted(&sorted, l);
            // At least α·N values are ≤ q, and fewer than α·N are < q.
            let n = values.len() as u128;
            let le = values.iter().filter(|&&v| v <= q).count() as u128;
            let lt = values.iter().filter(|&&v| v < q).count() as u128;
            prop_assert!(le * l.den as u128 >= l.num as u128 * n);
            prop_assert!(lt * (l.den as u128) < l.num as u128 * n);
            prop_assert!(expected_shortfall_sorted(&sorted, l) >= q as i128);
        }
        prop_assert!(s.mean >= *sorted.first().unwrap() as i128 && s.mean <= *sorted.last().unwrap() as i128);
    }
}

proptest! {
    #[test]
    fn rounding_fast_path_matches_exact_arithmetic(a in 0i64..i64::MAX / 4, b in 0i64..4_000_000_000, c in 1i64..i64::MAX) {
        let exact = {
            let (num, c) = (a as i128 * b as i128, c as i128);
            let (q, r) = (num / c, num % c);
            if 2 * r > c || (2 * r == c && q % 2 == 1) { q + 1 } else { q }
        };
        prop_assume!(exact <= i64::MAX as i128);
        prop_assert_eq!(arstress::money::mul_div_round(a, b, c) as i128, exact);
        if b <= 1_000_000_000 {
            prop_assert_eq!(arstress::money::apply_ppb(a, b), arstress::money::mul_div_round(a, b, 1_000_000_000));
        }
    }
}
