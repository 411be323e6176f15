//! What every upstream client shares: one reqwest client with timeouts, a per-tenant rate limiter,
//! retries with backoff that honour `Retry-After`, a retry budget, and error classification.

pub mod allowed;
pub mod calls;
pub mod error;
pub mod limits;
pub mod memory;
pub mod origin;
pub mod retry;
pub mod throttle;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

pub use calls::{CallRecorder, NotRecorded, SharedCallRecorder, UpstreamOutcome};
pub use error::{BodyProblem, Service, UpstreamError};
pub use limits::{Pages, ReadLimits};
pub use origin::EndpointOrigin;
pub use retry::{RetryBudget, RetryPolicy};

/// How many 429 answers one call waits out (each for its `Retry-After`) before it fails as
/// transient; the next sync tries again.
pub const THROTTLED_ATTEMPTS: u32 = 20;

/// Builds the process's HTTP client: rustls, HTTP/2 when offered, connect and request timeouts,
/// and no redirect followed: every upstream request carries a credential (the token form, the
/// Graph bearer token, the Dialpad key), which must not go wherever a redirect points; a 3xx
/// answer becomes [`UpstreamError::Redirected`]. `extra_roots` adds CA certificates (PEM), e.g.
/// the sandbox's.
pub fn http_client(extra_roots: &[Vec<u8>]) -> Result<reqwest::Client, reqwest::Error> {
    crate::tls::ensure_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("dialpad-teams-operator/", env!("CARGO_PKG_VERSION")));
    if !extra_roots.is_empty() {
        let mut certificates = Vec::new();
        for pem in extra_roots {
            certificates.push(reqwest::Certificate::from_pem(pem)?);
        }
        builder = builder.tls_certs_merge(certificates);
    }
    builder.build()
}

/// Whether a call may be repeated without risk of doing it twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads: retried on any transient failure.
    Idempotent,
    /// Writes: retried only when the upstream provably did not act (429, or no connection).
    NotIdempotent,
}

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

/// One upstream (a service for one tenant or company) with its limiter, retry policy and budget.
#[derive(Clone)]
pub struct UpstreamClient {
    service: Service,
    http: reqwest::Client,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    requests_per_second: Option<u32>,
    retry: RetryPolicy,
    budget: Arc<RetryBudget>,
    throttle: Arc<throttle::Throttle>,
    limits: ReadLimits,
    calls: SharedCallRecorder,
}

impl UpstreamClient {
    /// A client for `service` sending at most `requests_per_second` (unlimited if `None`).
    pub fn new(
        service: Service,
        http: reqwest::Client,
        requests_per_second: Option<u32>,
        retry: RetryPolicy,
    ) -> Self {
        // Requests go out evenly spaced, never in a burst: no second ever holds more than
        // `rate` of them, and the upstream's own bucket (a second's worth) is left to absorb
        // what network jitter bunches up. A burst of nine tenths of the rate, as this once
        // allowed, let 655 requests into one second against a limit of 500 (tests/fault_suite.rs).
        let limiter = requests_per_second.and_then(NonZeroU32::new).map(|rate| {
            Arc::new(RateLimiter::direct(
                Quota::per_second(rate).allow_burst(NonZeroU32::MIN),
            ))
        });
        Self {
            service,
            http,
            limiter,
            requests_per_second: requests_per_second.filter(|rate| *rate > 0),
            retry,
            budget: Arc::new(RetryBudget::default()),
            throttle: Arc::new(throttle::Throttle::default()),
            limits: ReadLimits::default(),
            calls: Arc::new(NotRecorded),
        }
    }

    /// This client reporting each HTTP attempt to `calls` (the default records nothing).
    pub fn recording_calls_to(mut self, calls: SharedCallRecorder) -> Self {
        self.calls = calls;
        self
    }

