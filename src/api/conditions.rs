//! Condition types and the helper that sets a condition the way the Kubernetes API conventions
//! ask: `lastTransitionTime` moves only when `status` flips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::reasons::Reason;

/// The tenant's summary condition, read by `kubectl wait --for=condition=Ready`, Argo CD and Flux.
pub const READY: &str = "Ready";
/// Whether the operator can sign in to Microsoft.
pub const ADMIN_CONNECTED: &str = "AdminConnected";
/// Whether the signed-in admin (or app) holds the required roles (or permissions).
pub const ADMIN_AUTHORIZED: &str = "AdminAuthorized";
/// Whether the desired state could be read from the source.
pub const SOURCE_CONNECTED: &str = "SourceConnected";
/// Whether every desired user is in sync.
pub const USERS_SYNCED: &str = "UsersSynced";
/// Present (True) while Teams is still activating assignments: the resource is converging on its
/// own (kstatus "in progress"); absent otherwise.
pub const RECONCILING: &str = "Reconciling";
/// Present (True) while something needs a person (a tenant failure or users that cannot be synced
/// without a change) and no retry will fix it (kstatus "failed"); absent otherwise.
pub const STALLED: &str = "Stalled";
/// Present while `spec.source.dialpad.changeEvents.enabled`: whether Dialpad's change-log events
/// arrive, so that a change syncs within seconds instead of at the next interval.
pub const CHANGE_EVENTS: &str = "ChangeEvents";
/// The per-user condition.
pub const SYNCED: &str = "Synced";

/// The tenant condition types always written, in the order they are written to
/// `.status.conditions` ([`RECONCILING`] and [`STALLED`] follow when they hold).
pub const TENANT_CONDITION_TYPES: [&str; 5] = [
    READY,
    ADMIN_CONNECTED,
    ADMIN_AUTHORIZED,
    SOURCE_CONNECTED,
    USERS_SYNCED,
];

/// A condition to set: everything but the transition time, which [`set_condition`] decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionUpdate {
    /// The condition type, e.g. [`READY`].
    pub type_: &'static str,
    /// The reason; it also decides `status` (see [`Reason::condition_status`]), unless the
    /// condition is [`ConditionUpdate::always_true`].
    pub reason: Reason,
    /// What happened and what to do, for a human.
    pub message: String,
    /// The `metadata.generation` the condition was computed from.
    pub observed_generation: Option<i64>,
    /// A condition that is `True` whatever the reason: kstatus's `Reconciling` and `Stalled`,
    /// whose presence means "this is happening", and a healthy `Ready` whose reason says more
    /// than `Synced` (`Suspended`, `DryRun`).
    pub always_true: bool,
}

impl ConditionUpdate {
    /// A condition of `type_` with `reason` and `message`.
    pub fn new(type_: &'static str, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            type_,
            reason,
            message: message.into(),
            observed_generation: None,
            always_true: false,
        }
    }

    /// A condition of `type_` that is `True` while it holds, with `reason` saying why.
    pub fn holding(type_: &'static str, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            always_true: true,
            ..Self::new(type_, reason, message)
        }
    }

    /// A condition of `type_` that is `True`, with `reason` saying more than that it holds.
    pub fn true_because(type_: &'static str, reason: Reason, message: impl Into<String>) -> Self {
        Self::holding(type_, reason, message)
    }

    /// The same condition, marked as computed from `generation`.
    pub fn with_generation(mut self, generation: Option<i64>) -> Self {
        self.observed_generation = generation;
        self
    }
}

/// Finds the condition of `type_`.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|condition| condition.type_ == type_)
}

/// Sets `update` in `conditions`, replacing the condition of the same type or appending it.
///
/// `lastTransitionTime` is kept from the existing condition unless `status` changes; a new
/// condition, or one whose status flips, gets `now`. Reason, message and generation always follow
/// `update`.
pub fn set_condition(conditions: &mut Vec<Condition>, update: ConditionUpdate, now: &Time) {
    let status = if update.always_true {
        "True"
    } else {
        update.reason.condition_status()
    };
    let existing = conditions
        .iter_mut()
        .find(|condition| condition.type_ == update.type_);
    let last_transition_time = match &existing {
        Some(old) if old.status == status => old.last_transition_time.clone(),
        _ => now.clone(),
    };
    let condition = Condition {
        type_: update.type_.to_owned(),
        status: status.to_owned(),
        reason: update.reason.as_str().to_owned(),
        message: update.message,
        observed_generation: update.observed_generation,
        last_transition_time,
    };
    match existing {
        Some(slot) => *slot = condition,
        None => conditions.push(condition),
    }
}

