//! Client credentials as presented: an `Authorization` header (Basic, percent-encoded id and
//! secret) beside a form body that may carry its own, or an assertion.
#![no_main]

use airlock::oidc::client_auth::presented_client;
use airlock::oidc::params::ParamBag;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &[u8])| {
    let (authorization, body) = input;
    if let Ok(params) = ParamBag::parse(body) {
        let _ = presented_client(Some(authorization), &params);
        let _ = presented_client(None, &params);
    }
});
