//! `assignNumber` and `unassignNumber`: request validation and the long-running operation they start.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::super::auth::{Need, authorize};
use crate::SandboxState;
use crate::errors::graph_error;
use crate::world::{OperationKind, normalise_number};

use super::*;

// ---------------------------------------------------------------------------------------------
// assignNumber / unassignNumber

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Assign,
    Unassign,
}

pub(super) async fn number_action(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let action = match segment.as_str() {
        "assignNumber" | "microsoft.graph.teamsAdministration.assignNumber" => Action::Assign,
        "unassignNumber" | "microsoft.graph.teamsAdministration.unassignNumber" => Action::Unassign,
        _ => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Resource not found for the segment '{segment}'."),
            );
        }
    };
    if let Err(response) = authorize(&state, &headers, Need::WriteNumbers) {
        return response;
    }
    let kind = match parse_action_body(action, &body) {
        Ok(kind) => kind,
        Err(message) => return bad_request(&message).into_response(),
    };
    let (id, without_location) = {
        let mut world = state.world();
        let id = world.start_operation(kind, Instant::now());
        (id, world.answers_without_location(world.operations_started()))
    };
    if without_location {
        return StatusCode::NO_CONTENT.into_response();
    }
    let location = format!("{}{NUMBERS}/operations('{id}')", state.public_url);
    let mut response = StatusCode::ACCEPTED.into_response();
    match HeaderValue::from_str(&location) {
        Ok(value) => {
            response.headers_mut().insert("location", value);
        }
        Err(_) => tracing::warn!(%location, "operation location is not a valid header value"),
    }
    response
}

/// Validates an action body as Graph does before accepting the operation.
pub(super) fn parse_action_body(action: Action, body: &[u8]) -> Result<OperationKind, String> {
    let (name, allowed): (&str, &[&str]) = match action {
        Action::Assign => (
            "assignNumber",
            &[
                "telephoneNumber",
                "assignmentTargetId",
                "numberType",
                "assignmentCategory",
                "locationId",
            ],
        ),
        Action::Unassign => ("unassignNumber", &["telephoneNumber", "numberType"]),
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
    for key in object.keys() {
        if !key.contains('@') && !allowed.contains(&key.as_str()) {
            return Err(format!(
                "The parameter '{key}' in the request payload is not a valid parameter for the operation '{name}'."
            ));
        }
    }
    let telephone_number = match string_parameter(&object, "telephoneNumber")? {
        Some(number) => valid_number(number)?,
        None => return Err(missing("telephoneNumber")),
    };
    let number_type = match enum_parameter(&object, "numberType", ASSIGNABLE_NUMBER_TYPES)? {
        Some(kind) => Some(kind),
        None if action == Action::Assign => return Err(missing("numberType")),
        None => None,
    };
    match action {
        Action::Unassign => Ok(OperationKind::Unassign { telephone_number }),
        Action::Assign => {
            let target_id = match string_parameter(&object, "assignmentTargetId")? {
                Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
                Some(_) => return Err("The parameter 'assignmentTargetId' must not be empty.".to_owned()),
                None => return Err(missing("assignmentTargetId")),
            };
            let category =
                enum_parameter(&object, "assignmentCategory", ASSIGNMENT_CATEGORIES)?.unwrap_or("primary");
            let location_id = string_parameter(&object, "locationId")?
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            Ok(OperationKind::Assign {
                telephone_number,
                target_id,
                number_type: number_type.unwrap_or("directRouting").to_owned(),
                category: category.to_owned(),
                location_id,
            })
        }
    }
}

pub(super) fn missing(name: &str) -> String {
    format!("The parameter '{name}' is required and must not be null.")
}

/// A string parameter: `Ok(None)` when absent or null.
pub(super) fn string_parameter<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("The parameter '{name}' must be a string, not {other}.")),
    }
}

pub(super) fn enum_parameter(
    object: &Map<String, Value>,
    name: &str,
    members: &'static [&'static str],
) -> Result<Option<&'static str>, String> {
    match string_parameter(object, name)? {
        None => Ok(None),
        Some(value) => members
            .iter()
            .copied()
            .find(|m| *m == value)
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "The value '{value}' is not valid for the parameter '{name}'; expected one of: {}.",
                    members.join(", ")
                )
            }),
    }
}

/// Normalises and checks a telephone number: `+`, 2 to 15 digits, an optional `;ext=` suffix.
pub(super) fn valid_number(raw: &str) -> Result<String, String> {
    let number = normalise_number(raw);
    let (base, extension) = match number.split_once(";ext=") {
        Some((base, ext)) => (base, Some(ext)),
        None => (number.as_str(), None),
    };
    let digits = &base[1..];
    let base_ok = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    let ext_ok =
        extension.is_none_or(|e| !e.is_empty() && e.len() <= 10 && e.bytes().all(|b| b.is_ascii_digit()));
    if base_ok && ext_ok {
        Ok(number)
    } else {
        Err(format!(
            "The parameter 'telephoneNumber' has an invalid value '{raw}': expected an E.164 number such as +14255550100, optionally with ;ext=."
        ))
    }
}
