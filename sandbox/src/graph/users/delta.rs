//! `GET /v1.0/users/delta` (also spelled `users/microsoft.graph.delta` and `users/delta()`),
//! from Microsoft's "user: delta" (https://learn.microsoft.com/graph/api/user-delta), "Use delta
//! query to track changes in Microsoft Graph data"
//! (https://learn.microsoft.com/graph/delta-query-overview) and "Get incremental changes for
//! users" (https://learn.microsoft.com/graph/delta-query-users):
//! - The first request pages through every user (`@odata.nextLink` with a `$skiptoken`, 100 users
//!   a page as `/users`); the last page carries `@odata.deltaLink` with a `$deltatoken`. A later
//!   request with the deltaLink returns the users that changed since, and deleted users as
//!   `{"id", "@removed": {"reason": "changed"}}` ("changed": deleted and restorable), then a new
//!   deltaLink; when nothing changed that is one response with an empty `value`.
//! - Query parameters are given once, on the first request, and carried in the tokens; a request
//!   with a token and `$select` or `$filter` is refused ("Subsequent requests can't be modified").
//!   `$select` also names the properties tracked: a change to another property does not report
//!   the user. `$filter` takes `id eq '...'` clauses joined by `or` only, at most 50. `$top`,
//!   `$expand` and `$orderby` are not supported for users, as the overview says (400).
//!   `$deltatoken=latest` answers at once with a deltaLink and no users ("sync from now").
//! - Changed users carry every selected property, changed or not; with `Prefer: return=minimal`
//!   on a deltaLink round, only the properties that changed (and `id`). A property that was never
//!   set (null) is left out of the user, as the user: delta page says.
//! - An expired token (older than `behaviour.deltaTokenLifetimeSeconds`, seven days by default)
//!   and an undecodable one answer 400 `syncStateNotFound` (the code and message Microsoft's error
//!   reference gives, https://learn.microsoft.com/graph/errors; for a garbled token the code is
//!   UNCONFIRMED). A token minted by another run of the sandbox, or naming a change the directory
//!   has not reached, answers the documented "synchronization reset": 410 with a `Location` of
//!   the initial request (its code `resyncRequired`, from the same error reference, is
//!   UNCONFIRMED for users).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::super::auth::{Need, authorize};
use super::super::odata::QueryError;
use super::super::odata::paging::encode_query_value;
use super::delta_request::{Ask, parse_ask, parse_id_filter, prefers_minimal};
use super::delta_token::{DeltaState, Position, TokenProblem};
use super::*;
use crate::SandboxState;
use crate::errors::graph_error;
use crate::world::World;

/// Microsoft's message for `syncStateNotFound` (Microsoft Graph error reference, code property).
const SYNC_STATE_NOT_FOUND: &str =
    "The sync state generation is not found. The delta token is expired and data must be synchronized again.";

/// Microsoft's description of `resyncRequired` (same reference).
const RESYNC_REQUIRED: &str = "The delta token is no longer valid, and the app must reset the sync state.";

/// A round, resolved against the directory: what one response reads.
struct Round {
    /// `None`: the initial round (every user); else report changes after this sequence.
    since: Option<u64>,
    /// Changes up to this sequence belong to the round.
    upto: u64,
    resume_at: Option<String>,
    select: Option<String>,
    filter: Option<String>,
    projection: Projection,
    ids: Option<Vec<String>>,
    minimal: bool,
}

/// One entry of a page.
enum Entry<'a> {
    User(&'a DirectoryUser),
    Removed(&'a str),
}

impl Entry<'_> {
    fn id(&self) -> &str {
        match self {
            Entry::User(user) => &user.id,
            Entry::Removed(id) => id,
        }
    }
}

impl Round {
    fn new(
        position: Position,
        select: Option<String>,
        filter: Option<String>,
        current: u64,
        minimal: bool,
    ) -> Result<Round, QueryError> {
        let projection = Projection::users(select.as_deref())?;
        let ids = filter.as_deref().map(parse_id_filter).transpose()?;
        let (since, upto, resume_at) = match position {
            Position::Delta { after } => (Some(after), current, None),
            Position::Skip {
                since,
                upto,
                resume_at,
            } => (since, upto, Some(resume_at)),
        };
        Ok(Round {
            minimal: minimal && since.is_some(),
            since,
            upto,
            resume_at,
            select,
            filter,
            projection,
            ids,
        })
    }

