//! Teams telephone numbers (`/v1.0/admin/teams/telephoneNumberManagement/...`) and Teams user
//! configurations (`/v1.0/admin/teams/userConfigurations/{id}`).
//!
//! Choices beyond the module docs (all UNCONFIRMED upstream):
//! - Query options go through `odata` (its errors, codes and `$filter` grammar): `eq`, `in`,
//!   `startsWith`, `and`/`or`, `capabilities/any(c: c eq '...')`. Enum values compare ignoring
//!   case (Microsoft's own example filters `numberType eq 'DirectRouting'`), ids too;
//!   `telephoneNumber` compares exactly with the stored `+` form.
//! - Action bodies must use the exact enum spelling (`directRouting`); anything else is a 400
//!   naming the property, as are unknown properties and a number that is not E.164 after
//!   normalisation (`12061234567` is accepted and stored as `+12061234567`).
//! - An unassigned number shows `assignmentTargetId: null` and `assignmentCategory: null`;
//!   `operatorId` is never written (the schema declares it a non-null string and Direct Routing
//!   numbers have no operator).
//! - `userConfigurations/{id}` answers 404 for users without an enabled Teams plan (`TEAMS1`), as
//!   for users not yet provisioned in Teams; `telephoneNumbers` lists every number the user holds,
//!   including `assignmentPending` ones; `createdDateTime` is a fixed date and `modifiedDateTime`
//!   the creation time of the last completed assignment operation for the user.
//! - `numberAssignments/{id}` (the operation's `resourceLocation`) is served too.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::auth::{Need, authorize};
use super::odata::{self, Filter, FilterSchema, Kind, PropertyValue, QueryError, QueryOptions};
use crate::sandbox::SandboxState;
use crate::sandbox::errors::graph_error;
use crate::sandbox::world::{NumberRecord, Operation, OperationKind, World, normalise_number};

const NUMBERS: &str = "/v1.0/admin/teams/telephoneNumberManagement";
const DEFAULT_TOP: usize = 500;
const MAX_TOP: usize = 1000;
/// `createdDateTime` of every Teams user configuration (the world keeps no creation times).
const USER_CONFIGURATION_CREATED: &str = "2024-01-15T08:00:00Z";

const ASSIGNABLE_NUMBER_TYPES: &[&str] = &["directRouting", "callingPlan", "operatorConnect"];
const ASSIGNMENT_CATEGORIES: &[&str] = &["primary", "private", "alternate"];

/// Properties of `numberAssignment`, for `$select`.
const NUMBER_ASSIGNMENT_PROPERTIES: &[&str] = &[
    "id",
    "activationState",
    "assignmentCategory",
    "assignmentStatus",
    "assignmentTargetId",
    "capabilities",
    "city",
    "civicAddressId",
    "isoCountryCode",
    "locationId",
    "networkSiteId",
    "numberSource",
    "numberType",
    "operatorId",
    "portInStatus",
    "reverseNumberLookupOptions",
    "supportedCustomerActions",
    "telephoneNumber",
];
const OPERATION_PROPERTIES: &[&str] = &["id", "createdDateTime", "numbers", "status"];
const USER_CONFIGURATION_PROPERTIES: &[&str] = &[
    "id",
    "accountType",
    "createdDateTime",
    "effectivePolicyAssignments",
    "featureTypes",
    "isEnterpriseVoiceEnabled",
    "modifiedDateTime",
    "telephoneNumbers",
    "tenantId",
    "userPrincipalName",
    "user",
];

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route(
            &format!("{NUMBERS}/numberAssignments"),
            get(list_number_assignments),
        )
        .route(
            &format!("{NUMBERS}/numberAssignments/{{segment}}"),
            get(get_number_assignment).post(number_action),
        )
        .route(
            &format!("{NUMBERS}/operations/{{id}}"),
            get(get_operation_by_path),
        )
        .route(&format!("{NUMBERS}/{{segment}}"), get(get_operation_by_key))
        .route(
            "/v1.0/admin/teams/userConfigurations/{id}",
            get(get_user_configuration),
        )
}

// ---------------------------------------------------------------------------------------------
// numberAssignments

