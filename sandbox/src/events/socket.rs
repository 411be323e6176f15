//! `GET /events/{token}`: the WebSocket a client opens at a `websocket_url`.
//!
//! An unknown, foreign or expired token, or one whose websocket (or subscription) was deleted,
//! is refused before the upgrade with 401 and a Dialpad error body (UNCONFIRMED: Dialpad does not
//! say how its service refuses one). An open connection is closed with a normal close frame
//! (1000) after `behaviour.websocketConnectionLifetimeSeconds`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::hub::Outbound;
use crate::SandboxState;
use crate::errors::dialpad_error;

/// Checks the token, then upgrades.
pub async fn connect(
    State(state): State<Arc<SandboxState>>,
    Path(token): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let grant = match state.events.tokens.check(&token, now_ms) {
        Ok(grant) => grant,
        Err(error) => return dialpad_error(StatusCode::UNAUTHORIZED, &error.to_string()),
    };
    let Some((id, outbound)) = state.events.connect(&grant.websocket_id, grant.scope) else {
        return dialpad_error(
            StatusCode::UNAUTHORIZED,
            "The websocket token names a websocket or subscription that no longer exists.",
        );
    };
    let lifetime = Duration::from_secs(state.world().behaviour.websocket_connection_lifetime_seconds);
    let hub_state = state.clone();
    upgrade
        .on_failed_upgrade(move |_| hub_state.events.disconnect(id))
        .on_upgrade(move |socket| async move {
            serve(socket, outbound, lifetime).await;
            state.events.disconnect(id);
        })
        .into_response()
}

/// Sends what the hub queues until the lifetime ends, the client leaves, or the hub says stop.
async fn serve(mut socket: WebSocket, mut outbound: mpsc::UnboundedReceiver<Outbound>, lifetime: Duration) {
    let deadline = tokio::time::sleep(lifetime);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => {
                close(&mut socket, "connection lifetime reached").await;
                return;
            }
            next = outbound.recv() => match next {
                Some(Outbound::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Some(Outbound::Close) => {
                    close(&mut socket, "websocket deleted").await;
                    return;
                }
                // Dropping the socket ends the TCP connection without a close frame.
                Some(Outbound::Drop) | None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                // Pings are answered by the WebSocket layer; clients have nothing else to say.
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn close(socket: &mut WebSocket, reason: &'static str) {
    let frame = CloseFrame {
        code: close_code::NORMAL,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
