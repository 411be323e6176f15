//! Where an upstream client reports each HTTP attempt it makes: the process's metrics in the
//! operator, or nowhere. The client knows nothing of metrics; whoever builds it passes a
//! [`CallRecorder`] in.

use std::sync::Arc;

use super::error::Service;

/// How one upstream HTTP attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// No usable answer: connection refused or reset, timeout, TLS failure.
    Transport,
}

impl UpstreamOutcome {
    /// The outcome of a `send()`: the status of a response, else a transport error.
    pub fn of(result: &Result<reqwest::Response, reqwest::Error>) -> Self {
        match result {
            Ok(response) => UpstreamOutcome::Status(response.status().as_u16()),
            Err(_) => UpstreamOutcome::Transport,
        }
    }
}

/// Takes note of every upstream HTTP attempt.
pub trait CallRecorder: Send + Sync {
    /// One attempt to `endpoint` (a template such as `GET /v1.0/users`) of `service`.
    fn record_call(&self, service: Service, endpoint: &str, outcome: UpstreamOutcome);
}

/// Records nothing: for clients whose calls nobody counts (tests, one-off look-ups).
#[derive(Clone, Copy, Debug, Default)]
pub struct NotRecorded;

impl CallRecorder for NotRecorded {
    fn record_call(&self, _: Service, _: &str, _: UpstreamOutcome) {}
}

/// A shared recorder.
pub type SharedCallRecorder = Arc<dyn CallRecorder>;
