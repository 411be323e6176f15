//! Graph directory users: `GET /v1.0/users` (with `$select`, `$top`, `$filter`, `$count` and
//! `@odata.nextLink` paging), `GET /v1.0/users/{id | userPrincipalName}`, `GET /v1.0/users/delta`
//! (change tracking, `delta`), `GET /v1.0/me`, and the
//! signed-in user's directory roles (`GET /v1.0/me/memberOf/microsoft.graph.directoryRole`, also
//! spelled `graph.directoryRole`).
//!
//! Bodies carry only properties the vendor description declares. Without `$select` a user has
//! Graph's default property set; properties the sandbox does not model are written as `null` (or
//! `[]` for collections) when selected, and left out when the description does not allow `null`.
//! Pages are written straight from the world into the response text (no intermediate JSON tree),
//! so a 100,000-user tenant lists quickly.

mod delta;
mod delta_request;
mod delta_token;
mod render;
mod roles;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::{Need, authorize};
use super::odata::paging::{self, check_options};
use super::odata::{
    self, Filter, FilterSchema, FilterSubject, Kind, PropertyValue, QueryError, QueryOptions,
};
use crate::SandboxState;
use crate::errors::graph_error;
use crate::world::{DirectoryUser, Principal, World};

use render::*;
use roles::*;

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/v1.0/users", get(list_users))
        // `/delta` is short for `/microsoft.graph.delta` ("Use delta query to track changes in
        // Microsoft Graph data"); `delta()` is OData's function-call spelling of the same.
        .route("/v1.0/users/delta", get(delta::users_delta))
        .route("/v1.0/users/delta()", get(delta::users_delta))
        .route("/v1.0/users/microsoft.graph.delta", get(delta::users_delta))
        .route("/v1.0/users/microsoft.graph.delta()", get(delta::users_delta))
        .route("/v1.0/users/{id}", get(get_user))
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/memberOf", get(member_of))
        .route("/v1.0/me/memberOf/{cast}", get(member_of_cast))
        .route("/v1.0/me/transitiveMemberOf", get(transitive_member_of))
        .route(
            "/v1.0/me/transitiveMemberOf/{cast}",
            get(transitive_member_of_cast),
        )
}

/// `$top` bounds on `/users`.
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 999;

/// When every sandbox licence was assigned (`assignedPlans[].assignedDateTime`).
const ASSIGNED_DATE_TIME: &str = "2024-01-15T09:30:00Z";

/// What `$filter` may test on users by default (no `ConsistencyLevel`). Whether Graph compares
/// `proxyAddresses` and `otherMails` ignoring case is UNCONFIRMED; the sandbox does, as it does
/// for `mail` and `userPrincipalName`.
pub const USER_FILTER: FilterSchema = FilterSchema {
    resource: "user",
    properties: &[
        ("id", Kind::StringIgnoreCase),
        ("mail", Kind::StringIgnoreCase),
        ("userPrincipalName", Kind::StringIgnoreCase),
        ("displayName", Kind::StringIgnoreCase),
        ("usageLocation", Kind::StringIgnoreCase),
        ("accountEnabled", Kind::Bool),
        ("proxyAddresses", Kind::StringsIgnoreCase),
        ("otherMails", Kind::StringsIgnoreCase),
    ],
};

impl FilterSubject for DirectoryUser {
    fn value(&self, property: &str) -> PropertyValue<'_> {
        match property {
            "id" => PropertyValue::String(&self.id),
            "mail" => self
                .mail
                .as_deref()
                .map_or(PropertyValue::Null, PropertyValue::String),
            "userPrincipalName" => PropertyValue::String(&self.user_principal_name),
            "displayName" => PropertyValue::String(&self.display_name),
            "usageLocation" => self
                .usage_location
                .as_deref()
                .map_or(PropertyValue::Null, PropertyValue::String),
            "accountEnabled" => PropertyValue::Bool(self.account_enabled),
            "proxyAddresses" => {
                PropertyValue::Strings(self.proxy_addresses.iter().map(String::as_str).collect())
            }
            "otherMails" => PropertyValue::Strings(Vec::new()),
            _ => PropertyValue::Null,
        }
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"),
    );
    response
}

