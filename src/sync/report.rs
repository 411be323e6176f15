//! The report: outcomes -> `.status`. Tenant conditions, exact counts over every user, and a
//! list of users bounded by a size budget (failures first, then pending, then users in sync).
//! Pure: no I/O, the caller passes `now`.
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
//! An entry whose `Synced` reason is `RemovalPending` or `BlockedBySafetyLimit` and that has
//! `teamsUserId` and `phoneNumber` is read back as a departed user: the planner gives these two
//! reasons only to departed users. Every other entry is read back as `Dialpad` when it has a
//! `dialpadUserId`, else as `Static`.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap};
use std::io;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::Serialize;

use crate::api::conditions::{
    ADMIN_AUTHORIZED, ADMIN_CONNECTED, ConditionUpdate, READY, SOURCE_CONNECTED, SYNCED,
    TENANT_CONDITION_TYPES, USERS_SYNCED, conditions_differ_ignoring_time, find_condition, set_condition,
};
use crate::api::{Reason, Severity, SyncSummary, TeamsTenantSyncStatus, UserSyncStatus};
use crate::sync::model::{PreviousOutcome, TenantChecks, UserKey, UserOutcome};

/// The default size budget of the serialized status: far below etcd's ~1.5 MiB object limit,
/// leaving room for the spec and metadata.
pub const DEFAULT_STATUS_BUDGET: usize = 256 * 1024;

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
                Some(ConditionUpdate {
                    type_: USERS_SYNCED,
                    reason: Reason::parse(&condition.reason)?,
                    message: condition.message.clone(),
                    observed_generation: condition.observed_generation,
                })
            })
        }
        None => {
            status.summary = Some(tally.summary());
            None
        }
    };
    let failed = status.summary.as_ref().map_or(0, |summary| summary.failed);
    status.conditions = tenant_conditions(input, &tally, users_synced, failed);
    if kept.is_none() {
        list_users(&mut status, input);
    }
    status
}

/// Whether `new` differs from `old` in anything but timestamps (`lastSyncTime` and every
/// condition's `lastTransitionTime`): a status that only moved timestamps is not written.
pub fn status_changed(old: &TeamsTenantSyncStatus, new: &TeamsTenantSyncStatus) -> bool {
    let TeamsTenantSyncStatus {
        observed_generation,
        last_sync_time: _,
        conditions,
        summary,
        users,
        users_omitted,
    } = old;
    *observed_generation != new.observed_generation
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
    if departed_reason && let (Some(teams_user_id), Some(number)) = (&user.teams_user_id, &user.phone_number)
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
    desired_in_sync: usize,
    in_sync: usize,
    pending: usize,
    failed: usize,
    by_reason: BTreeMap<Reason, usize>,
}

