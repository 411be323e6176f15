//! Graph directory users: `GET /v1.0/users` (with `$select`, `$top`, `$filter`, `$count` and
//! `@odata.nextLink` paging), `GET /v1.0/users/{id | userPrincipalName}`, `GET /v1.0/me`, and the
//! signed-in user's directory roles (`GET /v1.0/me/memberOf/microsoft.graph.directoryRole`, also
//! spelled `graph.directoryRole`).
//!
//! Bodies carry only properties the vendor description declares. Without `$select` a user has
//! Graph's default property set; properties the sandbox does not model are written as `null` (or
//! `[]` for collections) when selected, and left out when the description does not allow `null`.
//! Pages are written straight from the world into the response text (no intermediate JSON tree),
//! so a 100,000-user tenant lists quickly.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::{Need, authorize};
use super::odata::{
    self, Filter, FilterSchema, FilterSubject, Kind, PropertyValue, QueryError, QueryOptions,
};
use crate::microsoft::catalog;
use crate::sandbox::SandboxState;
use crate::sandbox::errors::graph_error;
use crate::sandbox::world::{DirectoryUser, Principal, World};

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/v1.0/users", get(list_users))
        .route("/v1.0/users/{id}", get(get_user))
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/memberOf", get(member_of))
        .route("/v1.0/me/memberOf/{cast}", get(member_of_cast))
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

/// How one user property is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    AccountEnabled,
    AssignedLicenses,
    AssignedPlans,
    DisplayName,
    Mail,
    MailNickname,
    ProxyAddresses,
    UsageLocation,
    UserPrincipalName,
    UserType,
    /// Not modelled; the description allows `null`.
    Null,
    /// Not modelled; a collection, written `[]`.
    Empty,
    /// Not modelled and not nullable (or a navigation property): left out.
    Omit,
}

/// Every structural property of `microsoft.graph.user` in the vendor description.
const USER_PROPERTIES: &[(&str, Field)] = &[
    ("id", Field::Id),
    ("deletedDateTime", Field::Null),
    ("aboutMe", Field::Null),
    ("accountEnabled", Field::AccountEnabled),
    ("ageGroup", Field::Null),
    ("assignedLicenses", Field::AssignedLicenses),
    ("assignedPlans", Field::AssignedPlans),
    ("authorizationInfo", Field::Null),
    ("birthday", Field::Omit),
    ("businessPhones", Field::Empty),
    ("city", Field::Null),
    ("companyName", Field::Null),
    ("consentProvidedForMinor", Field::Null),
    ("country", Field::Null),
    ("createdDateTime", Field::Null),
    ("creationType", Field::Null),
    ("customSecurityAttributes", Field::Null),
    ("department", Field::Null),
    ("deviceEnrollmentLimit", Field::Omit),
    ("displayName", Field::DisplayName),
    ("employeeHireDate", Field::Null),
    ("employeeId", Field::Null),
    ("employeeLeaveDateTime", Field::Null),
    ("employeeOrgData", Field::Null),
    ("employeeType", Field::Null),
    ("externalUserState", Field::Null),
    ("externalUserStateChangeDateTime", Field::Null),
    ("faxNumber", Field::Null),
    ("givenName", Field::Null),
    ("hireDate", Field::Omit),
    ("identities", Field::Empty),
    ("identityParentId", Field::Null),
    ("imAddresses", Field::Empty),
    ("interests", Field::Empty),
    ("isManagementRestricted", Field::Null),
    ("isResourceAccount", Field::Null),
    ("jobTitle", Field::Null),
    ("lastPasswordChangeDateTime", Field::Null),
    ("legalAgeGroupClassification", Field::Null),
    ("licenseAssignmentStates", Field::Empty),
    ("mail", Field::Mail),
    ("mailboxSettings", Field::Null),
    ("mailNickname", Field::MailNickname),
    ("mobilePhone", Field::Null),
    ("mySite", Field::Null),
    ("officeLocation", Field::Null),
    ("onPremisesDistinguishedName", Field::Null),
    ("onPremisesDomainName", Field::Null),
    ("onPremisesExtensionAttributes", Field::Null),
    ("onPremisesImmutableId", Field::Null),
    ("onPremisesLastSyncDateTime", Field::Null),
    ("onPremisesProvisioningErrors", Field::Empty),
    ("onPremisesSamAccountName", Field::Null),
    ("onPremisesSecurityIdentifier", Field::Null),
    ("onPremisesSyncEnabled", Field::Null),
    ("onPremisesUserPrincipalName", Field::Null),
    ("otherMails", Field::Empty),
    ("passwordPolicies", Field::Null),
    ("passwordProfile", Field::Null),
    ("pastProjects", Field::Empty),
    ("postalCode", Field::Null),
    ("preferredDataLocation", Field::Null),
    ("preferredLanguage", Field::Null),
    ("preferredName", Field::Null),
    ("print", Field::Null),
    ("provisionedPlans", Field::Empty),
    ("proxyAddresses", Field::ProxyAddresses),
    ("responsibilities", Field::Empty),
    ("schools", Field::Empty),
    ("securityIdentifier", Field::Null),
    ("serviceProvisioningErrors", Field::Empty),
    ("showInAddressList", Field::Null),
    ("signInActivity", Field::Null),
    ("signInSessionsValidFromDateTime", Field::Null),
    ("skills", Field::Empty),
    ("state", Field::Null),
    ("streetAddress", Field::Null),
    ("surname", Field::Null),
    ("usageLocation", Field::UsageLocation),
    ("userPrincipalName", Field::UserPrincipalName),
    ("userType", Field::UserType),
];

