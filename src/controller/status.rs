//! Every status the controller writes is built and written here: a resource held back
//! (suspended, invalid, refused: [`held_status`]), a sync stopped before any call
//! ([`setup_failure_status`]), a first sync and a long one in progress ([`first_sync_status`],
//! [`progress_status`]); a completed sync's status comes from [`crate::sync::report`]. Every write
//! is one server-side apply with one field manager; [`write`] also publishes the conditions as
//! metrics.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Api;
use kube::Resource;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::fmt::Debug;

use super::change_events::EventsView;
use super::context::MANAGER;
use crate::api::conditions::{
    ADMIN_CONNECTED, CHANGE_EVENTS, ConditionUpdate, READY, RECONCILING, SOURCE_CONNECTED, STALLED,
    set_condition,
};
use crate::api::{Reason, TeamsTenantSync, TeamsTenantSyncStatus};
use crate::connect::setup::{SETUP_REASONS, SetupFailure, SetupProblem};
use crate::events::FeedState;
use crate::sync::report;
use crate::telemetry::Metrics;

/// Applies `status` to the status subresource of `namespace/name` (server-side apply, forced, as
/// [`MANAGER`]) and publishes its conditions in `metrics`.
pub async fn write(
    api: &Api<TeamsTenantSync>,
    metrics: &Metrics,
    namespace: &str,
    name: &str,
    status: &TeamsTenantSyncStatus,
) -> Result<(), kube::Error> {
    apply(api, name, status).await?;
    metrics.set_status(namespace, name, status);
    Ok(())
}

/// [`write`], unless `current` differs from `status` in nothing but timestamps (the metrics are
/// published either way).
pub async fn write_if_changed(
    api: &Api<TeamsTenantSync>,
    metrics: &Metrics,
    namespace: &str,
    name: &str,
    current: Option<&TeamsTenantSyncStatus>,
    status: &TeamsTenantSyncStatus,
) -> Result<(), kube::Error> {
    if current.is_some_and(|current| !report::status_changed(current, status)) {
        metrics.set_status(namespace, name, status);
        return Ok(());
    }
    write(api, metrics, namespace, name, status).await
}

/// Applies `status` to a resource the operator's types cannot read (see [`super::unreadable`]),
/// through the untyped `api`.
pub async fn write_untyped(
    api: &Api<DynamicObject>,
    name: &str,
    status: &TeamsTenantSyncStatus,
) -> Result<(), kube::Error> {
    apply(api, name, status).await
}

/// The one server-side apply of a status, through a typed or an untyped `api`.
async fn apply<K>(api: &Api<K>, name: &str, status: &TeamsTenantSyncStatus) -> Result<(), kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    api.patch_status(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch_of(status)),
    )
    .await?;
    Ok(())
}

fn patch_of(status: &TeamsTenantSyncStatus) -> serde_json::Value {
    json!({
        "apiVersion": "teamssync.io/v1alpha1",
        "kind": "TeamsTenantSync",
        "status": status,
    })
}

