//! The optional second factor for staff sign-in: time-based one-time passwords (RFC 6238)
//! as every authenticator app makes them: HMAC-SHA-1 (RFC 4226), 30-second steps, 6
//! digits, a code from the step before or after also accepted for clock drift. Pure: the
//! time is passed in.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};

/// Seconds per step (RFC 6238 section 5.2 recommends 30).
pub const STEP_SECONDS: i64 = 30;
/// Digits in a code.
const DIGITS: u32 = 6;
/// Steps either side of now also accepted, for a phone's clock a little off.
const DRIFT_STEPS: i64 = 1;

/// A new random secret, base32 without padding (160 bits: RFC 4226 section 4 asks for at
/// least 128 and recommends 160).
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// The secret as an authenticator app's `otpauth://` URI (what a QR code would hold), with
/// the landlord's name as the issuer and the staff email as the account.
pub fn uri(secret: &str, issuer: &str, email: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let issuer = utf8_percent_encode(issuer, NON_ALPHANUMERIC).to_string();
    let email = utf8_percent_encode(email, NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{issuer}:{email}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
}

/// The step `at` falls in.
pub fn step_at(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECONDS)
}

/// The code for a step (HOTP with the step as the counter, RFC 4226 section 5.3).
fn code(key: &[u8], step: i64) -> Option<u32> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let word: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    Some((u32::from_be_bytes(word) & 0x7fff_ffff) % 10u32.pow(DIGITS))
}

/// The step whose code `typed` is, if it is the code for `at` or a step either side of it.
/// Spaces are ignored (apps show "123 456"); anything but six digits never matches.
pub fn check(secret: &str, typed: &str, at: DateTime<Utc>) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = typed.parse().ok()?;
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let now = step_at(at);
    // Every candidate is computed, so the time taken does not say which one matched.
    (now - DRIFT_STEPS..=now + DRIFT_STEPS).fold(None, |found, step| {
        let matches = code(&key, step).is_some_and(|c| {
            crate::secrets::constant_time_eq(c.to_be_bytes().as_slice(), &typed.to_be_bytes())
        });
        found.or(matches.then_some(step))
    })
}

/// The code for `at`, as an authenticator app would show it: what the tests type (the
/// console never shows one).
pub fn code_at(secret: &str, at: DateTime<Utc>) -> Option<String> {
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    code(&key, step_at(at)).map(|c| format!("{c:06}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890", in base32.
    fn rfc_secret() -> String {
        data_encoding::BASE32_NOPAD.encode(b"12345678901234567890")
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("time")
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // Appendix B gives 8 digits; 6-digit codes are the last six of them.
        for (seconds, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                code_at(&rfc_secret(), at(seconds)).as_deref(),
                Some(&eight[2..]),
                "{seconds}"
            );
        }
    }

    #[test]
    fn a_code_counts_for_its_step_and_one_either_side_only() {
        let secret = rfc_secret();
        let now = at(1_234_567_890);
        let step = step_at(now);
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let then = now + chrono::Duration::seconds(offset * STEP_SECONDS);
            let typed = code_at(&secret, then).expect("code");
            assert_eq!(
                check(&secret, &typed, now),
                accepted.then_some(step + offset),
                "{offset}"
            );
        }
    }

    #[test]
    fn malformed_codes_never_match() {
        let secret = rfc_secret();
        let now = at(59);
        assert_eq!(check(&secret, "287 082", now), Some(1));
        for typed in ["", "28708", "2870822", "28708a", "-28708", "٢٨٧٠٨٢"] {
            assert_eq!(check(&secret, typed, now), None, "{typed:?}");
        }
        assert_eq!(check("not base32!", "287082", now), None);
    }

    #[test]
    fn secrets_are_fresh_and_the_uri_names_issuer_and_account() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_ne!(secret, new_secret());
        let uri = uri(&secret, "Riverside Homes", "alex@example.org");
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/Riverside%20Homes:alex%40example%2Eorg?secret={secret}&issuer=Riverside%20Homes&algorithm=SHA1&digits=6&period=30"
            )
        );
    }
}
