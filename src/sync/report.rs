//! The report: outcomes -> `.status`. Tenant conditions, exact counts over every user, and a short
//! list of the users that are not in sync, so that `kubectl describe` stays a page or two at any
//! size: every departed user (their entry carries their grace period), then up to
//! [`LISTED_USERS`] failing or pending users taken in turn from each reason (so every reason shows
//! examples), all within a size budget. Users in sync are counted, not listed; `usersOmitted`
//! counts the users not in sync that are not listed. The full per-user list is what the `plan`
//! command prints. Pure: no I/O, the caller passes `now`. The counts and the tenant conditions
//! they make are in `tally`, the list of users in `listing`.
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

use std::collections::HashMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::conditions::{
    ConditionUpdate, SYNCED, USERS_SYNCED, conditions_differ_ignoring_time, find_condition,
};
use crate::api::{Reason, TeamsTenantSyncStatus, UserSyncStatus};
use crate::sync::model::{PreviousOutcome, TenantChecks, UserKey, UserOutcome};
use crate::sync::readiness::Readiness;

mod listing;
mod tally;

use listing::list_users;
pub use listing::listing_order;
#[cfg(test)]
use listing::serialized_len;
pub use tally::saturate;
use tally::{Tally, tenant_conditions};

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
    /// What the source was read from, when it says (e.g. which Dialpad company): named on
    /// `SourceConnected`.
    pub source_origin: Option<&'a str>,
    /// The status written by the previous sync, if any.
    pub previous: Option<&'a TeamsTenantSyncStatus>,
    /// The resource's `metadata.generation`.
    pub generation: Option<i64>,
    /// Now.
    pub now: Time,
    /// The most bytes the serialized status may take (see [`DEFAULT_STATUS_BUDGET`]).
    pub budget_bytes: usize,
    /// When `Ready` is True.
    pub readiness: &'a Readiness,
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
        users_report: None,
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
        users_report,
    } = old;
    *observed_generation != new.observed_generation
        || *last_handled_sync_now != new.last_handled_sync_now
        || *summary != new.summary
        || *users_omitted != new.users_omitted
        || *users_report != new.users_report
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
pub(super) fn entry_key(user: &UserSyncStatus, reason: &str) -> UserKey {
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

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