    fn wanted(&self, id: &str) -> bool {
        self.ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|wanted| wanted.eq_ignore_ascii_case(id)))
    }

    /// The properties a change must touch to report a user: the selected ones, or any.
    fn tracked(&self) -> Option<Vec<&'static str>> {
        self.select
            .as_ref()
            .map(|_| self.projection.fields.iter().map(|(name, _)| *name).collect())
    }

    /// This page's entries, sorted by id from the resume point, and whether more follow.
    fn entries<'w>(&self, world: &'w World) -> (Vec<Entry<'w>>, Option<String>) {
        if self.since.is_some_and(|since| since >= self.upto) {
            // Nothing changed since the last round: an idle poll reads no user.
            return (Vec::new(), None);
        }
        let start = self.resume_at.as_deref().unwrap_or("");
        let first = world.users.partition_point(|u| u.id.as_str() < start);
        let tracked = self.tracked();
        let users = world.users[first..]
            .iter()
            .filter(|user| self.wanted(&user.id))
            .filter(|user| {
                self.since
                    .is_none_or(|since| user.changes.changed_between(tracked.as_deref(), since, self.upto))
            })
            .map(Entry::User);
        let mut removed: Vec<Entry<'w>> = match self.since {
            None => Vec::new(),
            Some(since) => world
                .tombstones_between(since, self.upto)
                .filter(|t| t.id.as_str() >= start && self.wanted(&t.id))
                .map(|t| Entry::Removed(t.id.as_str()))
                .collect(),
        };
        removed.sort_by(|a, b| a.id().cmp(b.id()));
        let mut merged = merge_by_id(users, removed.into_iter());
        let page: Vec<Entry<'w>> = merged.by_ref().take(DEFAULT_PAGE_SIZE).collect();
        let next = merged.next().map(|entry| entry.id().to_owned());
        (page, next)
    }

    fn render_user(&self, out: &mut Vec<u8>, user: &DirectoryUser) {
        let fields: Vec<(&'static str, Field)> = self
            .projection
            .fields
            .iter()
            .copied()
            .filter(|(name, field)| {
                *field == Field::Id
                    || (!is_unset(user, *field)
                        && (!self.minimal
                            || self.since.is_some_and(|since| {
                                user.changes.changed_between(Some(&[name]), since, self.upto)
                            })))
            })
            .collect();
        write_user(out, user, &fields);
    }

    fn state(&self, world: &World, position: Position) -> DeltaState {
        DeltaState {
            epoch: world.directory.epoch,
            minted: jiff::Timestamp::now().as_second(),
            position,
            select: self.select.clone(),
            filter: self.filter.clone(),
        }
    }

    /// The page's body.
    fn render(&self, world: &World, public_url: &str) -> Vec<u8> {
        let (entries, next) = self.entries(world);
        let mut out = Vec::with_capacity(256 + entries.len() * 256);
        out.extend_from_slice(b"{\"@odata.context\":");
        push_json_str(
            &mut out,
            &format!("{public_url}/v1.0/$metadata#users{}", self.projection.context),
        );
        let link = match next {
            Some(resume_at) => {
                let position = Position::Skip {
                    since: self.since,
                    upto: self.upto,
                    resume_at,
                };
                out.extend_from_slice(b",\"@odata.nextLink\":");
                format!(
                    "{public_url}/v1.0/users/delta?$skiptoken={}",
                    self.state(world, position).encode()
                )
            }
            None => {
                out.extend_from_slice(b",\"@odata.deltaLink\":");
                delta_link(
                    public_url,
                    &self.state(world, Position::Delta { after: self.upto }),
                )
            }
        };
        push_json_str(&mut out, &link);
        out.extend_from_slice(b",\"value\":[");
        for (index, entry) in entries.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            match entry {
                Entry::User(user) => self.render_user(&mut out, user),
                Entry::Removed(id) => {
                    out.extend_from_slice(b"{\"id\":");
                    push_json_str(&mut out, id);
                    out.extend_from_slice(b",\"@removed\":{\"reason\":\"changed\"}}");
                }
            }
        }
        out.extend_from_slice(b"]}");
        out
    }
}