/// Whether two condition lists differ in anything but `lastTransitionTime`: used to skip status
/// writes that would only move timestamps.
pub fn conditions_differ_ignoring_time(left: &[Condition], right: &[Condition]) -> bool {
    left.len() != right.len()
        || left.iter().zip(right).any(|(l, r)| {
            l.type_ != r.type_
                || l.status != r.status
                || l.reason != r.reason
                || l.message != r.message
                || l.observed_generation != r.observed_generation
        })
}

/// `message` without the ids upstreams give each attempt (` (trace id …)`, ` (request id …)`):
/// two messages that differ only in those say the same thing.
pub fn without_attempt_ids(message: &str) -> String {
    let mut rest = message;
    let mut kept = String::with_capacity(message.len());
    while let Some(start) = [" (trace id ", " (request id "]
        .iter()
        .filter_map(|marker| rest.find(marker))
        .min()
    {
        kept.push_str(&rest[..start]);
        match rest[start..].find(')') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    kept.push_str(rest);
    kept
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;

    use super::*;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).unwrap())
    }

    #[test]
    fn attempt_ids_are_not_part_of_what_a_message_says() {
        assert_eq!(
            without_attempt_ids("AADSTS50126: bad password (trace id 1a2b) (request id r-9); fix it"),
            "AADSTS50126: bad password; fix it"
        );
        assert_eq!(without_attempt_ids("no ids here"), "no ids here");
        assert_eq!(without_attempt_ids("cut (trace id 1a2b"), "cut");
    }

    #[test]
    fn new_condition_gets_now_as_transition_time() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ConditionUpdate::new(READY, Reason::Synced, "ok"),
            &at(100),
        );
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].status, "True");
        assert_eq!(conditions[0].reason, "Synced");
        assert_eq!(conditions[0].last_transition_time, at(100));
    }

    #[test]
    fn same_status_keeps_transition_time_but_takes_new_reason_and_message() {
        let mut conditions = Vec::new();
        let failed = ConditionUpdate::new(SYNCED, Reason::CallingPlanAssigned, "has a plan");
        set_condition(&mut conditions, failed, &at(100));
        let still_failed = ConditionUpdate::new(SYNCED, Reason::PhoneSystemLicenseMissing, "no licence")
            .with_generation(Some(3));
        set_condition(&mut conditions, still_failed, &at(200));
        assert_eq!(conditions[0].last_transition_time, at(100));
        assert_eq!(conditions[0].reason, "PhoneSystemLicenseMissing");
        assert_eq!(conditions[0].message, "no licence");
        assert_eq!(conditions[0].observed_generation, Some(3));
    }

    #[test]
    fn status_flip_moves_transition_time() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ConditionUpdate::new(SYNCED, Reason::TransientError, "x"),
            &at(100),
        );
        set_condition(
            &mut conditions,
            ConditionUpdate::new(SYNCED, Reason::InSync, ""),
            &at(200),
        );
        assert_eq!(conditions[0].status, "True");
        assert_eq!(conditions[0].last_transition_time, at(200));
    }

    #[test]
    fn setting_one_type_leaves_the_others_alone() {
        let mut conditions = Vec::new();
        set_condition(
            &mut conditions,
            ConditionUpdate::new(READY, Reason::Synced, ""),
            &at(1),
        );
        set_condition(
            &mut conditions,
            ConditionUpdate::new(ADMIN_CONNECTED, Reason::SignedIn, ""),
            &at(2),
        );
        set_condition(
            &mut conditions,
            ConditionUpdate::new(READY, Reason::UsersNotInSync, "3"),
            &at(3),
        );
        assert_eq!(conditions.len(), 2);
        assert_eq!(
            find_condition(&conditions, ADMIN_CONNECTED)
                .unwrap()
                .last_transition_time,
            at(2)
        );
        assert_eq!(
            find_condition(&conditions, READY).unwrap().last_transition_time,
            at(3)
        );
    }

    #[test]
    fn only_timestamps_changed_is_not_a_difference() {
        let mut before = Vec::new();
        set_condition(
            &mut before,
            ConditionUpdate::new(READY, Reason::Synced, ""),
            &at(1),
        );
        let mut after = before.clone();
        after[0].last_transition_time = at(50);
        assert!(!conditions_differ_ignoring_time(&before, &after));
        after[0].message = "changed".into();
        assert!(conditions_differ_ignoring_time(&before, &after));
    }
}
