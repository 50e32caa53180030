//! A Discord gateway message payload: decoded without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = intake::channels::discord::decode_message(data);
});
