//! Dialpad API v2: `GET /api/v2/users` (and `.../{id}`), `GET /api/v2/numbers`, `GET /api/v2/company` and the
//! offices (`GET /api/v2/offices` and `.../{id}`, see `offices`).
//!
//! `GET /api/v2/company` (operationId `company.get` in vendor/dialpad-openapi.json) answers with
//! a `schemas.company.CompanyProto`: the company of the key presented. Besides the org's own key
//! the sandbox accepts the key of one other company (`dialpad.otherCompany` in the fixture),
//! which names that company here and has no users and no numbers.
//!
//! Choices beyond the module docs (all UNCONFIRMED upstream):
//! - The key is accepted as `Authorization: Bearer <key>` or `?apikey=<key>`; anything else is 401.
//! - Fields without a value are omitted rather than written as `null`, as protorpc services do:
//!   a user without emails has no `emails` key, a user without numbers no `phone_numbers`, and
//!   empty `admin_office_ids`/`forwarding_numbers` are omitted too; a non-North-American number
//!   has no `area_code`. `items` is always present (possibly empty).
//! - The cursor is opaque (base64url) and names the last item returned, so a sweep neither skips
//!   nor repeats items when others are added or removed between pages; the last page has no
//!   `cursor` key. A cursor that does not decode, or belongs to the other list, is a 400.
//! - `company_admin=true` finds nobody (no admins are modelled); `email` matches any of a user's
//!   emails ignoring case; `number` matches any of the user's numbers after normalisation.
//! - `/numbers` honours `limit` up to 100 and caps larger values at 100 silently (its spec
//!   mentions neither); `status` filters exactly and unknown statuses find nothing.

mod offices;

use std::collections::BinaryHeap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::SandboxState;
use crate::errors::dialpad_error;
use crate::fixture::IdEncoding;
use crate::world::{DialpadCompany, DialpadOffice, DialpadUser, World, normalise_number};

/// Page size without `limit`, and the most a page ever holds.
const PAGE: usize = 100;
/// Share of `limit > 100` calls answered 400, as Dialpad documents.
const OVER_LIMIT_FAILURE_RATE: f64 = 0.2;
const USER_STATES: &[&str] = &["active", "all", "cancelled", "deleted", "pending", "suspended"];
const TOLL_FREE_AREA_CODES: &[&str] = &["800", "833", "844", "855", "866", "877", "888"];

/// This module's routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/api/v2/users", get(list_users))
        .route("/api/v2/users/{id}", get(get_user))
        .route("/api/v2/numbers", get(list_numbers))
        .route("/api/v2/company", get(get_company))
        .route("/api/v2/offices", get(offices::list_offices))
        .route("/api/v2/offices/{id}", get(offices::get_office))
}

pub(crate) type Params = Vec<(String, String)>;

async fn list_users(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match users_page(&state, &headers, query.as_deref()) {
        Ok(bytes) => ([("content-type", "application/json")], bytes).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// `GET /api/v2/users/{id}` (operationId `users.get`): one user as a `UserProto`, whatever its
/// state (a removed user answers with `state: deleted`). An id the company does not have, or any
/// id for the other company's key, is a 404 (Dialpad's answer for a missing user is UNCONFIRMED).
async fn get_user(
    State(state): State<Arc<SandboxState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let found = parse_params(query.as_deref()).and_then(|params| {
        let world = state.world();
        let caller = check_key(&world, &headers, &params)?;
        let company = &world.dialpad;
        let user = company
            .users
            .binary_search_by(|u| u.id.as_str().cmp(id.trim()))
            .ok()
            .filter(|_| caller == Caller::Org)
            .map(|at| &company.users[at])
            .ok_or_else(|| failure(StatusCode::NOT_FOUND, &format!("User {id} was not found.")))?;
        serde_json::to_value(user_out(company, user)).map_err(|e| {
            failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot write the user: {e}"),
            )
        })
    });
    respond(found)
}

async fn list_numbers(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    respond(numbers_page(&state, &headers, query.as_deref()))
}

async fn get_company(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    respond(company_body(&state, &headers, query.as_deref()))
}

/// The `schemas.company.CompanyProto` of the key's company: `id` (int64), `name`, `state` and
/// `office_count` (int64: the org's offices, the main one included; one for the other company);
/// the other fields are omitted, as fields without a value are.
fn company_body(state: &SandboxState, headers: &HeaderMap, query: Option<&str>) -> Result<Value, Failure> {
    let params = parse_params(query)?;
    let world = state.world();
    let company = &world.dialpad;
    let (id, name, offices) = match check_key(&world, headers, &params)? {
        Caller::Org => (
            &company.company_id,
            &company.company_name,
            1 + company.offices.len(),
        ),
        Caller::OtherCompany => (
            &company.other_company.company_id,
            &company.other_company.company_name,
            1,
        ),
    };
    let mut body = Map::new();
    body.insert("id".into(), int64(company.id_encoding, id));
    body.insert("name".into(), Value::from(name.as_str()));
    body.insert(
        "office_count".into(),
        int64(company.id_encoding, &offices.to_string()),
    );
    body.insert("state".into(), Value::from("active"));
    Ok(Value::Object(body))
}

fn respond(result: Result<Value, Failure>) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// A Dialpad error to answer with; small, so `Result`s that carry it stay cheap.
pub(crate) struct Failure {
    status: StatusCode,
    message: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        dialpad_error(self.status, &self.message)
    }
}

