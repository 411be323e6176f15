//! What Graph returns that the sync reads: directory users, directory roles, number assignments.

use serde::Deserialize;

use crate::microsoft::licences::{AssignedLicense, AssignedPlan};
use crate::microsoft::nullable_vec;

/// A directory user, as far as the sync cares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    /// Object id.
    pub id: String,
    /// Sign-in name.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Primary SMTP address.
    #[serde(default)]
    pub mail: Option<String>,
    /// Addresses with their type as prefix: `SMTP:` the primary email address, `smtp:` the
    /// others, and other types (`SIP:`, `X500:`, ...) that are not email addresses.
    #[serde(default, deserialize_with = "crate::microsoft::nullable_strings")]
    pub proxy_addresses: Vec<String>,
    /// Whether the account is enabled (`None` if Graph did not say).
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// Usage location.
    #[serde(default)]
    pub usage_location: Option<String>,
    /// Service plans: only those the licence classifier looks at (see
    /// [`telephony_plans_only`](crate::microsoft::licences::telephony_plans_only)).
    #[serde(
        default,
        deserialize_with = "crate::microsoft::licences::telephony_plans_only"
    )]
    pub assigned_plans: Vec<AssignedPlan>,
    /// Licences.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub assigned_licenses: Vec<AssignedLicense>,
}

/// A directory role of the signed-in user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRole {
    /// The role's template id (compare this, never `id`).
    #[serde(default)]
    pub role_template_id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A Teams telephone number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberAssignment {
    /// The number, with a leading `+`.
    #[serde(default)]
    pub telephone_number: String,
    /// `directRouting`, `callingPlan`, `operatorConnect`.
    #[serde(default)]
    pub number_type: Option<String>,
    /// `userAssigned`, `unassigned`, `voiceApplicationAssigned`, ...
    #[serde(default)]
    pub assignment_status: Option<String>,
    /// `activated`, `assignmentPending`, `assignmentFailed`, ...
    #[serde(default)]
    pub activation_state: Option<String>,
    /// The holder's object id.
    #[serde(default)]
    pub assignment_target_id: Option<String>,
    /// `primary`, `private`, `alternate`.
    #[serde(default)]
    pub assignment_category: Option<String>,
}
