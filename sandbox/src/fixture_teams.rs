//! The org fixture's Teams policies, policy groups and emergency locations (`tenant.teams`), and
//! a user's direct policy assignments (`tenant.users[].policies`). Every field is optional: a
//! fixture without them has only the `Global` policy of each type and no emergency locations.
//!
//! ```yaml
//! tenant:
//!   teams:
//!     policies:
//!     - {policyType: OnlineVoiceRoutingPolicy, name: Berlin}
//!     - {policyType: TenantDialPlan, name: Berlin}
//!     groups:
//!     - displayName: Berlin office
//!       members: [ada@contoso.com]
//!       policies: [{policyType: TenantDialPlan, name: Berlin, rank: 1}]
//!     emergencyLocations:
//!     - {id: 6a3c3e44-2b8f-4a1e-9d35-5f0c7f6f1b10, description: Berlin HQ}
//!   users:
//!   - userPrincipalName: ada@contoso.com
//!     policies: [{policyType: OnlineVoiceRoutingPolicy, name: Berlin}]
//! ```

use serde::{Deserialize, Serialize};

/// Teams policies, group policy assignments and emergency locations of the tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamsFixture {
    /// Policy instances besides each type's `Global` (org-wide default), which always exists.
    #[serde(default)]
    pub policies: Vec<TeamsPolicyFixture>,
    /// Groups with policies assigned to them (group policy assignment), and their members.
    #[serde(default)]
    pub groups: Vec<PolicyGroupFixture>,
    /// Emergency locations (LIS locations) whose ids `assignNumber` accepts as `locationId`.
    #[serde(default)]
    pub emergency_locations: Vec<EmergencyLocationFixture>,
}

/// One policy instance of one type.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamsPolicyFixture {
    /// The policy type, e.g. `OnlineVoiceRoutingPolicy` (one of `behaviour.acceptedPolicyTypes`,
    /// ignoring case).
    pub policy_type: String,
    /// The policy's name, e.g. `Berlin` (`Global` is the org-wide default and always exists).
    pub name: String,
    /// Its id; derived from the type and name when absent.
    #[serde(default)]
    pub id: Option<String>,
}

/// A reference to a policy by type and name, as a user's direct assignment.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyReferenceFixture {
    /// The policy type.
    pub policy_type: String,
    /// The policy's name (`Global` or one of `tenant.teams.policies`).
    pub name: String,
}

/// A group (security group, distribution list or Microsoft 365 group) with policies assigned.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyGroupFixture {
    /// The group's object id; derived from the display name when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The group's display name.
    pub display_name: String,
    /// Direct members, by `userPrincipalName` (group assignments do not reach nested groups).
    #[serde(default)]
    pub members: Vec<String>,
    /// The policies assigned to the group, each with its rank among the groups holding a policy
    /// of that type.
    #[serde(default)]
    pub policies: Vec<GroupPolicyFixture>,
}

/// A policy assigned to a group, with its rank.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPolicyFixture {
    /// The policy type.
    pub policy_type: String,
    /// The policy's name.
    pub name: String,
    /// The assignment's rank for its type: 1 is the highest; a user in several groups gets the
    /// policy of the group with the smallest rank.
    pub rank: u32,
}

/// An emergency location.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmergencyLocationFixture {
    /// The location id (a GUID), as `assignNumber`'s `locationId`.
    pub id: String,
    /// What the location is, e.g. `Berlin HQ, 3rd floor`.
    #[serde(default)]
    pub description: String,
}