impl Tally {
    fn of(outcomes: &[UserOutcome]) -> Self {
        let mut tally = Self::default();
        for outcome in outcomes {
            let healthy = outcome.reason.severity() == Severity::Healthy;
            if outcome.desired {
                tally.desired += 1;
                tally.desired_in_sync += usize::from(healthy);
            }
            match outcome.reason.severity() {
                Severity::Healthy => tally.in_sync += 1,
                Severity::Pending => tally.pending += 1,
                Severity::Failed => tally.failed += 1,
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
            by_reason: self
                .by_reason
                .iter()
                .map(|(reason, count)| (reason.as_str().to_owned(), saturate(*count)))
                .collect(),
        }
    }

    /// `UsersSynced`: true when every desired user is in sync and nobody failed (departed users
    /// waiting for their grace period are fine).
    fn users_synced(&self) -> ConditionUpdate {
        let Self {
            desired,
            desired_in_sync,
            pending,
            failed,
            ..
        } = *self;
        let mut message = format!("{desired_in_sync} of {desired} users in sync");
        if failed > 0 {
            let mut reasons: Vec<(Reason, usize)> = self
                .by_reason
                .iter()
                .filter(|(reason, _)| reason.severity() == Severity::Failed)
                .map(|(reason, count)| (*reason, *count))
                .collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
            let reasons: Vec<String> = reasons
                .iter()
                .map(|(reason, count)| format!("{reason}: {count}"))
                .collect();
            message.push_str(&format!("; {failed} failed ({})", reasons.join(", ")));
        }
        if pending > 0 {
            message.push_str(&format!("; {pending} pending"));
        }
        let reason = if desired_in_sync == desired && failed == 0 {
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
    let ready = match blocker {
        Some(update) => new(READY, update.reason, update.message.clone()),
        None if failed > 0 => new(READY, users_synced.reason, users_synced.message.clone()),
        None => new(READY, Reason::Synced, users_synced.message.clone()),
    };
    let mut conditions = Vec::with_capacity(TENANT_CONDITION_TYPES.len());
    for update in [
        ready,
        admin_connected,
        admin_authorized,
        source_connected,
        users_synced,
    ] {
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
fn listing_order(a: &UserOutcome, b: &UserOutcome) -> Ordering {
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
    let total = input.outcomes.len();
    let mut order: Vec<&UserOutcome> = input.outcomes.iter().collect();
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
mod tests {
    use k8s_openapi::jiff::Timestamp;

    use super::*;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).unwrap())
    }

    fn dialpad(id: &str, email: Option<&str>, reason: Reason) -> UserOutcome {
        UserOutcome {
            key: UserKey::Dialpad(id.to_owned()),
            email: email.map(str::to_owned),
            phone_number: Some(format!("+1415555{:04}", id.len())),
            dialpad_user_id: Some(id.to_owned()),
            teams_user_id: Some(format!("teams-{id}")),
            reason,
            message: format!("{reason} for {id}"),
            desired: true,
        }
    }

    fn departed(teams_user_id: &str, number: &str, reason: Reason) -> UserOutcome {
        UserOutcome {
            key: UserKey::Departed {
                teams_user_id: teams_user_id.to_owned(),
                number: number.to_owned(),
            },
            email: Some(format!("{teams_user_id}@contoso.com")),
            phone_number: Some(number.to_owned()),
            dialpad_user_id: Some("owner-1".to_owned()),
            teams_user_id: Some(teams_user_id.to_owned()),
            reason,
            message: format!("{reason} for {teams_user_id}"),
            desired: false,
        }
    }

    fn report(
        outcomes: &[UserOutcome],
        previous: Option<&TeamsTenantSyncStatus>,
        now: Time,
        budget_bytes: usize,
    ) -> TeamsTenantSyncStatus {
        build_status(&ReportInput {
            outcomes,
            checks: &TenantChecks::ok(),
            source: &SourceState::Read,
            previous,
            generation: Some(7),
            now,
            budget_bytes,
        })
    }

    fn condition<'a>(status: &'a TeamsTenantSyncStatus, type_: &str) -> &'a Condition {
        find_condition(&status.conditions, type_).unwrap()
    }

    fn synced(user: &UserSyncStatus) -> &Condition {
        find_condition(&user.conditions, SYNCED).unwrap()
    }

    fn size(status: &TeamsTenantSyncStatus) -> usize {
        serde_json::to_vec(status).unwrap().len()
    }

    /// `count` users: every 50th fails, every other 40th is pending, the rest in sync.
    fn tenant(count: usize) -> Vec<UserOutcome> {
        (0..count)
            .map(|i| {
                let reason = if i % 50 == 0 {
                    if i % 100 == 0 {
                        Reason::CallingPlanAssigned
                    } else {
                        Reason::TeamsUserNotFound
                    }
                } else if i % 40 == 0 {
                    Reason::AssignmentPending
                } else {
                    Reason::InSync
                };
                dialpad(
                    &format!("{i:07}"),
                    Some(&format!("user{i:07}@contoso.com")),
                    reason,
                )
            })
            .collect()
    }

    #[test]
    fn counts_are_exact_even_when_users_are_omitted() {
        let mut outcomes = tenant(2000);
        outcomes.push(departed("gone", "+14155550199", Reason::RemovalPending));
        let status = report(&outcomes, None, at(100), 16 * 1024);
        let summary = status.summary.as_ref().unwrap();
        assert!(status.users_omitted > 0);
        assert_eq!(status.users.len() + status.users_omitted as usize, 2001);
        assert_eq!(summary.desired, 2000);
        assert_eq!(summary.failed, 40);
        assert_eq!(summary.pending, 40 + 1);
        assert_eq!(summary.in_sync, 2001 - 40 - 41);
        assert_eq!(summary.by_reason["CallingPlanAssigned"], 20);
        assert_eq!(summary.by_reason["TeamsUserNotFound"], 20);
        assert_eq!(summary.by_reason["AssignmentPending"], 40);
        assert_eq!(summary.by_reason["RemovalPending"], 1);
        assert_eq!(summary.by_reason["InSync"], 1920);
        assert!(size(&status) <= 16 * 1024);
    }

    #[test]
    fn departed_users_come_first_then_failures_then_pending_then_in_sync() {
        let outcomes = vec![
            dialpad("1", Some("b@contoso.com"), Reason::InSync),
            dialpad("2", Some("z@contoso.com"), Reason::AssignmentPending),
            dialpad("3", None, Reason::EmailMissing),
            dialpad("4", Some("c@contoso.com"), Reason::CallingPlanAssigned),
            dialpad("5", Some("a@contoso.com"), Reason::InSync),
            departed("t", "+14155550100", Reason::RemovalPending),
            dialpad("6", Some("a@contoso.com"), Reason::TransientError),
        ];
        let status = report(&outcomes, None, at(100), DEFAULT_STATUS_BUDGET);
        let order: Vec<(&str, Option<&str>)> = status
            .users
            .iter()
            .map(|u| (synced(u).reason.as_str(), u.email.as_deref()))
            .collect();
        assert_eq!(
            order,
            [
                ("RemovalPending", Some("t@contoso.com")),
                ("TransientError", Some("a@contoso.com")),
                ("CallingPlanAssigned", Some("c@contoso.com")),
                ("EmailMissing", None),
                ("AssignmentPending", Some("z@contoso.com")),
                ("InSync", Some("a@contoso.com")),
                ("InSync", Some("b@contoso.com")),
            ]
        );
        assert_eq!(status.users_omitted, 0);
    }

    #[test]
    fn status_stays_under_the_budget_at_100000_users() {
        let outcomes = tenant(100_000);
        let status = report(&outcomes, None, at(100), DEFAULT_STATUS_BUDGET);
        let summary = status.summary.as_ref().unwrap();
        let written = size(&status);
        assert!(written <= DEFAULT_STATUS_BUDGET, "{written} bytes");
        // Filled, not just bounded: one more entry would not have fitted.
        let entry = serialized_len(&status.users[0]);
        assert!(written + entry + 1 > DEFAULT_STATUS_BUDGET, "{written} bytes");
        assert_eq!(summary.desired, 100_000);
        assert_eq!(summary.failed, 2000);
        assert_eq!(summary.pending, 2000);
        assert_eq!(summary.in_sync, 96_000);
        assert_eq!(status.users_omitted as usize, 100_000 - status.users.len());
        // 2,000 failures alone exceed the budget: only failures are listed, by email.
        assert!(status.users.len() > 500, "{} listed", status.users.len());
        assert!(
            status
                .users
                .iter()
                .all(|u| Reason::parse(&synced(u).reason).unwrap().severity() == Severity::Failed)
        );
        assert!(status.users.windows(2).all(|w| w[0].email < w[1].email));
    }

    #[test]
    fn size_accounting_is_exact_to_the_byte() {
        let outcomes = tenant(300);
        let roomy = report(&outcomes, None, at(100), 20_000);
        let exact = size(&roomy);
        let same = report(&outcomes, None, at(100), exact);
        assert_eq!(same.users.len(), roomy.users.len());
        assert_eq!(size(&same), exact);
        let tighter = report(&outcomes, None, at(100), exact - 1);
        assert_eq!(tighter.users.len(), roomy.users.len() - 1);
        assert!(size(&tighter) < exact);
        // Nothing fits: no users, all omitted, the fixed part still written.
        let none = report(&outcomes, None, at(100), 10);
        assert!(none.users.is_empty());
        assert_eq!(none.users_omitted, 300);
        // Everything fits: no usersOmitted field at all.
        let all = report(&outcomes, None, at(100), usize::MAX);
        assert_eq!(all.users.len(), 300);
        assert_eq!(all.users_omitted, 0);
        assert_eq!(report(&outcomes, None, at(100), size(&all)).users.len(), 300);
    }

    #[test]
    fn last_transition_time_is_kept_when_the_status_does_not_flip() {
        let first = report(
            &[dialpad("1", Some("a@contoso.com"), Reason::CallingPlanAssigned)],
            None,
            at(100),
            DEFAULT_STATUS_BUDGET,
        );
        let second = report(
            &[dialpad(
                "1",
                Some("a@contoso.com"),
                Reason::PhoneSystemLicenseMissing,
            )],
            Some(&first),
            at(200),
            DEFAULT_STATUS_BUDGET,
        );
        let user = synced(&second.users[0]);
        assert_eq!(user.reason, "PhoneSystemLicenseMissing");
        assert_eq!(user.last_transition_time, at(100));
        assert_eq!(condition(&second, READY).last_transition_time, at(100));
        assert_eq!(condition(&second, ADMIN_CONNECTED).last_transition_time, at(100));
        assert_eq!(second.last_sync_time, Some(at(200)));
    }

    #[test]
    fn last_transition_time_moves_when_a_user_gets_in_sync() {
        let first = report(
            &[
                dialpad("1", Some("a@contoso.com"), Reason::AssignmentPending),
                dialpad("2", Some("b@contoso.com"), Reason::InSync),
            ],
            None,
            at(100),
            DEFAULT_STATUS_BUDGET,
        );
        let second = report(
            &[
                dialpad("1", Some("a@contoso.com"), Reason::InSync),
                dialpad("2", Some("b@contoso.com"), Reason::InSync),
            ],
            Some(&first),
            at(200),
            DEFAULT_STATUS_BUDGET,
        );
        let a = second
            .users
            .iter()
            .find(|u| u.email.as_deref() == Some("a@contoso.com"))
            .unwrap();
        let b = second
            .users
            .iter()
            .find(|u| u.email.as_deref() == Some("b@contoso.com"))
            .unwrap();
        assert_eq!(synced(a).status, "True");
        assert_eq!(synced(a).last_transition_time, at(200));
        assert_eq!(synced(b).last_transition_time, at(100));
        assert_eq!(condition(&second, USERS_SYNCED).status, "True");
        assert_eq!(condition(&second, USERS_SYNCED).last_transition_time, at(200));
        // Ready was already true (pending is fine), so it did not flip.
        assert_eq!(condition(&second, READY).last_transition_time, at(100));
    }

    #[test]
    fn a_failed_source_keeps_the_previous_users() {
        let outcomes = tenant(120);
        let first = report(&outcomes, None, at(100), DEFAULT_STATUS_BUDGET);
        let second = build_status(&ReportInput {
            outcomes: &[],
            checks: &TenantChecks::ok(),
            source: &SourceState::Failed {
                reason: Reason::SourceCredentialsInvalid,
                message: "Dialpad answered 401".into(),
            },
            previous: Some(&first),
            generation: Some(8),
            now: at(200),
            budget_bytes: DEFAULT_STATUS_BUDGET,
        });
        assert_eq!(second.users, first.users);
        assert_eq!(second.summary, first.summary);
        assert_eq!(second.users_omitted, first.users_omitted);
        assert_eq!(condition(&second, USERS_SYNCED), condition(&first, USERS_SYNCED));
        let source = condition(&second, SOURCE_CONNECTED);
        assert_eq!(
            (source.status.as_str(), source.reason.as_str()),
            ("False", "SourceCredentialsInvalid")
        );
        assert_eq!(source.observed_generation, Some(8));
        let ready = condition(&second, READY);
        assert_eq!(ready.reason, "SourceCredentialsInvalid");
        assert_eq!(ready.message, "Dialpad answered 401");
        assert_eq!(second.observed_generation, Some(8));
    }

    #[test]
    fn a_failed_source_without_history_says_users_were_not_checked() {
        let status = build_status(&ReportInput {
            outcomes: &[],
            checks: &TenantChecks::ok(),
            source: &SourceState::Failed {
                reason: Reason::TransientError,
                message: "timeout".into(),
            },
            previous: None,
            generation: Some(1),
            now: at(100),
            budget_bytes: DEFAULT_STATUS_BUDGET,
        });
        let users = condition(&status, USERS_SYNCED);
        assert_eq!(
            (users.status.as_str(), users.reason.as_str()),
            ("False", "TransientError")
        );
        assert!(users.message.starts_with("not checked"));
        assert_eq!(condition(&status, READY).reason, "TransientError");
    }

    #[test]
    fn ready_is_true_with_pending_users_and_false_with_failures() {
        let pending = report(
            &[
                dialpad("1", Some("a@contoso.com"), Reason::InSync),
                dialpad("2", Some("b@contoso.com"), Reason::AssignmentPending),
                departed("t", "+14155550100", Reason::RemovalPending),
            ],
            None,
            at(100),
            DEFAULT_STATUS_BUDGET,
        );
        let ready = condition(&pending, READY);
        assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "Synced"));
        assert_eq!(ready.message, "1 of 2 users in sync; 2 pending");
        assert_eq!(condition(&pending, USERS_SYNCED).reason, "UsersNotInSync");

