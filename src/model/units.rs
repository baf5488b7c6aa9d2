//! Reading sizes as people type them; the inverse of `format_vcpu`.

/// "0.5", "2", "1.25" (at most three decimals) as thousandths of a CPU;
/// None for anything else, including negative numbers.
pub fn parse_vcpu(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 3 {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<3}").parse().ok()? };
    whole.checked_mul(1000)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::format_vcpu;

    #[test]
    fn vcpu_reads_back_what_format_writes() {
        for m in [1, 250, 500, 1000, 1250, 2000, 15_500] {
            assert_eq!(parse_vcpu(&format_vcpu(m)), Some(m));
        }
        assert_eq!(parse_vcpu(" .5 "), Some(500));
        assert_eq!(parse_vcpu("2."), Some(2000));
        for bad in ["", ".", "-1", "1.2345", "1,5", "two", "1e3"] {
            assert_eq!(parse_vcpu(bad), None, "{bad:?}");
        }
    }
}
