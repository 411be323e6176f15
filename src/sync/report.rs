//! The report: outcomes -> `.status`. Tenant conditions, exact counts over every user, and a short
//! list of the users that are not in sync, so that `kubectl describe` stays a page or two at any
//! size: every departed user (their entry carries their grace period), then up to
//! [`LISTED_USERS`] failing or pending users taken in turn from each reason (so every reason shows
//! examples), all within a size budget. Users in sync are counted, not listed; `usersOmitted`
//! counts the users not in sync that are not listed. The full per-user list is what the `plan`
//! command prints. Pure: no I/O, the caller passes `now`.
//!
//! # Keys in `.status.users`
//!
//! The next sync reads its earlier outcomes back from the status ([`previous_outcomes`]), so every
//! listed entry carries its [`UserKey`]:
//!
//! - `Dialpad(id)`: `dialpadUserId` is the id;
//! - `Static(email)`: no `dialpadUserId`; `email` lower-cases to the key;
//! - `Departed { teams_user_id, number }`: `teamsUserId` and `phoneNumber` are the key's.
//!
//! An entry whose `Synced` reason is `RemovalPending` or `BlockedBySafetyLimit`, that has
//! `teamsUserId` and `phoneNumber` and no `dialpadUserId` (the planner never gives a departed
//! user one), is read back as a departed user. `RemovalPending` is only ever a departed user's;
//! `BlockedBySafetyLimit` is also a desired user's whose replacement the safety limit held back.
//! A Dialpad user's entry has its id; a static-list user's reads back as a departed key, which
//! only costs its condition's `lastTransitionTime` (it restarts while the limit holds): no removal
//! can match that key, since its `phoneNumber` is the number the user wants, which Teams did not
//! show on the user, so the ownership record written in that sync does not hold it for them.
//! Every other entry is read back as `Dialpad` when it has a `dialpadUserId`, else as `Static`.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap};
use std::io;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::Serialize;

use crate::api::conditions::{
    ADMIN_AUTHORIZED, ADMIN_CONNECTED, ConditionUpdate, READY, RECONCILING, SOURCE_CONNECTED, STALLED,
    SYNCED, TENANT_CONDITION_TYPES, USERS_SYNCED, conditions_differ_ignoring_time, find_condition,
    set_condition,
};
use crate::api::{Reason, Severity, SyncSummary, TeamsTenantSyncStatus, UserSyncStatus};
use crate::sync::model::{PreviousOutcome, TenantChecks, UserKey, UserOutcome};

/// The default size budget of the serialized status: far below etcd's ~1.5 MiB object limit,
/// leaving room for the spec and metadata.
pub const DEFAULT_STATUS_BUDGET: usize = 256 * 1024;

/// The most failing or pending (desired) users `.status.users` lists; departed users come on top.
pub const LISTED_USERS: usize = 25;

/// How reading the source went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceState {
    /// The desired state was read.
    Read,
    /// Reading failed.
    Failed {
        /// Why (a tenant-scope reason, e.g. `SourceCredentialsInvalid` or `TransientError`).
        reason: Reason,
        /// For the admin.
        message: String,
    },
    /// Not read, because a tenant check failed first.
    Skipped,
}

/// Everything the report looks at.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    /// One outcome per user, after execution.
    pub outcomes: &'a [UserOutcome],
    /// The tenant checks.
    pub checks: &'a TenantChecks,
    /// How reading the source went.
    pub source: &'a SourceState,
    /// The status written by the previous sync, if any.
    pub previous: Option<&'a TeamsTenantSyncStatus>,
    /// The resource's `metadata.generation`.
    pub generation: Option<i64>,
    /// Now.
    pub now: Time,
    /// The most bytes the serialized status may take (see [`DEFAULT_STATUS_BUDGET`]).
    pub budget_bytes: usize,
}

