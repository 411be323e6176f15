//! Tests of the users/delta request parsing.
use axum::http::HeaderValue;

use super::*;

fn ids(text: &str) -> Result<Vec<String>, &'static str> {
    parse_id_filter(text).map_err(|e| e.code)
}

#[test]
fn the_filter_takes_id_equality_clauses_joined_by_or_only() {
    assert_eq!(ids("id eq 'A1'"), Ok(vec!["a1".to_owned()]));
    assert_eq!(
        ids("id eq 'a1' or ID EQ 'b2'  or id eq 'c3'"),
        Ok(vec!["a1".to_owned(), "b2".to_owned(), "c3".to_owned()])
    );
    for bad in [
        "",
        "id eq a1",
        "id ne 'a1'",
        "mail eq 'a@contoso.com'",
        "id eq 'a1' and id eq 'b2'",
        "id eq 'a1' or",
        "id eq 'a1' id eq 'b2'",
        "startswith(id,'a')",
    ] {
        assert_eq!(ids(bad), Err("Request_UnsupportedQuery"), "{bad}");
    }
    let fifty_one: Vec<String> = (0..51).map(|i| format!("id eq 'u{i}'")).collect();
    assert_eq!(ids(&fifty_one.join(" or ")), Err("Request_BadRequest"));
    assert_eq!(ids(&fifty_one[..50].join(" or ")).map(|v| v.len()), Ok(50));
}

#[test]
fn a_token_request_cannot_be_modified_and_unsupported_options_are_refused() {
    assert!(matches!(
        parse_ask(None),
        Ok(Ask::Initial {
            select: None,
            filter: None
        })
    ));
    assert!(matches!(parse_ask(Some("$deltatoken=")), Ok(Ask::Initial { .. })));
    assert!(matches!(
        parse_ask(Some("$deltatoken=LATEST&$select=mail")),
        Ok(Ask::Latest { .. })
    ));
    assert!(matches!(parse_ask(Some("$skiptoken=abc")), Ok(Ask::Token(t)) if t == "abc"));
    for bad in [
        "$deltatoken=abc&$select=mail",
        "$skiptoken=abc&$filter=id eq 'a'",
        "$deltatoken=abc&$skiptoken=def",
        "$top=5",
        "$orderby=displayName",
        "$expand=manager",
    ] {
        assert!(parse_ask(Some(bad)).is_err(), "{bad}");
    }
}

#[test]
fn minimal_is_read_from_any_prefer_header() {
    let mut headers = HeaderMap::new();
    assert!(!prefers_minimal(&headers));
    headers.append(
        "prefer",
        HeaderValue::from_static("odata.maxpagesize=10, return=minimal"),
    );
    assert!(prefers_minimal(&headers));
}
