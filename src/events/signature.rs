//! Reading one WebSocket frame: a change-log event signed by Dialpad with the secret the operator
//! gave it.
//!
//! Dialpad's "Event Subscriptions" page (https://developers.dialpad.com/docs/event-subscriptions):
//! "events are sent in the JWT format ... and signed with a secret that you share with Dialpad",
//! and after verifying the JWT "you'll have access to the JSON event data in the JWT's payload";
//! the `POST /api/v2/websockets` description (vendor/dialpad-openapi.json) names HS256. The
//! operator always gives a secret, so an unsigned frame, or one signed any other way, is refused.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};

use super::change_log::ChangeLogEvent;

/// The longest frame read; a change-log event is a few hundred bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Why a frame was not taken as an event. The texts never quote the frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameRefused {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("a frame of {0} bytes is larger than any change-log event")]
    TooLarge(usize),
    /// Not a JWT signed with the endpoint's secret (bad signature, another algorithm, unsigned
    /// JSON, expired).
    #[error("a frame is not a change-log event signed with this endpoint's secret: {0}")]
    NotSigned(String),
}

/// The event in `frame`, if it is a JWT signed with HS256 and `secret`. `exp`, when present, is
/// checked; no other claim is required (Dialpad documents none).
pub fn verify_frame(frame: &str, secret: &SecretString) -> Result<ChangeLogEvent, FrameRefused> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(FrameRefused::TooLarge(frame.len()));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    let key = DecodingKey::from_secret(secret.expose_secret().as_bytes())
        .map_err(|_| FrameRefused::NotSigned("the endpoint's secret is empty".into()))?;
    jsonwebtoken::decode::<ChangeLogEvent>(frame.trim(), &key, &validation)
        .map(|token| token.claims)
        .map_err(|error| FrameRefused::NotSigned(describe(&error)))
}

/// The kind of a verification failure, without the token.
fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => "the signature does not match".into(),
        ErrorKind::InvalidAlgorithm => "it is not signed with HS256".into(),
        ErrorKind::ExpiredSignature => "it has expired".into(),
        ErrorKind::Json(_) => "its payload is not a change-log event".into(),
        _ => "it is not a JWT".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    fn signed(payload: &serde_json::Value, key: &str, algorithm: Algorithm) -> String {
        jsonwebtoken::encode(
            &Header::new(algorithm),
            payload,
            &EncodingKey::from_secret(key.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn payload() -> serde_json::Value {
        serde_json::json!({"action": "added_user", "date": 1, "target": {"type": "User", "id": 42}})
    }

    #[test]
    fn an_event_signed_with_the_secret_is_read() {
        let event = verify_frame(&signed(&payload(), "s3cret", Algorithm::HS256), &secret("s3cret")).unwrap();
        assert_eq!(event.target.unwrap().id.as_deref(), Some("42"));
    }

    #[test]
    fn an_event_with_a_bad_signature_is_refused_without_quoting_it() {
        let frame = signed(&payload(), "someone-else", Algorithm::HS256);
        let refused = verify_frame(&frame, &secret("s3cret")).unwrap_err();
        assert_eq!(
            refused,
            FrameRefused::NotSigned("the signature does not match".into())
        );
        assert!(!refused.to_string().contains(&frame[..20]));
    }

    #[test]
    fn unsigned_json_and_other_algorithms_are_refused() {
        let plain = payload().to_string();
        assert!(matches!(
            verify_frame(&plain, &secret("s3cret")),
            Err(FrameRefused::NotSigned(_))
        ));
        let hs512 = signed(&payload(), "s3cret", Algorithm::HS512);
        assert_eq!(
            verify_frame(&hs512, &secret("s3cret")),
            Err(FrameRefused::NotSigned("it is not signed with HS256".into()))
        );
        let header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"none"}"#,
        );
        let body = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            plain.as_bytes(),
        );
        assert!(verify_frame(&format!("{header}.{body}."), &secret("s3cret")).is_err());
    }

    #[test]
    fn an_expired_event_and_an_oversized_frame_are_refused() {
        let mut old = payload();
        old["exp"] = serde_json::json!(1_000);
        assert_eq!(
            verify_frame(&signed(&old, "k", Algorithm::HS256), &secret("k")),
            Err(FrameRefused::NotSigned("it has expired".into()))
        );
        let huge = "a".repeat(MAX_FRAME_BYTES + 1);
        assert_eq!(
            verify_frame(&huge, &secret("k")),
            Err(FrameRefused::TooLarge(MAX_FRAME_BYTES + 1))
        );
    }
}
