//! Keeping secrets secret, for every part of the crate that handles one: tokens kept out of
//! error text and logs, and secrets compared without a timing leak. It depends on nothing in
//! the crate, so the channels, the alert sinks, staff sign-in and the console can all use it.

/// Error text with the bot token taken out: reqwest puts it in the URLs it reports.
pub fn scrub(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_owned();
    }
    text.replace(token, "[redacted]")
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_taken_out_of_error_text() {
        assert_eq!(
            scrub("GET https://api/bot123:abc/getMe failed", "123:abc"),
            "GET https://api/bot[redacted]/getMe failed"
        );
        // No token: nothing to take out (and an empty pattern would match everywhere).
        assert_eq!(scrub("it failed", ""), "it failed");
    }

    #[test]
    fn secrets_are_equal_only_when_every_byte_is() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(constant_time_eq(b"", b""));
    }
}
