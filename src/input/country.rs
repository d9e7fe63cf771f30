//! ISO 3166-1 alpha-2 country codes: the one check of a country code, wherever one is read.

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted.
pub const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", //
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW",
    "BY", "BZ", //
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY",
    "CZ", //
    "DE", "DJ", "DK", "DM", "DO", "DZ", //
    "EC", "EE", "EG", "EH", "ER", "ES", "ET", //
    "FI", "FJ", "FK", "FM", "FO", "FR", //
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW",
    "GY", //
    "HK", "HM", "HN", "HR", "HT", "HU", //
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", //
    "JE", "JM", "JO", "JP", //
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", //
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", //
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV",
    "MW", "MX", "MY", "MZ", //
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", //
    "OM", //
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", //
    "QA", //
    "RE", "RO", "RS", "RU", "RW", //
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX",
    "SY", "SZ", //
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", //
    "UA", "UG", "UM", "US", "UY", "UZ", //
    "VA", "VC", "VE", "VG", "VI", "VN", "VU", //
    "WF", "WS", //
    "YE", "YT", //
    "ZA", "ZM", "ZW",
];

/// Codes often written for a country whose ISO code differs (EU and UN usage, language codes).
const COMMON_MISTAKES: [(&str, &str); 4] = [("UK", "GB"), ("EL", "GR"), ("SP", "ES"), ("EN", "GB")];

/// True for an assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_country_code(s: &str) -> bool {
    ISO_3166_ALPHA2.binary_search(&s).is_ok()
}

/// What a country field expects, with a hint for a near miss (`UK` → `GB`, `de` → `DE`).
pub fn expected_country(s: &str) -> String {
    let upper = s.trim().to_ascii_uppercase();
    let hint = COMMON_MISTAKES
        .iter()
        .find(|(wrong, _)| *wrong == upper)
        .map(|(_, right)| *right)
        .or_else(|| ISO_3166_ALPHA2.iter().copied().find(|c| *c == upper && upper != s));
    let base = "an ISO 3166-1 alpha-2 country code such as DE";
    match hint {
        Some(h) => format!("{base} (did you mean {h}?)"),
        None => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_well_formed() {
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
        assert!(ISO_3166_ALPHA2.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
        for (wrong, right) in COMMON_MISTAKES {
            assert!(!is_country_code(wrong) && is_country_code(right), "{wrong} -> {right}");
        }
    }

    #[test]
    fn uk_and_ab_are_not_iso_codes() {
        assert!(is_country_code("GB") && is_country_code("DE") && is_country_code("ZW"));
        assert!(!is_country_code("UK") && !is_country_code("AB") && !is_country_code("de") && !is_country_code("EU"));
        assert!(expected_country("UK").ends_with("(did you mean GB?)"));
        assert!(expected_country("de").ends_with("(did you mean DE?)"));
        assert!(!expected_country("AB").contains("did you mean"));
    }
}