        let failing = report(
            &[
                dialpad("1", Some("a@contoso.com"), Reason::InSync),
                dialpad("2", Some("b@contoso.com"), Reason::CallingPlanAssigned),
                dialpad("3", Some("c@contoso.com"), Reason::CallingPlanAssigned),
                dialpad("4", Some("d@contoso.com"), Reason::EmailMissing),
                dialpad("5", Some("e@contoso.com"), Reason::AssignmentPending),
            ],
            None,
            at(100),
            DEFAULT_STATUS_BUDGET,
        );
        let ready = condition(&failing, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "UsersNotInSync")
        );
        assert_eq!(
            ready.message,
            "1 of 5 users in sync; 3 failed (CallingPlanAssigned: 2, EmailMissing: 1); 1 pending"
        );

        let all = report(
            &[dialpad("1", Some("a@contoso.com"), Reason::InSync)],
            None,
            at(1),
            1 << 20,
        );
        let users = condition(&all, USERS_SYNCED);
        assert_eq!(
            (users.status.as_str(), users.reason.as_str()),
            ("True", "AllUsersInSync")
        );
        assert_eq!(users.message, "1 of 1 users in sync");
        assert_eq!(condition(&all, READY).status, "True");
    }

    #[test]
    fn a_departed_user_blocked_by_the_safety_limit_makes_ready_false() {
        let status = report(
            &[
                dialpad("1", Some("a@contoso.com"), Reason::InSync),
                departed("t", "+14155550100", Reason::BlockedBySafetyLimit),
            ],
            None,
            at(100),
            DEFAULT_STATUS_BUDGET,
        );
        assert_eq!(condition(&status, USERS_SYNCED).reason, "UsersNotInSync");
        let ready = condition(&status, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "UsersNotInSync")
        );
        assert!(
            ready.message.contains("BlockedBySafetyLimit: 1"),
            "{}",
            ready.message
        );
    }

    #[test]
    fn tenant_failure_reason_shows_on_ready() {
        let checks = TenantChecks {
            connected: Err((Reason::MfaRequired, "AADSTS50076: MFA is required".into())),
            authorized: Ok(()),
        };
        let status = build_status(&ReportInput {
            outcomes: &[],
            checks: &checks,
            source: &SourceState::Skipped,
            previous: None,
            generation: Some(2),
            now: at(100),
            budget_bytes: DEFAULT_STATUS_BUDGET,
        });
        let types: Vec<&str> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, TENANT_CONDITION_TYPES);
        assert!(status.conditions.iter().all(|c| c.observed_generation == Some(2)));
        let ready = condition(&status, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "MfaRequired")
        );
        assert_eq!(ready.message, "AADSTS50076: MFA is required");
        let authorized = condition(&status, ADMIN_AUTHORIZED);
        assert_eq!(
            (authorized.status.as_str(), authorized.reason.as_str()),
            ("False", "MfaRequired")
        );
        assert_eq!(authorized.message, "not checked: AADSTS50076: MFA is required");
        let source = condition(&status, SOURCE_CONNECTED);
        assert_eq!(source.reason, "MfaRequired");
        assert_eq!(source.message, "not read: the tenant checks failed");

        let checks = TenantChecks {
            connected: Ok(()),
            authorized: Err((Reason::RolesMissing, "missing Teams Administrator".into())),
        };
        let status = build_status(&ReportInput {
            outcomes: &[],
            checks: &checks,
            source: &SourceState::Skipped,
            previous: None,
            generation: Some(2),
            now: at(100),
            budget_bytes: DEFAULT_STATUS_BUDGET,
        });
        assert_eq!(condition(&status, ADMIN_CONNECTED).status, "True");
        assert_eq!(condition(&status, ADMIN_AUTHORIZED).reason, "RolesMissing");
        assert_eq!(condition(&status, SOURCE_CONNECTED).reason, "RolesMissing");
        assert_eq!(condition(&status, READY).reason, "RolesMissing");
        assert_eq!(condition(&status, READY).message, "missing Teams Administrator");
    }

    #[test]
    fn only_timestamps_changed_is_not_a_change() {
        let outcomes = tenant(200);
        let first = report(&outcomes, None, at(100), DEFAULT_STATUS_BUDGET);
        let second = report(&outcomes, None, at(500), DEFAULT_STATUS_BUDGET);
        assert_ne!(first, second);
        assert!(!status_changed(&first, &second));

        let mut message = second.clone();
        message.users[3].conditions[0].message.push('!');
        assert!(status_changed(&first, &message));
        let mut tenant = second.clone();
        tenant.conditions[0].message.push('!');
        assert!(status_changed(&first, &tenant));
        let mut generation = second.clone();
        generation.observed_generation = Some(8);
        assert!(status_changed(&first, &generation));
        let mut summary = second;
        summary.summary.as_mut().unwrap().failed += 1;
        assert!(status_changed(&first, &summary));
    }

    #[test]
    fn previous_outcomes_round_trip_every_key_kind() {
        let mut static_user = dialpad("x", Some("Ann.Lee@Contoso.com"), Reason::TeamsUserNotFound);
        static_user.key = UserKey::Static("ann.lee@contoso.com".into());
        static_user.dialpad_user_id = None;
        let mut no_email = dialpad("y", None, Reason::EmailMissing);
        no_email.key = UserKey::Static(String::new());
        no_email.dialpad_user_id = None;
        let outcomes = vec![
            dialpad("5835806903417907", Some("bo@contoso.com"), Reason::InSync),
            static_user,
            no_email,
            departed("t-1", "+14155550100", Reason::RemovalPending),
            departed("t-2", "+14155550101", Reason::BlockedBySafetyLimit),
            // A departed number owned by a Dialpad user who is also listed, under their own key.
            departed("t-3", "+14155550102", Reason::RemovalPending),
            dialpad("owner-1", Some("owner@contoso.com"), Reason::NumberConflict),
        ];
        let status = report(&outcomes, None, at(100), DEFAULT_STATUS_BUDGET);
        let previous = previous_outcomes(&status);
        assert_eq!(previous.len(), outcomes.len());
        for outcome in &outcomes {
            let found = previous
                .get(&outcome.key)
                .unwrap_or_else(|| panic!("{:?} lost", outcome.key));
            assert_eq!(found.reason, outcome.reason);
            assert_eq!(found.since, at(100).0);
        }
    }

    #[test]
    fn previous_outcomes_skip_unknown_reasons_and_take_since_from_the_transition() {
        let first = report(
            &[
                departed("t-1", "+14155550100", Reason::RemovalPending),
                dialpad("1", Some("a@contoso.com"), Reason::InSync),
            ],
            None,
            at(100),
            DEFAULT_STATUS_BUDGET,
        );
        let mut second = report(
            &[
                departed("t-1", "+14155550100", Reason::BlockedBySafetyLimit),
                dialpad("1", Some("a@contoso.com"), Reason::InSync),
            ],
            Some(&first),
            at(900),
            DEFAULT_STATUS_BUDGET,
        );
        let previous = previous_outcomes(&second);
        let key = UserKey::Departed {
            teams_user_id: "t-1".into(),
            number: "+14155550100".into(),
        };
        assert_eq!(previous[&key].reason, Reason::BlockedBySafetyLimit);
        assert_eq!(previous[&key].since, at(100).0);
        for user in &mut second.users {
            user.conditions[0].reason = "NoSuchReason".into();
        }
        assert!(previous_outcomes(&second).is_empty());
    }
}
