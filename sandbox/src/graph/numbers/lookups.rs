//! Long-running operations.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::super::auth::{Need, authorize};
use crate::SandboxState;
use crate::errors::graph_error;
use crate::world::Operation;

use super::*;

// ---------------------------------------------------------------------------------------------
// operations

pub(super) async fn get_operation_by_path(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let id = key_of(&id).unwrap_or(&id).to_owned();
    operation_response(&state, &headers, &id, query.as_deref())
}

pub(super) async fn get_operation_by_key(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(id) = segment.strip_prefix("operations").and_then(key_of) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{segment}'."),
        );
    };
    operation_response(&state, &headers, id, query.as_deref())
}

/// `('x')` or `(x)` -> `x`.
pub(super) fn key_of(segment: &str) -> Option<&str> {
    let inner = segment.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .unwrap_or(inner),
    )
}

pub(super) fn operation_response(
    state: &Arc<SandboxState>,
    headers: &HeaderMap,
    id: &str,
    query: Option<&str>,
) -> Response {
    if let Err(response) = authorize(state, headers, Need::ReadNumbers) {
        return response;
    }
    let result = (|| {
        let params = query_params(query)?;
        let select = params
            .get("$select")
            .map(|s| {
                parse_select(
                    s,
                    OPERATION_PROPERTIES,
                    "microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation",
                )
            })
            .transpose()?;
        let world = state.world();
        let operation = world
            .operations
            .get(id)
            .ok_or_else(|| not_found(&format!("The telephone number operation '{id}' was not found.")))?;
        let mut body = project(operation_entity(operation, &state.public_url), select.as_deref());
        body.insert(
            "@odata.context".into(),
            format!(
                "{}/v1.0/$metadata#admin/teams/telephoneNumberManagement/operations/$entity",
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

pub(super) fn operation_entity(operation: &Operation, public_url: &str) -> Map<String, Value> {
    let (status, resource_location, status_detail) = match &operation.outcome {
        None => ("running", Value::Null, Value::Null),
        Some(Ok(record_id)) => (
            "succeeded",
            Value::from(format!("{public_url}{NUMBERS}/numberAssignments/{record_id}")),
            Value::Null,
        ),
        Some(Err(detail)) => ("failed", Value::Null, Value::from(detail.clone())),
    };
    let object = json!({
        "id": operation.id,
        "createdDateTime": operation.created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "status": status,
        "numbers": [{"resourceLocation": resource_location, "status": status, "statusDetail": status_detail}],
    });
    match object {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}
