//! The text of one event frame. With a websocket secret, an event is a compact JWT signed HS256
//! with that secret whose payload is the event's JSON; without one, the JSON itself
//! (vendor/dialpad-openapi.json, `websockets.create`; developers.dialpad.com/docs/change-log-events).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// `event` as it goes over the wire for a websocket with `secret` (an empty secret is none, as
/// the API treats it).
pub fn frame_text(event: &Value, secret: Option<&str>) -> String {
    // `from_secret` refuses only an empty secret.
    match secret.and_then(|s| EncodingKey::from_secret(s.as_bytes()).ok()) {
        // The JWT header Dialpad uses for events is not documented; `{"alg":"HS256","typ":"JWT"}`
        // is the standard one (UNCONFIRMED).
        Some(key) => jsonwebtoken::encode(&Header::new(Algorithm::HS256), event, &key)
            .expect("HS256 signing of JSON cannot fail"),
        None => event.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn a_signed_frame_verifies_with_the_secret_and_carries_the_event() {
        let event = serde_json::json!({"action": "add_team_members", "date": 1});
        let text = frame_text(&event, Some("s3cret"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decoded =
            jsonwebtoken::decode::<Value>(&text, &DecodingKey::from_secret(b"s3cret").unwrap(), &validation)
                .expect("verifies");
        assert_eq!(decoded.claims, event);
        assert!(
            jsonwebtoken::decode::<Value>(&text, &DecodingKey::from_secret(b"other").unwrap(), &validation)
                .is_err()
        );
    }

    #[test]
    fn without_a_secret_the_frame_is_the_plain_json() {
        let event = serde_json::json!({"action": "x"});
        assert_eq!(frame_text(&event, None), event.to_string());
    }
}
