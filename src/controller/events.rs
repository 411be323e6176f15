//! Every Event the controller publishes, built and published here: counts per sync, naming its
//! first few users (never one Event per user; the change trail in the log has every change), a
//! Warning when a tenant condition turns or changes, when a resource is held back,
//! and on deletion; never a secret.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::events::{Event, EventType, Recorder};

use crate::api::conditions::{
    ADMIN_AUTHORIZED, ADMIN_CONNECTED, SOURCE_CONNECTED, find_condition, without_attempt_ids,
};
use crate::api::{Reason, TeamsTenantSyncStatus};
use crate::sync::pipeline::SyncRun;

/// The Events one sync deserves, given the status before it.
pub fn events_for(run: &SyncRun, previous: Option<&TeamsTenantSyncStatus>) -> Vec<Event> {
    let mut events = Vec::new();
    let normal = |reason: &str, note: String| Event {
        type_: EventType::Normal,
        reason: reason.into(),
        note: Some(truncate(&note, NOTE_LIMIT)),
        action: "Sync".into(),
        secondary: None,
    };
    let execution = &run.execution;
    if execution.assigned > 0 {
        events.push(normal(
            "NumbersAssigned",
            format!(
                "Assigned {} number(s) in Teams{}",
                execution.assigned,
                naming(execution.assigned, &execution.assigned_users)
            ),
        ));
    }
    if execution.drift_corrected > 0 {
        events.push(normal(
            "DriftCorrected",
            format!(
                "Corrected {} number(s) changed by hand in Teams{}",
                execution.drift_corrected,
                naming(execution.drift_corrected, &execution.drift_corrected_users)
            ),
        ));
    }
    if execution.unassigned > 0 {
        events.push(normal(
            "NumbersUnassigned",
            format!(
                "Unassigned {} number(s) of users who left the source{}",
                execution.unassigned,
                naming(execution.unassigned, &execution.unassigned_users)
            ),
        ));
    }
    let blocked = run
        .plan
        .outcomes
        .iter()
        .filter(|o| o.reason == Reason::BlockedBySafetyLimit)
        .count();
    // Announced when the limit starts to hold, not on every sync while it holds: the status
    // keeps saying why (BlockedBySafetyLimit on each user) until someone acts.
    let blocked_before = previous
        .and_then(|p| p.summary.as_ref())
        .and_then(|s| s.by_reason.get(Reason::BlockedBySafetyLimit.as_str()))
        .is_some_and(|count| *count > 0);
    if blocked > 0
        && !blocked_before
        && let Some(example) = run
            .plan
            .outcomes
            .iter()
            .find(|o| o.reason == Reason::BlockedBySafetyLimit)
    {
        events.push(warning("SafetyLimitReached", &example.message));
    }
    events.extend(condition_warnings(&run.status.conditions, previous));
    events
}

/// The longest an Event's note may be: "Maximal length of the note is 1kB"
/// (<https://kubernetes.io/docs/reference/kubernetes-api/events/>, Event `note`).
pub const NOTE_LIMIT: usize = 1000;

/// The longest one user's part of a sync's Event note (a long email is cut), so that the first
/// few users always fit within [`NOTE_LIMIT`].
const USER_LIMIT: usize = 200;

