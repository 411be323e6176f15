//! A final HTTP answer and how it is read: its JSON, its error, its request id and `Retry-After`.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use super::error;
use super::{BodyProblem, Service, UpstreamError};

/// A final HTTP answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The upstream's request id header, if any.
    pub request_id: Option<String>,
    /// Attempts it took.
    pub attempts: u32,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Parses the body as `T`; a body that does not parse is [`UpstreamError::Malformed`], saying
    /// whether it was cut short, is not JSON at all, or is JSON of another shape.
    pub fn json<T: DeserializeOwned>(&self, service: Service, endpoint: &str) -> Result<T, UpstreamError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            let problem = BodyProblem::of(&error);
            let content_type = self
                .headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("no content type");
            UpstreamError::Malformed {
                service,
                endpoint: endpoint.to_owned(),
                detail: body_detail(problem, &error, content_type, self.body.len(), service),
                request_id: self.request_id.clone(),
                problem,
            }
        })
    }

    /// The answer if it is a success, else the error it describes.
    pub fn success(self, service: Service, endpoint: &str) -> Result<Answer, UpstreamError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.into_error(service, endpoint))
        }
    }

    /// The error an unsuccessful answer describes, with the upstream's code and message when the
    /// body has them (Graph `error.code`/`error.message`, Dialpad `error.message`, Entra
    /// `error`/`error_description`), each cut to a bounded length ([`error::bounded`]).
    pub fn into_error(self, service: Service, endpoint: &str) -> UpstreamError {
        let body: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let error = &body["error"];
        let (code, message) = if let Some(text) = error.as_str() {
            let description = body["error_description"].as_str().unwrap_or_default();
            (Some(text.to_owned()), first_line(description))
        } else {
            let code = error["code"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| error["code"].as_u64().map(|c| c.to_string()));
            let message = error["message"]
                .as_str()
                .or_else(|| body["message"].as_str())
                .unwrap_or_default();
            (code, message.to_owned())
        };
        let message = if message.is_empty() {
            reason_phrase(self.status)
        } else {
            message
        };
        let inner_request_id = error["innerError"]["request-id"].as_str().map(str::to_owned);
        let short = |text: String| error::bounded(&text, error::QUOTED_CODE_CHARS);
        UpstreamError::Status {
            service,
            endpoint: endpoint.to_owned(),
            status: self.status,
            code: code.map(short),
            message: error::bounded(&message, error::QUOTED_TEXT_CHARS),
            request_id: self.request_id.or(inner_request_id).map(short),
            retry_after: retry_after_of(&self.headers),
            attempts: self.attempts,
        }
    }
}

/// What an unreadable success body was, for the error message: its size and content type, never
/// its content.
fn body_detail(
    problem: BodyProblem,
    error: &serde_json::Error,
    content_type: &str,
    length: usize,
    service: Service,
) -> String {
    // serde's words may quote a value of the body (an unknown variant, a string of the wrong type).
    let error = error::bounded(&error.to_string(), error::QUOTED_TEXT_CHARS);
    match problem {
        BodyProblem::Truncated if length == 0 => {
            format!("HTTP 2xx with an empty body ({content_type}) where JSON was expected")
        }
        BodyProblem::Truncated => {
            format!("the body ends after {length} bytes, before its JSON does (cut short?): {error}")
        }
        BodyProblem::NotJson => format!(
            "the body is not JSON ({content_type}, {length} bytes), as a proxy's, a captive portal's or another web server's page would be; check the endpoint URL (spec.endpoints) and any proxy between the operator and {service}: {error}"
        ),
        BodyProblem::UnexpectedShape | BodyProblem::UnknownValue => {
            format!("JSON that is not what this endpoint returns ({length} bytes): {error}")
        }
    }
}

/// How many times a read whose body was cut short is asked again before the error is returned.
pub const TRUNCATED_BODY_RETRIES: u32 = 2;

/// Reads `fetch`'s answer as JSON, fetching again up to [`TRUNCATED_BODY_RETRIES`] times when the
/// body was cut short (for reads only: `fetch` must be safe to repeat). Any other body problem is
/// returned at once. Returns the value and the answer's request id.
pub async fn read_json<T, E, F, Fut>(
    service: Service,
    endpoint: &str,
    mut fetch: F,
) -> Result<(T, Option<String>), E>
where
    T: DeserializeOwned,
    E: From<UpstreamError>,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, E>>,
{
    let mut retries = 0;
    loop {
        let answer = fetch().await?;
        match answer.json::<T>(service, endpoint) {
            Ok(value) => return Ok((value, answer.request_id)),
            Err(error) if error.is_truncated_body() && retries < TRUNCATED_BODY_RETRIES => {
                retries += 1;
                tracing::debug!(%service, endpoint, retries, %error, "reading again a body that was cut short");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(retries))).await;
            }
            Err(error) => return Err(E::from(error)),
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

fn reason_phrase(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("no message")
        .to_owned()
}

/// The upstream request id: Graph's `request-id`, Entra's `x-ms-request-id`, or `x-request-id`.
pub(super) fn request_id_of(headers: &HeaderMap) -> Option<String> {
    ["request-id", "x-ms-request-id", "x-request-id"]
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|value| value.to_str().ok())
        .map(|id| error::bounded(id, error::QUOTED_CODE_CHARS))
}

/// The longest `Retry-After` read as it is; a longer one is read as this. Far beyond any wait a
/// client keeps to (see [`RetryPolicy::max_retry_after`]), and near enough that the instant it
/// ends can always be computed.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` in seconds (fractions allowed, as Graph sends them), at most
/// [`LONGEST_RETRY_AFTER`].
pub fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("retry-after")?.to_str().ok()?;
    let seconds: f64 = text.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(LONGEST_RETRY_AFTER.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::throttle::Throttle;

    #[test]
    fn a_huge_retry_after_is_read_as_a_day_not_a_panic() {
        // Found by the dialpad_parser fuzz target: a Retry-After of a hundred 6s overflowed
        // Duration::from_secs_f64; one of 1e19 seconds overflowed the throttle's pause instant.
        for text in ["6".repeat(100).as_str(), "1e19", "86401"] {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", text.parse().expect("a header value"));
            let wait = retry_after_of(&headers);
            assert_eq!(wait, Some(LONGEST_RETRY_AFTER), "{text}");
            Throttle::default().throttled(tokio::time::Instant::now(), wait);
        }
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "1.5".parse().expect("a header value"));
        assert_eq!(retry_after_of(&headers), Some(Duration::from_millis(1500)));
    }
}