pub(crate) fn failure(status: StatusCode, message: &str) -> Failure {
    Failure {
        status,
        message: message.to_owned(),
    }
}

fn bad_request(message: &str) -> Failure {
    failure(StatusCode::BAD_REQUEST, message)
}

pub(crate) fn parse_params(query: Option<&str>) -> Result<Params, Failure> {
    match query {
        None | Some("") => Ok(Vec::new()),
        Some(text) => {
            serde_urlencoded::from_str(text).map_err(|e| bad_request(&format!("Invalid query string: {e}")))
        }
    }
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Whose key a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The org's company.
    Org,
    /// The other company of the fixture: no users, no numbers.
    OtherCompany,
}

/// 401 unless the request carries the company's key or the other company's (Bearer header or
/// `apikey` parameter).
pub(crate) fn check_key(world: &World, headers: &HeaderMap, params: &Params) -> Result<Caller, Failure> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let presented = match header {
        Some(value) => {
            let token = value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim());
            match token {
                Some(token) => Some(token),
                None => {
                    return Err(failure(
                        StatusCode::UNAUTHORIZED,
                        "Invalid Authorization header: expected 'Bearer <api key>'.",
                    ));
                }
            }
        }
        None => param(params, "apikey"),
    };
    match presented {
        None | Some("") => Err(failure(
            StatusCode::UNAUTHORIZED,
            "Missing API key: send 'Authorization: Bearer <api key>'.",
        )),
        Some(key) if key == world.dialpad.api_key => Ok(Caller::Org),
        Some(key) if key == world.dialpad.other_company.api_key => Ok(Caller::OtherCompany),
        Some(_) => Err(failure(StatusCode::UNAUTHORIZED, "Invalid API key.")),
    }
}

/// The page size for `limit`; `users` applies the documented random 400 for values over 100.
fn page_size(params: &Params, world: &mut World, users: bool) -> Result<usize, Failure> {
    let Some(text) = param(params, "limit") else {
        return Ok(PAGE);
    };
    let limit: usize = text.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        bad_request(&format!(
            "Invalid value for limit: '{text}'. Expected a positive integer."
        ))
    })?;
    if limit > PAGE && users && world.random_unit() < OVER_LIMIT_FAILURE_RATE {
        return Err(bad_request(
            "The limit parameter is soft-deprecated: omit it or use a value of 100 or less. Values over 100 produce pages of 100.",
        ));
    }
    Ok(limit.min(PAGE))
}

fn encode_cursor(kind: char, key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

fn decode_cursor(params: &Params, kind: char) -> Result<Option<String>, Failure> {
    let Some(text) = param(params, "cursor").filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix(&format!("{kind}:")).map(str::to_owned))
        .filter(|key| !key.is_empty())
        .map(Some)
        .ok_or_else(|| bad_request("Invalid cursor. Pass the cursor of the previous response unchanged."))
}

pub(crate) fn int64(encoding: IdEncoding, value: &str) -> Value {
    match (encoding, value.parse::<i64>()) {
        (IdEncoding::Number, Ok(n)) => Value::from(n),
        _ => Value::from(value),
    }
}

fn timestamp(company: &DialpadCompany, at: Timestamp) -> String {
    let format = if company.timestamps_with_zone {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S"
    };
    at.strftime(format).to_string()
}

fn page_body(items: Vec<Value>, cursor: Option<String>) -> Value {
    let mut body = Map::new();
    body.insert("items".into(), Value::Array(items));
    if let Some(cursor) = cursor {
        body.insert("cursor".into(), cursor.into());
    }
    Value::Object(body)
}

