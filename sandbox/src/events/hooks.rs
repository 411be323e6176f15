//! Test hooks: `POST /_sandbox/websockets/emit` pushes frames to a company's open connections,
//! `POST /_sandbox/websockets/drop` cuts every connection without a close frame, and
//! `GET /_sandbox/websockets` shows websockets (secrets included: the sandbox holds no real
//! secret), subscriptions, open connections, frames sent and the change log.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::frame::frame_text;
use super::hub::Outbound;
use super::registry::Company;
use crate::SandboxState;

/// The body of `emit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Emit {
    /// The event, signed with each connection's websocket secret (plain without one).
    #[serde(default)]
    payload: Value,
    /// Sign with this secret instead (a wrong one makes a bad signature).
    secret: Option<String>,
    /// Send this text as it is instead of an event.
    raw: Option<String>,
    /// Frames per connection (a flood); one by default.
    count: Option<u64>,
    /// `org` (default) or `other`.
    company: Option<Company>,
}

/// `POST /_sandbox/websockets/emit`: `{"frames": N}`.
pub async fn emit(State(state): State<Arc<SandboxState>>, body: Bytes) -> Response {
    let emit: Emit = match serde_json::from_slice(&body) {
        Ok(emit) => emit,
        Err(error) => {
            return (StatusCode::BAD_REQUEST, format!("not an emit request: {error}")).into_response();
        }
    };
    let company = emit.company.unwrap_or(Company::Org);
    let frames = state.events.emit(company, emit.count.unwrap_or(1), |own_secret| {
        match (&emit.raw, &emit.secret) {
            (Some(raw), _) => raw.clone(),
            (None, Some(secret)) => frame_text(&emit.payload, Some(secret)),
            (None, None) => frame_text(&emit.payload, own_secret),
        }
    });
    Json(json!({"frames": frames})).into_response()
}

/// `POST /_sandbox/websockets/drop`: `{"dropped": N}`.
pub async fn drop_all(State(state): State<Arc<SandboxState>>) -> Response {
    let dropped = state.events.end_connections(None, Outbound::Drop);
    Json(json!({"dropped": dropped})).into_response()
}

/// `GET /_sandbox/websockets`.
pub async fn list(State(state): State<Arc<SandboxState>>) -> Response {
    Json(state.events.view()).into_response()
}
