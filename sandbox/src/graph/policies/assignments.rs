//! `POST /v1.0/admin/teams/policy/userAssignments/assign` and `.../unassign`.
//!
//! The body is `{"value": [teamsPolicyUserAssignment, ...]}`: `userId`, `policyType` and (assign
//! only) `policyId`, with `@odata.type` as in Microsoft's examples; success is `204 No Content`
//! (https://learn.microsoft.com/graph/api/teamsadministration-teamspolicyuserassignment-assign,
//! https://learn.microsoft.com/graph/api/teamsadministration-teamspolicyuserassignment-unassign).
//! The sandbox is strict: an unknown property, a missing or empty value, an empty list or more
//! entries than `behaviour.policyAssignmentBatchLimit` is 400 `BadRequest` naming the entry; a
//! user or policy id that does not exist is 404 `itemNotFound`; the batch is applied whole or not
//! at all (see `world::policy_changes`). An unassign entry may carry `policyId` (the type
//! declares it); it is ignored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::super::auth::{Need, authorize};
use crate::SandboxState;
use crate::errors::graph_error;
use crate::world::{PolicyBatchError, PolicyChange};

/// Which of the two actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyAction {
    /// `assign`.
    Assign,
    /// `unassign`.
    Unassign,
}

pub(super) async fn policy_action(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let action = match segment.as_str() {
        "assign" | "microsoft.graph.teamsAdministration.assign" => PolicyAction::Assign,
        "unassign" | "microsoft.graph.teamsAdministration.unassign" => PolicyAction::Unassign,
        _ => return super::unknown_segment(&segment),
    };
    if let Err(response) = authorize(&state, &headers, Need::AssignPolicies) {
        return response;
    }
    let mut world = state.world();
    let limit = world.behaviour.policy_assignment_batch_limit as usize;
    let changes = match parse_body(action, &body, limit) {
        Ok(changes) => changes,
        Err(message) => return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message),
    };
    match world.apply_policy_changes(&changes) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(PolicyBatchError::Invalid(message)) => {
            graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message)
        }
        Err(PolicyBatchError::NotFound(message)) => {
            graph_error(StatusCode::NOT_FOUND, "itemNotFound", &message)
        }
    }
}

/// Checks the body's shape and returns its entries; the message says what is wrong and where.
pub(crate) fn parse_body(
    action: PolicyAction,
    body: &[u8],
    limit: usize,
) -> Result<Vec<PolicyChange>, String> {
    let name = match action {
        PolicyAction::Assign => "assign",
        PolicyAction::Unassign => "unassign",
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("The request body of action '{name}' is missing."));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("The request body is not valid JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err(format!(
            "The request body of action '{name}' must be a JSON object."
        ));
    };
    if let Some(key) = object.keys().find(|k| !k.contains('@') && *k != "value") {
        return Err(format!(
            "The parameter '{key}' in the request payload is not a valid parameter for the operation '{name}'."
        ));
    }
    let entries = match object.get("value") {
        Some(Value::Array(entries)) => entries,
        None | Some(Value::Null) => {
            return Err("The parameter 'value' is required and must not be null.".to_owned());
        }
        Some(_) => {
            return Err("The parameter 'value' must be a list of teamsPolicyUserAssignment.".to_owned());
        }
    };
    if entries.is_empty() {
        return Err("The parameter 'value' must hold at least one teamsPolicyUserAssignment.".to_owned());
    }
    if entries.len() > limit {
        return Err(format!(
            "The request holds {} policy assignments; at most {limit} are allowed in one request.",
            entries.len()
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(action, index, entry))
        .collect()
}

fn parse_entry(action: PolicyAction, index: usize, entry: &Value) -> Result<PolicyChange, String> {
    let Value::Object(entry) = entry else {
        return Err(format!(
            "value[{index}] must be a teamsPolicyUserAssignment object."
        ));
    };
    const PROPERTIES: [&str; 3] = ["userId", "policyType", "policyId"];
    if let Some(key) = entry
        .keys()
        .find(|k| !k.contains('@') && !PROPERTIES.contains(&k.as_str()))
    {
        return Err(format!(
            "value[{index}]: '{key}' is not a property of microsoft.graph.teamsAdministration.teamsPolicyUserAssignment."
        ));
    }
    let user_id = required_string(entry, index, "userId")?;
    let policy_type = required_string(entry, index, "policyType")?;
    let policy_id = match action {
        PolicyAction::Assign => Some(required_string(entry, index, "policyId")?),
        PolicyAction::Unassign => {
            optional_string(entry, index, "policyId")?;
            None
        }
    };
    Ok(PolicyChange {
        user_id,
        policy_type,
        policy_id,
    })
}

fn optional_string(entry: &Map<String, Value>, index: usize, name: &str) -> Result<Option<String>, String> {
    match entry.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
        Some(other) => Err(format!("value[{index}].{name} must be a string, not {other}.")),
    }
}

fn required_string(entry: &Map<String, Value>, index: usize, name: &str) -> Result<String, String> {
    match optional_string(entry, index, name)? {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(format!(
            "value[{index}].{name} is required and must not be empty."
        )),
    }
}
