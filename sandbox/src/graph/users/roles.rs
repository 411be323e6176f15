//! The signed-in user's memberships: `/me/memberOf` (direct: the roles assigned to the user and
//! the groups it is a member of) and `/me/transitiveMemberOf` (also the roles its role-assignable
//! groups hold), each with an optional OData cast (`.../microsoft.graph.directoryRole`).

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

/// A directory object the signed-in user is a member of: a directory role activated in the
/// tenant, or a role-assignable group.
pub(super) struct RoleInstance {
    id: String,
    display_name: String,
    description: &'static str,
    /// The role's template id; `None` for a group.
    template_id: Option<String>,
}

/// Which memberships a request lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Depth {
    /// `memberOf`: direct memberships only.
    Direct,
    /// `transitiveMemberOf`: also the roles held through groups.
    Transitive,
}

impl FilterSubject for RoleInstance {
    fn value(&self, property: &str) -> PropertyValue<'_> {
        match property {
            "id" => PropertyValue::String(&self.id),
            "displayName" => PropertyValue::String(&self.display_name),
            "roleTemplateId" => self
                .template_id
                .as_deref()
                .map_or(PropertyValue::Null, PropertyValue::String),
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
    crate::world::guid_text(&hex)
}

/// The signed-in user's roles and groups at `depth`, or the error response.
pub(super) fn signed_in_roles(
    state: &Arc<SandboxState>,
    headers: &HeaderMap,
    depth: Depth,
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
    let template_ids = match depth {
        Depth::Direct => user.role_template_ids.clone(),
        Depth::Transitive => world.effective_role_template_ids(&user_id),
    };
    let roles = template_ids.into_iter().map(|template_id| {
        let role = directory_roles::role_by_template_id(&template_id);
        RoleInstance {
            id: role_instance_id(&world.tenant_id, &template_id),
            display_name: role.map_or("", |r| r.display_name).to_owned(),
            description: role.map_or("", |r| r.description),
            template_id: Some(template_id),
        }
    });
    let groups = world.groups_of(&user_id).map(|group| RoleInstance {
        id: group.id.clone(),
        display_name: group.display_name.clone(),
        description: "",
        template_id: None,
    });
    Ok(roles.chain(groups).collect())
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
            let odata_type = match role.template_id {
                Some(_) => "#microsoft.graph.directoryRole",
                None => "#microsoft.graph.group",
            };
            item.insert("@odata.type".into(), odata_type.into());
            for property in &properties {
                let v = match *property {
                    "id" => role.id.clone().into(),
                    "description" => role.description.into(),
                    "displayName" => role.display_name.clone().into(),
                    "roleTemplateId" => match &role.template_id {
                        Some(template_id) => template_id.clone().into(),
                        // A group has no roleTemplateId: Graph leaves it out.
                        None => continue,
                    },
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

/// `GET /v1.0/me/memberOf`: direct memberships (roles assigned to the user, its groups).
pub(super) async fn member_of(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    memberships(&state, &headers, query.as_deref(), Depth::Direct, None)
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
    memberships(&state, &headers, query.as_deref(), Depth::Direct, Some(&cast))
}

/// `GET /v1.0/me/transitiveMemberOf`: also the roles the user holds through role-assignable
/// groups.
pub(super) async fn transitive_member_of(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    memberships(&state, &headers, query.as_deref(), Depth::Transitive, None)
}

/// `GET /v1.0/me/transitiveMemberOf/{cast}`. Microsoft's transitiveMemberOf page documents the
/// OData cast as an advanced query: it needs `ConsistencyLevel: eventual` and `$count=true`. The
/// sandbox enforces what the page documents (a 400 `Request_UnsupportedQuery` otherwise; the
/// wording is the sandbox's own), so a client that leaves them out fails here first.
pub(super) async fn transitive_member_of_cast(
    State(state): State<Arc<SandboxState>>,
    Path(cast): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let counted = QueryOptions::parse(query.as_deref())
        .ok()
        .and_then(|options| options.get("$count").map(|c| c.eq_ignore_ascii_case("true")))
        .unwrap_or(false);
    if !(eventual(&headers) && counted) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "An OData cast on transitiveMemberOf is an advanced query: send the header ConsistencyLevel: eventual and $count=true.",
        );
    }
    memberships(&state, &headers, query.as_deref(), Depth::Transitive, Some(&cast))
}

/// The memberships at `depth`, narrowed to the type `cast` names.
fn memberships(
    state: &Arc<SandboxState>,
    headers: &HeaderMap,
    query: Option<&str>,
    depth: Depth,
    cast: Option<&str>,
) -> Response {
    let (entity_set, wanted): (&str, fn(&RoleInstance) -> bool) =
        match cast.map(|c| c.strip_prefix("microsoft.").unwrap_or(c)) {
            None => ("directoryObjects", |_| true),
            Some("graph.directoryRole") => ("directoryRoles", |o| o.template_id.is_some()),
            Some("graph.group") => ("groups", |o| o.template_id.is_none()),
            // Casts to other directory object types are valid; the sandbox has none of them.
            Some("graph.administrativeUnit") => ("administrativeUnits", |_| false),
            Some(_) => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!(
                        "Resource not found for the segment '{}'.",
                        cast.unwrap_or_default()
                    ),
                );
            }
        };
    let objects = match signed_in_roles(state, headers, depth) {
        Ok(objects) => objects.into_iter().filter(wanted).collect::<Vec<_>>(),
        Err(response) => return *response,
    };
    render_roles(state, &objects, headers, query, entity_set).unwrap_or_else(QueryError::into_response)
}