/// The status of a sync that stopped before any call (an endpoint not allowed, Secrets or keys
/// missing, no ServiceAccount token, the tenant not found): the condition of each side that lacks
/// something (`AdminConnected` for signing in, `SourceConnected` for the source) is False with
/// every problem and its fix, and so is `Ready`; `Stalled` says a person must act, unless the
/// failure is transient. What was not tried keeps the last sync's state, except a stale setup
/// problem (such as `SecretInvalid`) on a side that is now complete.
pub fn setup_failure_status(
    resource: &TeamsTenantSync,
    previous: Option<&TeamsTenantSyncStatus>,
    failure: &SetupFailure,
) -> TeamsTenantSyncStatus {
    let generation = resource.meta().generation;
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    status.last_sync_time = Some(now.clone());
    status.conditions.retain(|c| c.type_ != RECONCILING);
    if failure.reason == Reason::TransientError {
        // Nobody needs to act: the next attempt may get through.
        status.conditions.retain(|c| c.type_ != STALLED);
    } else {
        set_condition(
            &mut status.conditions,
            ConditionUpdate::holding(STALLED, failure.reason, failure.message.as_str())
                .with_generation(generation),
            &now,
        );
    }
    let ready = SetupProblem {
        reason: failure.reason,
        message: failure.message.clone(),
    };
    for (type_, problem) in [
        (ADMIN_CONNECTED, failure.sign_in.as_ref()),
        (SOURCE_CONNECTED, failure.source.as_ref()),
        (READY, Some(&ready)),
    ] {
        match problem {
            Some(problem) => set_condition(
                &mut status.conditions,
                ConditionUpdate::new(type_, problem.reason, problem.message.as_str())
                    .with_generation(generation),
                &now,
            ),
            // A side that is complete now loses a setup problem an earlier sync found on it.
            None => status
                .conditions
                .retain(|c| c.type_ != type_ || !SETUP_REASONS.iter().any(|r| c.reason == r.as_str())),
        }
    }
    status
}

/// The status of a resource that does not sync: suspended, its spec invalid, or refused because
/// another resource owns the tenant. `Ready` has `reason`, and is False unless the resource is
/// merely suspended; `Reconciling` goes, and `Stalled` says a person must act unless suspended. Nothing was tried, so
/// the tenant conditions, the users, `lastSyncTime` and the handled `sync-now` value stay those
/// of the last sync.
pub fn held_status(
    generation: Option<i64>,
    previous: Option<&TeamsTenantSyncStatus>,
    reason: Reason,
    message: &str,
) -> TeamsTenantSyncStatus {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let mut status = previous.cloned().unwrap_or_default();
    status.observed_generation = generation;
    // Nothing is in progress. A suspended resource waits for nobody; a refused one keeps one
    // Stalled condition (and its transition time) for as long as it is refused.
    let suspended = reason == Reason::Suspended;
    status
        .conditions
        .retain(|c| c.type_ != RECONCILING && (c.type_ != STALLED || !suspended));
    if !suspended {
        set_condition(
            &mut status.conditions,
            ConditionUpdate::holding(STALLED, reason, message).with_generation(generation),
            &now,
        );
    }
    // Pausing is a choice, not a failure: a suspended resource is Ready (kstatus Current), with
    // the reason saying why nothing happens (Argo CD shows it as Suspended).
    let ready = if suspended {
        ConditionUpdate::true_because(READY, reason, message)
    } else {
        ConditionUpdate::new(READY, reason, message)
    };
    set_condition(&mut status.conditions, ready.with_generation(generation), &now);
    status
}

/// What a suspended resource's `Ready` says.
pub const SUSPENDED_MESSAGE: &str =
    "spec.suspend is true: nothing is read or changed until it is set to false";

/// The status written when a resource's first sync starts: `Ready=False` and `Reconciling=True`
/// (`Syncing`), with its generation observed.
pub fn first_sync_status(generation: Option<i64>) -> TeamsTenantSyncStatus {
    let mut status = progress_status(None, generation, "the first sync is running");
    status.observed_generation = generation;
    status
}

/// The last status with `Reconciling=True` saying how far the sync is; without a last status,
/// also `Ready=False` (`Syncing`).
pub fn progress_status(
    previous: Option<&TeamsTenantSyncStatus>,
    generation: Option<i64>,
    message: &str,
) -> TeamsTenantSyncStatus {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let mut status = previous.cloned().unwrap_or_default();
    if previous.is_none() {
        set_condition(
            &mut status.conditions,
            ConditionUpdate::new(READY, Reason::Syncing, message).with_generation(generation),
            &now,
        );
    }
    set_condition(
        &mut status.conditions,
        ConditionUpdate::holding(RECONCILING, Reason::Syncing, message).with_generation(generation),
        &now,
    );
    status
}

