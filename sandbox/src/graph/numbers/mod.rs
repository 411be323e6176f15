//! Teams telephone numbers (`/v1.0/admin/teams/telephoneNumberManagement/...`) and Teams user
//! configurations (`/v1.0/admin/teams/userConfigurations` and `.../{id}`, see `configurations`).
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

mod actions;
mod configurations;
mod lookups;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::auth::{Need, authorize};
use super::odata::{self, Filter, FilterSchema, Kind, PropertyValue, QueryError, QueryOptions};
use crate::SandboxState;
use crate::errors::graph_error;
use crate::world::NumberRecord;

use actions::*;
use configurations::*;
use lookups::*;

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
            "/v1.0/admin/teams/userConfigurations",
            get(list_user_configurations),
        )
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
pub const NUMBER_FILTER: FilterSchema = FilterSchema {
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
#[path = "numbers_tests.rs"]
mod tests;
