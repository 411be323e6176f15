//! Writing users as JSON text, property by property, as Graph's description declares them.

use super::super::odata::{self, QueryError};
use crate::world::DirectoryUser;

use super::*;

/// How one user property is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Id,
    AccountEnabled,
    AssignedLicenses,
    AssignedPlans,
    DisplayName,
    Mail,
    MailNickname,
    ProxyAddresses,
    UsageLocation,
    UserPrincipalName,
    UserType,
    /// Not modelled; the description allows `null`.
    Null,
    /// Not modelled; a collection, written `[]`.
    Empty,
    /// Not modelled and not nullable (or a navigation property): left out.
    Omit,
}

/// Every structural property of `microsoft.graph.user` in the vendor description.
pub(super) const USER_PROPERTIES: &[(&str, Field)] = &[
    ("id", Field::Id),
    ("deletedDateTime", Field::Null),
    ("aboutMe", Field::Null),
    ("accountEnabled", Field::AccountEnabled),
    ("ageGroup", Field::Null),
    ("assignedLicenses", Field::AssignedLicenses),
    ("assignedPlans", Field::AssignedPlans),
    ("authorizationInfo", Field::Null),
    ("birthday", Field::Omit),
    ("businessPhones", Field::Empty),
    ("city", Field::Null),
    ("companyName", Field::Null),
    ("consentProvidedForMinor", Field::Null),
    ("country", Field::Null),
    ("createdDateTime", Field::Null),
    ("creationType", Field::Null),
    ("customSecurityAttributes", Field::Null),
    ("department", Field::Null),
    ("deviceEnrollmentLimit", Field::Omit),
    ("displayName", Field::DisplayName),
    ("employeeHireDate", Field::Null),
    ("employeeId", Field::Null),
    ("employeeLeaveDateTime", Field::Null),
    ("employeeOrgData", Field::Null),
    ("employeeType", Field::Null),
    ("externalUserState", Field::Null),
    ("externalUserStateChangeDateTime", Field::Null),
    ("faxNumber", Field::Null),
    ("givenName", Field::Null),
    ("hireDate", Field::Omit),
    ("identities", Field::Empty),
    ("identityParentId", Field::Null),
    ("imAddresses", Field::Empty),
    ("interests", Field::Empty),
    ("isManagementRestricted", Field::Null),
    ("isResourceAccount", Field::Null),
    ("jobTitle", Field::Null),
    ("lastPasswordChangeDateTime", Field::Null),
    ("legalAgeGroupClassification", Field::Null),
    ("licenseAssignmentStates", Field::Empty),
    ("mail", Field::Mail),
    ("mailboxSettings", Field::Null),
    ("mailNickname", Field::MailNickname),
    ("mobilePhone", Field::Null),
    ("mySite", Field::Null),
    ("officeLocation", Field::Null),
    ("onPremisesDistinguishedName", Field::Null),
    ("onPremisesDomainName", Field::Null),
    ("onPremisesExtensionAttributes", Field::Null),
    ("onPremisesImmutableId", Field::Null),
    ("onPremisesLastSyncDateTime", Field::Null),
    ("onPremisesProvisioningErrors", Field::Empty),
    ("onPremisesSamAccountName", Field::Null),
    ("onPremisesSecurityIdentifier", Field::Null),
    ("onPremisesSyncEnabled", Field::Null),
    ("onPremisesUserPrincipalName", Field::Null),
    ("otherMails", Field::Empty),
    ("passwordPolicies", Field::Null),
    ("passwordProfile", Field::Null),
    ("pastProjects", Field::Empty),
    ("postalCode", Field::Null),
    ("preferredDataLocation", Field::Null),
    ("preferredLanguage", Field::Null),
    ("preferredName", Field::Null),
    ("print", Field::Null),
    ("provisionedPlans", Field::Empty),
    ("proxyAddresses", Field::ProxyAddresses),
    ("responsibilities", Field::Empty),
    ("schools", Field::Empty),
    ("securityIdentifier", Field::Null),
    ("serviceProvisioningErrors", Field::Empty),
    ("showInAddressList", Field::Null),
    ("signInActivity", Field::Null),
    ("signInSessionsValidFromDateTime", Field::Null),
    ("skills", Field::Empty),
    ("state", Field::Null),
    ("streetAddress", Field::Null),
    ("surname", Field::Null),
    ("usageLocation", Field::UsageLocation),
    ("userPrincipalName", Field::UserPrincipalName),
    ("userType", Field::UserType),
];

/// Navigation properties of `user`: accepted in `$select` and left out (Graph needs `$expand`).
pub(super) const USER_NAVIGATION: &[&str] = &[
    "activities",
    "adhocCalls",
    "agreementAcceptances",
    "appRoleAssignments",
    "authentication",
    "calendar",
    "calendarGroups",
    "calendars",
    "calendarView",
    "chats",
    "cloudClipboard",
    "cloudPCs",
    "contactFolders",
    "contacts",
    "createdObjects",
    "dataSecurityAndGovernance",
    "deviceManagementTroubleshootingEvents",
    "directReports",
    "drive",
    "drives",
    "employeeExperience",
    "events",
    "extensions",
    "followedSites",
    "inferenceClassification",
    "insights",
    "joinedTeams",
    "licenseDetails",
    "mailFolders",
    "managedAppRegistrations",
    "managedDevices",
    "manager",
    "memberOf",
    "messages",
    "oauth2PermissionGrants",
    "onenote",
    "onlineMeetings",
    "onPremisesSyncBehavior",
    "outlook",
    "ownedDevices",
    "ownedObjects",
    "people",
    "permissionGrants",
    "photo",
    "photos",
    "planner",
    "presence",
    "registeredDevices",
    "scopedRoleMemberOf",
    "settings",
    "solutions",
    "sponsorOf",
    "sponsors",
    "teamwork",
    "todo",
    "transitiveMemberOf",
];