/// Sets the `ChangeEvents` condition from `view`, or removes it when change events are off.
pub fn set_change_events(status: &mut TeamsTenantSyncStatus, view: &EventsView, generation: Option<i64>) {
    let (reason, message) = match view {
        EventsView::Off => {
            status.conditions.retain(|c| c.type_ != CHANGE_EVENTS);
            return;
        }
        EventsView::Feed(FeedState::Connected) => (
            Reason::ChangeEventsConnected,
            "Dialpad's change-log events arrive: a change in Dialpad re-syncs the users it names within seconds, and the full sync runs every spec.fullSyncInterval (default 24h)".to_owned(),
        ),
        EventsView::Feed(FeedState::Connecting(what)) => (
            Reason::ChangeEventsConnecting,
            format!("connecting to Dialpad's change-log events ({what}); syncs run every spec.syncInterval meanwhile"),
        ),
        EventsView::Feed(FeedState::Unavailable { reason, message }) => (*reason, message.clone()),
        EventsView::NotJoined(reason, message) => (*reason, message.clone()),
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    set_condition(
        &mut status.conditions,
        ConditionUpdate::new(CHANGE_EVENTS, reason, message).with_generation(generation),
        &now,
    );
}

/// Whether `status`'s `ChangeEvents` condition says something else than `view` would.
pub fn change_events_stale(status: Option<&TeamsTenantSyncStatus>, view: &EventsView) -> bool {
    let Some(status) = status else {
        return false;
    };
    let mut updated = status.clone();
    set_change_events(&mut updated, view, status.observed_generation);
    crate::api::conditions::conditions_differ_ignoring_time(&status.conditions, &updated.conditions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::find_condition;

    use crate::commands::demo::demo_resource as demo;

    fn condition<'a>(status: &'a TeamsTenantSyncStatus, type_: &str) -> Option<&'a str> {
        find_condition(&status.conditions, type_).map(|c| c.reason.as_str())
    }

    /// A last status where sign-in failed for a missing key and users were stuck.
    fn stuck() -> TeamsTenantSyncStatus {
        let mut status = TeamsTenantSyncStatus::default();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        for update in [
            ConditionUpdate::new(ADMIN_CONNECTED, Reason::SecretInvalid, "no key 'password'"),
            ConditionUpdate::holding(STALLED, Reason::SecretInvalid, "no key 'password'"),
            ConditionUpdate::holding(RECONCILING, Reason::AssignmentPending, "activating 2"),
        ] {
            set_condition(&mut status.conditions, update, &now);
        }
        status
    }

    #[test]
    fn a_source_secret_problem_drops_a_fixed_sign_in_problem_and_stalls() {
        let failure = SetupFailure {
            reason: Reason::SecretInvalid,
            message: "Secret 'dialpad' does not exist".into(),
            sign_in: None,
            source: Some(SetupProblem {
                reason: Reason::SecretInvalid,
                message: "Secret 'dialpad' does not exist".into(),
            }),
        };
        let status = setup_failure_status(&demo(), Some(&stuck()), &failure);
        assert_eq!(
            condition(&status, ADMIN_CONNECTED),
            None,
            "the sign-in side is complete now: its stale SecretInvalid goes"
        );
        assert_eq!(condition(&status, SOURCE_CONNECTED), Some("SecretInvalid"));
        assert_eq!(condition(&status, READY), Some("SecretInvalid"));
        let stalled = find_condition(&status.conditions, STALLED).unwrap();
        assert_eq!(
            (stalled.status.as_str(), stalled.message.as_str()),
            ("True", "Secret 'dialpad' does not exist")
        );
        assert_eq!(
            condition(&status, RECONCILING),
            None,
            "nothing is converging while a Secret is missing"
        );
    }

    #[test]
    fn suspend_is_ready_and_drops_reconciling_and_stalled() {
        let status = held_status(
            demo().meta().generation,
            Some(&stuck()),
            Reason::Suspended,
            SUSPENDED_MESSAGE,
        );
        assert_eq!(condition(&status, READY), Some("Suspended"));
        assert_eq!(
            find_condition(&status.conditions, READY).map(|c| c.status.as_str()),
            Some("True"),
            "pausing is a choice, not a failure"
        );
        assert_eq!(condition(&status, RECONCILING), None);
        assert_eq!(condition(&status, STALLED), None);
        assert_eq!(
            condition(&status, ADMIN_CONNECTED),
            Some("SecretInvalid"),
            "not tried: left as it was"
        );
    }

    #[test]
    fn a_refused_resource_is_stalled_and_keeps_its_transition_time_while_refused() {
        let message = "TeamsTenantSync telephony/first already syncs Microsoft tenant t";
        let first = held_status(
            demo().meta().generation,
            Some(&stuck()),
            Reason::DuplicateTenant,
            message,
        );
        assert_eq!(condition(&first, READY), Some("DuplicateTenant"));
        assert_eq!(condition(&first, STALLED), Some("DuplicateTenant"));
        assert_eq!(condition(&first, RECONCILING), None);
        let mut earlier = first.clone();
        for c in &mut earlier.conditions {
            c.last_transition_time = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        }
        let again = held_status(
            demo().meta().generation,
            Some(&earlier),
            Reason::DuplicateTenant,
            message,
        );
        let stalled = find_condition(&again.conditions, STALLED).unwrap();
        assert_eq!(
            stalled.last_transition_time.0,
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            "a recheck that finds it still refused does not move lastTransitionTime"
        );
    }

    #[test]
    fn a_transient_failure_before_any_call_is_not_stalled() {
        let failure = SetupFailure {
            reason: Reason::TransientError,
            message: "cannot look up the tenant's ID: no answer".into(),
            sign_in: Some(SetupProblem {
                reason: Reason::TransientError,
                message: "cannot look up the tenant's ID: no answer".into(),
            }),
            source: None,
        };
        let status = setup_failure_status(&demo(), Some(&stuck()), &failure);
        assert_eq!(condition(&status, ADMIN_CONNECTED), Some("TransientError"));
        assert_eq!(condition(&status, READY), Some("TransientError"));
        assert_eq!(
            condition(&status, STALLED),
            None,
            "a retry may get through: nobody must act"
        );
    }

    #[test]
    fn the_change_events_condition_follows_the_feed_and_goes_when_events_are_off() {
        let mut status = TeamsTenantSyncStatus {
            observed_generation: Some(3),
            ..Default::default()
        };
        let connecting = EventsView::Feed(FeedState::Connecting("setting up".into()));
        assert!(
            change_events_stale(Some(&status), &connecting),
            "no condition yet"
        );
        set_change_events(&mut status, &connecting, Some(3));
        assert_eq!(condition(&status, CHANGE_EVENTS), Some("ChangeEventsConnecting"));
        assert!(!change_events_stale(Some(&status), &connecting));
        let connected = EventsView::Feed(FeedState::Connected);
        assert!(change_events_stale(Some(&status), &connected));
        set_change_events(&mut status, &connected, Some(3));
        let set = find_condition(&status.conditions, CHANGE_EVENTS).unwrap();
        assert_eq!((set.status.as_str(), set.observed_generation), ("True", Some(3)));
        let refused = EventsView::Feed(FeedState::Unavailable {
            reason: Reason::ChangeLogScopeMissing,
            message: "needs change_log".into(),
        });
        set_change_events(&mut status, &refused, Some(3));
        let set = find_condition(&status.conditions, CHANGE_EVENTS).unwrap();
        assert_eq!(
            (set.status.as_str(), set.reason.as_str()),
            ("False", "ChangeLogScopeMissing")
        );
        assert!(change_events_stale(Some(&status), &EventsView::Off));
        set_change_events(&mut status, &EventsView::Off, Some(3));
        assert_eq!(
            condition(&status, CHANGE_EVENTS),
            None,
            "no condition without change events"
        );
        assert!(
            !change_events_stale(None, &connected),
            "nothing written yet: nothing to refresh"
        );
    }
}
