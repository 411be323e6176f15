//! What a `users/delta` request asks for, read from its query string and headers before the
//! directory is (see `delta` for the rules and their sources).

use axum::http::HeaderMap;

use super::super::odata::paging::check_options;
use super::super::odata::{QueryError, QueryOptions};

/// The most ids one `$filter` may name ("user: delta": "There is a limit of 50 filtered objects").
const MAX_FILTERED_IDS: usize = 50;

/// What a request asks for, before the directory is read.
pub(super) enum Ask {
    /// No token: a new round from the initial request's options.
    Initial {
        select: Option<String>,
        filter: Option<String>,
    },
    /// `$deltatoken=latest`: a deltaLink for now, no users.
    Latest {
        select: Option<String>,
        filter: Option<String>,
    },
    /// A `$deltatoken` or `$skiptoken`.
    Token(String),
}

/// Reads a request's query string: options the delta function refuses for users are 400s, and
/// a state token may not come with `$select` or `$filter`.
pub(super) fn parse_ask(query: Option<&str>) -> Result<Ask, QueryError> {
    let options = QueryOptions::parse(query)?;
    for name in ["$top", "$expand", "$orderby"] {
        if options.get(name).is_some() {
            return Err(QueryError::bad_request(format!(
                "The query option '{name}' is not supported with delta queries on users."
            )));
        }
    }
    check_options(&options, &["$select", "$filter", "$deltatoken", "$skiptoken"])?;
    let select = options.get("$select").map(str::to_owned);
    let filter = options.get("$filter").map(str::to_owned);
    let delta = options.get("$deltatoken").filter(|t| !t.trim().is_empty());
    let skip = options.get("$skiptoken").filter(|t| !t.trim().is_empty());
    match (delta, skip) {
        (Some(_), Some(_)) => Err(QueryError::bad_request(
            "A delta request carries either $deltatoken or $skiptoken, not both.",
        )),
        (Some(latest), None) if latest.eq_ignore_ascii_case("latest") => Ok(Ask::Latest { select, filter }),
        (Some(token), None) | (None, Some(token)) => {
            if select.is_some() || filter.is_some() {
                return Err(QueryError::bad_request(
                    "Subsequent delta requests can't be modified: send the nextLink or deltaLink as it was given.",
                ));
            }
            Ok(Ask::Token(token.to_owned()))
        }
        (None, None) => Ok(Ask::Initial { select, filter }),
    }
}

/// The ids a delta `$filter` names: `id eq '...'` clauses joined by `or`, lower-cased.
pub(super) fn parse_id_filter(text: &str) -> Result<Vec<String>, QueryError> {
    let unsupported = || {
        QueryError::unsupported(format!(
            "Unsupported filter '{text}' on users/delta: only id eq '...' clauses joined by 'or' are supported."
        ))
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut ids = Vec::new();
    for (index, clause) in words.chunks(4).enumerate() {
        match clause {
            [property, op, value, rest @ ..]
                if property.eq_ignore_ascii_case("id")
                    && op.eq_ignore_ascii_case("eq")
                    && rest.iter().all(|r| r.eq_ignore_ascii_case("or"))
                    && (rest.len() == 1) == (index + 1 < words.len().div_ceil(4)) =>
            {
                let id = value
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .filter(|v| !v.is_empty() && !v.contains('\''))
                    .ok_or_else(unsupported)?;
                ids.push(id.to_ascii_lowercase());
            }
            _ => return Err(unsupported()),
        }
    }
    if ids.is_empty() {
        return Err(unsupported());
    }
    if ids.len() > MAX_FILTERED_IDS {
        return Err(QueryError::bad_request(format!(
            "A users/delta filter names at most {MAX_FILTERED_IDS} objects."
        )));
    }
    Ok(ids)
}

/// Whether `Prefer` asks for `return=minimal`.
pub(super) fn prefers_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
}

#[cfg(test)]
#[path = "delta_request_tests.rs"]
mod tests;
