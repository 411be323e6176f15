//! Teams policy assignment (Microsoft Graph v1.0, `microsoft.graph.teamsAdministration`, global
//! service only):
//! - `GET /v1.0/admin/teams/policy/getPolicyId(type='{policyType}',name='{policyName}')`: a
//!   collection of `policyIdentifierDetail` `{name, policyId}`
//!   (https://learn.microsoft.com/graph/api/teamsadministration-teamspolicyassignment-getpolicyid,
//!   https://learn.microsoft.com/graph/api/resources/teamsadministration-policyidentifierdetail);
//! - `POST /v1.0/admin/teams/policy/userAssignments/assign` and `.../unassign` (see `assignments`).
//!
//! All three need `TeamsPolicyUserAssign.ReadWrite.All` (application or delegated; a delegated
//! caller also needs a Teams admin role, as for numbers).
//!
//! Choices (UNCONFIRMED upstream; the pages document only the success answers):
//! - types and names compare ignoring case; the answer spells them as the tenant does;
//! - a type the tenant does not accept (`behaviour.acceptedPolicyTypes`) is 400 `BadRequest`;
//! - a name with no policy of that type is 404 `itemNotFound`, as Teams' own policy look-ups
//!   answer not found;
//! - the function's parameters may come in either order, quoted as OData strings (`''` is a
//!   quote); parameter aliases (`type=@t`) are refused.

mod assignments;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::auth::{Need, authorize};
use crate::SandboxState;
use crate::errors::graph_error;

const POLICY: &str = "/v1.0/admin/teams/policy";

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route(&format!("{POLICY}/{{segment}}"), get(get_policy_id))
        .route(
            &format!("{POLICY}/userAssignments/{{action}}"),
            post(assignments::policy_action),
        )
}

async fn get_policy_id(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(segment): Path<String>,
) -> Response {
    let Some(arguments) = segment
        .strip_prefix("microsoft.graph.teamsAdministration.")
        .unwrap_or(&segment)
        .strip_prefix("getPolicyId")
    else {
        return unknown_segment(&segment);
    };
    if let Err(response) = authorize(&state, &headers, Need::AssignPolicies) {
        return response;
    }
    let (policy_type, name) = match parse_arguments(arguments) {
        Ok(pair) => pair,
        Err(message) => return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message),
    };
    let world = state.world();
    if world.teams.accepted_type(&policy_type).is_none() {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("The policy type '{policy_type}' is not supported."),
        );
    }
    let Some(policy) = world.teams.find(&policy_type, &name) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            &format!("No policy of type '{policy_type}' is named '{name}'."),
        );
    };
    let body = json!({
        "@odata.context": format!(
            "{}/v1.0/$metadata#Collection(microsoft.graph.teamsAdministration.policyIdentifierDetail)",
            state.public_url
        ),
        "value": [{"name": policy.name, "policyId": policy.id}],
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Graph's answer to a path segment it does not know.
fn unknown_segment(segment: &str) -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// `(type='X',name='Y')` (either order) -> `(X, Y)`.
pub(crate) fn parse_arguments(text: &str) -> Result<(String, String), String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| "getPolicyId needs its parameters: getPolicyId(type='...',name='...').".to_owned())?;
    let mut policy_type = None;
    let mut name = None;
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (key, after_key) = rest
            .split_once('=')
            .ok_or_else(|| format!("Syntax error in the parameters of getPolicyId: '{inner}'."))?;
        let (value, after_value) = odata_string(after_key.trim_start()).ok_or_else(|| {
            format!(
                "The parameter '{}' of getPolicyId must be a quoted string.",
                key.trim()
            )
        })?;
        let slot = match key.trim() {
            "type" => &mut policy_type,
            "name" => &mut name,
            other => return Err(format!("getPolicyId has no parameter '{other}'.")),
        };
        if slot.replace(value).is_some() {
            return Err(format!(
                "The parameter '{}' of getPolicyId is given twice.",
                key.trim()
            ));
        }
        rest = after_value.trim_start();
        rest = match rest.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if rest.is_empty() => rest,
            None => {
                return Err(format!(
                    "Syntax error in the parameters of getPolicyId: '{inner}'."
                ));
            }
        };
    }
    match (policy_type, name) {
        (Some(policy_type), Some(name)) => Ok((policy_type, name)),
        (None, _) => Err("The parameter 'type' of getPolicyId is missing.".to_owned()),
        (_, None) => Err("The parameter 'name' of getPolicyId is missing.".to_owned()),
    }
}

/// An OData string literal at the start of `text` (`'it''s'` -> `it's`) and what follows it.
fn odata_string(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('\'')?.char_indices().peekable();
    let body = &text[1..];
    let mut value = String::new();
    while let Some((index, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
        } else if chars.peek().is_some_and(|(_, next)| *next == '\'') {
            chars.next();
            value.push('\'');
        } else {
            return Some((value, &body[index + 1..]));
        }
    }
    None
}

#[cfg(test)]
#[path = "policies_tests.rs"]
mod tests;
