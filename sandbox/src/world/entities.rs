//! The entities of the simulated organisation.

use std::time::Instant;

use jiff::Timestamp;

use crate::fixture::{AdminFixture, IdEncoding, OtherCompanyFixture};
use crate::licensing::Plan;

use super::ChangeStamps;

/// A directory user as Graph describes it.
#[derive(Clone, Debug)]
pub struct DirectoryUser {
    /// Object id (GUID).
    pub id: String,
    /// Sign-in name.
    pub user_principal_name: String,
    /// Primary SMTP address.
    pub mail: Option<String>,
    /// `SMTP:`/`smtp:` addresses.
    pub proxy_addresses: Vec<String>,
    /// Display name.
    pub display_name: String,
    /// Whether sign-in is allowed.
    pub account_enabled: bool,
    /// Two-letter usage location.
    pub usage_location: Option<String>,
    /// `(skuId, disabledPlans ids)` per licence.
    pub assigned_licenses: Vec<(String, Vec<String>)>,
    /// Service plans with their `capabilityStatus` (`Enabled`, or `Deleted` when disabled).
    pub assigned_plans: Vec<(&'static Plan, &'static str)>,
    /// Directory role template ids held directly.
    pub role_template_ids: Vec<String>,
    /// A `statusDetail` every assignment to this user fails with (fixture fault).
    pub assignment_error: Option<String>,
    /// When it and its properties last changed (`users/delta`).
    pub changes: ChangeStamps,
}

impl DirectoryUser {
    /// Whether an enabled plan of the user's is one `kind` accepts.
    pub fn has_enabled_plan(&self, kind: impl Fn(&Plan) -> bool) -> bool {
        self.assigned_plans
            .iter()
            .any(|(plan, status)| *status == "Enabled" && kind(plan))
    }

    /// The Teams `featureTypes` that follow from the user's licences.
    pub fn feature_types(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if self.has_enabled_plan(|p| p.name == "TEAMS1") {
            features.push("Teams");
        }
        if self.has_enabled_plan(Plan::is_phone_system) {
            features.push("PhoneSystem");
        }
        if self.has_enabled_plan(Plan::is_calling_plan) {
            features.push("CallingPlan");
        }
        features
    }

    /// Whether `email` is this user's mail, UPN or an SMTP proxy address (ignoring case).
    pub fn answers_to(&self, email: &str) -> bool {
        self.mail
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(email))
            || self.user_principal_name.eq_ignore_ascii_case(email)
            || self.proxy_addresses.iter().any(|p| {
                p.split_once(':').is_some_and(|(kind, a)| {
                    kind.eq_ignore_ascii_case("smtp") && a.eq_ignore_ascii_case(email)
                })
            })
    }
}

/// A role-assignable group and the directory roles assigned to it.
#[derive(Clone, Debug)]
pub struct RoleGroup {
    /// Object id (GUID).
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Template ids of the roles assigned to the group.
    pub role_template_ids: Vec<String>,
    /// Object ids of its members.
    pub member_ids: Vec<String>,
}

/// A telephone number known to Teams.
#[derive(Clone, Debug)]
pub struct NumberRecord {
    /// Stable id of the numberAssignment entity.
    pub id: String,
    /// `+` and digits, with `;ext=` if any.
    pub telephone_number: String,
    /// `directRouting`, `callingPlan` or `operatorConnect`.
    pub number_type: String,
    /// The user holding it, if any.
    pub assignment_target_id: Option<String>,
    /// `primary`, `private` or `alternate`.
    pub assignment_category: String,
    /// Emergency location id.
    pub location_id: Option<String>,
    /// When `assignmentPending` turns into `activated`.
    pub activates_at: Option<Instant>,
}

impl NumberRecord {
    /// `assignmentStatus` as Graph spells it.
    pub fn assignment_status(&self) -> &'static str {
        if self.assignment_target_id.is_some() {
            "userAssigned"
        } else {
            "unassigned"
        }
    }

    /// `activationState` at `now`.
    pub fn activation_state(&self, now: Instant) -> &'static str {
        match self.activates_at {
            Some(at) if self.assignment_target_id.is_some() && now < at => "assignmentPending",
            _ => "activated",
        }
    }
}

