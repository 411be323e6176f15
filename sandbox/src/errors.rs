//! Error bodies in each upstream's own shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A Graph OData error: `{"error": {"code", "message", "innerError": {...}}}`.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let date = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": date, "request-id": request_id(), "client-request-id": request_id()},
        }
    });
    (status, Json(body)).into_response()
}

/// Graph's 429: `TooManyRequests` with `Retry-After` in seconds (possibly fractional).
pub fn graph_throttled(retry_after_seconds: f64) -> Response {
    let mut response = graph_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Please retry again later.",
    );
    set_retry_after(&mut response, retry_after_seconds);
    response
}

/// A Dialpad error. Dialpad documents no error schema; this is the Google Endpoints shape its
/// protorpc heritage suggests (UNCONFIRMED, see `docs/dialpad-api.md` section 8).
pub fn dialpad_error(status: StatusCode, message: &str) -> Response {
    let reason = match status {
        StatusCode::BAD_REQUEST => "badRequest",
        StatusCode::UNAUTHORIZED => "required",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "notFound",
        StatusCode::TOO_MANY_REQUESTS => "rateLimitExceeded",
        _ => "backendError",
    };
    let body = json!({
        "error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}],
        }
    });
    (status, Json(body)).into_response()
}

/// Dialpad's 429 with a whole-second `Retry-After` (its presence is UNCONFIRMED upstream).
pub fn dialpad_throttled(retry_after_seconds: f64) -> Response {
    let mut response = dialpad_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded. Please retry later.",
    );
    set_retry_after(&mut response, retry_after_seconds.ceil());
    response
}

/// Sets `Retry-After`, written without a fraction when it is whole.
pub fn set_retry_after(response: &mut Response, seconds: f64) {
    let text = if seconds.fract() == 0.0 {
        format!("{}", seconds as u64)
    } else {
        format!("{seconds:.3}")
    };
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().insert("retry-after", value);
    }
}

/// A fresh request id (random GUID; not derived from the seed: it never affects behaviour).
pub fn request_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    crate::world::guid_text(&hex)
}
