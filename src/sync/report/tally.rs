//! Counts over every outcome, and the tenant conditions they make.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::conditions::{
    ADMIN_AUTHORIZED, ADMIN_CONNECTED, ConditionUpdate, READY, RECONCILING, SOURCE_CONNECTED, STALLED,
    TENANT_CONDITION_TYPES, USERS_SYNCED, find_condition, set_condition,
};
use crate::api::{Reason, Severity, SyncSummary};
use crate::sync::model::UserOutcome;

use super::{ReportInput, SourceState};

/// Counts over all outcomes.
#[derive(Default)]
pub(super) struct Tally {
    desired: usize,
    in_sync: usize,
    pending: usize,
    failed: usize,
    departed: usize,
    /// Departed users whose removal needs a person (the safety limit held it back, or it failed).
    departed_failed: usize,
    by_reason: BTreeMap<Reason, usize>,
    /// Reasons of the failed desired users.
    failed_reasons: BTreeMap<Reason, usize>,
    /// Reasons of the departed users.
    departed_reasons: BTreeMap<Reason, usize>,
    /// Desired users whose assignment Teams is still activating.
    activating: usize,
    /// Desired users a dry run would change.
    dry_run: usize,
}

impl Tally {
    pub(super) fn of(outcomes: &[UserOutcome]) -> Self {
        let mut tally = Self::default();
        for outcome in outcomes {
            let severity = outcome.reason.severity();
            if outcome.desired {
                tally.desired += 1;
                match severity {
                    Severity::Healthy => tally.in_sync += 1,
                    Severity::Pending => {
                        tally.pending += 1;
                        tally.activating += usize::from(outcome.reason == Reason::AssignmentPending);
                        tally.dry_run += usize::from(outcome.reason == Reason::DryRun);
                    }
                    Severity::Failed => {
                        tally.failed += 1;
                        *tally.failed_reasons.entry(outcome.reason).or_default() += 1;
                    }
                }
            } else {
                tally.departed += 1;
                tally.departed_failed += usize::from(severity == Severity::Failed);
                *tally.departed_reasons.entry(outcome.reason).or_default() += 1;
            }
            *tally.by_reason.entry(outcome.reason).or_default() += 1;
        }
        tally
    }

    pub(super) fn summary(&self) -> SyncSummary {
        SyncSummary {
            desired: saturate(self.desired),
            in_sync: saturate(self.in_sync),
            pending: saturate(self.pending),
            failed: saturate(self.failed),
            departed: saturate(self.departed),
            owned: 0,
            by_reason: self
                .by_reason
                .iter()
                .map(|(reason, count)| (reason.as_str().to_owned(), saturate(*count)))
                .collect(),
        }
    }

    /// What needs a person: failed desired users and departed users held by the safety limit.
    pub(super) fn needs_attention(&self) -> usize {
        self.failed + self.departed_failed
    }

    /// Whether some failure waits for a person rather than for a retry.
    fn stalled(&self) -> bool {
        self.departed_failed > 0 || self.failed_reasons.keys().any(|r| *r != Reason::TransientError)
    }

