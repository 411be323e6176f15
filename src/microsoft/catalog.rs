//! Microsoft's licence and role identifiers the operator reasons about, from Microsoft's licensing
//! service-plan reference and the Entra built-in roles table (see `docs/microsoft-graph-teams.md`
//! sections 3 and 4). Shared by the licence classifier and the sandbox, so both read one list.

/// A service plan: the unit inside a licence (SKU) that grants a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServicePlan {
    /// The plan's `servicePlanName`, e.g. `MCOEV`.
    pub name: &'static str,
    /// The plan's `servicePlanId` (a GUID), as in `assignedPlans` and `disabledPlans`.
    pub id: &'static str,
    /// The `service` value Graph shows for it in `assignedPlans`.
    pub service: &'static str,
}

const COMMUNICATIONS: &str = "MicrosoftCommunicationsOnline";

/// Phone System (Teams Phone) for people: any one of these makes a user eligible for a number.
/// The resource-account plans (`MCOEV_VIRTUALUSER*`) are deliberately absent: they are not valid
/// for a person.
pub const PHONE_SYSTEM_PLANS: &[ServicePlan] = &[
    ServicePlan {
        name: "MCOEV",
        id: "4828c8ec-dc2e-4779-b502-87ac9ce28ab7",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOEVSMB",
        id: "ed777b71-af04-42ca-9798-84344c66f7c6",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOEV_GOV",
        id: "db23fce2-a974-42ef-9002-d78dd42a0f22",
        service: COMMUNICATIONS,
    },
];

/// Phone System for resource accounts only (not valid for a person).
pub const RESOURCE_ACCOUNT_PHONE_PLANS: &[ServicePlan] = &[
    ServicePlan {
        name: "MCOEV_VIRTUALUSER",
        id: "f47330e9-c134-43b3-9993-e7f004506889",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOEV_VIRTUALUSER_GOV",
        id: "0628a73f-3b4a-4989-bd7b-0f8823144313",
        service: COMMUNICATIONS,
    },
];

/// Microsoft Calling Plans: Dialpad requires that a user has none of these.
pub const CALLING_PLANS: &[ServicePlan] = &[
    ServicePlan {
        name: "MCOPSTN1",
        id: "4ed3ff63-69d7-4fb7-b984-5aec7f605ca8",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN2",
        id: "5a10155d-f5c1-411a-a8ec-e99aae125390",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN3",
        id: "6b340437-d6f9-4dc5-8cc2-99163f7f83d6",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN5",
        id: "54a152dc-90de-4996-93d2-bc47e670fc06",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN6",
        id: "346d83bf-6fe6-42ca-b424-b9300d2e21bf",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN8",
        id: "16935b20-87c0-4908-934a-22aa267d0d26",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "PSTN5_US",
        id: "1346d5e6-15a6-4b88-9693-806ff7296a7a",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN5_DOMESTIC_SMALL",
        id: "9a0125a5-c8f8-4526-b231-49e2abe0ebce",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTNEAU",
        id: "7861360b-dc3b-4eba-a3fc-0d323a035746",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTN_PAYG_1",
        id: "156a1efe-17cd-4b03-9f17-2eb512298fb3",
        service: COMMUNICATIONS,
    },
];

/// Other plans the sandbox hands out inside SKUs (Teams itself, Skype for Business Online Plan 2,
/// and the look-alikes that are not Calling Plans).
pub const OTHER_PLANS: &[ServicePlan] = &[
    ServicePlan {
        name: "TEAMS1",
        id: "57ff2da0-773e-42df-b2af-ffb7a2317929",
        service: "TeamspaceAPI",
    },
    ServicePlan {
        name: "MCOSTANDARD",
        id: "0feaeb32-d00e-4d66-bd5a-43b5b83db82c",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOPSTNC",
        id: "505e180f-f7e0-4b65-91d4-00d670bbd18c",
        service: COMMUNICATIONS,
    },
    ServicePlan {
        name: "MCOMEETADV",
        id: "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40",
        service: COMMUNICATIONS,
    },
];

/// A licence (SKU) and the plans it brings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sku {
    /// The `skuPartNumber`, e.g. `SPE_E5`.
    pub part_number: &'static str,
    /// The `skuId` (a GUID), as in `assignedLicenses`.
    pub id: &'static str,
    /// The `servicePlanName`s it includes (of those listed in this module).
    pub plans: &'static [&'static str],
}

