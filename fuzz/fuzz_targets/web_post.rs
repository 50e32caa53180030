//! A web chat post's body, as any client could send it: decoded and checked without a
//! panic, and anything accepted is within the limits the page promises.
#![no_main]

use intake::channels::web::{LONGEST_MESSAGE, Posted, Said, check_post};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(posted) = serde_json::from_slice::<Posted>(data) else {
        return;
    };
    match check_post(&posted) {
        Ok(Said::Text(text)) => {
            assert!(!text.trim().is_empty());
            assert!(text.chars().count() <= LONGEST_MESSAGE);
        }
        Ok(Said::Press(key)) => {
            assert!(!key.is_empty() && key.len() <= 64);
            assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        }
        Err(_) => {}
    }
});
