//! The admin checks of the seed article, as pure functions: the sign-in name, the admin's roles,
//! and (for an app) its granted application permissions.

use super::catalog;
use super::graph::DirectoryRole;
use super::token::TokenClaims;

/// The sign-in name Dialpad's integration requires: `dialpad-msteams-admin@<domain>`.
pub fn required_account_name(domain: &str) -> String {
    format!("dialpad-msteams-admin@{domain}")
}

/// `Err` if `username` is not `dialpad-msteams-admin@<domain>` (compared ignoring case), with a
/// message naming the expected account and `held_in`, where the name is kept (such as
/// "Secret telephony/teams-admin, key username"), never the value itself: it was read from a
/// Secret, and the key may name any value of it. Checked before any call.
pub fn check_account_name(username: &str, domain: &str, held_in: &str) -> Result<(), String> {
    let expected = required_account_name(domain);
    if username.trim().eq_ignore_ascii_case(&expected) {
        Ok(())
    } else {
        Err(format!(
            "the value of {held_in} is not {expected}, the account the integration requires (spec.tenant.domain is '{domain}'); \
             put that account in the Secret, or correct spec.tenant.domain"
        ))
    }
}

/// The required roles the admin lacks, by display name (empty: authorized).
pub fn missing_roles(roles: &[DirectoryRole]) -> Vec<&'static str> {
    missing_of(roles.iter().filter_map(|role| role.role_template_id.as_deref()))
}

/// The required roles not among the role template IDs `held`, by display name.
fn missing_of<'a>(held: impl Iterator<Item = &'a str> + Clone) -> Vec<&'static str> {
    let required = [
        catalog::TEAMS_ADMINISTRATOR_ROLE,
        catalog::SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE,
    ];
    required
        .into_iter()
        .filter(|template| !held.clone().any(|id| id.eq_ignore_ascii_case(template)))
        .filter_map(|template| {
            catalog::DIRECTORY_ROLES
                .iter()
                .find(|r| r.template_id == template)
        })
        .map(|role| role.display_name)
        .collect()
}

/// What is known of the admin's required roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminRoles {
    /// Both are held.
    Held,
    /// These are not held (by display name).
    Missing(Vec<&'static str>),
    /// These were not found, but `unreadable` role entries came without their template ID, so
    /// whether the admin holds them cannot be told: never reported as missing.
    Unreadable {
        /// The roles not found, by display name.
        not_found: Vec<&'static str>,
        /// How many entries came without a template ID.
        unreadable: usize,
    },
}

/// Judges the admin's roles from the token's `wids` and, when those do not show both, from the
/// roles read from Graph (`read`; `None` when not read yet). A role counts when either source
/// shows it.
pub fn judge_roles(wids: &[String], read: Option<&[DirectoryRole]>) -> AdminRoles {
    let read = read.unwrap_or_default();
    let held = wids
        .iter()
        .map(String::as_str)
        .chain(read.iter().filter_map(|role| role.role_template_id.as_deref()));
    let missing = missing_of(held);
    let unreadable = read.iter().filter(|role| role.role_template_id.is_none()).count();
    match (missing.is_empty(), unreadable) {
        (true, _) => AdminRoles::Held,
        (false, 0) => AdminRoles::Missing(missing),
        (false, unreadable) => AdminRoles::Unreadable {
            not_found: missing,
            unreadable,
        },
    }
}

/// The application permissions an app token lacks (empty: authorized): the fewest that would
/// allow every call it is not allowed to make (see [`catalog::APPLICATION_GRAPH_CALLS`]).
pub fn missing_permissions(claims: &TokenClaims) -> Vec<&'static str> {
    let refused: Vec<&catalog::GraphCall> = catalog::APPLICATION_GRAPH_CALLS
        .iter()
        .filter(|call| !claims.roles.iter().any(|granted| call.allowed_by(granted)))
        .collect();
    catalog::permissions_for(&refused)
}