// ---------------------------------------------------------------------------------------------
// Users

struct UserFilter {
    state: Option<String>,
    email: Option<String>,
    number: Option<String>,
    nobody: bool,
}

impl UserFilter {
    fn from_params(params: &Params) -> Result<Self, Failure> {
        let state = match param(params, "state") {
            None => Some("active".to_owned()),
            Some("all") => None,
            Some(s) if USER_STATES.contains(&s) => Some(s.to_owned()),
            Some(other) => {
                return Err(bad_request(&format!(
                    "Invalid value for state: '{other}'. Expected one of: {}.",
                    USER_STATES.join(", ")
                )));
            }
        };
        let nobody = match param(params, "company_admin") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                return Err(bad_request(&format!(
                    "Invalid value for company_admin: '{other}'. Expected true or false."
                )));
            }
        };
        let email = param(params, "email").map(|e| e.trim().to_owned());
        let number = param(params, "number").map(normalise_number);
        Ok(Self {
            state,
            email,
            number,
            nobody,
        })
    }

    fn matches(&self, user: &DialpadUser) -> bool {
        !self.nobody
            && self.state.as_deref().is_none_or(|s| user.state == s)
            && self
                .email
                .as_deref()
                .is_none_or(|e| user.emails.iter().any(|m| m.eq_ignore_ascii_case(e)))
            && self
                .number
                .as_deref()
                .is_none_or(|n| user.phone_numbers.iter().any(|p| normalise_number(p) == n))
    }
}

fn users_page(state: &SandboxState, headers: &HeaderMap, query: Option<&str>) -> Result<Vec<u8>, Failure> {
    let params = parse_params(query)?;
    let mut world = state.world();
    let caller = check_key(&world, headers, &params)?;
    let filter = UserFilter::from_params(&params)?;
    let after = decode_cursor(&params, 'u')?;
    let limit = page_size(&params, &mut world, true)?;
    if caller == Caller::OtherCompany {
        return serde_json::to_vec(&page_body(Vec::new(), None)).map_err(|e| {
            failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot write the page: {e}"),
            )
        });
    }
    let company = &world.dialpad;
    let users = &company.users;
    // Users are sorted by id, so the page after a cursor starts right after its id.
    let start = after
        .as_deref()
        .map_or(0, |after| users.partition_point(|u| u.id.as_str() <= after));
    let mut page: Vec<&DialpadUser> = Vec::with_capacity(limit);
    let mut more = false;
    for user in users[start..].iter().filter(|u| filter.matches(u)) {
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(user);
    }
    let cursor = if more {
        page.last().map(|u| encode_cursor('u', &u.id))
    } else {
        None
    };
    let body = UserPage {
        items: page.into_iter().map(|u| user_out(company, u)).collect(),
        cursor,
    };
    serde_json::to_vec(&body).map_err(|e| {
        failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot write the page: {e}"),
        )
    })
}

/// A `UserProto` as written; borrowed from the world so a page costs no copies.
#[derive(Serialize)]
struct UserOut<'a> {
    id: Value,
    company_id: Value,
    office_id: Value,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    emails: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    phone_numbers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    state: &'a str,
    license: &'static str,
    is_admin: bool,
    is_super_admin: bool,
    timezone: &'static str,
    country: &'static str,
    language: &'static str,
    date_added: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_active: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_first_login: Option<String>,
    do_not_disturb: bool,
    international_dialing_enabled: bool,
    is_available: bool,
    is_on_duty: bool,
    is_online: bool,
    muted: bool,
}

fn user_out<'a>(company: &'a DialpadCompany, user: &'a DialpadUser) -> UserOut<'a> {
    let encoding = company.id_encoding;
    let names: Vec<&str> = [&user.first_name, &user.last_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let date_added = timestamp(company, user.date_added);
    let activated = user.state != "pending";
    UserOut {
        id: int64(encoding, &user.id),
        company_id: int64(encoding, &company.company_id),
        office_id: int64(encoding, &user.office_id),
        emails: &user.emails,
        phone_numbers: &user.phone_numbers,
        first_name: user.first_name.as_deref(),
        last_name: user.last_name.as_deref(),
        display_name: (!names.is_empty()).then(|| names.join(" ")),
        state: &user.state,
        license: "talk",
        is_admin: false,
        is_super_admin: false,
        timezone: "US/Pacific",
        country: "us",
        language: "en",
        date_active: activated.then(|| date_added.clone()),
        date_first_login: activated
            .then(|| timestamp(company, user.date_added + std::time::Duration::from_secs(600))),
        date_added,
        do_not_disturb: false,
        international_dialing_enabled: false,
        is_available: true,
        is_on_duty: false,
        is_online: false,
        muted: false,
    }
}

/// `{"items": [...], "cursor": "..."}` without an intermediate `Value` tree.
#[derive(Serialize)]
struct UserPage<'a> {
    items: Vec<UserOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// One inventory entry, borrowed from the world (the same entries as `DialpadCompany::inventory`).
struct Entry<'a> {
    number: &'a str,
    status: &'a str,
    target_id: Option<&'a str>,
    target_type: Option<&'a str>,
    office_id: &'a str,
}

