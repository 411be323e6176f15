//! The Microsoft Entra built-in roles the sandbox's fixtures can grant, with the template ids and
//! descriptions Microsoft publishes in "Microsoft Entra built-in roles"
//! (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).

/// A built-in directory role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltInRole {
    /// The short name fixtures use, e.g. `TeamsAdministrator`.
    pub key: &'static str,
    /// The role's `displayName`.
    pub display_name: &'static str,
    /// The role's `roleTemplateId`.
    pub template_id: &'static str,
    /// The role's `description`.
    pub description: &'static str,
    /// Whether this role may manage Teams telephone numbers through Graph with a delegated token.
    pub manages_teams_numbers: bool,
}

/// The roles fixtures can grant.
pub const BUILT_IN_ROLES: &[BuiltInRole] = &[
    BuiltInRole {
        key: "TeamsAdministrator",
        display_name: "Teams Administrator",
        template_id: "69091246-20e8-4a56-aa4d-066075b2a7a8",
        description: "Can manage the Microsoft Teams service.",
        manages_teams_numbers: true,
    },
    BuiltInRole {
        key: "SkypeForBusinessAdministrator",
        display_name: "Skype for Business Administrator",
        template_id: "75941009-915a-4869-abe7-691bff18279e",
        description: "Can manage all aspects of the Skype for Business product.",
        manages_teams_numbers: false,
    },
    BuiltInRole {
        key: "GlobalAdministrator",
        display_name: "Global Administrator",
        template_id: "62e90394-69f5-4237-9190-012177145e10",
        description: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
        manages_teams_numbers: true,
    },
    BuiltInRole {
        key: "TeamsCommunicationsAdministrator",
        display_name: "Teams Communications Administrator",
        template_id: "baf37b3a-610e-45da-9e62-d9d1e5e8914b",
        description: "Can manage calling and meetings features within the Microsoft Teams service.",
        manages_teams_numbers: true,
    },
    BuiltInRole {
        key: "TeamsTelephonyAdministrator",
        display_name: "Teams Telephony Administrator",
        template_id: "aa38014f-0993-46e9-9b45-30501a20909d",
        description: "Manage voice and telephony features and troubleshoot communication issues within the Microsoft Teams service.",
        manages_teams_numbers: true,
    },
];

/// The role fixtures call `key`.
pub fn role_by_key(key: &str) -> Option<&'static BuiltInRole> {
    BUILT_IN_ROLES.iter().find(|role| role.key == key)
}

/// The role with template id `template_id` (case-insensitive).
pub fn role_by_template_id(template_id: &str) -> Option<&'static BuiltInRole> {
    BUILT_IN_ROLES
        .iter()
        .find(|role| role.template_id.eq_ignore_ascii_case(template_id))
}