/// The application permissions an app token lacks for Teams policy assignment (empty:
/// authorized), asked only of a resource that names a policy (see
/// [`catalog::POLICY_GRAPH_CALLS`]).
pub fn missing_policy_permissions(claims: &TokenClaims) -> Vec<&'static str> {
    let refused: Vec<&catalog::GraphCall> = catalog::POLICY_GRAPH_CALLS
        .iter()
        .filter(|call| !claims.roles.iter().any(|granted| call.allowed_by(granted)))
        .collect();
    catalog::permissions_for(&refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_permissions_are_asked_apart_and_named_from_the_token() {
        let mut claims = TokenClaims {
            roles: vec![
                "User.Read.All".into(),
                "TeamsTelephoneNumber.ReadWrite.All".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            missing_policy_permissions(&claims),
            [
                "TeamsPolicyUserAssign.ReadWrite.All",
                "TeamsUserConfiguration.Read.All"
            ]
        );
        claims.roles.push("TeamsPolicyUserAssign.ReadWrite.All".into());
        claims.roles.push("TeamsUserConfiguration.Read.All".into());
        assert!(missing_policy_permissions(&claims).is_empty());
        assert!(missing_permissions(&claims).is_empty());
    }

    fn role(template: &str) -> DirectoryRole {
        DirectoryRole {
            role_template_id: Some(template.into()),
            display_name: None,
        }
    }

    #[test]
    fn only_the_dialpad_admin_name_of_the_domain_passes() {
        let held_in = "Secret telephony/teams-admin, key username";
        assert!(check_account_name("Dialpad-MSTeams-Admin@Contoso.com", "contoso.com", held_in).is_ok());
        let error = check_account_name("db-password-7Qx", "contoso.com", held_in).unwrap_err();
        assert!(
            !error.contains("7Qx"),
            "never the value read from the Secret: {error}"
        );
        assert!(
            error.starts_with("the value of Secret telephony/teams-admin, key username is not dialpad-msteams-admin@contoso.com"),
            "{error}"
        );
        assert!(check_account_name("dialpad-msteams-admin@fabrikam.com", "contoso.com", held_in).is_err());
    }

    #[test]
    fn both_roles_are_required_and_missing_ones_are_named() {
        assert_eq!(
            missing_roles(&[]),
            ["Teams Administrator", "Skype for Business Administrator"]
        );
        assert_eq!(
            missing_roles(&[role(catalog::TEAMS_ADMINISTRATOR_ROLE)]),
            ["Skype for Business Administrator"]
        );
        let both = [
            role(catalog::TEAMS_ADMINISTRATOR_ROLE),
            role(catalog::SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE),
        ];
        assert!(missing_roles(&both).is_empty());
    }

    #[test]
    fn app_permissions_are_read_from_the_token_roles() {
        let mut claims = TokenClaims {
            roles: vec!["User.Read.All".into()],
            ..Default::default()
        };
        assert_eq!(
            missing_permissions(&claims),
            ["TeamsTelephoneNumber.ReadWrite.All"]
        );
        claims.roles.push("TeamsTelephoneNumber.ReadWrite.All".into());
        assert!(
            missing_permissions(&claims).is_empty(),
            "exactly what the calls need is enough; no Teams user configuration permission"
        );
    }

    #[test]
    fn documented_higher_permissions_are_accepted() {
        for users in [
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ] {
            let claims = TokenClaims {
                roles: vec![users.into(), "TeamsTelephoneNumber.ReadWrite.All".into()],
                ..Default::default()
            };
            assert!(missing_permissions(&claims).is_empty(), "{users}");
        }
        let read_only = TokenClaims {
            roles: vec!["User.Read.All".into(), "TeamsTelephoneNumber.Read.All".into()],
            ..Default::default()
        };
        assert_eq!(
            missing_permissions(&read_only),
            ["TeamsTelephoneNumber.ReadWrite.All"],
            "reading numbers is not enough to assign them"
        );
        assert_eq!(
            catalog::required_application_permissions(),
            ["TeamsTelephoneNumber.ReadWrite.All", "User.Read.All"]
        );
    }

    #[test]
    fn roles_in_the_token_need_no_lookup_and_either_source_counts() {
        let wids = [
            catalog::TEAMS_ADMINISTRATOR_ROLE.to_owned(),
            catalog::SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE.to_owned(),
        ];
        assert_eq!(judge_roles(&wids, None), AdminRoles::Held);
        let one = [catalog::TEAMS_ADMINISTRATOR_ROLE.to_owned()];
        assert_eq!(
            judge_roles(&one, None),
            AdminRoles::Missing(vec!["Skype for Business Administrator"])
        );
        let through_a_group = [role(catalog::SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE)];
        assert_eq!(judge_roles(&one, Some(&through_a_group)), AdminRoles::Held);
    }

    #[test]
    fn a_role_entry_without_its_template_id_is_unreadable_never_missing() {
        let nameless = DirectoryRole {
            role_template_id: None,
            display_name: None,
        };
        let read = [role(catalog::TEAMS_ADMINISTRATOR_ROLE), nameless];
        assert_eq!(
            judge_roles(&[], Some(&read)),
            AdminRoles::Unreadable {
                not_found: vec!["Skype for Business Administrator"],
                unreadable: 1
            }
        );
    }
}
