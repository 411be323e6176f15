//! What the operator tells the outside about itself: logs, Prometheus metrics and the health
//! endpoints.
//!
//! - [`logging`]: `tracing` to stderr as text or JSON, filtered by `RUST_LOG`
//!   (default `info,kube=warn`).
//! - [`metrics`]: process-wide counters, gauges and histograms (`dialpad_teams_*`) recorded by the
//!   controller and the upstream clients, encoded as OpenMetrics text.
//! - [`server`]: `GET /healthz`, `GET /readyz` and `GET /metrics` over HTTP, with a [`Readiness`]
//!   handle the controller flips.
//!
//! Metric labels name resources, reasons, services and endpoint templates only; secrets, user
//! emails, phone numbers and query strings never become label values.

pub mod logging;
pub mod metrics;
pub mod server;

pub use logging::LogFormat;
pub use metrics::{Metrics, UpstreamOutcome};
pub use server::{Readiness, bind, serve, serve_on};
