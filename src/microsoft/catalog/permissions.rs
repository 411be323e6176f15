//! The Graph application permissions application mode needs, derived from the calls it makes.

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

/// The Graph calls of Teams policy assignment, made only when a resource names a policy, with the
/// permissions Microsoft documents for each (application and delegated alike): getPolicyId
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-teamspolicyassignment-getpolicyid),
/// assign and unassign
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-teamspolicyuserassignment-assign),
/// and the user configurations
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-teamsadminroot-list-userconfigurations).
/// Each page lists no higher privileged permission.
pub const POLICY_GRAPH_CALLS: &[GraphCall] = &[
    GraphCall {
        endpoint: "POST /v1.0/admin/teams/policy/userAssignments/assign",
        least: "TeamsPolicyUserAssign.ReadWrite.All",
        also: &[],
    },
    GraphCall {
        endpoint: "POST /v1.0/admin/teams/policy/userAssignments/unassign",
        least: "TeamsPolicyUserAssign.ReadWrite.All",
        also: &[],
    },
    GraphCall {
        endpoint: "GET /v1.0/admin/teams/policy/getPolicyId",
        least: "TeamsPolicyUserAssign.ReadWrite.All",
        also: &[],
    },
    GraphCall {
        endpoint: "GET /v1.0/admin/teams/userConfigurations",
        least: "TeamsUserConfiguration.Read.All",
        also: &[],
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
