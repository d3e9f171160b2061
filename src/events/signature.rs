//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the bytes of a `whsec_<base64>` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET_PREFIX: &str = "whsec_";

/// A signing secret as shown to its owner.
pub fn format_secret(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key bytes of a `whsec_` secret.
pub fn parse_secret(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX)?;
    STANDARD.decode(encoded).ok().filter(|key| !key.is_empty())
}

/// The `webhook-signature` header value: one `v1,` signature per key, space-separated (a rotated
/// secret signs beside its successor for a while, so receivers can switch without a gap).
pub fn header(keys: &[&[u8]], webhook_id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        .map(|key| format!("v1,{}", sign(key, webhook_id, timestamp, body)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sign(key: &[u8], webhook_id: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_s_example_signature() {
        // From the Standard Webhooks specification's test vectors.
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            header(&[&key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip_and_several_keys_sign_side_by_side() {
        let secret = format_secret(&[7u8; 24]);
        assert!(secret.starts_with("whsec_"));
        assert_eq!(parse_secret(&secret), Some(vec![7u8; 24]));
        assert_eq!(parse_secret("whsec_"), None);
        assert_eq!(parse_secret("sk_test_x"), None);
        let signed = header(&[&[1u8; 8], &[2u8; 8]], "evt_1", 1, "{}");
        assert_eq!(signed.split(' ').count(), 2);
        assert!(signed.split(' ').all(|part| part.starts_with("v1,")));
    }
}