/// Navigation properties of `user`: accepted in `$select` and left out (Graph needs `$expand`).
const USER_NAVIGATION: &[&str] = &[
    "activities",
    "adhocCalls",
    "agreementAcceptances",
    "appRoleAssignments",
    "authentication",
    "calendar",
    "calendarGroups",
    "calendars",
    "calendarView",
    "chats",
    "cloudClipboard",
    "cloudPCs",
    "contactFolders",
    "contacts",
    "createdObjects",
    "dataSecurityAndGovernance",
    "deviceManagementTroubleshootingEvents",
    "directReports",
    "drive",
    "drives",
    "employeeExperience",
    "events",
    "extensions",
    "followedSites",
    "inferenceClassification",
    "insights",
    "joinedTeams",
    "licenseDetails",
    "mailFolders",
    "managedAppRegistrations",
    "managedDevices",
    "manager",
    "memberOf",
    "messages",
    "oauth2PermissionGrants",
    "onenote",
    "onlineMeetings",
    "onPremisesSyncBehavior",
    "outlook",
    "ownedDevices",
    "ownedObjects",
    "people",
    "permissionGrants",
    "photo",
    "photos",
    "planner",
    "presence",
    "registeredDevices",
    "scopedRoleMemberOf",
    "settings",
    "solutions",
    "sponsorOf",
    "sponsors",
    "teamwork",
    "todo",
    "transitiveMemberOf",
];

/// Graph's default property set for users (no `$select`).
const DEFAULT_USER_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// The properties to write, in order, and the `@odata.context` suffix (`(a,b)` or empty).
#[derive(Clone, Debug)]
struct Projection {
    fields: Vec<(&'static str, Field)>,
    context: String,
}

impl Projection {
    /// From `$select` (or the default set); `id` always comes first.
    fn users(select: Option<&str>) -> Result<Projection, QueryError> {
        let Some(select) = select else {
            let fields = std::iter::once(("id", Field::Id))
                .chain(
                    DEFAULT_USER_PROPERTIES
                        .iter()
                        .filter(|p| **p != "id")
                        .map(|name| {
                            let field = USER_PROPERTIES.iter().find(|(n, _)| n == name).map(|(_, f)| *f);
                            (*name, field.unwrap_or(Field::Null))
                        }),
                )
                .collect();
            return Ok(Projection {
                fields,
                context: String::new(),
            });
        };
        let mut fields = vec![("id", Field::Id)];
        let mut names = Vec::new();
        for item in odata::parse_select(select)? {
            let (name, field) = if let Some((name, field)) = USER_PROPERTIES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&item))
            {
                (*name, *field)
            } else if let Some(name) = USER_NAVIGATION.iter().find(|n| n.eq_ignore_ascii_case(&item)) {
                (*name, Field::Omit)
            } else {
                return Err(QueryError::bad_request(format!(
                    "Could not find a property named '{item}' on type 'microsoft.graph.user'."
                )));
            };
            if !names.contains(&name) {
                names.push(name);
            }
            if field != Field::Omit && !fields.iter().any(|(n, _)| *n == name) {
                fields.push((name, field));
            }
        }
        Ok(Projection {
            fields,
            context: format!("({})", names.join(",")),
        })
    }
}

