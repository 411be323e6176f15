//! Teams policies: the instances of each type, the users' direct assignments, the groups'
//! ranked assignments, the effective policy that follows from them, and emergency locations.
//!
//! Precedence, as Microsoft documents it for Teams ("Assign policies to users and groups", Which
//! policy takes precedence: https://learn.microsoft.com/microsoftteams/assign-policies-users-and-groups,
//! and New-CsGroupPolicyAssignment: https://learn.microsoft.com/powershell/module/teams/new-csgrouppolicyassignment):
//! a policy assigned to the user directly wins; otherwise the policy of the user's group whose
//! assignment has the highest rank (the smallest number, 1 being the highest) for that type;
//! otherwise the tenant's Global (org-wide default) policy. Group assignments reach direct members
//! only, and the sandbox propagates them at once (Teams documents up to 24 hours).
//!
//! A type whose effective policy is Global is left out of a user's effective assignments, as
//! Get-CsUserPolicyAssignment documents ("if an effective policy is not returned, ... the
//! effective policy for the user is ... the tenant global default policy",
//! https://learn.microsoft.com/powershell/module/teams/get-csuserpolicyassignment): Graph's
//! `assignmentType` has only `direct` and `group` (UNCONFIRMED that Graph leaves it out too).

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::fixture::{OrgFixture, TeamsFixture};

use super::{base64_url, guid_text};

/// The name of each type's org-wide default policy.
pub const GLOBAL_POLICY: &str = "Global";

/// One policy instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamsPolicy {
    /// The type, spelled as in the accepted types.
    pub policy_type: String,
    /// The policy's name (`Global` for the org-wide default).
    pub name: String,
    /// Its id.
    pub id: String,
}

/// A group with policies assigned to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyGroup {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Direct members' object ids.
    pub member_ids: Vec<String>,
    /// `(type, policy id, rank)` per assigned policy.
    pub assignments: Vec<(String, String, u32)>,
}

/// An emergency location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmergencyLocation {
    /// Its id.
    pub id: String,
    /// What it is.
    pub description: String,
}

/// Where a user's effective policy of one type comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignmentSource<'a> {
    /// Assigned to the user.
    Direct,
    /// Inherited from this group.
    Group(&'a str),
}

/// A user's effective policy of one type (Global ones are not listed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectivePolicy<'a> {
    /// The policy.
    pub policy: &'a TeamsPolicy,
    /// Where it comes from.
    pub source: AssignmentSource<'a>,
}

/// The tenant's Teams policies and their assignments.
#[derive(Clone, Debug, Default)]
pub struct TeamsPolicies {
    /// Types the assign API accepts, in their canonical spelling.
    pub accepted_types: Vec<String>,
    /// Every policy instance, each type's `Global` included.
    pub policies: Vec<TeamsPolicy>,
    /// Groups with policies assigned.
    pub groups: Vec<PolicyGroup>,
    /// `(user id, type)` -> policy id, for direct assignments.
    pub direct: BTreeMap<(String, String), String>,
    /// Emergency locations.
    pub emergency_locations: Vec<EmergencyLocation>,
}

/// A policy id shaped as Microsoft's examples (43 base64url characters): a digest of the type
/// and name, so ids are stable across runs and need no draw from the world's random generator.
pub fn derived_policy_id(policy_type: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{}:{}", policy_type.to_lowercase(), name.to_lowercase()));
    base64_url(&digest)
}