    /// `UsersSynced`: true when every desired user is in sync and nothing needs a person
    /// (departed users waiting for their grace period are fine).
    fn users_synced(&self) -> ConditionUpdate {
        let Self {
            desired,
            in_sync,
            pending,
            failed,
            departed,
            ..
        } = *self;
        let breakdown = |counts: &BTreeMap<Reason, usize>| {
            let mut reasons: Vec<(Reason, usize)> =
                counts.iter().map(|(reason, count)| (*reason, *count)).collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
            reasons
                .iter()
                .map(|(reason, count)| format!("{reason}: {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut message = format!("{in_sync} of {desired} users in sync");
        if failed > 0 {
            let reasons = breakdown(&self.failed_reasons);
            message.push_str(&format!("; {failed} failed ({reasons})"));
        }
        if pending > 0 {
            message.push_str(&format!("; {pending} pending"));
        }
        if departed > 0 {
            let reasons = breakdown(&self.departed_reasons);
            message.push_str(&format!("; {departed} departed ({reasons})"));
        }
        let reason = if in_sync == desired && self.needs_attention() == 0 {
            Reason::AllUsersInSync
        } else {
            Reason::UsersNotInSync
        };
        ConditionUpdate::new(USERS_SYNCED, reason, message)
    }
}

/// The users failing this sync against how many `spec.readiness.maxFailedUsers` tolerates, worked
/// out once for `Ready` and `Stalled`.
#[derive(Clone, Copy)]
struct FailedUsers {
    failed: usize,
    allowed: usize,
}

impl FailedUsers {
    fn tolerated(self) -> bool {
        self.failed <= self.allowed
    }
}

/// `Ready`: whether the operator is doing its job for this tenant. False while a tenant check or
/// the source fails, while more users fail than `spec.readiness.maxFailedUsers` tolerates, or
/// while Teams has been activating assignments for longer than `maxActivationTime`; True
/// otherwise, a dry run and tolerated failures included (`UsersSynced` keeps the exact picture).
fn ready(
    input: &ReportInput,
    tally: &Tally,
    blocker: Option<&ConditionUpdate>,
    users_synced: &ConditionUpdate,
    failures: FailedUsers,
    overdue: bool,
) -> ConditionUpdate {
    let readiness = input.readiness;
    let summary = &users_synced.message;
    let tolerance = readiness.max_failed_users;
    let FailedUsers { failed, allowed } = failures;
    let update = match blocker {
        Some(update) => ConditionUpdate::new(READY, update.reason, update.message.clone()),
        None if !failures.tolerated() => ConditionUpdate::new(
            READY,
            users_synced.reason,
            format!(
                "{failed} users need attention, more than spec.readiness.maxFailedUsers tolerates ({}, {allowed} of {} desired users): {summary}",
                readiness.max_failed_users, tally.desired
            ),
        ),
        None if overdue => ConditionUpdate::new(
            READY,
            Reason::AssignmentPending,
            format!(
                "Teams has been activating assignments for longer than spec.readiness.maxActivationTime ({}): {summary}",
                readiness.max_activation_text
            ),
        ),
        None if tally.dry_run > 0 => ConditionUpdate::true_because(
            READY,
            Reason::DryRun,
            format!(
                "DryRun: {} change(s) would be made and nothing was changed ({summary}); set spec.mode to Enforce to apply them",
                tally.dry_run
            ),
        ),
        None if failed > 0 => ConditionUpdate::new(
            READY,
            Reason::Synced,
            format!(
                "{summary}; {failed} user(s) needing attention are within spec.readiness.maxFailedUsers ({tolerance}); UsersSynced lists them"
            ),
        ),
        None if tally.activating > 0 => ConditionUpdate::new(
            READY,
            Reason::Synced,
            format!(
                "Teams is activating {} assignment(s): {summary}",
                tally.activating
            ),
        ),
        None => ConditionUpdate::new(READY, Reason::Synced, summary.clone()),
    };
    update.with_generation(input.generation)
}

/// Whether Teams has been activating assignments for longer than `spec.readiness.maxActivationTime`,
/// counted from when `Reconciling` last turned True (it stays True from one sync to the next
/// while any assignment is activating). Once overdue, `Stalled` says so instead of `Reconciling`,
/// and it stays overdue until no assignment is activating.
fn activation_overdue(input: &ReportInput, tally: &Tally) -> bool {
    let previous = |type_: &str| {
        input
            .previous
            .and_then(|previous| find_condition(&previous.conditions, type_))
            .filter(|condition| condition.status == "True")
    };
    if tally.activating == 0 {
        return false;
    }
    if previous(STALLED).is_some_and(|stalled| stalled.reason == Reason::AssignmentPending.as_str()) {
        return true;
    }
    previous(RECONCILING).is_some_and(|reconciling| {
        let waited = input.now.0.duration_since(reconciling.last_transition_time.0);
        waited.is_positive() && waited.unsigned_abs() > input.readiness.max_activation_time
    })
}

/// `count` as a status count: saturating at `i32::MAX`.
pub fn saturate(count: usize) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// The five tenant conditions, in [`TENANT_CONDITION_TYPES`] order, each starting from the
/// previous status's condition of the same type so `lastTransitionTime` moves only on a flip.
/// `kept_users_synced` is the previous `UsersSynced` when the previous users are kept; `failed`
/// is the failure count of the summary written.
pub(super) fn tenant_conditions(
    input: &ReportInput,
    tally: &Tally,
    kept_users_synced: Option<ConditionUpdate>,
    failed: i32,
) -> Vec<Condition> {
    let new = |type_: &'static str, reason: Reason, message: String| {
        ConditionUpdate::new(type_, reason, message).with_generation(input.generation)
    };
    let holding = |type_: &'static str, reason: Reason, message: String| {
        ConditionUpdate::holding(type_, reason, message).with_generation(input.generation)
    };
    let admin_connected = match &input.checks.connected {
        Ok(()) => new(ADMIN_CONNECTED, Reason::SignedIn, "Signed in to Microsoft".into()),
        Err((reason, message)) => new(ADMIN_CONNECTED, *reason, message.clone()),
    };
    let admin_authorized = match (&input.checks.connected, &input.checks.authorized) {
        (Err((reason, message)), _) => new(ADMIN_AUTHORIZED, *reason, format!("not checked: {message}")),
        (Ok(()), Ok(())) => new(
            ADMIN_AUTHORIZED,
            Reason::Authorized,
            "The admin holds the required roles or permissions".into(),
        ),
        (Ok(()), Err((reason, message))) => new(ADMIN_AUTHORIZED, *reason, message.clone()),
    };
    let source_failure = match input.source {
        SourceState::Read => None,
        SourceState::Failed { reason, message } => Some((*reason, message.clone())),
        SourceState::Skipped => {
            let reason = [&input.checks.connected, &input.checks.authorized]
                .into_iter()
                .find_map(|check| check.as_ref().err().map(|(reason, _)| *reason))
                .unwrap_or(Reason::UnknownError);
            Some((reason, "not read: the tenant checks failed".to_owned()))
        }
    };
    let source_connected = match &source_failure {
        None => new(
            SOURCE_CONNECTED,
            Reason::SourceRead,
            format!(
                "Read the desired state from {}",
                input.source_origin.unwrap_or("the source")
            ),
        ),
        Some((reason, message)) => new(SOURCE_CONNECTED, *reason, message.clone()),
    };
    let users_synced = match (&source_failure, kept_users_synced) {
        (None, _) => tally.users_synced().with_generation(input.generation),
        // Describes the kept users, so it keeps its generation too.
        (Some(_), Some(kept)) => kept,
        (Some((reason, _)), None) => new(
            USERS_SYNCED,
            *reason,
            "not checked: the desired state could not be read".into(),
        ),
    };
    let blocker = [&admin_connected, &admin_authorized, &source_connected]
        .into_iter()
        .find(|update| update.reason.severity() != Severity::Healthy);
    let summary = users_synced.message.clone();
    let failures = FailedUsers {
        failed: usize::try_from(failed).unwrap_or(0),
        allowed: input.readiness.max_failed_users.allowed(tally.desired),
    };
    let overdue = activation_overdue(input, tally);
    let ready = ready(input, tally, blocker, &users_synced, failures, overdue);
    let stalled = match blocker {
        Some(update) if update.reason != Reason::TransientError => {
            Some(holding(STALLED, update.reason, update.message.clone()))
        }
        Some(_) => None,
        None if !failures.tolerated() && tally.stalled() => {
            Some(holding(STALLED, users_synced.reason, summary.clone()))
        }
        // Teams should have finished long ago: someone must look, and Reconciling goes.
        None if overdue => Some(holding(STALLED, Reason::AssignmentPending, ready.message.clone())),
        None => None,
    };
    let reconciling = (blocker.is_none() && stalled.is_none() && tally.activating > 0).then(|| {
        holding(
            RECONCILING,
            Reason::AssignmentPending,
            format!(
                "Teams is activating {} assignment(s); the next sync checks again soon",
                tally.activating
            ),
        )
    });
    let mut conditions = Vec::with_capacity(TENANT_CONDITION_TYPES.len());
    for update in [
        Some(ready),
        Some(admin_connected),
        Some(admin_authorized),
        Some(source_connected),
        Some(users_synced),
        reconciling,
        stalled,
    ]
    .into_iter()
    .flatten()
    {
        let mut slot: Vec<Condition> = input
            .previous
            .and_then(|previous| find_condition(&previous.conditions, update.type_))
            .cloned()
            .into_iter()
            .collect();
        set_condition(&mut slot, update, &input.now);
        conditions.extend(slot);
    }
    conditions
}
