//! The event hub: the registry, the open connections and delivery to them. Connections hold an
//! unbounded channel each; delivering is a non-blocking send under the hub's lock, so nothing is
//! awaited while it is held.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::frame::frame_text;
use super::registry::{Company, Registry};
use super::token::{Scope, TokenKey};

/// What a connection task is told to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// Send this text frame.
    Text(String),
    /// Send a normal close frame and end.
    Close,
    /// End without a close frame, as a network drop would.
    Drop,
}

/// One open connection.
#[derive(Debug)]
struct Connection {
    company: Company,
    websocket_id: String,
    scope: Scope,
    frames: u64,
    sender: mpsc::UnboundedSender<Outbound>,
}

/// An open connection, for `GET /_sandbox/websockets`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// The sandbox's number for it.
    pub id: u64,
    /// Whose it is.
    pub company: Company,
    /// The websocket it was opened on.
    pub websocket_id: String,
    /// The subscription its token was limited to, if any.
    pub subscription_id: Option<String>,
    /// Frames sent to it so far.
    pub frames_sent: u64,
}

/// The most change-log entries kept for introspection; older ones are forgotten.
const CHANGE_LOG_KEPT: usize = 10_000;

#[derive(Debug, Default)]
struct HubState {
    registry: Registry,
    connections: BTreeMap<u64, Connection>,
    next_connection: u64,
    frames_sent: u64,
    change_log: Vec<Value>,
}

/// Websockets, subscriptions and open connections of both companies.
#[derive(Default)]
pub struct Hub {
    state: Mutex<HubState>,
    /// Signs and checks the tokens in `websocket_url`s.
    pub tokens: TokenKey,
}

impl Hub {
    /// Runs `f` on the registry.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.state.lock().expect("event hub lock").registry)
    }

    /// Registers a connection to `websocket_id` if the websocket (and the scope's subscription)
    /// still exists: its number and the channel its task reads.
    pub fn connect(
        &self,
        websocket_id: &str,
        scope: Scope,
    ) -> Option<(u64, mpsc::UnboundedReceiver<Outbound>)> {
        let mut state = self.state.lock().expect("event hub lock");
        let company = state.registry.websocket_by_id(websocket_id)?.company;
        if let Scope::Subscription(id) = &scope {
            let subscription = state.registry.subscription(company, id).ok()?;
            if subscription.websocket_id != websocket_id {
                return None;
            }
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        state.next_connection += 1;
        let id = state.next_connection;
        state.connections.insert(
            id,
            Connection {
                company,
                websocket_id: websocket_id.to_owned(),
                scope,
                frames: 0,
                sender,
            },
        );
        Some((id, receiver))
    }

    /// Forgets connection `id` (its task has ended).
    pub fn disconnect(&self, id: u64) {
        self.state.lock().expect("event hub lock").connections.remove(&id);
    }

    /// Records `entry` in `company`'s change log and sends it to every open connection of every
    /// enabled subscription's websocket, once per subscription the connection may receive:
    /// signed with the websocket's secret, or plain JSON without one. The frames queued.
    pub fn publish_change(&self, company: Company, entry: Value) -> u64 {
        let mut state = self.state.lock().expect("event hub lock");
        let state = &mut *state;
        let mut sent = 0;
        for subscription in state.registry.subscriptions_of(company).filter(|s| s.enabled) {
            let Ok(websocket) = state.registry.websocket(company, &subscription.websocket_id) else {
                continue;
            };
            let text = frame_text(&entry, websocket.secret.as_deref());
            for connection in state.connections.values_mut().filter(|c| {
                c.websocket_id == websocket.id
                    && match &c.scope {
                        Scope::Websocket => true,
                        Scope::Subscription(id) => *id == subscription.id,
                    }
            }) {
                if connection.sender.send(Outbound::Text(text.clone())).is_ok() {
                    connection.frames += 1;
                    sent += 1;
                }
            }
        }
        state.frames_sent += sent;
        if state.change_log.len() == CHANGE_LOG_KEPT {
            state.change_log.remove(0);
        }
        state.change_log.push(entry);
        sent
    }

    /// Sends `text(secret of the connection's websocket)` `count` times to every open connection
    /// of `company`: the frames queued.
    pub fn emit(&self, company: Company, count: u64, text: impl Fn(Option<&str>) -> String) -> u64 {
        let mut state = self.state.lock().expect("event hub lock");
        let state = &mut *state;
        let mut sent = 0;
        for connection in state.connections.values_mut().filter(|c| c.company == company) {
            let secret = state
                .registry
                .websocket(company, &connection.websocket_id)
                .ok()
                .and_then(|w| w.secret.as_deref());
            let frame = text(secret);
            for _ in 0..count {
                if connection.sender.send(Outbound::Text(frame.clone())).is_ok() {
                    connection.frames += 1;
                    sent += 1;
                }
            }
        }
        state.frames_sent += sent;
        sent
    }

    /// Tells every connection to `websocket_id` (or every connection, with `None`) to end with
    /// `how`: the connections told.
    pub fn end_connections(&self, websocket_id: Option<&str>, how: Outbound) -> u64 {
        let state = self.state.lock().expect("event hub lock");
        state
            .connections
            .values()
            .filter(|c| websocket_id.is_none_or(|id| c.websocket_id == id))
            .filter(|c| c.sender.send(how.clone()).is_ok())
            .count() as u64
    }

    /// Everything, for `GET /_sandbox/websockets` (secrets included: it is a test hook).
    pub fn view(&self) -> Value {
        let state = self.state.lock().expect("event hub lock");
        let connections: Vec<ConnectionView> = state
            .connections
            .iter()
            .map(|(id, c)| ConnectionView {
                id: *id,
                company: c.company,
                websocket_id: c.websocket_id.clone(),
                subscription_id: match &c.scope {
                    Scope::Websocket => None,
                    Scope::Subscription(id) => Some(id.clone()),
                },
                frames_sent: c.frames,
            })
            .collect();
        serde_json::json!({
            "websockets": state.registry.websockets(),
            "subscriptions": state.registry.subscriptions(),
            "connections": connections,
            "framesSent": state.frames_sent,
            "changeLog": state.change_log,
        })
    }
}