/// The policy types the assign API accepts unless `behaviour.acceptedPolicyTypes` says
/// otherwise (UNCONFIRMED which Graph accepts; compared ignoring case, since Microsoft's pages
/// spell the same type `teamsMeetingPolicy` and `TeamsMeetingPolicy`):
/// - `TeamsMeetingPolicy`, `TeamsMeetingBroadcastPolicy`, `TeamsCallingPolicy`: the examples of
///   Microsoft Graph's teamsPolicyUserAssignment and effectivePolicyAssignment pages
///   (https://learn.microsoft.com/graph/api/resources/teamsadministration-teamspolicyuserassignment,
///   https://learn.microsoft.com/graph/api/resources/teamsadministration-effectivepolicyassignment);
/// - `OnlineVoiceRoutingPolicy`, `TenantDialPlan`, `TeamsEmergencyCallingPolicy`,
///   `CallingLineIdentity`: the voice types Teams assigns in bulk, as listed by
///   New-CsBatchPolicyAssignmentOperation
///   (https://learn.microsoft.com/powershell/module/teams/new-csbatchpolicyassignmentoperation).
pub fn default_accepted_policy_types() -> Vec<String> {
    [
        "TeamsMeetingPolicy",
        "TeamsMeetingBroadcastPolicy",
        "TeamsCallingPolicy",
        "OnlineVoiceRoutingPolicy",
        "TenantDialPlan",
        "TeamsEmergencyCallingPolicy",
        "CallingLineIdentity",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// How many entries one `assign` or `unassign` request may carry unless
/// `behaviour.policyAssignmentBatchLimit` says otherwise. Microsoft's pages give no maximum
/// (UNCONFIRMED); 20 is Graph's JSON batching limit and Grant-CsUserPolicyPackage's "limit of 20
/// users at a time" (https://learn.microsoft.com/powershell/module/microsoftteams/grant-csuserpolicypackage),
/// small enough that a client which does not split its writes is caught here.
pub fn default_policy_assignment_batch_limit() -> u32 {
    20
}

/// The first mistake in the fixture's Teams policies, groups and locations, as
/// `path: what is wrong; how to fix it`.
pub fn check_teams(org: &crate::fixture::OrgFixture) -> Result<(), String> {
    let accepted = &org.behaviour.accepted_policy_types;
    if org.behaviour.policy_assignment_batch_limit == 0 {
        return Err("behaviour.policyAssignmentBatchLimit: 0; allow at least one entry per request".into());
    }
    let known_type = |path: &str, policy_type: &str| {
        if accepted.iter().any(|t| t.eq_ignore_ascii_case(policy_type)) {
            Ok(())
        } else {
            Err(format!(
                "{path}.policyType: {policy_type} is not one of behaviour.acceptedPolicyTypes ({}); add it there or use one of those",
                accepted.join(", ")
            ))
        }
    };
    let teams = &org.tenant.teams;
    let mut names: Vec<(String, String)> = Vec::new();
    for (index, policy) in teams.policies.iter().enumerate() {
        let path = format!("tenant.teams.policies[{index}]");
        known_type(&path, &policy.policy_type)?;
        if policy.name.trim().is_empty() || policy.name.eq_ignore_ascii_case("Global") {
            return Err(format!(
                "{path}.name: '{}' is empty or Global, which every type has already; name the policy",
                policy.name
            ));
        }
        let key = (policy.policy_type.to_lowercase(), policy.name.to_lowercase());
        if names.contains(&key) {
            return Err(format!(
                "{path}: a {} policy named {} is listed twice; list each policy once",
                policy.policy_type, policy.name
            ));
        }
        names.push(key);
    }
    let exists = |path: &str, policy_type: &str, name: &str| {
        known_type(path, policy_type)?;
        let key = (policy_type.to_lowercase(), name.to_lowercase());
        if name.eq_ignore_ascii_case("Global") || names.contains(&key) {
            Ok(())
        } else {
            Err(format!(
                "{path}.name: no {policy_type} policy named {name}; add it to tenant.teams.policies or use Global"
            ))
        }
    };
    for (index, user) in org.tenant.users.iter().enumerate() {
        let mut types: Vec<String> = Vec::new();
        for (position, reference) in user.policies.iter().enumerate() {
            let path = format!("tenant.users[{index}].policies[{position}]");
            exists(&path, &reference.policy_type, &reference.name)?;
            if types.contains(&reference.policy_type.to_lowercase()) {
                return Err(format!(
                    "{path}: a second {} policy; a user holds one policy of each type directly",
                    reference.policy_type
                ));
            }
            types.push(reference.policy_type.to_lowercase());
        }
    }
    check_groups(org, &exists)?;
    let mut ids: Vec<String> = Vec::new();
    for (index, location) in teams.emergency_locations.iter().enumerate() {
        let id = location.id.trim().to_lowercase();
        if id.is_empty() || ids.contains(&id) {
            return Err(format!(
                "tenant.teams.emergencyLocations[{index}].id: '{}' is empty or listed before; give each location its own id",
                location.id
            ));
        }
        ids.push(id);
    }
    Ok(())
}

fn check_groups(
    org: &crate::fixture::OrgFixture,
    exists: &dyn Fn(&str, &str, &str) -> Result<(), String>,
) -> Result<(), String> {
    let accounts = crate::fixture_check::tenant_accounts(org);
    // (type, rank) already taken: ranks order the groups holding a policy of one type.
    let mut ranks: Vec<(String, u32)> = Vec::new();
    for (index, group) in org.tenant.teams.groups.iter().enumerate() {
        for (position, member) in group.members.iter().enumerate() {
            if !accounts.contains(&member.to_lowercase()) {
                return Err(format!(
                    "tenant.teams.groups[{index}].members[{position}]: {member} is not an admin's or user's userPrincipalName; list tenant accounts only"
                ));
            }
        }
        for (position, policy) in group.policies.iter().enumerate() {
            let path = format!("tenant.teams.groups[{index}].policies[{position}]");
            exists(&path, &policy.policy_type, &policy.name)?;
            let repeated = group.policies[..position]
                .iter()
                .any(|p| p.policy_type.eq_ignore_ascii_case(&policy.policy_type));
            if repeated {
                return Err(format!(
                    "{path}: a second {} policy for this group; a group holds one policy of each type",
                    policy.policy_type
                ));
            }
            let key = (policy.policy_type.to_lowercase(), policy.rank);
            if policy.rank == 0 || ranks.contains(&key) {
                return Err(format!(
                    "{path}.rank: {} is 0 or another group's rank for {}; give each group its own rank from 1 (the highest)",
                    policy.rank, policy.policy_type
                ));
            }
            ranks.push(key);
        }
    }
    Ok(())
}
