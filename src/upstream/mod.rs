//! What every upstream client shares: one reqwest client with timeouts, a per-tenant rate limiter,
//! retries with backoff that honour `Retry-After`, a retry budget, and error classification.

pub mod allowed;
mod answer;
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

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use answer::request_id_of;
pub use answer::{Answer, LONGEST_RETRY_AFTER, TRUNCATED_BODY_RETRIES, read_json, retry_after_of};
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
