//! Which numbers a resource owns: those it assigned, and (with `spec.removal.adoptExisting`)
//! those a desired user already held when it first looked. Only owned numbers are ever unassigned,
//! by a sync or on delete, and only while Teams still shows them on the user they were recorded
//! for. The record is plain data here; where it is kept (ConfigMaps, memory) is the caller's
//! business, behind [`super::ports::OwnershipStore`].

use std::collections::{BTreeMap, HashMap};

use super::model::{ActionKind, Plan, TeamsState};
use super::policies::{PolicyChange, PolicyKind, PolicySource};
use crate::api::{Reason, SyncMode};

/// Numbers a resource owns, each with the Teams user id it was assigned to, and the Teams
/// policies it assigned, by user and kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnershipRecord {
    entries: BTreeMap<String, String>,
    policies: BTreeMap<(String, PolicyKind), String>,
}

/// A line of a stored record that reads neither as `<number> <teams user id>` nor as
/// `policy <kind> <teams user id> <policy id>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line} of the ownership record is neither '<number> <teams user id>' nor 'policy <kind> <teams user id> <policy id>': {content:?}"
)]
pub struct RecordFormatError {
    /// 1-based line number.
    pub line: usize,
    /// The line, cut to 80 characters.
    pub content: String,
}

/// A number to unassign on delete, and who holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The number.
    pub number: String,
    /// The Teams user id it is assigned to.
    pub holder: String,
}

