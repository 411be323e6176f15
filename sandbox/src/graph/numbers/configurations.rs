//! Teams user configurations: `GET /v1.0/admin/teams/userConfigurations/{id}` and the list
//! `GET /v1.0/admin/teams/userConfigurations`.
//!
//! The list is documented with `$select`, `$filter`, `$top`, `$expand` and `$orderBy` and
//! permission `TeamsUserConfiguration.Read.All` ("List userConfigurations",
//! https://learn.microsoft.com/graph/api/teamsadministration-teamsadminroot-list-userconfigurations).
//! Choices (UNCONFIRMED upstream): pages of 100 by default, `$top` up to 999, users in id order,
//! `@odata.nextLink` with an opaque `$skiptoken`; `$filter` on `id`, `userPrincipalName`,
//! `accountType`, `isEnterpriseVoiceEnabled` and `featureTypes/any(...)`; `$expand` and
//! `$orderBy` are refused as not simulated. Only users with an enabled Teams plan are listed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::super::auth::{Need, authorize};
use super::super::odata::paging::{self, check_options};
use crate::SandboxState;
use crate::world::{AssignmentSource, DirectoryUser, NumberRecord, OperationKind, World};

use super::*;

const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 999;
const SKIPTOKEN_KIND: &str = "userConfigurations";

/// The filterable properties of `teamsUserConfiguration` in the sandbox.
pub const USER_CONFIGURATION_FILTER: FilterSchema = FilterSchema {
    resource: "teamsUserConfiguration",
    properties: &[
        ("id", Kind::StringIgnoreCase),
        ("userPrincipalName", Kind::StringIgnoreCase),
        ("accountType", Kind::StringIgnoreCase),
        ("isEnterpriseVoiceEnabled", Kind::Bool),
        ("featureTypes", Kind::StringsIgnoreCase),
    ],
};

pub(super) async fn get_user_configuration(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadUserConfigurations) {
        return response;
    }
    let id = key_of(&id).unwrap_or(&id).to_owned();
    let result = (|| {
        let params = query_params(query.as_deref())?;
        let select = parse_configuration_select(params.get("$select"))?;
        let world = state.world();
        let configuration = world.user_configuration(&id).ok_or_else(|| {
            not_found(&format!(
                "The Teams user configuration for user '{id}' was not found."
            ))
        })?;
        let mut body = project(configuration, select.as_deref());
        body.insert(
            "@odata.context".into(),
            format!(
                "{}/v1.0/$metadata#admin/teams/userConfigurations/$entity",
                state.public_url
            )
            .into(),
        );
        Ok::<_, Failure>(Value::Object(body))
    })();
    match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(failure) => failure.into_response(),
    }
}

pub(super) async fn list_user_configurations(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadUserConfigurations) {
        return response;
    }
    match list_body(&state, query.as_deref()) {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn parse_configuration_select(raw: Option<&str>) -> Result<Option<Vec<String>>, Failure> {
    raw.map(|s| {
        parse_select(
            s,
            USER_CONFIGURATION_PROPERTIES,
            "microsoft.graph.teamsAdministration.teamsUserConfiguration",
        )
    })
    .transpose()
}

fn list_body(state: &SandboxState, query: Option<&str>) -> Result<Value, Failure> {
    let options = query_params(query)?;
    check_options(&options, &["$select", "$filter", "$top", "$skiptoken"])?;
    let select = parse_configuration_select(options.get("$select"))?;
    let top = odata::parse_top(options.get("$top"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let filter = options
        .get("$filter")
        .map(|text| Filter::parse(text, &USER_CONFIGURATION_FILTER))
        .transpose()?;
    let resume_at = options
        .get("$skiptoken")
        .map(|t| paging::decode_skiptoken(SKIPTOKEN_KIND, t))
        .transpose()?;
    let carried: Vec<(&'static str, String)> = ["$select", "$filter", "$top"]
        .into_iter()
        .filter_map(|name| options.get(name).map(|v| (name, v.to_owned())))
        .collect();

    let world = state.world();
    let index = ConfigurationIndex::of(&world);
    let start = resume_at
        .as_deref()
        .map_or(0, |id| world.users.partition_point(|u| u.id.as_str() < id));
    let mut page: Vec<Value> = Vec::new();
    let mut next_id: Option<&str> = None;
    for user in world.users[start..].iter() {
        let Some(configuration) = world.configuration_of(user, &index) else {
            continue;
        };
        let matches = filter
            .as_ref()
            .is_none_or(|f| f.matches_with(|p| configuration_value(&configuration, p)));
        if !matches {
            continue;
        }
        if page.len() == top {
            next_id = Some(&user.id);
            break;
        }
        page.push(Value::Object(project(configuration, select.as_deref())));
    }
    let mut context = format!(
        "{}/v1.0/$metadata#admin/teams/userConfigurations",
        state.public_url
    );
    if let Some(select) = &select {
        context.push_str(&format!("({})", select.join(",")));
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), context.into());
    if let Some(next_id) = next_id {
        let base = format!("{}/v1.0/admin/teams/userConfigurations", state.public_url);
        let link = paging::next_link(&base, &carried, SKIPTOKEN_KIND, next_id);
        body.insert("@odata.nextLink".into(), link.into());
    }
    body.insert("value".into(), Value::Array(page));
    Ok(Value::Object(body))
}

/// The value of a filterable property, read from the rendered configuration.
fn configuration_value<'a>(configuration: &'a Map<String, Value>, property: &str) -> PropertyValue<'a> {
    match configuration.get(property) {
        Some(Value::String(text)) => PropertyValue::String(text),
        Some(Value::Bool(flag)) => PropertyValue::Bool(*flag),
        Some(Value::Array(items)) => PropertyValue::Strings(items.iter().filter_map(Value::as_str).collect()),
        _ => PropertyValue::Null,
    }
}

/// Numbers by holder and last completed assignment per user, built once per request so that a
/// listing of many users does not scan every number and operation for each user.
pub(crate) struct ConfigurationIndex<'a> {
    numbers: HashMap<&'a str, Vec<&'a NumberRecord>>,
    modified: HashMap<&'a str, Timestamp>,
}