async fn list_number_assignments(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadNumbers) {
        return response;
    }
    match list_body(&state, query.as_deref()) {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn list_body(state: &SandboxState, query: Option<&str>) -> Result<Value, Failure> {
    let params = query_params(query)?;
    let top = odata::parse_top(params.get("$top"), DEFAULT_TOP, MAX_TOP).map_err(Failure::from)?;
    let skip = odata::parse_skip(params.get("$skip")).map_err(Failure::from)?;
    let count = odata::parse_count(params.get("$count")).map_err(Failure::from)?;
    let filter = params
        .get("$filter")
        .map(|text| Filter::parse(text, &NUMBER_FILTER))
        .transpose()
        .map_err(Failure::from)?;
    let select = params
        .get("$select")
        .map(|s| {
            parse_select(
                s,
                NUMBER_ASSIGNMENT_PROPERTIES,
                "microsoft.graph.teamsAdministration.numberAssignment",
            )
        })
        .transpose()?;

    let now = Instant::now();
    let world = state.world();
    let matching = world.numbers.values().filter(|r| {
        filter
            .as_ref()
            .is_none_or(|f| f.matches_with(|p| filter_value(r, p, now)))
    });
    let (total, page): (Option<usize>, Vec<&NumberRecord>) = if count {
        let all: Vec<&NumberRecord> = matching.collect();
        let total = all.len();
        (Some(total), all.into_iter().skip(skip).take(top).collect())
    } else {
        (None, matching.skip(skip).take(top).collect())
    };
    let value: Vec<Value> = page
        .into_iter()
        .map(|r| Value::Object(project(number_assignment(r, now), select.as_deref())))
        .collect();
    drop(world);

    let mut context = format!(
        "{}/v1.0/$metadata#admin/teams/telephoneNumberManagement/numberAssignments",
        state.public_url
    );
    if let Some(select) = &select {
        context.push_str(&format!("({})", select.join(",")));
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), context.into());
    if let Some(total) = total {
        body.insert("@odata.count".into(), total.into());
    }
    body.insert("value".into(), Value::Array(value));
    Ok(Value::Object(body))
}