/// Whether the request carries `ConsistencyLevel: eventual`.
fn eventual(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

/// `$count=true` needs `ConsistencyLevel: eventual` on directory objects.
fn check_count(options: &QueryOptions, headers: &HeaderMap) -> Result<bool, QueryError> {
    let count = odata::parse_count(options.get("$count"))?;
    if count && !eventual(headers) {
        return Err(QueryError::bad_request("$count is not currently supported."));
    }
    Ok(count)
}

/// A checked `GET /users` request.
struct ListRequest {
    projection: Projection,
    top: usize,
    filter: Option<Filter>,
    count: bool,
    resume_at: Option<String>,
    /// `(name, raw value)` of the options a next link carries over.
    carried: Vec<(&'static str, String)>,
}

impl ListRequest {
    fn parse(raw_query: Option<&str>, headers: &HeaderMap) -> Result<ListRequest, QueryError> {
        let options = QueryOptions::parse(raw_query)?;
        check_options(&options, &["$select", "$top", "$filter", "$count", "$skiptoken"])?;
        let projection = Projection::users(options.get("$select"))?;
        let top = odata::parse_top(options.get("$top"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let filter = options
            .get("$filter")
            .map(|f| Filter::parse(f, &USER_FILTER))
            .transpose()?;
        let count = check_count(&options, headers)?;
        let resume_at = options
            .get("$skiptoken")
            .map(|t| paging::decode_skiptoken("users", t))
            .transpose()?;
        let carried = ["$select", "$top", "$filter", "$count"]
            .into_iter()
            .filter_map(|name| options.get(name).map(|v| (name, v.to_owned())))
            .collect();
        Ok(ListRequest {
            projection,
            top,
            filter,
            count,
            resume_at,
            carried,
        })
    }

    fn next_link(&self, public_url: &str, next_id: &str) -> String {
        paging::next_link(
            &format!("{public_url}/v1.0/users"),
            &self.carried,
            "users",
            next_id,
        )
    }

    /// Writes the page's body while the world is locked (one page only).
    fn render(&self, world: &World, public_url: &str) -> Vec<u8> {
        let users = &world.users;
        let matches = |user: &&DirectoryUser| self.filter.as_ref().is_none_or(|f| f.matches(*user));
        let start = match &self.resume_at {
            Some(id) => users.partition_point(|u| u.id.as_str() < id.as_str()),
            None => 0,
        };
        let mut out = Vec::with_capacity(256 + self.top * 64 * self.projection.fields.len().max(1));
        out.extend_from_slice(b"{\"@odata.context\":");
        push_json_str(
            &mut out,
            &format!("{public_url}/v1.0/$metadata#users{}", self.projection.context),
        );
        if self.count && self.resume_at.is_none() {
            let total = if self.filter.is_some() {
                users.iter().filter(matches).count()
            } else {
                users.len()
            };
            out.extend_from_slice(format!(",\"@odata.count\":{total}").as_bytes());
        }
        let mut remaining = users[start..].iter().filter(matches);
        let mut value = Vec::with_capacity(out.capacity());
        value.extend_from_slice(b"\"value\":[");
        for (index, user) in remaining.by_ref().take(self.top).enumerate() {
            if index > 0 {
                value.push(b',');
            }
            write_user(&mut value, user, &self.projection.fields);
        }
        value.extend_from_slice(b"]}");
        if let Some(next) = remaining.next() {
            out.extend_from_slice(b",\"@odata.nextLink\":");
            push_json_str(&mut out, &self.next_link(public_url, &next.id));
        }
        out.push(b',');
        out.extend_from_slice(&value);
        out
    }
}

/// `GET /v1.0/users`.
async fn list_users(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadUsers) {
        return response;
    }
    let request = match ListRequest::parse(query.as_deref(), &headers) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let body = request.render(&state.world(), &state.public_url);
    json_response(StatusCode::OK, body)
}

/// One user with `$select`, as `GET /users/{id}` and `GET /me` answer.
fn single_user(
    state: &SandboxState,
    query: Option<&str>,
    find: impl FnOnce(&World) -> Option<&DirectoryUser>,
    key: &str,
) -> Response {
    let projection = match QueryOptions::parse(query)
        .and_then(|options| check_options(&options, &["$select"]).map(|()| options))
        .and_then(|options| Projection::users(options.get("$select")))
    {
        Ok(projection) => projection,
        Err(error) => return error.into_response(),
    };
    let world = state.world();
    let Some(user) = find(&world) else {
        drop(world);
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    };
    let mut out = Vec::with_capacity(512);
    let context = format!(
        "{}/v1.0/$metadata#users{}/$entity",
        state.public_url, projection.context
    );
    let mut user_json = Vec::with_capacity(512);
    write_user(&mut user_json, user, &projection.fields);
    drop(world);
    out.extend_from_slice(b"{\"@odata.context\":");
    push_json_str(&mut out, &context);
    if user_json.len() > 2 {
        out.push(b',');
    }
    out.extend_from_slice(&user_json[1..]);
    json_response(StatusCode::OK, out)
}

/// `GET /v1.0/users/{id | userPrincipalName}`.
async fn get_user(
    State(state): State<Arc<SandboxState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadUsers) {
        return response;
    }
    single_user(
        &state,
        query.as_deref(),
        |world| world.user(&key).or_else(|| world.user_by_upn(&key)),
        &key,
    )
}

/// `GET /v1.0/me`.
async fn me(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let user_id = match authorize(&state, &headers, Need::SignedInUser) {
        Ok(Principal::User { user_id, .. }) => user_id,
        Ok(Principal::Application { .. }) => return app_only_on_me(),
        Err(response) => return response,
    };
    single_user(&state, query.as_deref(), |world| world.user(&user_id), &user_id)
}

/// `authorize` already refuses app-only tokens on `/me`; this keeps the handlers total.
fn app_only_on_me() -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )
}

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;
