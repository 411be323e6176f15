//! Entry points for the fuzz targets in `fuzz/`, not part of the operator's interface: each one
//! hands raw response bytes to the code the clients run on an upstream's answer once it has
//! arrived, so that a fuzzer reaches the real parsing without a network.

use std::time::Instant;

use reqwest::header::{HeaderMap, HeaderValue};

use crate::connect::adapters;
use crate::dialpad::model::Page;
use crate::dialpad::{DialpadNumber, DialpadUser};
use crate::microsoft::directory::EmailIndex;
use crate::microsoft::graph::{
    self, Collection, DirectoryRole, GraphUser, NumberAssignment, OperationOutcome,
};
use crate::microsoft::token::{self, TokenAnswerError};
use crate::sync::model::{DesiredState, DesiredUser, TeamsUser};
use crate::upstream::{Answer, Service, UpstreamError};

/// An answer with `status` and `body`, and `retry_after` as its `Retry-After` header when those
/// bytes make a valid header value.
pub fn answer(status: u16, retry_after: &[u8], body: &[u8]) -> Answer {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(retry_after) {
        headers.insert("retry-after", value);
    }
    Answer {
        status,
        headers,
        body: bytes::Bytes::copy_from_slice(body),
        request_id: None,
        attempts: 1,
    }
}

/// The answer a fuzz input stands for. An input whose first line reads `<status>` or
/// `<status> <retry-after>` (status: three digits) is that status and header with the rest as the
/// body; any other input is a `200` answer with the whole input as the body. So plain JSON files
/// serve as seeds, and a seed such as `429 2\n{"error": ...}` reaches the error paths.
pub fn answer_from_input(data: &[u8]) -> Answer {
    if let Some(end) = data.iter().position(|b| *b == b'\n') {
        let head = &data[..end];
        let (status, retry_after) = match head.iter().position(|b| *b == b' ') {
            Some(space) => (&head[..space], &head[space + 1..]),
            None => (head, &head[head.len()..]),
        };
        let status = std::str::from_utf8(status).ok().filter(|s| s.len() == 3);
        if let Some(status) = status.and_then(|s| s.parse::<u16>().ok()) {
            return answer(status, retry_after, &data[end + 1..]);
        }
    }
    answer(200, b"", data)
}

/// A failed call's error as every client reads it from an unsuccessful answer, rendered as the
/// message the status would show.
pub fn error_message(answer: Answer, service: Service) -> String {
    answer.into_error(service, "GET /fuzz").to_string()
}

/// A `GET /api/v2/users` page, condensed as the Dialpad source condenses it: the desired users and
/// the state the page's numbers add to.
pub fn dialpad_users_page(answer: &Answer) -> Result<(Vec<DesiredUser>, DesiredState), UpstreamError> {
    let page: Page<DialpadUser> = answer.json(Service::Dialpad, "GET /api/v2/users")?;
    let mut state = DesiredState::default();
    let desired = adapters::condense_users(&mut state, &page.items);
    Ok((desired, state))
}

/// A `GET /api/v2/numbers` page: the inventory numbers the Dialpad source keeps from it.
pub fn dialpad_numbers_page(answer: &Answer) -> Result<Vec<String>, UpstreamError> {
    let page: Page<DialpadNumber> = answer.json(Service::Dialpad, "GET /api/v2/numbers")?;
    Ok(adapters::inventory_numbers(page.items).collect())
}

/// A `GET /v1.0/users` page, condensed as the Graph tenant condenses it: the Teams users and the
/// email index over them.
pub fn graph_users_page(answer: &Answer) -> Result<(Vec<TeamsUser>, EmailIndex), UpstreamError> {
    let page: Collection<GraphUser> = answer.json(Service::Graph, "GET /v1.0/users")?;
    let mut users = Vec::new();
    let mut index = EmailIndex::default();
    for user in page.value {
        index.insert(users.len(), &user);
        users.push(adapters::teams_user(user));
    }
    Ok((users, index))
}

/// A `numberAssignments` page: each number, normalised, with its holder.
pub fn graph_numbers_page(answer: &Answer) -> Result<Vec<(String, Option<String>)>, UpstreamError> {
    let page: Collection<NumberAssignment> = answer.json(Service::Graph, "GET numberAssignments")?;
    Ok(page.value.iter().map(adapters::held_by).collect())
}

/// A `transitiveMemberOf/microsoft.graph.directoryRole` page: the Teams admin roles it lacks.
pub fn graph_roles_page(answer: &Answer) -> Result<Vec<&'static str>, UpstreamError> {
    let page: Collection<DirectoryRole> = answer.json(Service::Graph, "GET transitiveMemberOf")?;
    Ok(crate::microsoft::admin::missing_roles(&page.value))
}

/// A `GET operations/{id}` answer: the verdict, `None` while the operation runs.
pub fn graph_operation(answer: &Answer) -> Result<Option<OperationOutcome>, UpstreamError> {
    graph::outcome_of_answer(answer, "GET operations/{id}")
}

/// A token endpoint answer: `Ok` when it gives a token to cache, else the message of the sign-in
/// failure or of the malformed body.
pub fn token_answer(answer: &Answer) -> Result<(), String> {
    match token::read_token_answer(answer, "POST /token", "admin@contoso.com", Instant::now()) {
        Ok(_) => Ok(()),
        Err(TokenAnswerError::SignIn(failure)) => Err(failure.message),
        Err(TokenAnswerError::Malformed(error)) => Err(error.to_string()),
    }
}