fn delta_link(public_url: &str, state: &DeltaState) -> String {
    format!("{public_url}/v1.0/users/delta?$deltatoken={}", state.encode())
}

/// Two id-sorted sequences as one.
fn merge_by_id<'w>(
    users: impl Iterator<Item = Entry<'w>>,
    removed: impl Iterator<Item = Entry<'w>>,
) -> impl Iterator<Item = Entry<'w>> {
    let mut users = users.peekable();
    let mut removed = removed.peekable();
    std::iter::from_fn(move || match (users.peek(), removed.peek()) {
        (Some(u), Some(r)) if r.id() < u.id() => removed.next(),
        (Some(_), _) => users.next(),
        (None, _) => removed.next(),
    })
}

/// The initial request a token's round started from: where a reset sends the client.
fn initial_request(public_url: &str, select: Option<&str>, filter: Option<&str>) -> String {
    let options: Vec<String> = [("$select", select), ("$filter", filter)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={}", encode_query_value(v))))
        .collect();
    if options.is_empty() {
        format!("{public_url}/v1.0/users/delta")
    } else {
        format!("{public_url}/v1.0/users/delta?{}", options.join("&"))
    }
}

fn refused(problem: TokenProblem, state: Option<&DeltaState>, public_url: &str) -> Response {
    match problem {
        TokenProblem::Undecodable | TokenProblem::Expired => {
            graph_error(StatusCode::BAD_REQUEST, "syncStateNotFound", SYNC_STATE_NOT_FOUND)
        }
        TokenProblem::Reset => {
            let mut response = graph_error(StatusCode::GONE, "resyncRequired", RESYNC_REQUIRED);
            let location = initial_request(
                public_url,
                state.and_then(|s| s.select.as_deref()),
                state.and_then(|s| s.filter.as_deref()),
            );
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
    }
}

/// `GET /v1.0/users/delta`.
pub(super) async fn users_delta(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Need::ReadUsers) {
        return response;
    }
    let ask = match parse_ask(query.as_deref()) {
        Ok(ask) => ask,
        Err(error) => return error.into_response(),
    };
    let public_url = state.public_url.as_str();
    let world = state.world();
    let current = world.directory_sequence();
    let round = match ask {
        Ask::Initial { select, filter } => {
            let position = Position::Skip {
                since: None,
                upto: current,
                resume_at: String::new(),
            };
            Round::new(position, select, filter, current, false)
        }
        Ask::Latest { select, filter } => {
            let body = Round::new(Position::Delta { after: current }, select, filter, current, false)
                .map(|round| latest_body(&round, &world, public_url));
            return match body {
                Ok(body) => json_response(StatusCode::OK, body),
                Err(error) => error.into_response(),
            };
        }
        Ask::Token(token) => {
            let decoded = match DeltaState::decode(&token) {
                Ok(decoded) => decoded,
                Err(problem) => return refused(problem, None, public_url),
            };
            let now = jiff::Timestamp::now().as_second();
            let lifetime = world.behaviour.delta_token_lifetime_seconds;
            if let Err(problem) = decoded.check(world.directory.epoch, current, now, lifetime) {
                return refused(problem, Some(&decoded), public_url);
            }
            let minimal = prefers_minimal(&headers);
            Round::new(decoded.position, decoded.select, decoded.filter, current, minimal)
        }
    };
    match round {
        Ok(round) => json_response(StatusCode::OK, round.render(&world, public_url)),
        Err(error) => error.into_response(),
    }
}

/// The body of `$deltatoken=latest`: no users, a deltaLink for now.
fn latest_body(round: &Round, world: &World, public_url: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"@odata.context\":");
    push_json_str(
        &mut out,
        &format!("{public_url}/v1.0/$metadata#users{}", round.projection.context),
    );
    out.extend_from_slice(b",\"@odata.deltaLink\":");
    push_json_str(
        &mut out,
        &delta_link(
            public_url,
            &round.state(world, Position::Delta { after: round.upto }),
        ),
    );
    out.extend_from_slice(b",\"value\":[]}");
    out
}

#[cfg(test)]
#[path = "delta_tests.rs"]
mod tests;