/// Graph's default property set for users (no `$select`).
pub(super) const DEFAULT_USER_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// The properties to write, in order, and the `@odata.context` suffix (`(a,b)` or empty).
#[derive(Clone, Debug)]
pub(super) struct Projection {
    pub(super) fields: Vec<(&'static str, Field)>,
    pub(super) context: String,
}

impl Projection {
    /// From `$select` (or the default set); `id` always comes first.
    pub(super) fn users(select: Option<&str>) -> Result<Projection, QueryError> {
        let Some(select) = select else {
            let fields = std::iter::once(("id", Field::Id))
                .chain(
                    DEFAULT_USER_PROPERTIES
                        .iter()
                        .filter(|p| **p != "id")
                        .map(|name| {
                            let field = USER_PROPERTIES.iter().find(|(n, _)| n == name).map(|(_, f)| *f);
                            (*name, field.unwrap_or(Field::Null))
                        }),
                )
                .collect();
            return Ok(Projection {
                fields,
                context: String::new(),
            });
        };
        let mut fields = vec![("id", Field::Id)];
        let mut names = Vec::new();
        for item in odata::parse_select(select)? {
            let (name, field) = if let Some((name, field)) = USER_PROPERTIES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&item))
            {
                (*name, *field)
            } else if let Some(name) = USER_NAVIGATION.iter().find(|n| n.eq_ignore_ascii_case(&item)) {
                (*name, Field::Omit)
            } else {
                return Err(QueryError::bad_request(format!(
                    "Could not find a property named '{item}' on type 'microsoft.graph.user'."
                )));
            };
            if !names.contains(&name) {
                names.push(name);
            }
            if field != Field::Omit && !fields.iter().any(|(n, _)| *n == name) {
                fields.push((name, field));
            }
        }
        Ok(Projection {
            fields,
            context: format!("({})", names.join(",")),
        })
    }
}

/// JSON text written by hand, for speed on large pages.
pub(super) fn push_json_str(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing JSON to memory cannot fail");
}

pub(super) fn push_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    push_json_str(out, key);
    out.push(b':');
}

pub(super) fn push_opt_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => push_json_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

pub(super) fn push_str_array<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    out.push(b'[');
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        push_json_str(out, item);
    }
    out.push(b']');
}

/// Whether `field` has no value on `user` (it would be written `null`): never set, in Graph's
/// words, so `users/delta` leaves it out.
pub(super) fn is_unset(user: &DirectoryUser, field: Field) -> bool {
    match field {
        Field::Null => true,
        Field::Mail => user.mail.is_none(),
        Field::UsageLocation => user.usage_location.is_none(),
        _ => false,
    }
}

/// Writes one user object with `fields`.
pub(super) fn write_user(out: &mut Vec<u8>, user: &DirectoryUser, fields: &[(&'static str, Field)]) {
    out.push(b'{');
    let mut first = true;
    for (name, field) in fields {
        if *field == Field::Omit {
            continue;
        }
        push_key(out, &mut first, name);
        match field {
            Field::Id => push_json_str(out, &user.id),
            Field::AccountEnabled => {
                out.extend_from_slice(if user.account_enabled { b"true" } else { b"false" })
            }
            Field::AssignedLicenses => {
                out.push(b'[');
                for (index, (sku, disabled)) in user.assigned_licenses.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"disabledPlans\":");
                    push_str_array(out, disabled.iter().map(String::as_str));
                    out.extend_from_slice(b",\"skuId\":");
                    push_json_str(out, sku);
                    out.push(b'}');
                }
                out.push(b']');
            }
            Field::AssignedPlans => {
                out.push(b'[');
                for (index, (plan, status)) in user.assigned_plans.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"assignedDateTime\":");
                    push_json_str(out, ASSIGNED_DATE_TIME);
                    out.extend_from_slice(b",\"capabilityStatus\":");
                    push_json_str(out, status);
                    out.extend_from_slice(b",\"service\":");
                    push_json_str(out, &plan.service);
                    out.extend_from_slice(b",\"servicePlanId\":");
                    push_json_str(out, &plan.id);
                    out.push(b'}');
                }
                out.push(b']');
            }
            Field::DisplayName => push_json_str(out, &user.display_name),
            Field::Mail => push_opt_str(out, user.mail.as_deref()),
            Field::MailNickname => push_json_str(
                out,
                user.user_principal_name
                    .split('@')
                    .next()
                    .unwrap_or(&user.user_principal_name),
            ),
            Field::ProxyAddresses => push_str_array(out, user.proxy_addresses.iter().map(String::as_str)),
            Field::UsageLocation => push_opt_str(out, user.usage_location.as_deref()),
            Field::UserPrincipalName => push_json_str(out, &user.user_principal_name),
            Field::UserType => push_json_str(out, "Member"),
            Field::Null => out.extend_from_slice(b"null"),
            Field::Empty => out.extend_from_slice(b"[]"),
            Field::Omit => {}
        }
    }
    out.push(b'}');
}
