//! What the planner looks up while it decides: Teams' users by id and numbers by number and by
//! holder ([`Lookup`]), and whether a user's last failed change may be tried again yet
//! ([`retry_gate`]). Shared by the plan, its removals and the early assigner.

use std::collections::HashMap;

use super::input::PlanInput;
use super::model::{HeldNumber, TeamsUser, UserKey};
use crate::api::Reason;

/// Teams' users and numbers of one plan's input, indexed.
pub(super) struct Lookup<'a> {
    pub(super) users_by_id: HashMap<&'a str, &'a TeamsUser>,
    pub(super) holder_of: HashMap<&'a str, &'a HeldNumber>,
    pub(super) numbers_of: HashMap<&'a str, Vec<&'a HeldNumber>>,
}

impl<'a> Lookup<'a> {
    pub(super) fn new(input: &'a PlanInput) -> Self {
        let users_by_id = input.teams.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let mut holder_of = HashMap::new();
        let mut numbers_of: HashMap<&str, Vec<&HeldNumber>> = HashMap::new();
        for held in &input.teams.numbers {
            holder_of.insert(held.number.as_str(), held);
            numbers_of.entry(held.holder.as_str()).or_default().push(held);
        }
        Self {
            users_by_id,
            holder_of,
            numbers_of,
        }
    }

    pub(super) fn upn(&self, id: &str) -> String {
        self.users_by_id
            .get(id)
            .map(|u| u.user_principal_name.clone())
            .unwrap_or_else(|| format!("user {id}"))
    }
}

/// The last failure's reason and message when the user's change failed recently and its next
/// attempt is not due yet.
pub(super) fn retry_gate(input: &PlanInput, key: &UserKey) -> Option<(Reason, String)> {
    let retry = input.retries.get(key)?;
    let next = retry.next_attempt?;
    (next > input.now).then(|| {
        let message = format!(
            "{} (attempt {}; next retry at {})",
            retry.message,
            retry.attempts,
            super::model::display_time(next)
        );
        (retry.reason, message)
    })
}
