//! Directory change tracking, for Graph's `users/delta`, and the changes an Entra admin makes
//! (`POST /_sandbox/directory/changes`).
//!
//! Every change bumps one monotonically increasing directory sequence; each user remembers the
//! sequence it was created at and the sequence each property last changed at, and a deleted user
//! leaves a tombstone (its id and the sequence of its deletion). A delta round then reads "what
//! changed after sequence N" from the users and the tombstones, without a change log to trim.

use serde::Deserialize;

use crate::licensing::{Plan, licensing};

use super::build::display_name_of;
use super::*;

/// Where the directory's change tracking stands.
#[derive(Clone, Debug)]
pub struct DirectoryLog {
    /// The sequence of the latest change (0: none since the fixture was loaded).
    pub sequence: u64,
    /// Random for each world: a state token minted by another sandbox run names another epoch.
    pub epoch: u64,
    /// Deleted users, in deletion order.
    pub tombstones: Vec<Tombstone>,
}

impl DirectoryLog {
    /// A log with no changes, in a fresh epoch.
    pub fn new() -> Self {
        Self {
            sequence: 0,
            epoch: rand::random(),
            tombstones: Vec::new(),
        }
    }
}

impl Default for DirectoryLog {
    fn default() -> Self {
        Self::new()
    }
}

/// A deleted user, as `users/delta` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// The deleted user's object id.
    pub id: String,
    /// The sequence of the deletion.
    pub sequence: u64,
}

/// When a directory user and its properties last changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeStamps {
    /// The sequence the user was created at (0: loaded from the fixture).
    pub created: u64,
    /// `(property, sequence)`: the latest change of each property changed since creation, by
    /// Graph's property name (`accountEnabled`, `assignedPlans`, ...).
    pub properties: Vec<(&'static str, u64)>,
}

impl ChangeStamps {
    /// Whether the user was created, or one of `properties` (any property: `None`) changed,
    /// after `since` and no later than `upto`.
    pub fn changed_between(&self, properties: Option<&[&str]>, since: u64, upto: u64) -> bool {
        let within = |sequence: u64| sequence > since && sequence <= upto;
        within(self.created)
            || self.properties.iter().any(|(name, sequence)| {
                within(*sequence) && properties.is_none_or(|wanted| wanted.contains(name))
            })
    }

    /// The sequence of the user's latest change, creation included.
    pub fn last(&self) -> u64 {
        self.properties
            .iter()
            .map(|(_, sequence)| *sequence)
            .fold(self.created, u64::max)
    }

    fn touch(&mut self, properties: &[&'static str], sequence: u64) {
        for property in properties {
            match self.properties.iter_mut().find(|(name, _)| name == property) {
                Some(entry) => entry.1 = sequence,
                None => self.properties.push((property, sequence)),
            }
        }
    }
}

/// A change an Entra admin makes to the directory, as `POST /_sandbox/directory/changes` takes
/// it: `{"change": "addUser", "userPrincipalName": ..., "mail"?: ..., "displayName"?: ...}`,
/// `{"change": "removeLicence" | "disableUser" | "deleteUser", "userPrincipalName": ...}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(
    tag = "change",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum DirectoryChange {
    /// A new member user, enabled, with a usage location and a licence carrying Teams and Phone
    /// System ([`NEW_USER_LICENCE`]), so numbers can be assigned to it.
    AddUser {
        /// Its sign-in name; the domain must be one of the tenant's.
        user_principal_name: String,
        /// Its primary SMTP address (default: the UPN).
        mail: Option<String>,
        /// Its display name (default: made from the UPN).
        display_name: Option<String>,
    },
    /// The Phone System service plan is turned off in every licence of the user that carries
    /// it (added to the licence's `disabledPlans`; the plan's `capabilityStatus` becomes
    /// `Deleted`), as unticking Teams Phone in the admin center does. The licences stay.
    RemoveLicence {
        /// The user.
        user_principal_name: String,
    },
    /// Sign-in blocked: `accountEnabled` false.
    DisableUser {
        /// The user.
        user_principal_name: String,
    },
    /// The user is deleted (soft: restorable, so `users/delta` reports
    /// `"@removed": {"reason": "changed"}`); the numbers it held are released.
    DeleteUser {
        /// The user.
        user_principal_name: String,
    },
}

/// The licence (`skuPartNumber`) a user added by [`DirectoryChange::AddUser`] gets: Microsoft
/// 365 E5, which carries Teams and Phone System, as the example org's licensed users have.
pub const NEW_USER_LICENCE: &str = "SPE_E5";

/// The usage location of a user added by [`DirectoryChange::AddUser`] (Teams needs one to
/// assign a number).
pub const NEW_USER_USAGE_LOCATION: &str = "US";

/// Why a directory change is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectoryChangeError {
    /// No user has this UPN.
    #[error("no directory user has the userPrincipalName '{0}'")]
    UnknownUser(String),
    /// A user already has this UPN.
    #[error("a directory user with the userPrincipalName '{0}' already exists")]
    UserExists(String),
    /// The UPN's domain is not a verified domain of the tenant.
    #[error("the domain of '{0}' is not a verified domain of the tenant")]
    UnverifiedDomain(String),
    /// `removeLicence` on a user without an enabled Phone System plan.
    #[error("'{0}' has no enabled Phone System plan to remove")]
    NoPhoneSystem(String),
    /// `disableUser` on a disabled user.
    #[error("'{0}' is already disabled")]
    AlreadyDisabled(String),
    /// `deleteUser` on an admin account of the fixture (the sandbox's sign-in needs it).
    #[error("'{0}' is an admin account of the sandbox's fixture and cannot be deleted")]
    AdminAccount(String),
}

