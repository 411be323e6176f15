//! The operator's event feeds, one per Dialpad company (and API endpoint), shared by every
//! resource of that company whatever its namespace, and which resource is on which.
//!
//! A resource joins with its own Dialpad client, whose company is read with its own key: a
//! resource can only join the feed of a company whose key it holds, so sharing a feed gives
//! nothing away (a wake only makes a resource sync, which it may do anyway). A feed's calls use
//! the key of one of its resources, at that resource's endpoint, which the allow-list passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::feed::{Feed, FeedState, FeedTimings, Subscriber, Subscribers, Waker};
use super::store::SecretFeedStore;
use super::wanted::Wanted;
use crate::dialpad::DialpadClient;
use crate::upstream::UpstreamError;

/// A feed's identity: the Dialpad endpoint and the company id.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct FeedKey {
    base: String,
    company: String,
}

struct RunningFeed {
    subscribers: Subscribers,
    state: watch::Receiver<FeedState>,
    retire: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Membership {
    feed: FeedKey,
    version: String,
}

/// Why a resource could not join.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The key's company could not be read.
    #[error("cannot read the company of the Dialpad API key: {0}")]
    Company(#[source] UpstreamError),
    /// Dialpad did not say which company the key is of.
    #[error("Dialpad did not give the API key's company id")]
    NoCompanyId,
}

/// Every feed of the process.
pub struct EventHub {
    kube: kube::Client,
    namespace: String,
    manager: &'static str,
    tls: Option<Arc<rustls::ClientConfig>>,
    timings: FeedTimings,
    feeds: Mutex<HashMap<FeedKey, RunningFeed>>,
    members: Mutex<HashMap<String, Membership>>,
    /// Feeds that are deleting what they made; a new feed of the company waits for them.
    retiring: Mutex<HashMap<FeedKey, JoinHandle<()>>>,
    /// What changes (or a gap) asked each resource to sync.
    wanted: Mutex<HashMap<String, Wanted>>,
}

impl EventHub {
    /// A hub whose feeds keep their records in `namespace` (the operator's), written as field
    /// manager `manager`, and trust `tls` for `wss://` (the platform's roots when `None`).
    pub fn new(
        kube: kube::Client,
        namespace: &str,
        manager: &'static str,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Self {
        Self::with_timings(kube, namespace, manager, tls, FeedTimings::default())
    }

    /// [`new`](Self::new) with other timings (tests).
    pub fn with_timings(
        kube: kube::Client,
        namespace: &str,
        manager: &'static str,
        tls: Option<Arc<rustls::ClientConfig>>,
        timings: FeedTimings,
    ) -> Self {
        Self {
            kube,
            namespace: namespace.to_owned(),
            manager,
            tls,
            timings,
            feeds: Mutex::default(),
            members: Mutex::default(),
            retiring: Mutex::default(),
            wanted: Mutex::default(),
        }
    }

