//! Dialpad's event delivery over WebSockets: the websocket and change-log subscription API
//! (`api`), the WebSocket a client opens at a `websocket_url` (`socket`), change-log entries made
//! when the sandbox's Dialpad company changes (`changes`) and test hooks (`hooks`).
//!
//! Facts, with their sources: vendor/dialpad-openapi.json (`/api/v2/websockets[/{id}]`,
//! `/api/v2/subscriptions/changelog[/{id}]`, their schemas and "Rate limit" lines: 250 per minute
//! to create a websocket, 1200 per minute for the rest; the change-log routes need the
//! `change_log` scope); developers.dialpad.com/docs/event-subscriptions-via-websocket (the URL's
//! token expires an hour after issue and `GET` on the websocket regenerates it; connections are
//! cut after an hour; a subscription's token reaches that subscription only);
//! developers.dialpad.com/docs/event-subscriptions (100 subscriptions per type per company, 10
//! targeting the company); developers.dialpad.com/docs/change-log-events (payload fields; with a
//! secret the payload is an HS256 JWT).
//!
//! Choices (all UNCONFIRMED upstream):
//! - `websocket_url` is the sandbox's public URL with `ws`/`wss` and the path `/events/<token>`;
//!   the token is a JWT shaped like Dialpad's example, signed with a key only the sandbox knows,
//!   valid `behaviour.websocketUrlLifetimeSeconds`. A bad, expired or orphaned token is refused
//!   with 401 before the upgrade.
//! - Connections are closed with a normal close frame (1000) after
//!   `behaviour.websocketConnectionLifetimeSeconds`, and when their websocket is deleted.
//! - Deleting a websocket deletes the subscriptions that deliver to it. A deleted subscription's
//!   connections stay open and receive nothing more.
//! - The 11th change-log subscription of a company is refused with 400; an `endpoint_id` that is
//!   not one of the company's websockets is 400; an unknown id in a path is 404; a key without
//!   `change_log` gets 403 on the change-log routes. There is no limit on websockets.
//! - Lists are one page (no `cursor`).
//! - Each enabled subscription delivers each entry once to each open connection on its
//!   websocket (a websocket with two subscriptions gets it twice). Entries made while nothing is
//!   connected are not kept for later: delivery is at most once.

pub mod api;
pub mod changes;
mod fields;
pub mod frame;
pub mod hooks;
pub mod hub;
pub mod registry;
pub mod socket;
pub mod token;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use hub::Hub;
pub use registry::Company;

use crate::SandboxState;

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route(
            "/api/v2/websockets",
            post(api::create_websocket).get(api::list_websockets),
        )
        .route(
            "/api/v2/websockets/{id}",
            get(api::get_websocket)
                .patch(api::update_websocket)
                .delete(api::delete_websocket),
        )
        .route(
            "/api/v2/subscriptions/changelog",
            post(api::create_subscription).get(api::list_subscriptions),
        )
        .route(
            "/api/v2/subscriptions/changelog/{id}",
            get(api::get_subscription)
                .patch(api::update_subscription)
                .delete(api::delete_subscription),
        )
        .route("/events/{token}", get(socket::connect))
        .route("/_sandbox/dialpad/changes", post(changes::change))
        .route("/_sandbox/websockets", get(hooks::list))
        .route("/_sandbox/websockets/emit", post(hooks::emit))
        .route("/_sandbox/websockets/drop", post(hooks::drop_all))
}