impl<'a> ConfigurationIndex<'a> {
    fn of(world: &'a World) -> Self {
        let mut numbers: HashMap<&str, Vec<&NumberRecord>> = HashMap::new();
        for record in world.numbers.values() {
            if let Some(holder) = record.assignment_target_id.as_deref() {
                numbers.entry(holder).or_default().push(record);
            }
        }
        let mut modified: HashMap<&str, Timestamp> = HashMap::new();
        for operation in world.operations.values().filter(|op| op.outcome.is_some()) {
            if let OperationKind::Assign { target_id, .. } = &operation.kind {
                let latest = modified.entry(target_id.as_str()).or_insert(operation.created);
                *latest = (*latest).max(operation.created);
            }
        }
        ConfigurationIndex { numbers, modified }
    }
}

impl World {
    /// The `teamsUserConfiguration` of the directory user `id`, or `None` when the user does not
    /// exist or has no enabled Teams plan (not provisioned in Teams).
    pub fn user_configuration(&self, id: &str) -> Option<Map<String, Value>> {
        let user = self
            .user(id)
            .or_else(|| self.users.iter().find(|u| u.id.eq_ignore_ascii_case(id)))?;
        self.configuration_of(user, &ConfigurationIndex::of(self))
    }

    /// `user`'s configuration with every declared property, or `None` without Teams.
    fn configuration_of(
        &self,
        user: &DirectoryUser,
        index: &ConfigurationIndex<'_>,
    ) -> Option<Map<String, Value>> {
        let features = user.feature_types();
        if !features.contains(&"Teams") {
            return None;
        }
        let numbers: Vec<Value> = index
            .numbers
            .get(user.id.as_str())
            .into_iter()
            .flatten()
            .map(|n| json!({"telephoneNumber": n.telephone_number, "assignmentCategory": n.assignment_category}))
            .collect();
        let modified = index
            .modified
            .get(user.id.as_str())
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| USER_CONFIGURATION_CREATED.to_owned());
        let policies: Vec<Value> = self
            .teams
            .effective(&user.id)
            .into_iter()
            .map(|effective| {
                let (assignment_type, group_id) = match effective.source {
                    AssignmentSource::Direct => ("direct", Value::Null),
                    AssignmentSource::Group(group) => ("group", Value::from(group)),
                };
                json!({
                    "policyType": effective.policy.policy_type,
                    "policyAssignment": {
                        "assignmentType": assignment_type,
                        "displayName": effective.policy.name,
                        "groupId": group_id,
                        "policyId": effective.policy.id,
                    },
                })
            })
            .collect();
        let object = json!({
            "id": user.id,
            "userPrincipalName": user.user_principal_name,
            "tenantId": self.tenant_id,
            "accountType": "user",
            "isEnterpriseVoiceEnabled": !numbers.is_empty(),
            "featureTypes": features,
            "telephoneNumbers": numbers,
            "effectivePolicyAssignments": policies,
            "createdDateTime": USER_CONFIGURATION_CREATED,
            "modifiedDateTime": modified,
        });
        match object {
            Value::Object(map) => Some(map),
            _ => unreachable!("json! of an object literal is an object"),
        }
    }
}