impl OwnershipRecord {
    /// A record of `(number, teams user id)` pairs.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            entries: entries.into_iter().collect(),
            policies: BTreeMap::new(),
        }
    }

    /// Numbers owned.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is owned: no number and no policy.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.policies.is_empty()
    }

    /// Adds `other`'s numbers and policies (a shard of the same record).
    pub fn extend(&mut self, other: OwnershipRecord) {
        self.entries.extend(other.entries);
        self.policies.extend(other.policies);
    }

    /// The policy of `kind` this resource assigned to `user_id`, if any.
    pub fn policy(&self, user_id: &str, kind: PolicyKind) -> Option<&str> {
        self.policies.get(&(user_id.to_owned(), kind)).map(String::as_str)
    }

    /// The policies owned: Teams user id, kind, policy id.
    pub fn policy_entries(&self) -> impl Iterator<Item = (&str, PolicyKind, &str)> {
        self.policies
            .iter()
            .map(|((user, kind), id)| (user.as_str(), *kind, id.as_str()))
    }

    /// This record without the policies `changes` concern (unassigned, or refused when assigned).
    pub fn without_policies<'a>(&self, changes: impl IntoIterator<Item = &'a PolicyChange>) -> Self {
        let mut record = self.clone();
        for change in changes {
            record.policies.remove(&change.owned_target());
        }
        record
    }

    /// This record after `changes` were made: assignments recorded, unassignments dropped.
    pub fn with_policy_changes<'a>(&self, changes: impl IntoIterator<Item = &'a PolicyChange>) -> Self {
        let mut record = self.clone();
        for change in changes {
            match change {
                PolicyChange::Assign { policy_id, .. } => {
                    record.policies.insert(change.owned_target(), policy_id.clone());
                }
                PolicyChange::Unassign { .. } => {
                    record.policies.remove(&change.owned_target());
                }
            }
        }
        record
    }

    /// Whether `number` is owned as assigned to `holder`.
    pub fn owns(&self, number: &str, holder: &str) -> bool {
        self.entries.get(number).is_some_and(|h| h == holder)
    }

    /// The entries, by number.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, h)| (n.as_str(), h.as_str()))
    }

    /// The record to keep before a plan's changes are made (written first, so that a crash after
    /// an assignment never leaves an assigned number unrecorded). From a complete read of Teams
    /// it drops what Teams no longer shows on the recorded user (someone unassigned or moved it),
    /// adds every planned assignment and, with `adopt`, every number a desired user already holds
    /// as desired and every number a planned replacement adopts ([`Plan::adoptions`]).
    /// In `DryRun` nothing changes.
    pub fn before_changes(&self, teams: &TeamsState, plan: &Plan, mode: SyncMode, adopt: bool) -> Self {
        if mode == SyncMode::DryRun {
            return self.clone();
        }
        let held: HashMap<&str, &str> = teams
            .numbers
            .iter()
            .map(|h| (h.number.as_str(), h.holder.as_str()))
            .collect();
        let mut entries: BTreeMap<String, String> = self
            .entries
            .iter()
            .filter(|(number, holder)| held.get(number.as_str()) == Some(&holder.as_str()))
            .map(|(n, h)| (n.clone(), h.clone()))
            .collect();
        if adopt {
            for outcome in plan.outcomes.iter().filter(|o| o.desired) {
                let in_place = matches!(outcome.reason, Reason::InSync | Reason::AssignmentPending);
                if let (true, Some(number), Some(user)) =
                    (in_place, &outcome.phone_number, &outcome.teams_user_id)
                    && held.get(number.as_str()) == Some(&user.as_str())
                {
                    entries.insert(number.clone(), user.clone());
                }
            }
            // What a planned replacement takes off a user it may take only as this resource's:
            // recorded first, so that a replacement Teams refuses leaves the number adopted.
            for (number, user) in &plan.adoptions {
                if held.get(number.as_str()) == Some(&user.as_str()) {
                    entries.insert(number.clone(), user.clone());
                }
            }
        }
        for action in &plan.actions {
            if let ActionKind::Assign { number, user_id, .. } = &action.kind {
                entries.insert(number.clone(), user_id.clone());
            }
        }
        // A policy of a kind the sync read stays recorded while Teams applies it to the user
        // directly; one of a kind it did not read (none is configured now) stays as it was.
        let state = &teams.policies;
        let policies = self
            .policies
            .iter()
            .filter(|((user, kind), id)| {
                !state.kinds.contains(kind)
                    || state.effective(user, *kind).is_some_and(|effective| {
                        effective.source == PolicySource::Direct
                            && effective.policy_id.eq_ignore_ascii_case(id)
                    })
            })
            .map(|(key, id)| (key.clone(), id.clone()))
            .collect();
        let assigned = plan.policy_changes.iter().map(|(_, change)| change);
        Self { entries, policies }
            .with_policy_changes(assigned.filter(|c| matches!(c, PolicyChange::Assign { .. })))
    }

    /// This record split in two: the number entries `inside(number, holder)` accepts, and the
    /// rest with every policy entry. A targeted re-sync brings up to date only what it read.
    pub fn split(&self, inside: impl Fn(&str, &str) -> bool) -> (Self, Self) {
        let (entries_in, entries_out) = self
            .entries
            .iter()
            .map(|(n, h)| (n.clone(), h.clone()))
            .partition(|(n, h)| inside(n, h));
        let within = Self {
            entries: entries_in,
            policies: BTreeMap::new(),
        };
        let rest = Self {
            entries: entries_out,
            policies: self.policies.clone(),
        };
        (within, rest)
    }

    /// This record with `other`'s entries and policies added (this record's win a clash).
    pub fn joined(&self, other: &Self) -> Self {
        let mut record = other.clone();
        record
            .entries
            .extend(self.entries.iter().map(|(n, h)| (n.clone(), h.clone())));
        record
            .policies
            .extend(self.policies.iter().map(|(k, v)| (k.clone(), v.clone())));
        record
    }

    /// This record without `numbers` (unassigned by this resource).
    pub fn without<'a>(&self, numbers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut record = self.clone();
        for number in numbers {
            record.entries.remove(number);
        }
        record
    }

    /// The record with `number` recorded as assigned to `holder`, for each pair.
    pub fn with<'a>(&self, entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut record = self.clone();
        for (number, holder) in entries {
            record.entries.insert(number.to_owned(), holder.to_owned());
        }
        record
    }

    /// What to unassign on delete: each owned number Teams still shows on its recorded user.
    pub fn removals(&self, teams: &TeamsState) -> Vec<Removal> {
        let held: HashMap<&str, &str> = teams
            .numbers
            .iter()
            .map(|h| (h.number.as_str(), h.holder.as_str()))
            .collect();
        self.entries
            .iter()
            .filter(|(number, holder)| held.get(number.as_str()) == Some(&holder.as_str()))
            .map(|(number, holder)| Removal {
                number: number.clone(),
                holder: holder.clone(),
            })
            .collect()
    }

    /// The policies to unassign on delete: each recorded policy of a kind `teams` was read for
    /// that Teams still applies to its user directly.
    pub fn policy_removals(&self, teams: &TeamsState) -> Vec<PolicyChange> {
        let state = &teams.policies;
        self.policies
            .iter()
            .filter(|((user, kind), id)| {
                state.kinds.contains(kind)
                    && state.effective(user, *kind).is_some_and(|effective| {
                        effective.source == PolicySource::Direct
                            && effective.policy_id.eq_ignore_ascii_case(id)
                    })
            })
            .map(|((user, kind), _)| PolicyChange::Unassign {
                user_id: user.clone(),
                kind: *kind,
            })
            .collect()
    }

    /// The record as text: one `<number> <teams user id>` line per number, sorted, then one
    /// `policy <kind> <teams user id> <policy id>` line per policy.
    pub fn to_text(&self) -> String {
        let numbers = self.entries.iter().map(|(n, h)| format!("{n} {h}\n"));
        numbers.chain(self.policy_lines()).collect()
    }

    /// The policies as `policy <kind> <teams user id> <policy id>` lines.
    pub fn policy_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.policy_entries()
            .map(|(user, kind, id)| format!("{POLICY_LINE} {} {user} {id}\n", kind.field()))
    }

    /// Reads [`OwnershipRecord::to_text`]'s format; blank lines are ignored.
    pub fn parse(text: &str) -> Result<Self, RecordFormatError> {
        let mut entries = BTreeMap::new();
        let mut policies = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                [number, holder] if number.starts_with('+') => {
                    entries.insert((*number).to_owned(), (*holder).to_owned());
                }
                [POLICY_LINE, kind, user, id] if PolicyKind::from_field(kind).is_some() => {
                    let kind = PolicyKind::from_field(kind).expect("checked above");
                    policies.insert(((*user).to_owned(), kind), (*id).to_owned());
                }
                _ => {
                    return Err(RecordFormatError {
                        line: index + 1,
                        content: line.chars().take(80).collect(),
                    });
                }
            }
        }
        Ok(Self { entries, policies })
    }
}

/// The first word of a policy line of the stored record.
const POLICY_LINE: &str = "policy";

#[cfg(test)]
#[path = "ownership_tests.rs"]
mod tests;