/// Orders entries by number alone.
struct ByNumber<'a>(Entry<'a>);

impl PartialEq for ByNumber<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.number == other.0.number
    }
}

impl Eq for ByNumber<'_> {}

impl PartialOrd for ByNumber<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByNumber<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.number.cmp(other.0.number)
    }
}

fn entries(company: &DialpadCompany) -> impl Iterator<Item = Entry<'_>> {
    company
        .users
        .iter()
        .flat_map(|u| {
            u.phone_numbers.iter().map(move |n| Entry {
                number: n,
                status: "user",
                target_id: Some(&u.id),
                target_type: Some("user"),
                office_id: &u.office_id,
            })
        })
        .chain(company.other_numbers.iter().map(|n| Entry {
            number: &n.number,
            status: &n.status,
            target_id: n.target_id.as_deref(),
            target_type: n.target_type.as_deref(),
            office_id: &n.office_id,
        }))
}

fn numbers_page(state: &SandboxState, headers: &HeaderMap, query: Option<&str>) -> Result<Value, Failure> {
    let params = parse_params(query)?;
    let mut world = state.world();
    let caller = check_key(&world, headers, &params)?;
    let after = decode_cursor(&params, 'n')?;
    let limit = page_size(&params, &mut world, false)?;
    if caller == Caller::OtherCompany {
        return Ok(page_body(Vec::new(), None));
    }
    let status = param(&params, "status").map(str::trim).filter(|s| !s.is_empty());
    let company = &world.dialpad;
    // One pass, no copies: a max-heap keeps the `limit + 1` smallest numbers after the cursor.
    let mut heap: BinaryHeap<ByNumber<'_>> = BinaryHeap::with_capacity(limit + 2);
    for entry in entries(company) {
        if status.is_some_and(|s| entry.status != s) || after.as_deref().is_some_and(|a| entry.number <= a) {
            continue;
        }
        if heap.len() <= limit {
            heap.push(ByNumber(entry));
        } else if heap.peek().is_some_and(|largest| entry.number < largest.0.number) {
            heap.pop();
            heap.push(ByNumber(entry));
        }
    }
    let mut candidates: Vec<Entry<'_>> = heap.into_sorted_vec().into_iter().map(|e| e.0).collect();
    let more = candidates.len() > limit;
    candidates.truncate(limit);
    let cursor = if more {
        candidates.last().map(|e| encode_cursor('n', e.number))
    } else {
        None
    };
    let items = candidates.iter().map(|e| number_json(company, e)).collect();
    Ok(page_body(items, cursor))
}

fn number_json(company: &DialpadCompany, entry: &Entry<'_>) -> Value {
    let encoding = company.id_encoding;
    let mut object = Map::new();
    object.insert("number".into(), entry.number.into());
    object.insert("status".into(), entry.status.into());
    if let Some(target) = entry.target_id {
        object.insert("target_id".into(), int64(encoding, target));
    }
    if let Some(kind) = entry.target_type {
        object.insert("target_type".into(), kind.into());
    }
    object.insert("office_id".into(), int64(encoding, entry.office_id));
    object.insert("company_id".into(), int64(encoding, &company.company_id));
    let area_code = entry
        .number
        .strip_prefix("+1")
        .and_then(|rest| rest.get(0..3))
        .filter(|code| code.bytes().all(|b| b.is_ascii_digit()));
    if let Some(code) = area_code {
        object.insert("area_code".into(), code.into());
    }
    let kind = if area_code.is_some_and(|c| TOLL_FREE_AREA_CODES.contains(&c)) {
        "tollfree"
    } else {
        "local"
    };
    object.insert("type".into(), kind.into());
    object.insert("deleted".into(), false.into());
    Value::Object(object)
}