async fn get_number_assignment(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadNumbers) {
        return response;
    }
    let id = key_of(&segment).unwrap_or(&segment).to_owned();
    let result = (|| {
        let params = query_params(query.as_deref())?;
        let select = params
            .get("$select")
            .map(|s| {
                parse_select(
                    s,
                    NUMBER_ASSIGNMENT_PROPERTIES,
                    "microsoft.graph.teamsAdministration.numberAssignment",
                )
            })
            .transpose()?;
        let now = Instant::now();
        let world = state.world();
        let record = world
            .numbers
            .values()
            .find(|r| r.id.eq_ignore_ascii_case(&id))
            .ok_or_else(|| not_found(&format!("Number assignment '{id}' was not found.")))?;
        let mut body = project(number_assignment(record, now), select.as_deref());
        body.insert(
            "@odata.context".into(),
            format!(
                "{}/v1.0/$metadata#admin/teams/telephoneNumberManagement/numberAssignments/$entity",
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

/// The `numberAssignment` entity of `record` at `now`, with every declared property.
fn number_assignment(record: &NumberRecord, now: Instant) -> Map<String, Value> {
    let assigned = record.assignment_target_id.is_some();
    let object = json!({
        "id": record.id,
        "telephoneNumber": record.telephone_number,
        "numberType": record.number_type,
        "assignmentStatus": record.assignment_status(),
        "activationState": record.activation_state(now),
        "assignmentTargetId": record.assignment_target_id,
        "assignmentCategory": if assigned { Value::from(record.assignment_category.clone()) } else { Value::Null },
        "capabilities": ["userAssignment"],
        "numberSource": "online",
        "locationId": record.location_id,
        "civicAddressId": null,
        "networkSiteId": null,
        "isoCountryCode": iso_country_code(&record.telephone_number),
        "city": null,
        "portInStatus": null,
        "reverseNumberLookupOptions": [],
        "supportedCustomerActions": [],
    });
    match object {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

fn iso_country_code(number: &str) -> Option<&'static str> {
    if number.starts_with("+1") {
        Some("US")
    } else if number.starts_with("+44") {
        Some("GB")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// assignNumber / unassignNumber

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Assign,
    Unassign,
}

async fn number_action(
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
    let id = state.world().start_operation(kind, Instant::now());
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
fn parse_action_body(action: Action, body: &[u8]) -> Result<OperationKind, String> {
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

fn missing(name: &str) -> String {
    format!("The parameter '{name}' is required and must not be null.")
}

/// A string parameter: `Ok(None)` when absent or null.
fn string_parameter<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("The parameter '{name}' must be a string, not {other}.")),
    }
}

fn enum_parameter(
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
fn valid_number(raw: &str) -> Result<String, String> {
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

// ---------------------------------------------------------------------------------------------
// operations

async fn get_operation_by_path(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let id = key_of(&id).unwrap_or(&id).to_owned();
    operation_response(&state, &headers, &id, query.as_deref())
}

async fn get_operation_by_key(
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
fn key_of(segment: &str) -> Option<&str> {
    let inner = segment.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .unwrap_or(inner),
    )
}

fn operation_response(
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

fn operation_entity(operation: &Operation, public_url: &str) -> Map<String, Value> {
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

// ---------------------------------------------------------------------------------------------
// userConfigurations

async fn get_user_configuration(
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
        let select = params
            .get("$select")
            .map(|s| {
                parse_select(
                    s,
                    USER_CONFIGURATION_PROPERTIES,
                    "microsoft.graph.teamsAdministration.teamsUserConfiguration",
                )
            })
            .transpose()?;
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

impl World {
    /// The `teamsUserConfiguration` of the directory user `id`, or `None` when the user does not
    /// exist or has no enabled Teams plan (not provisioned in Teams).
    pub fn user_configuration(&self, id: &str) -> Option<Map<String, Value>> {
        let user = self
            .user(id)
            .or_else(|| self.users.iter().find(|u| u.id.eq_ignore_ascii_case(id)))?;
        let features = user.feature_types();
        if !features.contains(&"Teams") {
            return None;
        }
        let numbers: Vec<Value> = self
            .numbers_of(&user.id)
            .into_iter()
            .map(|n| json!({"telephoneNumber": n.telephone_number, "assignmentCategory": n.assignment_category}))
            .collect();
        let modified = self
            .operations
            .values()
            .filter(|op| op.outcome.is_some())
            .filter(|op| matches!(&op.kind, OperationKind::Assign { target_id, .. } if *target_id == user.id))
            .map(|op| op.created)
            .max()
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| USER_CONFIGURATION_CREATED.to_owned());
        let object = json!({
            "id": user.id,
            "userPrincipalName": user.user_principal_name,
            "tenantId": self.tenant_id,
            "accountType": "user",
            "isEnterpriseVoiceEnabled": !numbers.is_empty(),
            "featureTypes": features,
            "telephoneNumbers": numbers,
            "effectivePolicyAssignments": [],
            "createdDateTime": USER_CONFIGURATION_CREATED,
            "modifiedDateTime": modified,
        });
        match object {
            Value::Object(map) => Some(map),
            _ => unreachable!("json! of an object literal is an object"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query options

/// A Graph error to answer with; small, so `Result`s that carry it stay cheap.
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        graph_error(self.status, self.code, &self.message)
    }
}

fn bad_request(message: &str) -> Failure {
    Failure {
        status: StatusCode::BAD_REQUEST,
        code: "BadRequest",
        message: message.to_owned(),
    }
}

fn not_found(message: &str) -> Failure {
    Failure {
        status: StatusCode::NOT_FOUND,
        code: "itemNotFound",
        message: message.to_owned(),
    }
}

impl From<QueryError> for Failure {
    fn from(error: QueryError) -> Self {
        Failure {
            status: StatusCode::BAD_REQUEST,
            code: error.code,
            message: error.message,
        }
    }
}

fn query_params(query: Option<&str>) -> Result<QueryOptions, Failure> {
    QueryOptions::parse(query).map_err(Failure::from)
}

/// `$select` as `odata` parses it, with every name checked against `properties`.
fn parse_select(text: &str, properties: &[&str], type_name: &str) -> Result<Vec<String>, Failure> {
    let mut selected: Vec<String> = Vec::new();
    for name in odata::parse_select(text)? {
        let Some(property) = properties.iter().find(|p| p.eq_ignore_ascii_case(&name)) else {
            return Err(bad_request(&format!(
                "Could not find a property named '{name}' on type '{type_name}'."
            )));
        };
        if !selected.iter().any(|s| s == property) {
            selected.push((*property).to_owned());
        }
    }
    Ok(selected)
}

/// Keeps only `select`ed properties (and `id`, which Graph always returns).
fn project(mut object: Map<String, Value>, select: Option<&[String]>) -> Map<String, Value> {
    if let Some(select) = select {
        object.retain(|key, _| key == "id" || select.iter().any(|s| s == key));
    }
    object
}

// ---------------------------------------------------------------------------------------------
// $filter (parsed and evaluated by `odata`)

/// The filterable properties of `numberAssignment`: all but `id` and `city`, per Microsoft's
/// documentation. Enum values compare ignoring case (Microsoft's own example filters
/// `numberType eq 'DirectRouting'`).
const NUMBER_FILTER: FilterSchema = FilterSchema {
    resource: "numberAssignment",
    properties: &[
        ("telephoneNumber", Kind::String),
        ("assignmentTargetId", Kind::StringIgnoreCase),
        ("numberType", Kind::StringIgnoreCase),
        ("assignmentStatus", Kind::StringIgnoreCase),
        ("activationState", Kind::StringIgnoreCase),
        ("assignmentCategory", Kind::StringIgnoreCase),
        ("numberSource", Kind::StringIgnoreCase),
        ("isoCountryCode", Kind::StringIgnoreCase),
        ("locationId", Kind::StringIgnoreCase),
        ("civicAddressId", Kind::StringIgnoreCase),
        ("networkSiteId", Kind::StringIgnoreCase),
        ("operatorId", Kind::StringIgnoreCase),
        ("portInStatus", Kind::StringIgnoreCase),
        ("capabilities", Kind::Strings),
        ("supportedCustomerActions", Kind::Strings),
        ("reverseNumberLookupOptions", Kind::Strings),
    ],
};

/// The value of a filterable property, consistent with [`number_assignment`].
fn filter_value<'a>(record: &'a NumberRecord, property: &str, now: Instant) -> PropertyValue<'a> {
    let text = |value: Option<&'a str>| value.map_or(PropertyValue::Null, PropertyValue::String);
    let assigned = record.assignment_target_id.is_some();
    match property {
        "telephoneNumber" => PropertyValue::String(&record.telephone_number),
        "assignmentTargetId" => text(record.assignment_target_id.as_deref()),
        "numberType" => PropertyValue::String(&record.number_type),
        "assignmentStatus" => PropertyValue::String(record.assignment_status()),
        "activationState" => PropertyValue::String(record.activation_state(now)),
        "assignmentCategory" => text(assigned.then_some(record.assignment_category.as_str())),
        "numberSource" => PropertyValue::String("online"),
        "isoCountryCode" => text(iso_country_code(&record.telephone_number)),
        "locationId" => text(record.location_id.as_deref()),
        "capabilities" => PropertyValue::Strings(vec!["userAssignment"]),
        "supportedCustomerActions" | "reverseNumberLookupOptions" => PropertyValue::Strings(Vec::new()),
        _ => PropertyValue::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_bodies_are_validated() {
        let ok = parse_action_body(
            Action::Assign,
            br#"{"telephoneNumber":"12061234567","assignmentTargetId":"u","numberType":"directRouting"}"#,
        )
        .unwrap();
        assert!(
            matches!(ok, OperationKind::Assign { ref telephone_number, ref category, .. }
            if telephone_number == "+12061234567" && category == "primary")
        );
        let errors = [
            (
                Action::Assign,
                r#"{"assignmentTargetId":"u","numberType":"directRouting"}"#,
                "telephoneNumber",
            ),
            (
                Action::Assign,
                r#"{"telephoneNumber":"+1206","numberType":"directRouting"}"#,
                "assignmentTargetId",
            ),
            (
                Action::Assign,
                r#"{"telephoneNumber":"+1206","assignmentTargetId":"u"}"#,
                "numberType",
            ),
            (
                Action::Assign,
                r#"{"telephoneNumber":"+1206","assignmentTargetId":"u","numberType":"DirectRouting"}"#,
                "numberType",
            ),
            (
                Action::Assign,
                r#"{"telephoneNumber":"+1 206","assignmentTargetId":"u","numberType":"directRouting"}"#,
                "telephoneNumber",
            ),
            (
                Action::Unassign,
                r#"{"telephoneNumber":"+1206","extra":1}"#,
                "extra",
            ),
            (
                Action::Unassign,
                r#"{"numberType":"directRouting"}"#,
                "telephoneNumber",
            ),
        ];
        for (action, body, named) in errors {
            let message = parse_action_body(action, body.as_bytes()).expect_err(body);
            assert!(message.contains(named), "{body}: {message}");
        }
    }
}
