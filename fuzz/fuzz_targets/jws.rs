//! JWS/JWT parsing: compact serialisation, header and claims, signature checks with a fixed key.
#![no_main]

use airlock::crypto::{jose, jws::CompactJws};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"a fuzzing key of thirty-two bytes";

fuzz_target!(|token: &str| {
    if let Ok(parsed) = CompactJws::parse(token) {
        let _ = parsed.verifies_hs256(KEY);
    }
    if let Ok(unverified) = jose::parse_compact(token) {
        let _ = unverified.unverified_claims();
        let _ = unverified.verify_hs256::<serde_json::Value>(KEY);
    }
});