/// Builds the status of one sync.
///
/// When the source was not read and the previous status has users, its `users`, `summary` and
/// `usersOmitted` are kept as they were, and so is its `UsersSynced` condition: only the other
/// tenant conditions change.
pub fn build_status(input: &ReportInput) -> TeamsTenantSyncStatus {
    let kept = match (input.source, input.previous) {
        (SourceState::Read, _) | (_, None) => None,
        (_, Some(previous)) => (previous.summary.is_some() || !previous.users.is_empty()).then_some(previous),
    };
    let tally = Tally::of(input.outcomes);
    let mut status = TeamsTenantSyncStatus {
        observed_generation: input.generation,
        last_sync_time: Some(input.now.clone()),
        last_handled_sync_now: None,
        conditions: Vec::new(),
        summary: None,
        users: Vec::new(),
        users_omitted: 0,
    };
    let users_synced = match kept {
        Some(previous) => {
            status.summary = previous.summary.clone();
            status.users = previous.users.clone();
            status.users_omitted = previous.users_omitted;
            find_condition(&previous.conditions, USERS_SYNCED).and_then(|condition| {
                Some(
                    ConditionUpdate::new(
                        USERS_SYNCED,
                        Reason::parse(&condition.reason)?,
                        condition.message.clone(),
                    )
                    .with_generation(condition.observed_generation),
                )
            })
        }
        None => {
            status.summary = Some(tally.summary());
            None
        }
    };
    let failed = match kept {
        Some(_) => status.summary.as_ref().map_or(0, |summary| summary.failed),
        None => saturate(tally.needs_attention()),
    };
    status.conditions = tenant_conditions(input, &tally, users_synced, failed);
    if kept.is_none() {
        list_users(&mut status, input);
    }
    status
}

/// Whether `new` differs from `old` in anything but timestamps (`lastSyncTime` and every
/// condition's `lastTransitionTime`). The controller writes every completed sync (so that
/// `lastSyncTime` stays true) and skips the writes of reconciles that did not sync when this is
/// false.
pub fn status_changed(old: &TeamsTenantSyncStatus, new: &TeamsTenantSyncStatus) -> bool {
    let TeamsTenantSyncStatus {
        observed_generation,
        last_sync_time: _,
        last_handled_sync_now,
        conditions,
        summary,
        users,
        users_omitted,
    } = old;
    *observed_generation != new.observed_generation
        || *last_handled_sync_now != new.last_handled_sync_now
        || *summary != new.summary
        || *users_omitted != new.users_omitted
        || conditions_differ_ignoring_time(conditions, &new.conditions)
        || users.len() != new.users.len()
        || users
            .iter()
            .zip(&new.users)
            .any(|(old, new)| user_changed(old, new))
}

fn user_changed(old: &UserSyncStatus, new: &UserSyncStatus) -> bool {
    let UserSyncStatus {
        email,
        phone_number,
        dialpad_user_id,
        teams_user_id,
        conditions,
    } = old;
    *email != new.email
        || *phone_number != new.phone_number
        || *dialpad_user_id != new.dialpad_user_id
        || *teams_user_id != new.teams_user_id
        || conditions_differ_ignoring_time(conditions, &new.conditions)
}

/// The earlier outcomes listed in `status.users`, by key (see the module docs for how keys are
/// read back). `since` is the `Synced` condition's `lastTransitionTime`. Entries without a
/// `Synced` condition or with an unknown reason are skipped; of entries with the same key, the
/// first listed wins. Users omitted from the list have no earlier outcome.
pub fn previous_outcomes(status: &TeamsTenantSyncStatus) -> HashMap<UserKey, PreviousOutcome> {
    let mut outcomes = HashMap::with_capacity(status.users.len());
    for user in &status.users {
        let Some(condition) = find_condition(&user.conditions, SYNCED) else {
            continue;
        };
        let Some(reason) = Reason::parse(&condition.reason) else {
            continue;
        };
        outcomes
            .entry(entry_key(user, &condition.reason))
            .or_insert(PreviousOutcome {
                reason,
                since: condition.last_transition_time.0,
            });
    }
    outcomes
}