impl DirectoryChangeError {
    /// Whether the change names a user that does not exist (404) rather than a bad change (400).
    pub fn is_not_found(&self) -> bool {
        matches!(self, DirectoryChangeError::UnknownUser(_))
    }
}

impl World {
    /// The sequence of the directory's latest change.
    pub fn directory_sequence(&self) -> u64 {
        self.directory.sequence
    }

    /// Users deleted after `since` up to and including `upto`.
    pub fn tombstones_between(&self, since: u64, upto: u64) -> impl Iterator<Item = &Tombstone> {
        self.directory
            .tombstones
            .iter()
            .filter(move |t| t.sequence > since && t.sequence <= upto)
    }

    /// Applies `change` as one new directory sequence; returns the object id of the user it
    /// changed.
    pub fn apply_directory_change(
        &mut self,
        change: &DirectoryChange,
    ) -> Result<String, DirectoryChangeError> {
        match change {
            DirectoryChange::AddUser {
                user_principal_name,
                mail,
                display_name,
            } => self.add_user(user_principal_name, mail.as_deref(), display_name.as_deref()),
            DirectoryChange::RemoveLicence { user_principal_name } => {
                let index = self.index_of_upn(user_principal_name)?;
                let user = &self.users[index];
                if !user.has_enabled_plan(Plan::is_phone_system) {
                    return Err(DirectoryChangeError::NoPhoneSystem(user_principal_name.clone()));
                }
                let sequence = self.next_sequence();
                let user = &mut self.users[index];
                disable_phone_system(user);
                user.changes
                    .touch(&["assignedLicenses", "assignedPlans"], sequence);
                Ok(user.id.clone())
            }
            DirectoryChange::DisableUser { user_principal_name } => {
                let index = self.index_of_upn(user_principal_name)?;
                if !self.users[index].account_enabled {
                    return Err(DirectoryChangeError::AlreadyDisabled(user_principal_name.clone()));
                }
                let sequence = self.next_sequence();
                let user = &mut self.users[index];
                user.account_enabled = false;
                user.changes.touch(&["accountEnabled"], sequence);
                Ok(user.id.clone())
            }
            DirectoryChange::DeleteUser { user_principal_name } => {
                let index = self.index_of_upn(user_principal_name)?;
                if self.admins.contains_key(&user_principal_name.to_lowercase()) {
                    return Err(DirectoryChangeError::AdminAccount(user_principal_name.clone()));
                }
                let sequence = self.next_sequence();
                let user = self.users.remove(index);
                self.user_index.remove(&user.id);
                self.reindex_users_from(index);
                self.release_numbers_of(&user.id);
                for group in &mut self.groups {
                    group.member_ids.retain(|member| member != &user.id);
                }
                self.directory.tombstones.push(Tombstone {
                    id: user.id.clone(),
                    sequence,
                });
                Ok(user.id)
            }
        }
    }