/// The SKUs that matter for Teams telephony.
pub const SKUS: &[Sku] = &[
    Sku {
        part_number: "SPE_E5",
        id: "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
        plans: &["TEAMS1", "MCOSTANDARD", "MCOEV", "MCOMEETADV"],
    },
    Sku {
        part_number: "SPE_E5_CALLINGMINUTES",
        id: "a91fc4e0-65e5-4266-aa76-4037509c1626",
        plans: &["TEAMS1", "MCOSTANDARD", "MCOEV", "MCOPSTN8"],
    },
    Sku {
        part_number: "ENTERPRISEPREMIUM",
        id: "c7df2760-2c81-4ef7-b578-5b5392b571df",
        plans: &["TEAMS1", "MCOSTANDARD", "MCOEV", "MCOMEETADV"],
    },
    Sku {
        part_number: "SPE_E3",
        id: "05e9a617-0261-4cee-bb44-138d3ef5d965",
        plans: &["TEAMS1", "MCOSTANDARD"],
    },
    Sku {
        part_number: "MCOEV",
        id: "e43b5b99-8dfb-405f-9987-dc307f34bcbd",
        plans: &["MCOEV"],
    },
    Sku {
        part_number: "MCOEVSMB_1",
        id: "aa6791d3-bb09-4bc2-afed-c30c3fe26032",
        plans: &["MCOEVSMB"],
    },
    Sku {
        part_number: "BUSINESS_VOICE_DIRECTROUTING",
        id: "d52db95a-5ecb-46b6-beb0-190ab5cda4a8",
        plans: &["MCOEV"],
    },
    Sku {
        part_number: "BUSINESS_VOICE_MED2",
        id: "a6051f20-9cbc-47d2-930d-419183bf6cf1",
        plans: &["MCOEV", "MCOPSTN1"],
    },
    Sku {
        part_number: "MCOTEAMS_ESSENTIALS",
        id: "ae2343d1-0999-43f6-ae18-d816516f6e78",
        plans: &["MCOEV", "MCOPSTN1"],
    },
    Sku {
        part_number: "MCOPSTN1",
        id: "0dab259f-bf13-4952-b7f8-7db8f131b28d",
        plans: &["MCOPSTN1"],
    },
    Sku {
        part_number: "MCOPSTN2",
        id: "d3b4fe1f-9992-4930-8acb-ca6ec609365e",
        plans: &["MCOPSTN2"],
    },
    Sku {
        part_number: "MCOPSTN_6",
        id: "729dbb8f-8d56-4994-8e33-2f218f549544",
        plans: &["MCOPSTN6"],
    },
    Sku {
        part_number: "PHONESYSTEM_VIRTUALUSER",
        id: "440eaaa8-b3e0-484b-a8be-62870b9ba70a",
        plans: &["MCOEV_VIRTUALUSER"],
    },
];

/// Every service plan listed in this module.
pub fn all_plans() -> impl Iterator<Item = &'static ServicePlan> {
    PHONE_SYSTEM_PLANS
        .iter()
        .chain(RESOURCE_ACCOUNT_PHONE_PLANS)
        .chain(CALLING_PLANS)
        .chain(OTHER_PLANS)
}

/// The plan with `servicePlanName` `name`.
pub fn plan_by_name(name: &str) -> Option<&'static ServicePlan> {
    all_plans().find(|plan| plan.name == name)
}

/// The plan with `servicePlanId` `id` (case-insensitive).
pub fn plan_by_id(id: &str) -> Option<&'static ServicePlan> {
    all_plans().find(|plan| plan.id.eq_ignore_ascii_case(id))
}

/// The SKU with `skuPartNumber` `part_number`.
pub fn sku_by_part_number(part_number: &str) -> Option<&'static Sku> {
    SKUS.iter().find(|sku| sku.part_number == part_number)
}

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

/// One Graph call the client makes in application mode, and the application permissions that
/// allow it: the least privileged one, and the documented higher ones that also do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphCall {
    /// The call, as the client's endpoint label.
    pub endpoint: &'static str,
    /// The least privileged application permission for it.
    pub least: &'static str,
    /// Higher privileged permissions that allow it too.
    pub also: &'static [&'static str],
}

impl GraphCall {
    /// Whether `permission` allows this call.
    pub fn allowed_by(&self, permission: &str) -> bool {
        self.least == permission || self.also.contains(&permission)
    }
}

/// Every Graph call of application mode, writes first, with the permissions Microsoft documents
/// for it: users (https://learn.microsoft.com/en-us/graph/api/user-list), number assignments
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-telephonenumbermanagementroot-list-numberassignments),
/// assignNumber and unassignNumber
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-numberassignment-assignnumber),
/// and operations (https://learn.microsoft.com/en-us/graph/api/teamsadministration-telephonenumberlongrunningoperation-get).
pub const APPLICATION_GRAPH_CALLS: &[GraphCall] = &[
    GraphCall {
        endpoint: "POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber",
        least: "TeamsTelephoneNumber.ReadWrite.All",
        also: &[],
    },
    GraphCall {
        endpoint: "POST /v1.0/admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber",
        least: "TeamsTelephoneNumber.ReadWrite.All",
        also: &[],
    },
    GraphCall {
        endpoint: "GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments",
        least: "TeamsTelephoneNumber.Read.All",
        also: &["TeamsTelephoneNumber.ReadWrite.All"],
    },
    GraphCall {
        endpoint: "GET /v1.0/admin/teams/telephoneNumberManagement/operations/{id}",
        least: "TeamsTelephoneNumber.Read.All",
        also: &["TeamsTelephoneNumber.ReadWrite.All"],
    },
    GraphCall {
        endpoint: "GET /v1.0/users",
        least: "User.Read.All",
        also: &[
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    },
];

/// The fewest permissions that allow every call in `calls`: each call's least privileged one,
/// unless a permission already named allows it.
pub fn permissions_for(calls: &[&GraphCall]) -> Vec<&'static str> {
    let mut named: Vec<&'static str> = Vec::new();
    for call in calls {
        if !named.iter().any(|p| call.allowed_by(p)) {
            named.push(call.least);
        }
    }
    named
}

/// The Graph application permissions application mode needs, derived from its calls:
/// `TeamsTelephoneNumber.ReadWrite.All` and `User.Read.All`.
pub fn required_application_permissions() -> Vec<&'static str> {
    permissions_for(&APPLICATION_GRAPH_CALLS.iter().collect::<Vec<_>>())
}