/// The key a status entry stands for, given its `Synced` reason.
fn entry_key(user: &UserSyncStatus, reason: &str) -> UserKey {
    let departed_reason =
        reason == Reason::RemovalPending.as_str() || reason == Reason::BlockedBySafetyLimit.as_str();
    if departed_reason
        && user.dialpad_user_id.is_none()
        && let (Some(teams_user_id), Some(number)) = (&user.teams_user_id, &user.phone_number)
    {
        return UserKey::Departed {
            teams_user_id: teams_user_id.clone(),
            number: number.clone(),
        };
    }
    match &user.dialpad_user_id {
        Some(id) => UserKey::Dialpad(id.clone()),
        None => UserKey::Static(user.email.as_deref().unwrap_or_default().to_lowercase()),
    }
}

/// Counts over all outcomes.
#[derive(Default)]
struct Tally {
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
    fn of(outcomes: &[UserOutcome]) -> Self {
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

    fn summary(&self) -> SyncSummary {
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
    fn needs_attention(&self) -> usize {
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

fn saturate(count: usize) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// The five tenant conditions, in [`TENANT_CONDITION_TYPES`] order, each starting from the
/// previous status's condition of the same type so `lastTransitionTime` moves only on a flip.
/// `kept_users_synced` is the previous `UsersSynced` when the previous users are kept; `failed`
/// is the failure count of the summary written.
fn tenant_conditions(
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
            "Read the desired state from the source".into(),
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
    // kstatus: Ready only when Teams matches the source for every user that can be synced.
    let ready = match blocker {
        Some(update) => new(READY, update.reason, update.message.clone()),
        None if failed > 0 => new(READY, users_synced.reason, summary.clone()),
        None if tally.dry_run > 0 => new(
            READY,
            Reason::DryRun,
            format!(
                "DryRun: {} change(s) would be made and nothing was changed ({summary}); set spec.mode to Enforce to apply them",
                tally.dry_run
            ),
        ),
        None if tally.activating > 0 => new(
            READY,
            Reason::AssignmentPending,
            format!(
                "Teams is activating {} assignment(s): {summary}",
                tally.activating
            ),
        ),
        None => new(READY, Reason::Synced, summary.clone()),
    };
    let stalled = match blocker {
        Some(update) if update.reason != Reason::TransientError => {
            Some(holding(STALLED, update.reason, update.message.clone()))
        }
        Some(_) => None,
        None if failed > 0 && tally.stalled() => Some(holding(STALLED, users_synced.reason, summary.clone())),
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

/// Listing order: departed users first (their entry carries the start of their grace period, so
/// it must never be omitted), then failures, then pending, then in sync; within each, by email
/// (none last), then by key.
pub fn listing_order(a: &UserOutcome, b: &UserOutcome) -> Ordering {
    a.desired
        .cmp(&b.desired)
        .then_with(|| Reverse(a.reason.severity()).cmp(&Reverse(b.reason.severity())))
        .then_with(|| a.email.is_none().cmp(&b.email.is_none()))
        .then_with(|| a.email.cmp(&b.email))
        .then_with(|| a.key.cmp(&b.key))
}

/// Bytes `,"users":[` and `]` add to a status without users.
const USERS_FIELD_BYTES: usize = r#","users":[]"#.len();
/// Bytes `,"usersOmitted":` adds, before the digits.
const OMITTED_FIELD_BYTES: usize = r#","usersOmitted":"#.len();

/// Bytes the `usersOmitted` field takes for `omitted` users (none when zero).
fn omitted_bytes(omitted: usize) -> usize {
    match saturate(omitted) {
        0 => 0,
        count => OMITTED_FIELD_BYTES + count.to_string().len(),
    }
}

/// Fills `status.users` and `status.usersOmitted` from the outcomes, in listing order, while the
/// serialized status stays within the budget. Each entry is serialized once, to count its bytes.
fn list_users(status: &mut TeamsTenantSyncStatus, input: &ReportInput) {
    let not_in_sync: Vec<&UserOutcome> = input
        .outcomes
        .iter()
        .filter(|o| o.reason.severity() != Severity::Healthy)
        .collect();
    let total = not_in_sync.len();
    let mut order = shortlist(&not_in_sync);
    order.sort_by(|a, b| listing_order(a, b));
    let mut earlier: HashMap<UserKey, &Condition> = HashMap::new();
    for user in input.previous.map_or(&[][..], |previous| &previous.users) {
        if let Some(condition) = find_condition(&user.conditions, SYNCED) {
            earlier
                .entry(entry_key(user, &condition.reason))
                .or_insert(condition);
        }
    }
    let fixed = serialized_len(&*status);
    let mut users: Vec<UserSyncStatus> = Vec::new();
    let mut entries_bytes = 0usize;
    for outcome in order {
        let entry = user_entry(outcome, earlier.get(&outcome.key).copied(), input);
        let separator = usize::from(!users.is_empty());
        let with_entry = entries_bytes
            .saturating_add(serialized_len(&entry))
            .saturating_add(separator);
        let size = fixed
            .saturating_add(USERS_FIELD_BYTES)
            .saturating_add(with_entry)
            .saturating_add(omitted_bytes(total - users.len() - 1));
        if size > input.budget_bytes {
            break;
        }
        users.push(entry);
        entries_bytes = with_entry;
    }
    status.users_omitted = saturate(total - users.len());
    status.users = users;
}

/// Every departed user, and up to [`LISTED_USERS`] desired ones taken in turn from each reason
/// (the most severe reasons first), so that a hundred users failing for one reason do not hide the
/// one failing for another.
fn shortlist<'a>(not_in_sync: &[&'a UserOutcome]) -> Vec<&'a UserOutcome> {
    let mut chosen: Vec<&UserOutcome> = not_in_sync.iter().copied().filter(|o| !o.desired).collect();
    let mut by_reason: BTreeMap<(Reverse<Severity>, &str), Vec<&UserOutcome>> = BTreeMap::new();
    for outcome in not_in_sync.iter().copied().filter(|o| o.desired) {
        by_reason
            .entry((Reverse(outcome.reason.severity()), outcome.reason.as_str()))
            .or_default()
            .push(outcome);
    }
    for group in by_reason.values_mut() {
        group.sort_by(|a, b| listing_order(a, b));
    }
    let mut taken = 0;
    for round in 0.. {
        let mut any = false;
        for group in by_reason.values() {
            if taken == LISTED_USERS {
                return chosen;
            }
            if let Some(outcome) = group.get(round) {
                chosen.push(outcome);
                taken += 1;
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    chosen
}

/// One user's entry, keyed as the module docs describe.
fn user_entry(outcome: &UserOutcome, earlier: Option<&Condition>, input: &ReportInput) -> UserSyncStatus {
    let mut entry = UserSyncStatus {
        email: outcome.email.clone(),
        phone_number: outcome.phone_number.clone(),
        dialpad_user_id: outcome.dialpad_user_id.clone(),
        teams_user_id: outcome.teams_user_id.clone(),
        conditions: Vec::new(),
    };
    match &outcome.key {
        UserKey::Dialpad(id) => entry.dialpad_user_id = Some(id.clone()),
        UserKey::Static(email) => {
            entry.dialpad_user_id = None;
            let matches = entry.email.as_deref().unwrap_or_default().to_lowercase() == *email;
            if !matches {
                entry.email = (!email.is_empty()).then(|| email.clone());
            }
        }
        UserKey::Departed {
            teams_user_id,
            number,
        } => {
            entry.teams_user_id = Some(teams_user_id.clone());
            entry.phone_number = Some(number.clone());
        }
    }
    entry.conditions.extend(earlier.cloned());
    let update = ConditionUpdate::new(SYNCED, outcome.reason, outcome.message.clone())
        .with_generation(input.generation);
    set_condition(&mut entry.conditions, update, &input.now);
    entry
}

/// Counts bytes written.
struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length of `value` as compact JSON (`serde_json::to_vec(value).len()`), without the buffer.
fn serialized_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = ByteCounter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        // The status types always serialize; count a failure as over any budget.
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