    fn add_user(
        &mut self,
        upn: &str,
        mail: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<String, DirectoryChangeError> {
        let domain = upn.rsplit_once('@').map(|(_, domain)| domain).unwrap_or_default();
        if !self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return Err(DirectoryChangeError::UnverifiedDomain(upn.to_owned()));
        }
        if self.user_by_upn(upn).is_some() {
            return Err(DirectoryChangeError::UserExists(upn.to_owned()));
        }
        let mail = mail.unwrap_or(upn).to_owned();
        let id = self.new_guid();
        let sequence = self.next_sequence();
        let mut user = DirectoryUser {
            id: id.clone(),
            user_principal_name: upn.to_owned(),
            proxy_addresses: vec![format!("SMTP:{mail}")],
            mail: Some(mail),
            display_name: display_name.map_or_else(|| display_name_of(upn), str::to_owned),
            account_enabled: true,
            usage_location: Some(NEW_USER_USAGE_LOCATION.to_owned()),
            assigned_licenses: Vec::new(),
            assigned_plans: Vec::new(),
            role_template_ids: Vec::new(),
            assignment_error: None,
            changes: ChangeStamps {
                created: sequence,
                properties: Vec::new(),
            },
        };
        grant_licence(&mut user, NEW_USER_LICENCE);
        let at = self.users.partition_point(|u| u.id < id);
        self.users.insert(at, user);
        self.reindex_users_from(at);
        Ok(id)
    }

    fn index_of_upn(&self, upn: &str) -> Result<usize, DirectoryChangeError> {
        self.users
            .iter()
            .position(|u| u.user_principal_name.eq_ignore_ascii_case(upn))
            .ok_or_else(|| DirectoryChangeError::UnknownUser(upn.to_owned()))
    }

    fn next_sequence(&mut self) -> u64 {
        self.directory.sequence += 1;
        self.directory.sequence
    }

    /// Points the id index at the users from position `from` on, after one was inserted or
    /// removed there (the users before it did not move).
    fn reindex_users_from(&mut self, from: usize) {
        for (offset, user) in self.users[from..].iter().enumerate() {
            match self.user_index.get_mut(&user.id) {
                Some(index) => *index = from + offset,
                None => {
                    self.user_index.insert(user.id.clone(), from + offset);
                }
            }
        }
    }

    /// A deleted user's numbers go back to the tenant, unassigned.
    fn release_numbers_of(&mut self, user_id: &str) {
        for record in self.numbers.values_mut() {
            if record.assignment_target_id.as_deref() == Some(user_id) {
                record.assignment_target_id = None;
                record.activates_at = None;
                record.location_id = None;
            }
        }
        self.primaries.remove(user_id);
    }
}

/// Gives `user` the SKU `part_number` with every plan enabled.
fn grant_licence(user: &mut DirectoryUser, part_number: &str) {
    if let Some(sku) = licensing().sku_by_part_number(part_number) {
        user.assigned_licenses.push((sku.id.clone(), Vec::new()));
        user.assigned_plans
            .extend(licensing().plans_of(sku).map(|plan| (plan, "Enabled")));
    }
}

/// Turns off every Phone System plan of `user`: listed in its licence's `disabledPlans`, and
/// `Deleted` in `assignedPlans`.
fn disable_phone_system(user: &mut DirectoryUser) {
    for (sku_id, disabled) in &mut user.assigned_licenses {
        let Some(sku) = licensing()
            .skus()
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(sku_id))
        else {
            continue;
        };
        for plan in licensing().plans_of(sku).filter(|p| p.is_phone_system()) {
            if !disabled.iter().any(|d| d.eq_ignore_ascii_case(&plan.id)) {
                disabled.push(plan.id.clone());
            }
        }
    }
    for (plan, status) in &mut user.assigned_plans {
        if plan.is_phone_system() {
            *status = "Deleted";
        }
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