    /// This client reading at most `limits` (the default is [`ReadLimits::default`]).
    pub fn with_limits(mut self, limits: ReadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// What this client reads at most.
    pub fn limits(&self) -> ReadLimits {
        self.limits
    }

    /// The rate this client keeps to, if it is limited.
    pub fn requests_per_second(&self) -> Option<u32> {
        self.requests_per_second
    }

    /// The service this client talks to.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The underlying HTTP client, for building requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends the request `build` makes (called again for every attempt), retrying transient
    /// failures as `idempotency` allows. Returns the final answer whatever its status, except that
    /// a transient status still failing after the last attempt becomes an error, and that a
    /// redirect or a body over [`ReadLimits::max_body_bytes`] is an error at once, never retried.
    pub async fn call(
        &self,
        endpoint: &str,
        idempotency: Idempotency,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer, UpstreamError> {
        self.budget.deposit();
        let mut attempt = 0;
        let mut throttled_attempts = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            let wait = self.throttle.reserve(tokio::time::Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let outcome = build(&self.http).send().await;
            self.calls
                .record_call(self.service, endpoint, UpstreamOutcome::of(&outcome));
            let (retry_after, failure) = match outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if response.status().is_redirection() && status != 304 {
                        let location = response.headers().get(reqwest::header::LOCATION);
                        return Err(UpstreamError::Redirected {
                            service: self.service,
                            endpoint: endpoint.to_owned(),
                            status,
                            to: origin::redirect_target(
                                response.url(),
                                location.and_then(|value| value.to_str().ok()),
                            ),
                        });
                    }
                    let headers = response.headers().clone();
                    let request_id = request_id_of(&headers);
                    let retry_after = retry_after_of(&headers);
                    match limits::read_body(response, self.limits.max_body_bytes).await {
                        Ok(body) => {
                            let answer = Answer {
                                status,
                                headers,
                                body,
                                request_id,
                                attempts: attempt,
                            };
                            // The upstream's instruction to slow down holds for every request.
                            if status == 429 || (status == 503 && retry_after.is_some()) {
                                self.throttle.throttled(tokio::time::Instant::now(), retry_after);
                            } else {
                                self.throttle.passed(tokio::time::Instant::now());
                            }
                            let retryable = error::is_transient_status(status)
                                && (idempotency == Idempotency::Idempotent || status == 429);
                            if !retryable {
                                return Ok(answer);
                            }
                            (retry_after, answer.into_error(self.service, endpoint))
                        }
                        Err(None) => {
                            return Err(UpstreamError::TooLarge {
                                service: self.service,
                                endpoint: endpoint.to_owned(),
                                limit: self.limits.max_body_bytes,
                            });
                        }
                        Err(Some(error)) => (None, self.transport_error(endpoint, &error, attempt)),
                    }
                }
                Err(error) => {
                    let safe = idempotency == Idempotency::Idempotent || error.is_connect();
                    let failure = self.transport_error(endpoint, &error, attempt);
                    if !safe {
                        return Err(failure);
                    }
                    (None, failure)
                }
            };
            // Being throttled is pacing, not failing: it spends neither the attempts nor the
            // retry budget, only its own, larger allowance (a burst of 429s answered to a
            // sequential reader once failed a whole sync after five of them).
            let throttled = failure.status() == Some(429);
            throttled_attempts += u32::from(throttled);
            let failed_attempts = attempt - throttled_attempts;
            if failed_attempts >= self.retry.max_attempts || throttled_attempts >= THROTTLED_ATTEMPTS {
                return Err(failure);
            }
            if retry_after.is_some_and(|wait| wait > self.retry.max_retry_after) {
                return Err(failure);
            }
            if !throttled && !self.budget.try_withdraw() {
                return Err(UpstreamError::BudgetExhausted {
                    service: self.service,
                    endpoint: endpoint.to_owned(),
                    last: failure.to_string(),
                });
            }
            let delay = self.retry.delay_now(attempt, retry_after);
            tracing::debug!(service = %self.service, endpoint, attempt, ?delay, error = %failure, "retrying upstream call");
            tokio::time::sleep(delay).await;
        }
    }

    fn transport_error(&self, endpoint: &str, error: &reqwest::Error, attempts: u32) -> UpstreamError {
        // reqwest's Display includes the URL; strip it so query values never reach messages.
        let detail = error::bounded(&error.without_url_ref(), error::QUOTED_TEXT_CHARS);
        UpstreamError::Transport {
            service: self.service,
            endpoint: endpoint.to_owned(),
            detail,
            attempts,
        }
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text
                .replace(&format!(" for url ({url})"), "")
                .replace(url.as_str(), "<url>");
        }
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
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
fn request_id_of(headers: &HeaderMap) -> Option<String> {
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

    #[test]
    fn a_limited_client_sends_evenly_never_in_a_burst() {
        let client = UpstreamClient::new(
            Service::Graph,
            http_client(&[]).expect("an HTTP client"),
            Some(200),
            RetryPolicy::default(),
        );
        let limiter = client.limiter.as_ref().expect("a limiter");
        assert!(limiter.check().is_ok(), "one request at once");
        assert!(
            limiter.check().is_err(),
            "not a second one at the same instant: the next waits 1/200 s"
        );
        assert_eq!(client.requests_per_second(), Some(200));
    }

    #[test]
    fn a_huge_retry_after_is_read_as_a_day_not_a_panic() {
        // Found by the dialpad_parser fuzz target: a Retry-After of a hundred 6s overflowed
        // Duration::from_secs_f64; one of 1e19 seconds overflowed the throttle's pause instant.
        for text in ["6".repeat(100).as_str(), "1e19", "86401"] {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", text.parse().expect("a header value"));
            let wait = retry_after_of(&headers);
            assert_eq!(wait, Some(LONGEST_RETRY_AFTER), "{text}");
            throttle::Throttle::default().throttled(tokio::time::Instant::now(), wait);
        }
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "1.5".parse().expect("a header value"));
        assert_eq!(retry_after_of(&headers), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn a_client_without_a_rate_has_no_limiter() {
        let client = UpstreamClient::new(
            Service::Graph,
            http_client(&[]).expect("an HTTP client"),
            Some(0),
            RetryPolicy::default(),
        );
        assert!(client.limiter.is_none());
        assert_eq!(client.requests_per_second(), None);
    }
}