/// A GUID derived from `seed_text`, for groups given without an id.
fn derived_guid(seed_text: &str) -> String {
    let hex: String = Sha256::digest(seed_text.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    guid_text(&hex)
}

impl TeamsPolicies {
    /// The policies, groups and locations of `fixture`; `id_of_upn` maps lower-case UPNs to
    /// object ids. References the fixture check refused do not occur here; any left are skipped.
    pub fn from_fixture(fixture: &OrgFixture, id_of_upn: &HashMap<String, String>) -> TeamsPolicies {
        let teams: &TeamsFixture = &fixture.tenant.teams;
        let mut policies = TeamsPolicies {
            accepted_types: fixture.behaviour.accepted_policy_types.clone(),
            ..TeamsPolicies::default()
        };
        for policy_type in &fixture.behaviour.accepted_policy_types {
            policies.policies.push(TeamsPolicy {
                policy_type: policy_type.clone(),
                name: GLOBAL_POLICY.to_owned(),
                id: derived_policy_id(policy_type, GLOBAL_POLICY),
            });
        }
        for policy in &teams.policies {
            let Some(policy_type) = policies.accepted_type(&policy.policy_type).map(str::to_owned) else {
                continue;
            };
            policies.policies.push(TeamsPolicy {
                id: policy
                    .id
                    .clone()
                    .unwrap_or_else(|| derived_policy_id(&policy_type, &policy.name)),
                policy_type,
                name: policy.name.clone(),
            });
        }
        for user in &fixture.tenant.users {
            let Some(user_id) = user
                .id
                .clone()
                .or_else(|| id_of_upn.get(&user.user_principal_name.to_lowercase()).cloned())
            else {
                continue;
            };
            for reference in &user.policies {
                if let Some(policy) = policies.find(&reference.policy_type, &reference.name) {
                    let key = (user_id.clone(), policy.policy_type.clone());
                    let id = policy.id.clone();
                    policies.direct.insert(key, id);
                }
            }
        }
        for group in &teams.groups {
            let assignments = group
                .policies
                .iter()
                .filter_map(|p| {
                    let policy = policies.find(&p.policy_type, &p.name)?;
                    Some((policy.policy_type.clone(), policy.id.clone(), p.rank))
                })
                .collect();
            policies.groups.push(PolicyGroup {
                id: group
                    .id
                    .clone()
                    .unwrap_or_else(|| derived_guid(&format!("group:{}", group.display_name))),
                display_name: group.display_name.clone(),
                member_ids: group
                    .members
                    .iter()
                    .filter_map(|upn| id_of_upn.get(&upn.to_lowercase()).cloned())
                    .collect(),
                assignments,
            });
        }
        policies.emergency_locations = teams
            .emergency_locations
            .iter()
            .map(|l| EmergencyLocation {
                id: l.id.clone(),
                description: l.description.clone(),
            })
            .collect();
        policies
    }

    /// The canonical spelling of `raw` if it is an accepted type (compared ignoring case).
    pub fn accepted_type(&self, raw: &str) -> Option<&str> {
        self.accepted_types
            .iter()
            .find(|t| t.eq_ignore_ascii_case(raw))
            .map(String::as_str)
    }

    /// The policy of `policy_type` named `name` (both ignoring case).
    pub fn find(&self, policy_type: &str, name: &str) -> Option<&TeamsPolicy> {
        self.policies
            .iter()
            .find(|p| p.policy_type.eq_ignore_ascii_case(policy_type) && p.name.eq_ignore_ascii_case(name))
    }

    /// The policy of `policy_type` whose id is `id` (compared exactly).
    pub fn by_id(&self, policy_type: &str, id: &str) -> Option<&TeamsPolicy> {
        self.policies
            .iter()
            .find(|p| p.policy_type.eq_ignore_ascii_case(policy_type) && p.id == id)
    }

    /// Whether an emergency location with this id exists (ids compared ignoring case).
    pub fn has_emergency_location(&self, id: &str) -> bool {
        self.emergency_locations
            .iter()
            .any(|l| l.id.eq_ignore_ascii_case(id))
    }

    /// The effective policy of every accepted type whose effective policy is not Global, in the
    /// order of the accepted types: direct, else the group assignment with the smallest rank
    /// (ties: the group listed first).
    pub fn effective(&self, user_id: &str) -> Vec<EffectivePolicy<'_>> {
        let mut effective = Vec::new();
        for policy_type in &self.accepted_types {
            let direct = self
                .direct
                .get(&(user_id.to_owned(), policy_type.clone()))
                .and_then(|id| self.by_id(policy_type, id));
            if let Some(policy) = direct {
                effective.push(EffectivePolicy {
                    policy,
                    source: AssignmentSource::Direct,
                });
                continue;
            }
            let inherited = self
                .groups
                .iter()
                .filter(|g| g.member_ids.iter().any(|m| m == user_id))
                .flat_map(|g| {
                    g.assignments
                        .iter()
                        .filter(|(t, _, _)| t == policy_type)
                        .map(move |(_, id, rank)| (*rank, g, id))
                })
                .min_by_key(|(rank, _, _)| *rank);
            if let Some((_, group, id)) = inherited
                && let Some(policy) = self.by_id(policy_type, id)
            {
                effective.push(EffectivePolicy {
                    policy,
                    source: AssignmentSource::Group(&group.id),
                });
            }
        }
        effective
    }
}

#[cfg(test)]
#[path = "policies_tests.rs"]
mod tests;