/// JSON text written by hand, for speed on large pages.
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing JSON to memory cannot fail");
}

fn push_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    push_json_str(out, key);
    out.push(b':');
}

fn push_opt_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => push_json_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_str_array<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    out.push(b'[');
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        push_json_str(out, item);
    }
    out.push(b']');
}

/// Writes one user object with `fields`.
fn write_user(out: &mut Vec<u8>, user: &DirectoryUser, fields: &[(&'static str, Field)]) {
    out.push(b'{');
    let mut first = true;
    for (name, field) in fields {
        if *field == Field::Omit {
            continue;
        }
        push_key(out, &mut first, name);
        match field {
            Field::Id => push_json_str(out, &user.id),
            Field::AccountEnabled => {
                out.extend_from_slice(if user.account_enabled { b"true" } else { b"false" })
            }
            Field::AssignedLicenses => {
                out.push(b'[');
                for (index, (sku, disabled)) in user.assigned_licenses.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"disabledPlans\":");
                    push_str_array(out, disabled.iter().map(String::as_str));
                    out.extend_from_slice(b",\"skuId\":");
                    push_json_str(out, sku);
                    out.push(b'}');
                }
                out.push(b']');
            }
            Field::AssignedPlans => {
                out.push(b'[');
                for (index, (plan, status)) in user.assigned_plans.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"assignedDateTime\":");
                    push_json_str(out, ASSIGNED_DATE_TIME);
                    out.extend_from_slice(b",\"capabilityStatus\":");
                    push_json_str(out, status);
                    out.extend_from_slice(b",\"service\":");
                    push_json_str(out, plan.service);
                    out.extend_from_slice(b",\"servicePlanId\":");
                    push_json_str(out, plan.id);
                    out.push(b'}');
                }
                out.push(b']');
            }
            Field::DisplayName => push_json_str(out, &user.display_name),
            Field::Mail => push_opt_str(out, user.mail.as_deref()),
            Field::MailNickname => push_json_str(
                out,
                user.user_principal_name
                    .split('@')
                    .next()
                    .unwrap_or(&user.user_principal_name),
            ),
            Field::ProxyAddresses => push_str_array(out, user.proxy_addresses.iter().map(String::as_str)),
            Field::UsageLocation => push_opt_str(out, user.usage_location.as_deref()),
            Field::UserPrincipalName => push_json_str(out, &user.user_principal_name),
            Field::UserType => push_json_str(out, "Member"),
            Field::Null => out.extend_from_slice(b"null"),
            Field::Empty => out.extend_from_slice(b"[]"),
            Field::Omit => {}
        }
    }
    out.push(b'}');
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

/// Refuses system query options the sandbox does not simulate on this resource.
fn check_options(options: &QueryOptions, supported: &[&str]) -> Result<(), QueryError> {
    match options.unsupported_system_options(supported).first() {
        None => Ok(()),
        Some(name) if name.eq_ignore_ascii_case("$skip") => Err(QueryError::bad_request(
            "'$skip' is not supported by the service.",
        )),
        Some(name) => Err(QueryError::unsupported(format!(
            "The query option '{name}' is not supported on this resource by the sandbox."
        ))),
    }
}

/// Percent-encodes a query value, leaving characters that are safe in a query as they are.
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b','
            | b'\''
            | b'('
            | b')'
            | b':' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

const SKIPTOKEN_PREFIX: &str = "sandbox-users:";

/// The opaque `$skiptoken`: the id of the first user of the next page, so pages stay consistent
/// when users are added or removed between requests (users are kept sorted by id).
fn encode_skiptoken(next_id: &str) -> String {
    crate::sandbox::world::base64_url(format!("{SKIPTOKEN_PREFIX}{next_id}").as_bytes())
}

