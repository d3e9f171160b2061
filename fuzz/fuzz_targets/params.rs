//! The form and query parser: any bytes are parameters or an OAuth error, never a panic; every
//! parsed name reads back as its value, or as a refusal when it was repeated.
#![no_main]

use airlock::oidc::params::ParamBag;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bag) = ParamBag::parse(data) {
        for (name, value) in bag.pairs() {
            match bag.get(name) {
                Ok(read) => {
                    assert!(!bag.is_repeated(name));
                    assert_eq!(read, Some(value).filter(|value| !value.is_empty()));
                }
                Err(_) => assert!(bag.is_repeated(name)),
            }
        }
        let _ = bag.require("client_id");
    }
});
