//! One company's event feed: the WebSocket endpoint and change-log subscription in Dialpad, the
//! connection to it, and the batches of changes it hands to the resources that share it.
//!
//! The loop: **set up** (the record from its store, the endpoint found again by id or made, the
//! subscription found again or made), **connect**, **read** until the connection ends, refreshing
//! it before Dialpad ends it ("The websocket connection will be disconnected after 1 hour",
//! https://developers.dialpad.com/docs/event-subscriptions-via-websocket): a new URL from
//! `GET /api/v2/websockets/{id}` ("use the GET websocket API to regenerate url rather than
//! creating new ones", vendor/dialpad-openapi.json), a new connection, and only then the old one
//! closed, so no event falls between them. Any other end is a gap: the resources sync in full
//! once the feed is connected again, since events in between are not delivered later (Dialpad
//! documents no replay). Failures are retried with backoff and reported as the feed's state.
//! When the last resource leaves, the subscription, endpoint and record are deleted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::watch;
use tokio::time::Instant;

use super::change_log::hint_of;
use super::coalesce::{ChangeBatch, Coalescer};
use super::signature::verify_frame;
use super::socket::{self, Read, Socket};
use super::store::{FeedRecord, FeedStore};
use crate::api::Reason;
use crate::dialpad::DialpadClient;
use crate::upstream::UpstreamError;

/// Timings of a feed.
#[derive(Clone, Debug)]
pub struct FeedTimings {
    /// How long a connection is kept before it is replaced (Dialpad ends it after an hour).
    pub refresh_after: Duration,
    /// The first wait after a failure; it doubles up to `longest_backoff`.
    pub first_backoff: Duration,
    /// The longest wait between attempts.
    pub longest_backoff: Duration,
    /// Coalescing: how long the stream must be quiet before a batch goes.
    pub quiet: Duration,
    /// Coalescing: the longest a batch waits.
    pub longest_wait: Duration,
}

impl Default for FeedTimings {
    fn default() -> Self {
        Self {
            refresh_after: Duration::from_secs(50 * 60),
            first_backoff: Duration::from_secs(1),
            longest_backoff: Duration::from_secs(300),
            quiet: super::coalesce::QUIET,
            longest_wait: super::coalesce::LONGEST_WAIT,
        }
    }
}

/// How a feed stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedState {
    /// Setting up or connecting; the message says what it waits for.
    Connecting(String),
    /// Events arrive.
    Connected,
    /// Events cannot be received now; retried with backoff.
    Unavailable {
        /// `ChangeLogScopeMissing` or `ChangeEventsUnavailable`.
        reason: Reason,
        /// Why, and the fix.
        message: String,
    },
}

/// Why a resource is told to look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Changes arrived: sync.
    Changes(ChangeBatch),
    /// The feed was not connected for a while and events may have been missed: sync in full.
    Gap,
    /// Only the feed's state changed: refresh the condition.
    State,
}

/// How a resource is told.
pub type Waker = Arc<dyn Fn(&Wake) + Send + Sync>;

/// A resource that shares the feed.
#[derive(Clone)]
pub struct Subscriber {
    /// Its Dialpad client (its own API key, for its own allowed endpoint).
    pub client: DialpadClient,
    /// How to tell it.
    pub waker: Waker,
}

/// The resources sharing a feed, by `namespace/name`.
pub type Subscribers = Arc<Mutex<BTreeMap<String, Subscriber>>>;

fn wake_all(subscribers: &Subscribers, wake: &Wake) {
    let wakers: Vec<Waker> = subscribers
        .lock()
        .expect("subscribers lock")
        .values()
        .map(|s| s.waker.clone())
        .collect();
    for waker in wakers {
        waker(wake);
    }
}

/// The client calls go through: the first subscriber's (any of them holds a key of the company).
fn a_client(subscribers: &Subscribers) -> Option<DialpadClient> {
    subscribers
        .lock()
        .expect("subscribers lock")
        .values()
        .next()
        .map(|s| s.client.clone())
}