    /// Puts `resource` (`namespace/name`) on the feed of its Dialpad company at `base`, read with
    /// `client`; `version` names the key it holds, so a resource already on with the same key
    /// costs nothing, and a new key of the same company only replaces the client the feed may
    /// use (the feed itself stays). `wake` is how it is told of changes; it is also marked as wanting a sync
    /// (see [`take_wanted`](Self::take_wanted)).
    pub async fn join(
        self: &Arc<Self>,
        resource: &str,
        version: &str,
        base: &str,
        client: DialpadClient,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<(), JoinError> {
        if self
            .members
            .lock()
            .expect("members lock")
            .get(resource)
            .is_some_and(|m| m.version == version)
        {
            return Ok(());
        }
        let company = client.company().await.map_err(JoinError::Company)?;
        let company = company
            .id
            .filter(|id| !id.trim().is_empty())
            .ok_or(JoinError::NoCompanyId)?;
        let key = FeedKey {
            base: base.trim_end_matches('/').to_owned(),
            company: company.trim().to_owned(),
        };
        let hub = Arc::downgrade(self);
        let name = resource.to_owned();
        let waker: Waker = Arc::new(move |why| {
            if let Some(hub) = hub.upgrade()
                && !matches!(why, super::feed::Wake::State)
            {
                let mut wanted = hub.wanted.lock().expect("wanted lock");
                wanted.entry(name.clone()).or_default().add_wake(why);
            }
            wake();
        });
        let subscriber = Subscriber { client, waker };
        let same_feed = self
            .members
            .lock()
            .expect("members lock")
            .get(resource)
            .is_some_and(|m| m.feed == key);
        if !same_feed {
            // Another company or endpoint: off the old feed first.
            self.leave(resource);
        }
        let mut feeds = self.feeds.lock().expect("feeds lock");
        let feed = feeds.entry(key.clone()).or_insert_with(|| self.start(&key));
        feed.subscribers
            .lock()
            .expect("subscribers lock")
            .insert(resource.to_owned(), subscriber);
        self.members.lock().expect("members lock").insert(
            resource.to_owned(),
            Membership {
                feed: key,
                version: version.to_owned(),
            },
        );
        Ok(())
    }

    fn start(&self, key: &FeedKey) -> RunningFeed {
        let subscribers = Subscribers::default();
        let (state_tx, state) =
            watch::channel(FeedState::Connecting("setting up the WebSocket endpoint".into()));
        let (retire, retired) = watch::channel(false);
        let feed = Feed {
            name: format!("Dialpad company {} at {}", key.company, key.base),
            store: SecretFeedStore::new(
                self.kube.clone(),
                &self.namespace,
                &key.base,
                &key.company,
                self.manager,
            ),
            subscribers: subscribers.clone(),
            state: state_tx,
            tls: self.tls.clone(),
            timings: self.timings.clone(),
        };
        let before = self.retiring.lock().expect("retiring lock").remove(key);
        let task = tokio::spawn(async move {
            if let Some(before) = before {
                let _ = before.await;
            }
            feed.run(retired).await;
        });
        RunningFeed {
            subscribers,
            state,
            retire,
            task,
        }
    }

    /// Takes `resource` off its feed; the last one off retires the feed, which deletes what it
    /// made in Dialpad.
    pub fn leave(&self, resource: &str) {
        let Some(membership) = self.members.lock().expect("members lock").remove(resource) else {
            return;
        };
        self.wanted.lock().expect("wanted lock").remove(resource);
        let mut feeds = self.feeds.lock().expect("feeds lock");
        let Some(feed) = feeds.get(&membership.feed) else {
            return;
        };
        let empty = {
            let mut subscribers = feed.subscribers.lock().expect("subscribers lock");
            subscribers.remove(resource);
            subscribers.is_empty()
        };
        if empty && let Some(feed) = feeds.remove(&membership.feed) {
            let _ = feed.retire.send(true);
            self.retiring
                .lock()
                .expect("retiring lock")
                .insert(membership.feed, feed.task);
        }
    }

    /// The state of `resource`'s feed; `None` when it is on none.
    pub fn state(&self, resource: &str) -> Option<FeedState> {
        let members = self.members.lock().expect("members lock");
        let key = &members.get(resource)?.feed;
        let feeds = self.feeds.lock().expect("feeds lock");
        Some(feeds.get(key)?.state.borrow().clone())
    }

    /// Marks `resource` as wanting a sync of the Teams users `changed` (a change seen in
    /// Microsoft 365; `None`: the changes could not be told, so everyone).
    pub fn want_teams_users(&self, resource: &str, changed: Option<&[String]>) {
        let mut wanted = self.wanted.lock().expect("wanted lock");
        wanted
            .entry(resource.to_owned())
            .or_default()
            .add_teams_users(changed);
    }

    /// What changes asked `resource` to sync since the last call; clears it.
    pub fn take_wanted(&self, resource: &str) -> Option<Wanted> {
        self.wanted.lock().expect("wanted lock").remove(resource)
    }

    /// Whether changes asked `resource` to sync, without clearing it.
    pub fn is_wanted(&self, resource: &str) -> bool {
        self.wanted.lock().expect("wanted lock").contains_key(resource)
    }

    /// Waits (at most `grace`) for retiring feeds to delete what they made, at shutdown. Feeds of
    /// resources still present stay in Dialpad for the next leader, which finds them again: only
    /// their connections close, with the process.
    pub async fn shut_down(&self, grace: std::time::Duration) {
        let retiring: Vec<JoinHandle<()>> = self
            .retiring
            .lock()
            .expect("retiring lock")
            .drain()
            .map(|(_, task)| task)
            .collect();
        let _ = tokio::time::timeout(grace, futures::future::join_all(retiring)).await;
    }
}
