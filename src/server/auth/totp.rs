//! TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), the secrets'
//! text and QR forms, and recovery codes.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Codes of the previous and next step are accepted too, for clock drift.
pub const DRIFT_STEPS: i64 = 1;

/// 160 random bits, the size RFC 4226 recommends for HMAC-SHA1.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret as authenticator apps take it when typed in.
pub fn secret_text(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    let label = format!("NeoSC:{account}").replace(' ', "%20").replace('@', "%40");
    format!("otpauth://totp/{label}?secret={}&issuer=NeoSC&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}", secret_text(secret))
}

/// The `otpauth://` URI as an SVG QR code, rendered on the server.
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#0a0e17"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
        Err(_) => String::new(),
    }
}

/// The code for one time step.
pub fn code_at(secret: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:0width$}", binary % 10u32.pow(DIGITS), width = DIGITS as usize)
}

pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The time step whose code `code` is, within the allowed drift, if any.
/// Compares every candidate so timing does not say which step matched.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let expected = code_at(secret, step);
        let equal = expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if equal && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Ten one-time recovery codes of 80 random bits each, grouped for reading
/// (`abcd-efgh-ijkl-mnop`). High entropy is what lets a fast hash store
/// them safely.
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let text = BASE32_NOPAD.encode(&bytes).to_lowercase();
            text.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("base32 is ascii")).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// Recovery codes are compared without case, dashes or spaces.
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last 6 here).
    #[test]
    fn matches_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"), (2000000000, "279037")]
        {
            assert_eq!(code_at(secret, step_of(time)), code, "t={time}");
        }
    }

    #[test]
    fn accepts_one_step_of_drift_and_no_more() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let current = code_at(&secret, step_of(now));
        assert_eq!(matching_step(&secret, &current, now), Some(step_of(now)));
        assert_eq!(matching_step(&secret, &current, now + STEP_SECS), Some(step_of(now)));
        assert_eq!(matching_step(&secret, &current, now + 3 * STEP_SECS), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        assert_eq!(codes[0].len(), 19);
        assert_eq!(normalize_recovery_code(&codes[0].to_uppercase().replace('-', " ")), codes[0].replace('-', ""));
    }

    #[test]
    fn qr_is_svg() {
        let svg = qr_svg(&otpauth_uri(&new_secret(), "ada@neogenesys.com"));
        assert!(svg.contains("<svg"));
    }
}
