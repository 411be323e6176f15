//! The health and metrics HTTP server: `GET /healthz` (liveness), `GET /readyz` (readiness) and
//! `GET /metrics` (OpenMetrics text), for the kubelet's probes and Prometheus.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use super::metrics::{self, Metrics};

/// Whether the operator is ready to serve, shared between whoever decides it (the controller) and
/// `/readyz`. Cloning is cheap; every clone sees the same state. Starts not ready.
#[derive(Clone, Debug)]
pub struct Readiness {
    inner: Arc<ReadinessState>,
}

#[derive(Debug)]
struct ReadinessState {
    ready: AtomicBool,
    reason: Mutex<Cow<'static, str>>,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    /// A handle in the not-ready state, reason "starting".
    pub fn new() -> Self {
        Self {
            inner: Arc::new(ReadinessState {
                ready: AtomicBool::new(false),
                reason: Mutex::new(Cow::Borrowed("starting")),
            }),
        }
    }

    /// Marks the operator ready: `/readyz` answers 200.
    pub fn ready(&self) {
        self.inner.ready.store(true, Ordering::Release);
    }

    /// Marks the operator not ready: `/readyz` answers 503 "not ready".
    pub fn not_ready(&self) {
        self.not_ready_because("not ready");
    }

    /// Marks the operator not ready with a short reason that `/readyz` answers with (no secrets:
    /// it is served to anyone who can reach the port).
    pub fn not_ready_because(&self, reason: impl Into<Cow<'static, str>>) {
        *self.inner.reason.lock().unwrap_or_else(PoisonError::into_inner) = reason.into();
        self.inner.ready.store(false, Ordering::Release);
    }

    /// Whether the operator is marked ready.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    /// Why the operator is not ready, or `None` when it is.
    pub fn reason(&self) -> Option<String> {
        if self.is_ready() {
            return None;
        }
        Some(
            self.inner
                .reason
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .to_string(),
        )
    }
}

/// What the routes answer from: the readiness handle and the process's metrics.
#[derive(Clone)]
struct Served {
    readiness: Readiness,
    metrics: Arc<Metrics>,
}

/// The routes: `/healthz`, `/readyz` and `/metrics` (GET, and HEAD through axum); `/metrics`
/// encodes `metrics`.
pub fn router(readiness: Readiness, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(Served { readiness, metrics })
}

/// Binds `addr` (port 0 picks a free port) and returns the listener with the address it got.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), std::io::Error> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Binds `addr` and serves the routes until `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    readiness: Readiness,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), std::io::Error> {
    let (listener, _) = bind(addr).await?;
    serve_on(listener, readiness, metrics, shutdown).await
}

/// Serves the routes on an already bound listener (see [`bind`]) until `shutdown` completes;
/// requests in flight are finished first.
pub async fn serve_on(
    listener: TcpListener,
    readiness: Readiness,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), std::io::Error> {
    if let Ok(local) = listener.local_addr() {
        tracing::info!(address = %local, "serving /healthz, /readyz and /metrics");
    }
    axum::serve(listener, router(readiness, metrics))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(served): State<Served>) -> impl IntoResponse {
    match served.readiness.reason() {
        None => (StatusCode::OK, "ok".to_owned()),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

async fn metrics_text(State(served): State<Served>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        served.metrics.encode(),
    )
}
