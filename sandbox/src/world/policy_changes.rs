//! Applying a `userAssignments/assign` or `unassign` request: every entry is checked first and
//! the batch is applied whole or not at all. Microsoft's pages answer a successful request with
//! `204 No Content` and no per-entry results
//! (https://learn.microsoft.com/graph/api/teamsadministration-teamspolicyuserassignment-assign),
//! so a request cannot report some entries applied and others refused; whether Teams applies
//! part of a refused batch is UNCONFIRMED.

use super::*;

/// One entry of an assign (`policy_id` set) or unassign (`policy_id` absent) request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyChange {
    /// The user's object id.
    pub user_id: String,
    /// The policy type as the client spelled it.
    pub policy_type: String,
    /// The policy to assign; `None` removes the user's direct assignment of the type.
    pub policy_id: Option<String>,
}

/// Why a batch was refused; the message names the entry (`value[2]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyBatchError {
    /// The entry is wrong in itself (400), e.g. an unsupported policy type.
    #[error("{0}")]
    Invalid(String),
    /// The entry names a user or policy that does not exist (404).
    #[error("{0}")]
    NotFound(String),
}

impl World {
    /// Checks every change, then applies them all. Removing a direct assignment the user does not
    /// have changes nothing and is not an error (UNCONFIRMED upstream).
    pub fn apply_policy_changes(&mut self, changes: &[PolicyChange]) -> Result<(), PolicyBatchError> {
        let mut resolved: Vec<((String, String), Option<String>)> = Vec::with_capacity(changes.len());
        for (index, change) in changes.iter().enumerate() {
            let Some(policy_type) = self.teams.accepted_type(&change.policy_type).map(str::to_owned) else {
                return Err(PolicyBatchError::Invalid(format!(
                    "value[{index}]: the policy type '{}' is not supported.",
                    change.policy_type
                )));
            };
            let user = self
                .user(&change.user_id)
                .or_else(|| {
                    self.users
                        .iter()
                        .find(|u| u.id.eq_ignore_ascii_case(&change.user_id))
                })
                .filter(|u| u.feature_types().contains(&"Teams"))
                .ok_or_else(|| {
                    PolicyBatchError::NotFound(format!(
                        "value[{index}]: user '{}' was not found in Teams.",
                        change.user_id
                    ))
                })?;
            let key = (user.id.clone(), policy_type.clone());
            if resolved.iter().any(|(k, _)| *k == key) {
                return Err(PolicyBatchError::Invalid(format!(
                    "value[{index}]: user '{}' and policy type '{policy_type}' appear more than once in the request.",
                    change.user_id
                )));
            }
            if let Some(policy_id) = &change.policy_id
                && self.teams.by_id(&policy_type, policy_id).is_none()
            {
                return Err(PolicyBatchError::NotFound(format!(
                    "value[{index}]: no policy of type '{policy_type}' has the id '{policy_id}'."
                )));
            }
            resolved.push((key, change.policy_id.clone()));
        }
        for (key, policy_id) in resolved {
            match policy_id {
                Some(id) => self.teams.direct.insert(key, id),
                None => self.teams.direct.remove(&key),
            };
        }
        Ok(())
    }
}
