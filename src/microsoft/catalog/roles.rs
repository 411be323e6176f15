//! The Entra directory roles that allow managing Teams telephone numbers with a delegated token,
//! by `roleTemplateId`, from Microsoft Entra's built-in roles reference
//! (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).

/// Teams Administrator, compared by `roleTemplateId`.
pub const TEAMS_ADMINISTRATOR_ROLE: &str = "69091246-20e8-4a56-aa4d-066075b2a7a8";
/// Skype for Business Administrator (legacy name Lync Service Administrator).
pub const SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE: &str = "75941009-915a-4869-abe7-691bff18279e";
/// Global Administrator.
pub const GLOBAL_ADMINISTRATOR_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
/// Teams Communications Administrator.
pub const TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE: &str = "baf37b3a-610e-45da-9e62-d9d1e5e8914b";
/// Teams Telephony Administrator.
pub const TEAMS_TELEPHONY_ADMINISTRATOR_ROLE: &str = "aa38014f-0993-46e9-9b45-30501a20909d";

/// A directory role by its template id and display name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryRole {
    /// The short name used in fixtures, e.g. `TeamsAdministrator`.
    pub key: &'static str,
    /// The `displayName`.
    pub display_name: &'static str,
    /// The `roleTemplateId`.
    pub template_id: &'static str,
}

/// The roles the operator and the sandbox know by name.
pub const DIRECTORY_ROLES: &[DirectoryRole] = &[
    DirectoryRole {
        key: "TeamsAdministrator",
        display_name: "Teams Administrator",
        template_id: TEAMS_ADMINISTRATOR_ROLE,
    },
    DirectoryRole {
        key: "SkypeForBusinessAdministrator",
        display_name: "Skype for Business Administrator",
        template_id: SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE,
    },
    DirectoryRole {
        key: "GlobalAdministrator",
        display_name: "Global Administrator",
        template_id: GLOBAL_ADMINISTRATOR_ROLE,
    },
    DirectoryRole {
        key: "TeamsCommunicationsAdministrator",
        display_name: "Teams Communications Administrator",
        template_id: TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE,
    },
    DirectoryRole {
        key: "TeamsTelephonyAdministrator",
        display_name: "Teams Telephony Administrator",
        template_id: TEAMS_TELEPHONY_ADMINISTRATOR_ROLE,
    },
];

/// The role with fixture key `key`.
pub fn role_by_key(key: &str) -> Option<&'static DirectoryRole> {
    DIRECTORY_ROLES.iter().find(|role| role.key == key)
}
