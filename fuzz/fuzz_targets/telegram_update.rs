//! A Telegram webhook body, as anyone who learned the URL could post it: decoded without a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = intake::channels::telegram::decode_update(data);
});
