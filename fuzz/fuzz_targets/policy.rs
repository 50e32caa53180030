//! The policy engine on any text: it must never panic, and it reads the same text the same
//! way every time.
#![no_main]

use std::sync::LazyLock;

use intake::core::policy::{Context, Policy};
use libfuzzer_sys::fuzz_target;

static POLICY: LazyLock<Policy> =
    LazyLock::new(|| Policy::shipped().expect("the shipped lexicon loads"));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = POLICY.assess(&text, &Context::default());
    let again = POLICY.assess(&text, &Context::default());
    assert_eq!(first, again, "the same words, read twice, read the same");
});
