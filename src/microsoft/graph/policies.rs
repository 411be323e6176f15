//! Teams policy assignment in Graph (namespace `microsoft.graph.teamsAdministration`, global
//! service only): a policy's id by its type and name, every user's effective policies, and direct
//! assignments made and removed in lists.
//!
//! Microsoft's pages this follows:
//! - learn.microsoft.com/graph/api/teamsadministration-teamspolicyassignment-getpolicyid:
//!   `GET /admin/teams/policy/getPolicyId(type='{policyType}',name='{policyName}')`, a collection
//!   of policyIdentifierDetail (`name`, `policyId`); permission TeamsPolicyUserAssign.ReadWrite.All.
//! - learn.microsoft.com/graph/api/teamsadministration-teamspolicyuserassignment-assign and
//!   `-unassign`: `POST /admin/teams/policy/userAssignments/assign` (and `/unassign`), body
//!   `{"value": [teamsPolicyUserAssignment]}` with `userId`, `policyType` and (to assign)
//!   `policyId`; `204 No Content`; permission TeamsPolicyUserAssign.ReadWrite.All.
//! - learn.microsoft.com/graph/api/teamsadministration-teamsadminroot-list-userconfigurations:
//!   `GET /admin/teams/userConfigurations` with `$select`, `$filter`, `$top`; each
//!   teamsUserConfiguration has `effectivePolicyAssignments` (effectivePolicyAssignment:
//!   `policyType`, `policyAssignment` with `assignmentType` direct | group, `policyId`, `groupId`,
//!   `displayName`); permission TeamsUserConfiguration.Read.All.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Deserialize;

use super::{GraphClient, GraphError};
use crate::upstream::{Idempotency, Service, read_json};

const POLICY_PATH: &str = "/v1.0/admin/teams/policy";
const USER_CONFIGURATIONS_PATH: &str = "/v1.0/admin/teams/userConfigurations";
/// The `@odata.type` of an entry of the assign and unassign lists.
const ASSIGNMENT_TYPE: &str = "#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment";

/// What a function parameter's value may not carry unencoded inside a URL path.
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A policy of a type, as `getPolicyId` names it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyIdentifier {
    /// The policy's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The policy's id.
    #[serde(default)]
    pub policy_id: Option<String>,
}

/// A user's Teams configuration, as much of it as the sync reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TeamsUserConfiguration {
    /// The user's object id.
    #[serde(default)]
    pub id: Option<String>,
    /// The policies Teams applies to the user, one per type.
    #[serde(default)]
    pub effective_policy_assignments: Vec<EffectivePolicyAssignment>,
}

/// One effective policy of a user.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePolicyAssignment {
    /// The policy type.
    #[serde(default)]
    pub policy_type: Option<String>,
    /// Which policy, and how it came to the user.
    #[serde(default)]
    pub policy_assignment: Option<PolicyAssignment>,
}

/// A policy instance applied to a user.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAssignment {
    /// `direct`, `group` (or a value Microsoft adds later).
    #[serde(default)]
    pub assignment_type: Option<String>,
    /// The policy's id.
    #[serde(default)]
    pub policy_id: Option<String>,
    /// The group it comes from, for a group assignment.
    #[serde(default)]
    pub group_id: Option<String>,
}

/// One entry of an assign or unassign list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyAssignmentEntry<'a> {
    /// The user's object id.
    pub user_id: &'a str,
    /// The policy type.
    pub policy_type: &'a str,
    /// The policy to assign (`None` to unassign).
    pub policy_id: Option<&'a str>,
}

/// An OData string literal inside a function's parentheses: single quotes doubled, then what a
/// path may not carry percent-encoded.
fn function_parameter(value: &str) -> String {
    let literal = value.replace('\'', "''");
    utf8_percent_encode(&literal, PATH_VALUE).to_string()
}

impl GraphClient {
    /// The policies of `policy_type` named `name` (Teams answers a collection).
    pub async fn policy_ids(
        &self,
        policy_type: &str,
        name: &str,
    ) -> Result<Vec<PolicyIdentifier>, GraphError> {
        let endpoint = format!("GET {POLICY_PATH}/getPolicyId");
        let url = format!(
            "{}{POLICY_PATH}/getPolicyId(type='{}',name='{}')",
            self.base,
            function_parameter(policy_type),
            function_parameter(name)
        );
        let (at, url) = (endpoint.as_str(), &url);
        let fetch = move || self.send(at, Idempotency::Idempotent, move |http| http.get(url));
        let (page, _): (super::Collection<PolicyIdentifier>, _) =
            read_json(Service::Graph, at, fetch).await?;
        Ok(page.value)
    }

    /// Every Teams user's effective policies, page by page.
    pub async fn list_user_configurations_by_page(
        &self,
        on_page: &mut (dyn FnMut(Vec<TeamsUserConfiguration>) + Send),
    ) -> Result<(), GraphError> {
        let first = format!(
            "{}{USER_CONFIGURATIONS_PATH}?$select=id,effectivePolicyAssignments",
            self.base
        );
        let endpoint = format!("GET {USER_CONFIGURATIONS_PATH}");
        self.follow_next_links(&endpoint, first, |request| request, on_page)
            .await
    }

    /// Assigns (entries with a policy) or unassigns (entries without) in one request.
    pub async fn change_policies(&self, entries: &[PolicyAssignmentEntry<'_>]) -> Result<(), GraphError> {
        let assigning = entries.iter().any(|entry| entry.policy_id.is_some());
        let action = if assigning { "assign" } else { "unassign" };
        let value: Vec<serde_json::Value> = entries
            .iter()
            .map(|entry| {
                let mut item = serde_json::json!({
                    "@odata.type": ASSIGNMENT_TYPE,
                    "userId": entry.user_id,
                    "policyType": entry.policy_type,
                });
                if let Some(policy_id) = entry.policy_id {
                    item["policyId"] = policy_id.into();
                }
                item
            })
            .collect();
        let body = serde_json::json!({ "value": value });
        let endpoint = format!("POST {POLICY_PATH}/userAssignments/{action}");
        let url = format!("{}{POLICY_PATH}/userAssignments/{action}", self.base);
        self.send(&endpoint, Idempotency::Idempotent, |http| {
            http.post(&url).json(&body)
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_parameter_doubles_quotes_and_encodes_what_a_path_cannot_carry() {
        assert_eq!(function_parameter("Berlin Routes"), "Berlin%20Routes");
        assert_eq!(function_parameter("O'Brien/1?#"), "O''Brien%2F1%3F%23");
        assert_eq!(function_parameter("Tag:Global"), "Tag:Global");
    }

    #[test]
    fn a_configuration_reads_its_effective_policies_and_ignores_the_rest() {
        let text = r#"{"id": "u1", "isEnterpriseVoiceEnabled": true,
            "effectivePolicyAssignments": [{"policyType": "TeamsCallingPolicy",
              "policyAssignment": {"assignmentType": "group", "displayName": "Sales",
                "policyId": "p1", "groupId": "g1"}}]}"#;
        let read: TeamsUserConfiguration = serde_json::from_str(text).unwrap();
        let only = &read.effective_policy_assignments[0];
        assert_eq!(only.policy_type.as_deref(), Some("TeamsCallingPolicy"));
        let assignment = only.policy_assignment.as_ref().unwrap();
        assert_eq!(assignment.assignment_type.as_deref(), Some("group"));
        assert_eq!(assignment.group_id.as_deref(), Some("g1"));
    }
}
