//! Change events in the controller: a resource with `spec.source.dialpad.changeEvents.enabled`
//! joins its company's feed (see [`crate::events`]) before each sync, leaves it when the field is
//! turned off or the resource is deleted, and is woken when a batch of changes (or a gap in the
//! events) asks it to sync. The feed's state becomes the `ChangeEvents` condition.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;
use tokio::sync::mpsc::UnboundedSender;

use super::context::{Context, key_of};
use super::timing::sync_interval;
use crate::api::{DEFAULT_FULL_SYNC_INTERVAL, Reason, TeamsTenantSync};
use crate::connect::{AnySource, Connection};
use crate::events::{EventHub, FeedState};
use crate::sync::model::parse_duration;

/// What a scope's reconciles need of change events: the process's hub, and the scope's queue of
/// resources to reconcile.
#[derive(Clone)]
pub struct ChangeEvents {
    /// The feeds.
    pub hub: Arc<EventHub>,
    /// Where a woken resource is queued for a reconcile.
    pub wake: UnboundedSender<ObjectRef<TeamsTenantSync>>,
}

/// A resource's view of its feed, for its `ChangeEvents` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventsView {
    /// Change events are not enabled: no condition.
    Off,
    /// The feed's state.
    Feed(FeedState),
    /// It could not join (its company could not be read): the reason and message.
    NotJoined(Reason, String),
}

impl EventsView {
    /// Whether events arrive, so that the full sync may wait for `fullSyncInterval`.
    pub fn connected(&self) -> bool {
        matches!(self, EventsView::Feed(FeedState::Connected))
    }
}

/// Whether `resource` wants change events.
pub fn enabled(resource: &TeamsTenantSync) -> bool {
    resource
        .spec
        .source
        .dialpad
        .as_ref()
        .is_some_and(|dialpad| dialpad.change_events_enabled())
}

/// Joins `resource` to its company's feed and starts watching its tenant's users (see
/// [`super::teams_delta`]) when it wants change events, and leaves both when it does not; returns
/// its view. `versions` are the Secret versions it syncs with: a new API key or credential is a
/// new membership.
pub async fn join(
    ctx: &Context,
    resource: &TeamsTenantSync,
    connection: &Connection,
    versions: &BTreeMap<String, String>,
) -> EventsView {
    let Some(events) = ctx.events.as_ref() else {
        return EventsView::Off;
    };
    let key = key_of(resource);
    let (true, AnySource::Dialpad(source)) = (enabled(resource), &connection.source) else {
        leave(ctx, &key);
        return EventsView::Off;
    };
    let client = source.client.clone();
    let base = client.base().to_owned();
    let object = ObjectRef::from_obj(resource);
    let graph = connection.tenant.graph.clone();
    let graph_version = format!("{} {versions:?}", graph.base());
    let (hub, wake, woken) = (events.hub.clone(), events.wake.clone(), object.clone());
    let wanted = key.clone();
    ctx.teams_deltas.ensure(
        &key,
        &graph_version,
        graph,
        ctx.settings.teams_delta_interval,
        move |changed| {
            hub.want_teams_users(&wanted, changed);
            let _ = wake.send(woken.clone());
        },
    );
    // The Dialpad key's Secret version: a rotated admin password is no new membership.
    let dialpad_secret = resource
        .spec
        .source
        .dialpad
        .as_ref()
        .map(|dialpad| dialpad.api_key_secret_ref.name.as_str())
        .unwrap_or_default();
    let version = format!("{base} {:?}", versions.get(dialpad_secret));
    let wake = events.wake.clone();
    let joined = events
        .hub
        .join(&key, &version, &base, client, move || {
            // Fails only while the controller shuts down.
            let _ = wake.send(object.clone());
        })
        .await;
    match joined {
        Ok(()) => view(ctx, resource),
        Err(error) => EventsView::NotJoined(
            Reason::ChangeEventsUnavailable,
            format!("{error}; syncs run every spec.syncInterval meanwhile"),
        ),
    }
}

/// Takes `resource` (`namespace/name`) off its company's feed and stops watching its tenant.
pub fn leave(ctx: &Context, resource: &str) {
    if let Some(events) = &ctx.events {
        events.hub.leave(resource);
    }
    ctx.teams_deltas.stop(resource);
}

/// `resource`'s view of its feed as it stands: the Dialpad side's state, unless Teams changes
/// cannot be read, which makes it unavailable too (the full sync must not wait then).
pub fn view(ctx: &Context, resource: &TeamsTenantSync) -> EventsView {
    if !enabled(resource) {
        return EventsView::Off;
    }
    let key = key_of(resource);
    let state = ctx.events.as_ref().and_then(|events| events.hub.state(&key));
    match (state, ctx.teams_deltas.problem(&key)) {
        (Some(FeedState::Connected), Some(problem)) => EventsView::Feed(FeedState::Unavailable {
            reason: Reason::ChangeEventsUnavailable,
            message: format!(
                "Dialpad's change-log events arrive, but {problem}; syncs run every spec.syncInterval meanwhile"
            ),
        }),
        (Some(state), _) => EventsView::Feed(state),
        (None, _) => EventsView::Feed(FeedState::Connecting(
            "joining the company's change events".into(),
        )),
    }
}

/// The interval of the periodic full sync: `fullSyncInterval` (default a day) while events
/// arrive, `syncInterval` otherwise, so that nothing depends on an event arriving.
pub fn full_sync_interval(resource: &TeamsTenantSync, view: &EventsView) -> Duration {
    let interval = sync_interval(resource);
    if !view.connected() {
        return interval;
    }
    let full = resource
        .spec
        .full_sync_interval
        .as_deref()
        .unwrap_or(DEFAULT_FULL_SYNC_INTERVAL);
    parse_duration(full)
        .unwrap_or(Duration::from_secs(24 * 3600))
        .max(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::demo::demo_resource;

    fn with_events(full: Option<&str>) -> TeamsTenantSync {
        let mut resource = demo_resource();
        resource.spec.full_sync_interval = full.map(str::to_owned);
        resource
    }

    #[test]
    fn the_full_sync_waits_for_full_sync_interval_only_while_events_arrive() {
        let resource = with_events(Some("6h"));
        let connected = EventsView::Feed(FeedState::Connected);
        assert_eq!(
            full_sync_interval(&resource, &connected),
            Duration::from_secs(6 * 3600)
        );
        let dropped = EventsView::Feed(FeedState::Connecting("reconnecting".into()));
        assert_eq!(full_sync_interval(&resource, &dropped), sync_interval(&resource));
        assert_eq!(
            full_sync_interval(&resource, &EventsView::Off),
            sync_interval(&resource)
        );
        assert_eq!(
            full_sync_interval(&with_events(None), &connected),
            Duration::from_secs(24 * 3600),
            "defaults to a day"
        );
    }
}