/// ": alice@.. (+1415..), bob@.. (+1415..) and 9 more", naming the first `users` of `count`
/// changes; empty when none is named.
fn naming(count: usize, users: &[String]) -> String {
    if users.is_empty() {
        return String::new();
    }
    let named: Vec<String> = users.iter().map(|user| truncate(user, USER_LIMIT)).collect();
    let more = count.saturating_sub(users.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(": {}{tail}", named.join(", "))
}

/// One Warning per tenant condition that is not True and differs from the previous status in
/// status, reason or message (a changed message says something new, e.g. another missing key;
/// the trace and request ids of each attempt do not count, so a failure that persists warns once).
pub fn condition_warnings(conditions: &[Condition], previous: Option<&TeamsTenantSyncStatus>) -> Vec<Event> {
    [ADMIN_CONNECTED, ADMIN_AUTHORIZED, SOURCE_CONNECTED]
        .into_iter()
        .filter_map(|type_| {
            let now = find_condition(conditions, type_).filter(|c| c.status != "True")?;
            let before = previous.and_then(|p| find_condition(&p.conditions, type_));
            let changed = before.is_none_or(|b| {
                b.reason != now.reason
                    || b.status != now.status
                    || without_attempt_ids(&b.message) != without_attempt_ids(&now.message)
            });
            changed.then(|| warning(&now.reason, &format!("{type_}: {}", now.message)))
        })
        .collect()
}

fn warning(reason: &str, note: &str) -> Event {
    held_warning(reason, note, "Sync")
}

/// A Warning that a resource does not sync, or cannot be read: `reason`, the message, and the
/// `action` that found it (`Validate`, `Claim`, `Read`).
pub fn held_warning(reason: &str, message: &str, action: &str) -> Event {
    Event {
        type_: EventType::Warning,
        reason: reason.into(),
        note: Some(truncate(message, NOTE_LIMIT)),
        action: action.into(),
        secondary: None,
    }
}

/// A Normal Event of deleting a resource.
pub fn on_delete(reason: &str, note: String) -> Event {
    Event {
        type_: EventType::Normal,
        reason: reason.into(),
        note: Some(note),
        action: "Delete".into(),
        secondary: None,
    }
}

/// A Warning Event of deleting a resource.
pub fn warning_on_delete(reason: &str, note: &str) -> Event {
    held_warning(reason, note, "Delete")
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Publishes `events` for `reference`; a failure to publish is logged, never fatal.
pub async fn publish(recorder: &Recorder, reference: &ObjectReference, events: &[Event]) {
    for event in events {
        if let Err(error) = recorder.publish(event, reference).await {
            tracing::warn!(%error, reason = %event.reason, "cannot publish an Event");
        }
    }
}

/// Publishes `event` on `primary`, or, when its namespace refuses new objects (it is being
/// deleted), on `fallback` in the operator's namespace.
pub async fn publish_somewhere(
    recorder: &Recorder,
    primary: &ObjectReference,
    fallback: &ObjectReference,
    event: &Event,
) {
    if recorder.publish(event, primary).await.is_err() {
        publish(recorder, fallback, std::slice::from_ref(event)).await;
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    use super::*;
    use crate::api::conditions::{ConditionUpdate, set_condition};
    use crate::sync::model::{Plan, TenantChecks, UserKey, UserOutcome};
    use crate::sync::report::SourceState;
    use crate::sync::sent::ExecutionSummary;

    fn run(execution: ExecutionSummary, outcomes: Vec<UserOutcome>, connected: Reason) -> SyncRun {
        let mut status = TeamsTenantSyncStatus::default();
        let now = Time(Timestamp::from_second(1_800_000_000).unwrap());
        set_condition(
            &mut status.conditions,
            ConditionUpdate::new(ADMIN_CONNECTED, connected, "AADSTS50076: exclude it"),
            &now,
        );
        SyncRun {
            status,
            plan: Plan {
                outcomes,
                ..Plan::default()
            },
            execution,
            checks: TenantChecks::ok(),
            source: SourceState::Read,
        }
    }

    /// A departed user whose removal the safety limit holds back.
    fn blocked(id: &str) -> UserOutcome {
        UserOutcome {
            key: UserKey::Departed {
                teams_user_id: id.into(),
                number: id.into(),
            },
            email: None,
            phone_number: None,
            dialpad_user_id: None,
            teams_user_id: None,
            reason: Reason::BlockedBySafetyLimit,
            message: "30 numbers are due to be unassigned".into(),
            desired: false,
        }
    }

    fn reasons(events: &[Event]) -> Vec<(String, Option<String>)> {
        events
            .iter()
            .map(|e| (e.reason.clone(), e.note.clone()))
            .collect()
    }

    #[test]
    fn changes_are_reported_as_counts_not_one_event_per_user() {
        let execution = ExecutionSummary {
            assigned: 40,
            unassigned: 2,
            failed: 0,
            drift_corrected: 3,
            unassigned_numbers: vec!["+14155550120".into(), "+14155550121".into()],
            refused_numbers: Vec::new(),
            undone: 0,
            ..ExecutionSummary::default()
        };
        let events = events_for(&run(execution, Vec::new(), Reason::SignedIn), None);
        assert_eq!(
            reasons(&events),
            [
                (
                    "NumbersAssigned".into(),
                    Some("Assigned 40 number(s) in Teams".into())
                ),
                (
                    "DriftCorrected".into(),
                    Some("Corrected 3 number(s) changed by hand in Teams".into())
                ),
                (
                    "NumbersUnassigned".into(),
                    Some("Unassigned 2 number(s) of users who left the source".into())
                ),
            ]
        );
    }

    #[test]
    fn a_syncs_events_name_its_first_few_users_and_how_many_more() {
        let execution = ExecutionSummary {
            assigned: 12,
            drift_corrected: 1,
            unassigned: 1,
            assigned_users: vec![
                "alice@contoso.com (+14155550101)".into(),
                "bob@contoso.com (+14155550102)".into(),
                "carol@contoso.com (+14155550103)".into(),
            ],
            drift_corrected_users: vec!["carol@contoso.com (+14155550103, replacing +14155550199)".into()],
            unassigned_users: vec!["dennis@contoso.com (+14155550120)".into()],
            ..ExecutionSummary::default()
        };
        let events = events_for(&run(execution, Vec::new(), Reason::SignedIn), None);
        let notes: Vec<_> = events.iter().filter_map(|e| e.note.as_deref()).collect();
        assert_eq!(
            notes,
            [
                "Assigned 12 number(s) in Teams: alice@contoso.com (+14155550101), bob@contoso.com (+14155550102), carol@contoso.com (+14155550103) and 9 more",
                "Corrected 1 number(s) changed by hand in Teams: carol@contoso.com (+14155550103, replacing +14155550199)",
                "Unassigned 1 number(s) of users who left the source: dennis@contoso.com (+14155550120)",
            ]
        );
    }

    #[test]
    fn a_syncs_event_stays_within_the_note_limit_however_long_the_emails() {
        let long = format!("{}@contoso.com (+14155550101)", "a".repeat(900));
        let execution = ExecutionSummary {
            assigned: 1000,
            assigned_users: vec![long.clone(), long.clone(), long],
            ..ExecutionSummary::default()
        };
        let events = events_for(&run(execution, Vec::new(), Reason::SignedIn), None);
        let note = events[0].note.as_deref().unwrap();
        assert!(note.len() <= NOTE_LIMIT, "{}", note.len());
        assert!(note.ends_with(" and 997 more"), "{note}");
    }

    #[test]
    fn a_blocked_removal_plan_raises_one_safety_limit_warning() {
        let events = events_for(
            &run(
                ExecutionSummary::default(),
                vec![blocked("a"), blocked("b")],
                Reason::SignedIn,
            ),
            None,
        );
        assert_eq!(
            reasons(&events),
            [(
                "SafetyLimitReached".into(),
                Some("30 numbers are due to be unassigned".into())
            )]
        );
        assert!(matches!(events[0].type_, EventType::Warning));
    }

    #[test]
    fn a_safety_limit_that_still_holds_is_not_announced_again() {
        let previous = TeamsTenantSyncStatus {
            summary: Some(crate::api::SyncSummary {
                by_reason: [("BlockedBySafetyLimit".to_owned(), 30)].into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let again = run(ExecutionSummary::default(), vec![blocked("t1")], Reason::SignedIn);
        assert!(
            reasons(&events_for(&again, Some(&previous))).is_empty(),
            "the limit held on the last sync too: no second Event"
        );
    }

    #[test]
    fn a_sign_in_failure_is_announced_once_not_on_every_sync() {
        let first = run(ExecutionSummary::default(), Vec::new(), Reason::MfaRequired);
        let events = events_for(&first, None);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].reason, "MfaRequired");
        assert!(
            events[0]
                .note
                .as_deref()
                .unwrap()
                .starts_with("AdminConnected: AADSTS50076")
        );
        let again = run(ExecutionSummary::default(), Vec::new(), Reason::MfaRequired);
        assert!(events_for(&again, Some(&first.status)).is_empty());
    }

    #[test]
    fn a_failure_whose_message_changes_is_announced_again() {
        let first = run(ExecutionSummary::default(), Vec::new(), Reason::SecretInvalid);
        let mut again = run(ExecutionSummary::default(), Vec::new(), Reason::SecretInvalid);
        let now = Time(Timestamp::from_second(1_800_000_100).unwrap());
        set_condition(
            &mut again.status.conditions,
            ConditionUpdate::new(ADMIN_CONNECTED, Reason::SecretInvalid, "another key is missing"),
            &now,
        );
        let events = events_for(&again, Some(&first.status));
        assert_eq!(
            reasons(&events),
            [(
                "SecretInvalid".into(),
                Some("AdminConnected: another key is missing".into())
            )]
        );
    }

    #[test]
    fn a_failure_that_persists_with_a_new_trace_id_each_attempt_warns_once() {
        let at = |seconds| Time(Timestamp::from_second(seconds).unwrap());
        let attempt = |trace: &str, seconds| {
            let mut run = run(
                ExecutionSummary::default(),
                Vec::new(),
                Reason::CredentialsInvalid,
            );
            let message = format!("AADSTS50126: invalid user name or password (trace id {trace})");
            set_condition(
                &mut run.status.conditions,
                ConditionUpdate::new(ADMIN_CONNECTED, Reason::CredentialsInvalid, message),
                &at(seconds),
            );
            run
        };
        let first = attempt("5c1e", 1_800_000_000);
        let second = attempt("9f2a", 1_800_000_060);
        assert!(
            events_for(&second, Some(&first.status)).is_empty(),
            "only the trace id changed"
        );
    }

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = truncate(&text, 1000);
        assert!(cut.len() <= 1000 && cut.ends_with("..."));
    }
}
