//! `POST /_sandbox/directory/changes`: the directory changes as an Entra admin would change it
//! (a new user, a Teams Phone licence removed, sign-in blocked, a user deleted), so that tests and
//! benchmarks in other processes can make `users/delta` report something.
//!
//! The body is one [`DirectoryChange`] as JSON; the answer is 200 `{"id": <object id>}`, 404 with
//! a plain-text message when no user has the UPN, or 400 with a plain-text message for a body
//! that is not a change or a change the directory refuses. Not counted in the traffic counters:
//! it is the sandbox's own route, not an upstream's.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::SandboxState;
use crate::world::DirectoryChange;

/// This module's route.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new().route("/_sandbox/directory/changes", post(change_directory))
}

async fn change_directory(State(state): State<Arc<SandboxState>>, body: Bytes) -> Response {
    let change: DirectoryChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("the body is not a directory change: {error}"),
            )
                .into_response();
        }
    };
    let outcome = state.world().apply_directory_change(&change);
    match outcome {
        Ok(id) => (StatusCode::OK, axum::Json(json!({ "id": id }))).into_response(),
        Err(error) if error.is_not_found() => (StatusCode::NOT_FOUND, error.to_string()).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}