fn decode_skiptoken(token: &str) -> Result<String, QueryError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(SKIPTOKEN_PREFIX).map(str::to_owned))
        .ok_or_else(|| {
            QueryError::bad_request(format!("Invalid value '{token}' for query option '$skiptoken'."))
        })
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
        let resume_at = options.get("$skiptoken").map(decode_skiptoken).transpose()?;
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
        let mut link = format!("{public_url}/v1.0/users?");
        for (name, value) in &self.carried {
            link.push_str(name);
            link.push('=');
            link.push_str(&encode_query_value(value));
            link.push('&');
        }
        link.push_str("$skiptoken=");
        link.push_str(&encode_skiptoken(next_id));
        link
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

/// Microsoft's descriptions of the roles the sandbox knows.
fn role_description(template_id: &str) -> &'static str {
    match template_id {
        catalog::TEAMS_ADMINISTRATOR_ROLE => "Can manage the Microsoft Teams service.",
        catalog::SKYPE_FOR_BUSINESS_ADMINISTRATOR_ROLE => {
            "Can manage all aspects of the Skype for Business product."
        }
        catalog::GLOBAL_ADMINISTRATOR_ROLE => {
            "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."
        }
        catalog::TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE => {
            "Can manage calling and meetings features within the Microsoft Teams service."
        }
        catalog::TEAMS_TELEPHONY_ADMINISTRATOR_ROLE => {
            "Manage voice and telephony features and troubleshoot communication issues within the Microsoft Teams service."
        }
        _ => "",
    }
}

/// A directory role activated in the tenant.
struct RoleInstance {
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

const ROLE_FILTER: FilterSchema = FilterSchema {
    resource: "directoryRole",
    properties: &[
        ("id", Kind::StringIgnoreCase),
        ("displayName", Kind::StringIgnoreCase),
        ("roleTemplateId", Kind::StringIgnoreCase),
    ],
};

const ROLE_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "description",
    "displayName",
    "roleTemplateId",
];
const ROLE_NAVIGATION: &[&str] = &["members", "scopedMembers"];

/// A tenant-specific role instance id: stable for a tenant and template, unlike the template id.
fn role_instance_id(tenant_id: &str, template_id: &str) -> String {
    fn fnv(seed: u64, text: &str) -> u64 {
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
fn signed_in_roles(
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
            display_name: catalog::DIRECTORY_ROLES
                .iter()
                .find(|r| r.template_id.eq_ignore_ascii_case(template_id))
                .map_or("", |r| r.display_name),
            description: role_description(template_id),
            template_id: template_id.clone(),
        })
        .collect())
}

/// Renders roles as a directoryRole collection (`@odata.type` on each item).
fn render_roles(
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
async fn member_of(
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
async fn member_of_cast(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_projection_is_graphs_default_set_with_id_first() {
        let projection = Projection::users(None).unwrap();
        let names: Vec<&str> = projection.fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names[0], "id");
        assert_eq!(names.len(), DEFAULT_USER_PROPERTIES.len());
        assert!(projection.context.is_empty());
    }

    #[test]
    fn select_is_case_insensitive_adds_id_and_drops_navigation_properties() {
        let projection = Projection::users(Some("MAIL,manager,birthday")).unwrap();
        let names: Vec<&str> = projection.fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["id", "mail"]);
        assert_eq!(projection.context, "(mail,manager,birthday)");
        assert_eq!(
            Projection::users(Some("nope")).unwrap_err().code,
            "Request_BadRequest"
        );
    }

    #[test]
    fn skiptokens_round_trip_and_garbage_is_refused() {
        let token = encode_skiptoken("0a1b");
        assert_eq!(decode_skiptoken(&token).unwrap(), "0a1b");
        assert!(decode_skiptoken("garbage!").is_err());
    }

    #[test]
    fn query_values_are_percent_encoded_except_safe_characters() {
        assert_eq!(
            encode_query_value("mail eq 'a+b@c.com'"),
            "mail%20eq%20'a%2Bb%40c.com'"
        );
        assert_eq!(encode_query_value("id,mail"), "id,mail");
    }

    #[test]
    fn role_instance_ids_are_stable_guids_per_tenant_and_template() {
        let a = role_instance_id("t1", catalog::TEAMS_ADMINISTRATOR_ROLE);
        assert_eq!(a, role_instance_id("t1", catalog::TEAMS_ADMINISTRATOR_ROLE));
        assert_ne!(a, role_instance_id("t2", catalog::TEAMS_ADMINISTRATOR_ROLE));
        assert_eq!(a.len(), 36);
    }
}
