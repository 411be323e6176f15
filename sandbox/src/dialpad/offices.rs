//! `GET /api/v2/offices` and `GET /api/v2/offices/{id}` (operationIds `offices.list` and
//! `offices.get` in vendor/dialpad-openapi.json): `schemas.office.OfficeCollection` and
//! `schemas.office.OfficeProto`.
//!
//! The company's main office always exists: its id is the company's office id, it is named after
//! the company, is the primary office and holds the company's `office` numbers; the fixture's
//! `dialpad.offices` add others. Choices (UNCONFIRMED upstream): an office carries `id`,
//! `office_id` (the same), `name`, `state`, `is_primary_office` and, when it has any,
//! `phone_numbers`; other fields are omitted as fields without a value are. Every office fits on
//! one page, so no `cursor` is handed out and any `cursor` presented is a 400; `active_only=true`
//! lists `active` offices only. The other company's key sees no office.

use axum::extract::Path;

use super::*;

pub(super) async fn list_offices(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    respond(offices_page(&state, &headers, query.as_deref()))
}

pub(super) async fn get_office(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    respond(office_body(&state, &headers, &id, query.as_deref()))
}

fn offices_page(state: &SandboxState, headers: &HeaderMap, query: Option<&str>) -> Result<Value, Failure> {
    let params = parse_params(query)?;
    let world = state.world();
    let caller = check_key(&world, headers, &params)?;
    if let Some(cursor) = param(&params, "cursor") {
        return Err(bad_request(&format!("Invalid cursor: {cursor:?}.")));
    }
    let active_only = match param(&params, "active_only") {
        None => false,
        Some(flag) if flag.eq_ignore_ascii_case("true") => true,
        Some(flag) if flag.eq_ignore_ascii_case("false") => false,
        Some(flag) => return Err(bad_request(&format!("Invalid value for active_only: {flag:?}."))),
    };
    let items = match caller {
        Caller::OtherCompany => Vec::new(),
        Caller::Org => offices(&world.dialpad)
            .into_iter()
            .filter(|office| !active_only || office.state == "active")
            .map(|office| office_json(&world.dialpad, &office))
            .collect(),
    };
    Ok(page_body(items, None))
}

fn office_body(
    state: &SandboxState,
    headers: &HeaderMap,
    id: &str,
    query: Option<&str>,
) -> Result<Value, Failure> {
    let params = parse_params(query)?;
    let world = state.world();
    let caller = check_key(&world, headers, &params)?;
    let office = match caller {
        Caller::Org => offices(&world.dialpad).into_iter().find(|o| o.id == id),
        Caller::OtherCompany => None,
    };
    office
        .map(|office| office_json(&world.dialpad, &office))
        .ok_or_else(|| failure(StatusCode::NOT_FOUND, &format!("Office {id} not found.")))
}

/// The main office first, then the fixture's.
pub(super) fn offices(company: &DialpadCompany) -> Vec<DialpadOffice> {
    let main = DialpadOffice {
        id: company.office_id.clone(),
        name: company.company_name.clone(),
        state: "active".to_owned(),
    };
    std::iter::once(main)
        .chain(company.offices.iter().cloned())
        .collect()
}

fn office_json(company: &DialpadCompany, office: &DialpadOffice) -> Value {
    let primary = office.id == company.office_id;
    let numbers: Vec<Value> = company
        .other_numbers
        .iter()
        .filter(|n| n.status == "office" && n.office_id == office.id)
        .map(|n| Value::from(n.number.as_str()))
        .collect();
    let mut body = Map::new();
    body.insert("id".into(), int64(company.id_encoding, &office.id));
    body.insert("office_id".into(), int64(company.id_encoding, &office.id));
    body.insert("name".into(), Value::from(office.name.as_str()));
    body.insert("state".into(), Value::from(office.state.as_str()));
    body.insert("is_primary_office".into(), Value::from(primary));
    if !numbers.is_empty() {
        body.insert("phone_numbers".into(), Value::Array(numbers));
    }
    Value::Object(body)
}