/// Everything one feed task needs.
pub struct Feed<S> {
    /// `Dialpad company <id>`, for logs.
    pub name: String,
    /// Where its record lives.
    pub store: S,
    /// Who shares it.
    pub subscribers: Subscribers,
    /// Its state, for the resources' conditions.
    pub state: watch::Sender<FeedState>,
    /// Trust for `wss://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Its timings.
    pub timings: FeedTimings,
}

/// A problem setting up, with the state it puts the feed in.
struct SetupProblem {
    reason: Reason,
    message: String,
}

impl SetupProblem {
    fn unavailable(message: String) -> Self {
        Self {
            reason: Reason::ChangeEventsUnavailable,
            message,
        }
    }
}

impl<S: FeedStore> Feed<S> {
    /// Runs until `retired` turns true, then deletes what it made in Dialpad and its record.
    pub async fn run(self, mut retired: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        let mut connected_before = false;
        let mut last_client = None;
        loop {
            if *retired.borrow() {
                break;
            }
            let Some(client) = a_client(&self.subscribers) else {
                break;
            };
            last_client = Some(client.clone());
            let attempt = async {
                let (record, url) = self.set_up(&client).await?;
                let socket = socket::open(&url, self.tls.clone())
                    .await
                    .map_err(|e| SetupProblem::unavailable(format!("{e}; retrying")))?;
                Ok::<_, SetupProblem>((record, socket))
            };
            let outcome = tokio::select! {
                outcome = attempt => outcome,
                () = until_retired(&mut retired) => break,
            };
            match outcome {
                Ok((record, socket)) => {
                    failures = 0;
                    self.set_state(FeedState::Connected);
                    tracing::info!(feed = %self.name, "change events connected");
                    // Events sent while no connection was open are not delivered later.
                    wake_all(
                        &self.subscribers,
                        if connected_before {
                            &Wake::Gap
                        } else {
                            &Wake::State
                        },
                    );
                    connected_before = true;
                    let ended = self.read(&client, &record, socket, &mut retired).await;
                    if *retired.borrow() {
                        break;
                    }
                    tracing::info!(feed = %self.name, why = %ended, "change events disconnected; reconnecting");
                    self.set_state(FeedState::Connecting(format!("reconnecting: {ended}")));
                    wake_all(&self.subscribers, &Wake::State);
                }
                Err(problem) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(feed = %self.name, reason = %problem.reason, "change events unavailable: {}", problem.message);
                    self.set_state(FeedState::Unavailable {
                        reason: problem.reason,
                        message: problem.message,
                    });
                    wake_all(&self.subscribers, &Wake::State);
                }
            }
            let wait = self.backoff(failures);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = until_retired(&mut retired) => break,
            }
        }
        if let Some(client) = last_client {
            self.tear_down(&client).await;
        }
    }

    fn set_state(&self, state: FeedState) {
        self.state.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
    }

    /// The wait before attempt `failures + 1`: a short one after a dropped connection, doubling
    /// with each failure in a row, with up to 10% jitter.
    fn backoff(&self, failures: u32) -> Duration {
        let base = self
            .timings
            .first_backoff
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(self.timings.longest_backoff);
        base.mul_f64(1.0 + rand::random::<f64>() * 0.1)
    }

    /// The record (made and saved first when there is none), the endpoint (found again by its
    /// id, or made), the subscription (likewise), and a fresh URL.
    async fn set_up(&self, client: &DialpadClient) -> Result<(FeedRecord, String), SetupProblem> {
        let stored = self
            .store
            .load()
            .await
            .map_err(|e| SetupProblem::unavailable(e.to_string()))?;
        let mut record = match stored {
            Some(record) => record,
            None => {
                let record = FeedRecord::generate();
                // Kept before Dialpad learns it, so that a restart finds what it made.
                self.save(&record).await?;
                record
            }
        };
        let found = match &record.websocket_id {
            Some(id) => match client.get_websocket(id).await {
                Ok(endpoint) => Some(endpoint),
                Err(e) if e.status() == Some(404) => None,
                Err(e) => return Err(called("read the WebSocket endpoint", &e)),
            },
            None => None,
        };
        let endpoint = match found {
            Some(endpoint) => endpoint,
            None => {
                let made = client
                    .create_websocket(&record.secret)
                    .await
                    .map_err(|e| called("create the WebSocket endpoint", &e))?;
                record.websocket_id = made.id.clone();
                // A subscription of an endpoint that is gone is no use.
                record.subscription_id = None;
                self.save(&record).await?;
                made
            }
        };
        let Some(endpoint_id) = endpoint.id.clone() else {
            return Err(SetupProblem::unavailable(
                "Dialpad's answer about the WebSocket endpoint has no id; retrying".into(),
            ));
        };
        let subscribed = match &record.subscription_id {
            Some(id) => match client.get_changelog_subscription(id).await {
                Ok(_) => true,
                Err(e) if e.status() == Some(404) => false,
                Err(e) => return Err(called("read the change-log subscription", &e)),
            },
            None => false,
        };
        if !subscribed {
            let made = client
                .create_changelog_subscription(&endpoint_id)
                .await
                .map_err(|e| match e.status() {
                    Some(401 | 403) => SetupProblem {
                        reason: Reason::ChangeLogScopeMissing,
                        message: format!(
                            "Dialpad refused the change-log subscription (HTTP {}): the API key needs the change_log scope and a company admin; syncs run every spec.syncInterval meanwhile",
                            e.status().unwrap_or_default()
                        ),
                    },
                    _ => called("create the change-log subscription", &e),
                })?;
            record.subscription_id = made.id;
            self.save(&record).await?;
        }
        let url = match endpoint.websocket_url.filter(|url| !url.is_empty()) {
            // A URL read moments ago is fresh; one from a create is too.
            Some(url) => url,
            None => client
                .get_websocket(&endpoint_id)
                .await
                .map_err(|e| called("read the WebSocket endpoint", &e))?
                .websocket_url
                .ok_or_else(|| SetupProblem::unavailable("Dialpad gave no WebSocket URL; retrying".into()))?,
        };
        Ok((record, url))
    }

    async fn save(&self, record: &FeedRecord) -> Result<(), SetupProblem> {
        self.store
            .save(record)
            .await
            .map_err(|e| SetupProblem::unavailable(e.to_string()))
    }

    /// Reads `socket` until it ends or the feed is retired, refreshing it before Dialpad ends
    /// it, and hands out batches as they are due. Returns why it ended.
    async fn read(
        &self,
        client: &DialpadClient,
        record: &FeedRecord,
        mut socket: Socket,
        retired: &mut watch::Receiver<bool>,
    ) -> String {
        let mut coalescer = Coalescer::new(self.timings.quiet, self.timings.longest_wait);
        let mut refresh_at = Instant::now() + self.timings.refresh_after;
        let mut refused: u64 = 0;
        let far = Duration::from_secs(24 * 3600);
        loop {
            let batch_at = coalescer.due_at().unwrap_or_else(|| Instant::now() + far);
            tokio::select! {
                read = socket::next_frame(&mut socket) => match read {
                    Read::Frame(frame) => self.take_frame(&frame, &record.secret, &mut coalescer, &mut refused),
                    Read::Unreadable => refused += 1,
                    Read::Ended(why) => {
                        self.hand_out(coalescer.take_due(Instant::now() + far));
                        return why;
                    }
                },
                () = tokio::time::sleep_until(batch_at) => self.hand_out(coalescer.take_due(Instant::now())),
                () = tokio::time::sleep_until(refresh_at) => {
                    match self.refreshed(client, record).await {
                        Ok(fresh) => {
                            let old = std::mem::replace(&mut socket, fresh);
                            self.drain(old, &record.secret, &mut coalescer, &mut refused).await;
                            refresh_at = Instant::now() + self.timings.refresh_after;
                            tracing::debug!(feed = %self.name, "change events connection renewed");
                        }
                        Err(why) => {
                            // The old connection reads on until it ends; tried again soon.
                            tracing::warn!(feed = %self.name, "cannot renew the change events connection yet: {why}");
                            refresh_at = Instant::now() + self.timings.first_backoff.max(Duration::from_secs(30)).min(self.timings.refresh_after);
                        }
                    }
                },
                () = until_retired(retired) => return "the last resource left".into(),
            }
            if refused > 0 && refused.is_power_of_two() {
                tracing::warn!(feed = %self.name, refused, "frames on the change events connection were not signed with its secret and were ignored");
            }
        }
    }

    fn take_frame(&self, frame: &str, secret: &SecretString, coalescer: &mut Coalescer, refused: &mut u64) {
        match verify_frame(frame, secret) {
            Ok(event) => coalescer.add(hint_of(&event), Instant::now()),
            Err(why) => {
                *refused += 1;
                tracing::debug!(feed = %self.name, %why, "change event ignored");
            }
        }
    }

    fn hand_out(&self, batch: Option<ChangeBatch>) {
        if let Some(batch) = batch {
            tracing::debug!(feed = %self.name, events = batch.events, users = batch.users.len(), everyone = batch.everyone, "changes in Dialpad");
            wake_all(&self.subscribers, &Wake::Changes(batch));
        }
    }

    /// A new connection, from a newly issued URL.
    async fn refreshed(&self, client: &DialpadClient, record: &FeedRecord) -> Result<Socket, String> {
        let id = record.websocket_id.as_deref().ok_or("no endpoint id")?;
        let url = client
            .get_websocket(id)
            .await
            .map_err(|e| e.to_string())?
            .websocket_url
            .ok_or("Dialpad gave no WebSocket URL")?;
        socket::open(&url, self.tls.clone())
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads what `old` still holds for a moment, then closes it.
    async fn drain(
        &self,
        mut old: Socket,
        secret: &SecretString,
        coalescer: &mut Coalescer,
        refused: &mut u64,
    ) {
        let until = Instant::now() + Duration::from_millis(500);
        while let Ok(read) = tokio::time::timeout_at(until, socket::next_frame(&mut old)).await {
            match read {
                Read::Frame(frame) => self.take_frame(&frame, secret, coalescer, refused),
                Read::Unreadable => {}
                Read::Ended(_) => return,
            }
        }
        let _ = old.close(None).await;
    }

    /// Deletes the subscription, the endpoint and the record; what fails is logged (the next
    /// feed of the company finds the record again and reuses what is left).
    async fn tear_down(&self, client: &DialpadClient) {
        let record = match self.store.load().await {
            Ok(Some(record)) => record,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(feed = %self.name, "cannot read what to delete: {e}");
                return;
            }
        };
        if let Some(id) = &record.subscription_id
            && let Err(e) = client.delete_changelog_subscription(id).await
            && e.status() != Some(404)
        {
            tracing::warn!(feed = %self.name, "cannot delete the change-log subscription; it stays in Dialpad: {e}");
            return;
        }
        if let Some(id) = &record.websocket_id
            && let Err(e) = client.delete_websocket(id).await
            && e.status() != Some(404)
        {
            tracing::warn!(feed = %self.name, "cannot delete the WebSocket endpoint; it stays in Dialpad: {e}");
            return;
        }
        match self.store.delete().await {
            Ok(()) => {
                tracing::info!(feed = %self.name, "change events stopped; subscription and endpoint deleted in Dialpad")
            }
            Err(e) => tracing::warn!(feed = %self.name, "{e}"),
        }
    }
}

/// Resolves once the feed is retired (or its hub is gone).
async fn until_retired(retired: &mut watch::Receiver<bool>) {
    let _ = retired.wait_for(|r| *r).await.map(drop);
}

fn called(what: &str, error: &UpstreamError) -> SetupProblem {
    SetupProblem::unavailable(format!("cannot {what}: {error}; retrying"))
}
