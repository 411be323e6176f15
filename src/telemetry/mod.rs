//! What the operator tells the outside about itself: logs, Prometheus metrics and the health
//! endpoints.
//!
//! - [`logging`]: `tracing` to stderr as text or JSON, filtered by `RUST_LOG`
//!   (default `info,kube=warn`).
//! - [`metrics`]: the counters, gauges and histograms (`dialpad_teams_*`) the controller and the
//!   upstream clients record into (one [`Metrics`] passed to each), encoded as OpenMetrics text.
//! - [`server`]: `GET /healthz`, `GET /readyz` and `GET /metrics` over HTTP, with a [`Readiness`]
//!   handle the controller flips.
//!
//! Metric labels name resources, reasons, services and endpoint templates only; secrets, user
//! emails, phone numbers and query strings never become label values.

pub mod logging;
pub mod metrics;
pub mod server;

pub use logging::LogFormat;
pub use metrics::Metrics;
pub use server::{Readiness, bind, serve, serve_on};