/// What a long-running operation does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationKind {
    /// `assignNumber`.
    Assign {
        /// The number.
        telephone_number: String,
        /// The user.
        target_id: String,
        /// The number type.
        number_type: String,
        /// The category.
        category: String,
        /// Emergency location.
        location_id: Option<String>,
    },
    /// `unassignNumber`.
    Unassign {
        /// The number.
        telephone_number: String,
    },
}

/// A telephone-number long-running operation.
#[derive(Clone, Debug)]
pub struct Operation {
    /// Its id.
    pub id: String,
    /// When it was created.
    pub created: Timestamp,
    /// What it does.
    pub kind: OperationKind,
    /// When it completes.
    pub completes_at: Instant,
    /// `None` while running; then `Ok(number record id)` or `Err(statusDetail)`.
    pub outcome: Option<Result<String, String>>,
}

/// Who a token was issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A user signed in with a password (delegated token).
    User {
        /// Object id.
        user_id: String,
        /// Public client used.
        client_id: String,
    },
    /// An app with client credentials (app-only token).
    Application {
        /// The app's client id.
        client_id: String,
        /// Granted application permissions.
        roles: Vec<String>,
    },
}

/// An issued access or refresh token.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Who it is for.
    pub principal: Principal,
    /// When it stops working.
    pub expires_at: Instant,
}

/// A Dialpad user as stored.
#[derive(Clone, Debug)]
pub struct DialpadUser {
    /// Digits.
    pub id: String,
    /// Emails, primary first.
    pub emails: Vec<String>,
    /// Numbers, primary first.
    pub phone_numbers: Vec<String>,
    /// State.
    pub state: String,
    /// Office id.
    pub office_id: String,
    /// Names.
    pub first_name: Option<String>,
    /// Names.
    pub last_name: Option<String>,
    /// When the user was added.
    pub date_added: Timestamp,
}

/// A number in Dialpad's company inventory.
#[derive(Clone, Debug)]
pub struct DialpadNumber {
    /// E.164.
    pub number: String,
    /// `user`, `office`, ...
    pub status: String,
    /// The owner (user id for `user`).
    pub target_id: Option<String>,
    /// `user`, `office`, ...
    pub target_type: Option<String>,
    /// The office.
    pub office_id: String,
}

/// The Dialpad company.
#[derive(Clone, Debug)]
pub struct DialpadCompany {
    /// Bearer key.
    pub api_key: String,
    /// The OAuth scopes the key carries (`change_log`, ...).
    pub api_key_scopes: Vec<String>,
    /// Company id.
    pub company_id: String,
    /// Company name.
    pub company_name: String,
    /// Another company's key, id and name (no users, no numbers).
    pub other_company: OtherCompanyFixture,
    /// Main office id.
    pub office_id: String,
    /// How ids are written.
    pub id_encoding: IdEncoding,
    /// Whether timestamps carry `Z`.
    pub timestamps_with_zone: bool,
    /// Users sorted by id.
    pub users: Vec<DialpadUser>,
    /// Non-user numbers.
    pub other_numbers: Vec<DialpadNumber>,
    /// Offices besides the main one.
    pub offices: Vec<DialpadOffice>,
}

/// A Dialpad office other than the main one.
#[derive(Clone, Debug)]
pub struct DialpadOffice {
    /// Digits.
    pub id: String,
    /// Name.
    pub name: String,
    /// State.
    pub state: String,
}

impl DialpadCompany {
    /// The inventory: every user number (`status: user`) and every other number, sorted. A
    /// deleted user's number stays listed: Dialpad holds it for 72 hours (whether the API still
    /// lists it is UNCONFIRMED; listing it lets a sync recognise it as Dialpad's).
    pub fn inventory(&self) -> Vec<DialpadNumber> {
        let mut numbers: Vec<DialpadNumber> = self
            .users
            .iter()
            .flat_map(|u| {
                u.phone_numbers.iter().map(|n| DialpadNumber {
                    number: n.clone(),
                    status: "user".into(),
                    target_id: Some(u.id.clone()),
                    target_type: Some("user".into()),
                    office_id: u.office_id.clone(),
                })
            })
            .chain(self.other_numbers.iter().cloned())
            .collect();
        numbers.sort_by(|a, b| a.number.cmp(&b.number));
        numbers
    }
}

/// An admin account's password sign-in settings.
#[derive(Clone, Debug)]
pub struct AdminAccount {
    /// The fixture entry.
    pub fixture: AdminFixture,
    /// Object id of its directory user.
    pub user_id: String,
    /// Transient failures still to serve.
    pub transient_failures_left: u32,
}
