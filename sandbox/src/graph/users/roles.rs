//! The signed-in user's directory roles (`/me/memberOf/...directoryRole`).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::super::auth::{Need, authorize};
use super::super::odata::{
    self, Filter, FilterSchema, FilterSubject, Kind, PropertyValue, QueryError, QueryOptions,
};
use crate::SandboxState;
use crate::directory_roles;
use crate::errors::graph_error;
use crate::world::Principal;

use super::*;

/// A directory role activated in the tenant.
pub(super) struct RoleInstance {
    id: String,
    display_name: &'static str,
    description: &'static str,
    template_id: String,
}

impl FilterSubject for RoleInstance {
    fn value(&self, property: &str) -> PropertyValue<'_> {
        match property {
            "id" => PropertyValue::String(&self.id),
            "displayName" => PropertyValue::String(self.display_name),
            "roleTemplateId" => PropertyValue::String(&self.template_id),
            _ => PropertyValue::Null,
        }
    }
}

pub(super) const ROLE_FILTER: FilterSchema = FilterSchema {
    resource: "directoryRole",
    properties: &[
        ("id", Kind::StringIgnoreCase),
        ("displayName", Kind::StringIgnoreCase),
        ("roleTemplateId", Kind::StringIgnoreCase),
    ],
};

pub(super) const ROLE_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "description",
    "displayName",
    "roleTemplateId",
];
pub(super) const ROLE_NAVIGATION: &[&str] = &["members", "scopedMembers"];

/// A tenant-specific role instance id: stable for a tenant and template, unlike the template id.
pub(super) fn role_instance_id(tenant_id: &str, template_id: &str) -> String {
    pub(super) fn fnv(seed: u64, text: &str) -> u64 {
        text.bytes().fold(seed, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
    let text = format!("{tenant_id}/{template_id}");
    let hex = format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325, &text),
        fnv(0x6c62_272e_07bb_0142, &text)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The signed-in user's directory roles, or the error response.
pub(super) fn signed_in_roles(
    state: &Arc<SandboxState>,
    headers: &HeaderMap,
) -> Result<Vec<RoleInstance>, Box<Response>> {
    let user_id = match authorize(state, headers, Need::SignedInUser).map_err(Box::new)? {
        Principal::User { user_id, .. } => user_id,
        Principal::Application { .. } => return Err(Box::new(app_only_on_me())),
    };
    let world = state.world();
    let user = world.user(&user_id).ok_or_else(|| {
        Box::new(graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{user_id}' does not exist or one of its queried reference-property objects are not present."),
        ))
    })?;
    Ok(user
        .role_template_ids
        .iter()
        .map(|template_id| RoleInstance {
            id: role_instance_id(&world.tenant_id, template_id),
            display_name: directory_roles::role_by_template_id(template_id).map_or("", |r| r.display_name),
            description: directory_roles::role_by_template_id(template_id).map_or("", |r| r.description),
            template_id: template_id.clone(),
        })
        .collect())
}

/// Renders roles as a directoryRole collection (`@odata.type` on each item).
pub(super) fn render_roles(
    state: &SandboxState,
    roles: &[RoleInstance],
    headers: &HeaderMap,
    query: Option<&str>,
    entity_set: &str,
) -> Result<Response, QueryError> {
    let options = QueryOptions::parse(query)?;
    check_options(&options, &["$select", "$filter", "$count", "$top"])?;
    let count = check_count(&options, headers)?;
    // Directory roles do not page; `$top` is checked and otherwise ignored.
    odata::parse_top(options.get("$top"), MAX_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let filter = options
        .get("$filter")
        .map(|f| Filter::parse(f, &ROLE_FILTER))
        .transpose()?;
    let (properties, context) = match options.get("$select") {
        None => (ROLE_PROPERTIES.to_vec(), String::new()),
        Some(select) => {
            let mut properties = vec!["id"];
            let mut names = Vec::new();
            for item in odata::parse_select(select)? {
                let name = ROLE_PROPERTIES
                    .iter()
                    .chain(ROLE_NAVIGATION)
                    .find(|p| p.eq_ignore_ascii_case(&item))
                    .ok_or_else(|| {
                        QueryError::bad_request(format!(
                            "Could not find a property named '{item}' on type 'microsoft.graph.directoryRole'."
                        ))
                    })?;
                if !names.contains(name) {
                    names.push(*name);
                }
                if ROLE_PROPERTIES.contains(name) && !properties.contains(name) {
                    properties.push(name);
                }
            }
            (properties, format!("({})", names.join(",")))
        }
    };
    let value: Vec<serde_json::Value> = roles
        .iter()
        .filter(|role| filter.as_ref().is_none_or(|f| f.matches(*role)))
        .map(|role| {
            let mut item = serde_json::Map::new();
            item.insert("@odata.type".into(), "#microsoft.graph.directoryRole".into());
            for property in &properties {
                let v = match *property {
                    "id" => role.id.clone().into(),
                    "description" => role.description.into(),
                    "displayName" => role.display_name.into(),
                    "roleTemplateId" => role.template_id.clone().into(),
                    _ => serde_json::Value::Null,
                };
                item.insert((*property).to_owned(), v);
            }
            serde_json::Value::Object(item)
        })
        .collect();
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        format!("{}/v1.0/$metadata#{entity_set}{context}", state.public_url).into(),
    );
    if count {
        body.insert("@odata.count".into(), value.len().into());
    }
    body.insert("value".into(), value.into());
    let text = serde_json::to_vec(&body).expect("JSON values serialize");
    Ok(json_response(StatusCode::OK, text))
}

/// `GET /v1.0/me/memberOf`: direct memberships; the sandbox's users belong to roles only.
pub(super) async fn member_of(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let roles = match signed_in_roles(&state, &headers) {
        Ok(roles) => roles,
        Err(response) => return *response,
    };
    render_roles(&state, &roles, &headers, query.as_deref(), "directoryObjects")
        .unwrap_or_else(QueryError::into_response)
}

/// `GET /v1.0/me/memberOf/{cast}`. Microsoft's memberOf page says the OData cast needs
/// `ConsistencyLevel: eventual` and `$count=true`; in practice (and here) the cast answers
/// without them. `$count=true` itself still needs the header.
pub(super) async fn member_of_cast(
    State(state): State<Arc<SandboxState>>,
    Path(cast): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let cast_name = cast.strip_prefix("microsoft.").unwrap_or(&cast);
    let (entity_set, roles_wanted) = match cast_name {
        "graph.directoryRole" => ("directoryRoles", true),
        // Casts to other directory object types are valid; the sandbox has none of them.
        "graph.group" => ("groups", false),
        "graph.administrativeUnit" => ("administrativeUnits", false),
        _ => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Resource not found for the segment '{cast}'."),
            );
        }
    };
    let roles = match signed_in_roles(&state, &headers) {
        Ok(roles) if roles_wanted => roles,
        Ok(_) => Vec::new(),
        Err(response) => return *response,
    };
    render_roles(&state, &roles, &headers, query.as_deref(), entity_set)
        .unwrap_or_else(QueryError::into_response)
}
