//! What a targeted re-sync works on, as plain data: the users a batch of changes names
//! ([`Targets`]), the last complete state it starts from ([`Snapshot`]), whom the planner may
//! decide ([`PlanScope`]), and the pure steps around the plan: patching the desired state with
//! users read again, finding the desired users a Teams user answers to, and merging the scope's
//! outcomes into the complete list.
//!
//! The planner sees the whole desired state (patched), so duplicates and matches are judged as
//! in a full sync; it decides only the scope's users, and only numbers of Teams users whose
//! numbers were read completely can read as a departure. Everything else keeps its last outcome.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::model::{DesiredState, DesiredUser, RetryState, TeamsState, TenantChecks, UserKey, UserOutcome};
use crate::api::Reason;

/// Whom a batch of changes names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    /// Dialpad user ids (change-log events).
    pub dialpad_users: BTreeSet<String>,
    /// Teams (Microsoft Entra) object ids (`users/delta`).
    pub teams_users: BTreeSet<String>,
}

impl Targets {
    /// Whether it names nobody.
    pub fn is_empty(&self) -> bool {
        self.dialpad_users.is_empty() && self.teams_users.is_empty()
    }

    /// How many users it names.
    pub fn len(&self) -> usize {
        self.dialpad_users.len() + self.teams_users.len()
    }
}

/// Whether re-syncing `targets` one by one is cheaper than a full sync of `users` source users:
/// a named user costs about 1.3 requests (one source read, a share of the filtered Teams reads),
/// a full sync about one per 50 users (source pages of 100 users and 100 numbers, Teams pages of
/// 999 users and 1,000 numbers). Small batches are always targeted.
pub fn worth_targeting(targets: &Targets, users: usize) -> bool {
    targets.len() <= (users / 64).max(16)
}

/// The last complete state: what a full sync read from the source, its tenant checks, and every
/// user's outcome after its changes. Kept only for resources with change events.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The source's state, patched by every targeted re-sync since.
    pub desired: DesiredState,
    /// Every user's outcome, updated by every targeted re-sync since.
    pub outcomes: Vec<UserOutcome>,
    /// The full sync's tenant checks (a targeted re-sync runs only after passing ones).
    pub checks: TenantChecks,
    /// Whether the spec names Teams policies, which a targeted re-sync does not read.
    pub policies: bool,
}

/// Whom a targeted plan decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanScope {
    /// Desired users planned (their outcomes and changes); the others are only matched.
    pub users: HashSet<UserKey>,
    /// Teams users whose numbers were all read: only their numbers may read as a departure.
    pub holders: HashSet<String>,
}

impl PlanScope {
    /// Whether `outcome` is decided by this scope's plan (and so replaced by it).
    pub fn decides(&self, outcome: &UserOutcome) -> bool {
        match &outcome.key {
            UserKey::Departed { teams_user_id, .. } => self.holders.contains(teams_user_id),
            key => self.users.contains(key),
        }
    }
}

/// What a targeted re-sync reads of Teams: the users answering to `addresses`, every number each
/// of them holds, and the holders of `numbers`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Around {
    /// Lower-cased emails.
    pub addresses: Vec<String>,
    /// Normalised numbers.
    pub numbers: Vec<String>,
}

/// A source user as read again by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceUser {
    /// The user's id.
    pub id: String,
    /// The desired user it stands for (`None`: not desired, e.g. removed or invited).
    pub desired: Option<DesiredUser>,
    /// Its numbers, normalised where they can be.
    pub numbers: Vec<String>,
    /// Whether its numbers are protected (neither desired nor gone).
    pub protected: bool,
}

/// Replaces what `state` holds of the users `ids` with what was read again (`found`; an id
/// missing from it is gone): their desired entries, the numbers they own and protect. A number a
/// user no longer has stays the company's (`owned_numbers` is the inventory's).
pub fn patch_desired(state: &mut DesiredState, ids: &BTreeSet<String>, found: Vec<SourceUser>) {
    let numbers_before: Vec<String> = state
        .number_owners
        .iter()
        .filter(|(_, owner)| ids.contains(owner.as_str()))
        .map(|(number, _)| number.clone())
        .collect();
    for number in &numbers_before {
        state.number_owners.remove(number);
        state.protected_numbers.remove(number);
    }
    state
        .users
        .retain(|user| user.dialpad_user_id.as_ref().is_none_or(|id| !ids.contains(id)));
    for user in found.into_iter().filter(|user| ids.contains(&user.id)) {
        for number in user.numbers {
            state.owned_numbers.insert(number.clone());
            state.number_owners.insert(number.clone(), user.id.clone());
            if user.protected {
                state.protected_numbers.insert(number);
            }
        }
        state.users.extend(user.desired);
    }
}

/// The keys of desired users whose email a user of `teams` answers to: changed Teams users
/// bring the desired users they match into the scope.
pub fn answering(desired: &DesiredState, teams: &TeamsState) -> HashSet<UserKey> {
    desired
        .users
        .iter()
        .filter(|user| {
            user.email
                .as_deref()
                .is_some_and(|email| !teams.index.find(email).is_empty())
        })
        .map(DesiredUser::key)
        .collect()
}

/// The emails of the desired users of `keys` in `desired`, lower-cased, without blanks or
/// repeats.
pub fn emails_of(desired: &DesiredState, keys: &HashSet<UserKey>) -> BTreeSet<String> {
    desired
        .users
        .iter()
        .filter(|user| keys.contains(&user.key()))
        .filter_map(|user| user.email.as_deref())
        .map(|email| email.trim().to_lowercase())
        .filter(|email| !email.is_empty())
        .collect()
}

/// The users of `outcomes` to look at again soon: those Teams is still activating, and those
/// with a retry pending (a desired user by Dialpad id, a departed one by its Teams user).
pub fn waiting_users(outcomes: &[UserOutcome], retries: &HashMap<UserKey, RetryState>) -> Targets {
    let mut waiting = Targets::default();
    for outcome in outcomes {
        let retried = retries.contains_key(&outcome.key);
        match &outcome.key {
            UserKey::Dialpad(id) if retried || outcome.reason == Reason::AssignmentPending => {
                waiting.dialpad_users.insert(id.clone());
            }
            UserKey::Departed { teams_user_id, .. } if retried => {
                waiting.teams_users.insert(teams_user_id.clone());
            }
            _ => {}
        }
    }
    waiting
}

/// `previous` with every outcome `scope` decides replaced by `fresh`, which follow the rest.
pub fn merge_outcomes(
    previous: &[UserOutcome],
    scope: &PlanScope,
    fresh: Vec<UserOutcome>,
) -> Vec<UserOutcome> {
    let mut merged: Vec<UserOutcome> = previous
        .iter()
        .filter(|outcome| !scope.decides(outcome))
        .cloned()
        .collect();
    // A departed user's entry is decided by its holder; one planned again under another holder
    // (not in the scope) would otherwise appear twice.
    let fresh_keys: HashSet<&UserKey> = fresh.iter().map(|o| &o.key).collect();
    merged.retain(|outcome| !fresh_keys.contains(&outcome.key));
    merged.extend(fresh);
    merged
}

#[cfg(test)]
#[path = "targets_tests.rs"]
mod tests;
