//! What one upstream can make the operator read is bounded: a body that never ends stops at the
//! size bound, a listing whose next page never ends stops at the page bound, and a next page that
//! comes back a second time stops the listing at once. Each is an error naming the service, the
//! endpoint and the bound, never retried and not transient. Served byte for byte by a loopback
//! server, with the bounds lowered so that each test is quick.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dialpad_teams_operator::upstream::{ReadLimits, Service, UpstreamError};
use serde_json::json;

mod common;
use common::raw_http::{
    RawServer, Reply, Seen, dialpad_client_reading, graph_client_reading, json, response, response_declaring,
    token,
};

const USERS: &str = "/v1.0/users";
const NUMBERS: &str = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";
const DIALPAD_USERS: &str = "/api/v2/users";
const MIB: u64 = 1024 * 1024;

fn limits(max_body_bytes: u64, max_pages: u32) -> ReadLimits {
    ReadLimits {
        max_body_bytes,
        max_pages,
    }
}

/// Signs in, and answers `path` with `answer` (given the server's base URL and how many requests
/// to `path` came before).
async fn serving(
    path: &'static str,
    answer: impl Fn(&str, usize) -> Reply + Send + Sync + 'static,
) -> RawServer {
    let base: Arc<OnceLock<String>> = Arc::default();
    let known = base.clone();
    let server = RawServer::start_replying(move |seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            Reply::Whole(token())
        } else if seen.path == path {
            answer(known.get().map_or("", String::as_str), seen.earlier)
        } else {
            Reply::Whole(response(404, "application/json", b"{}"))
        }
    })
    .await;
    base.set(server.base.clone()).unwrap();
    server
}

/// The error of listing the Dialpad users `server` serves, reading at most `limits`.
async fn dialpad_users_failing(server: &RawServer, limits: ReadLimits) -> UpstreamError {
    dialpad_client_reading(&server.base, limits)
        .list_users("all", &[])
        .await
        .unwrap_err()
}

/// A 200 whose JSON body starts and then repeats `item` for ever, with no `Content-Length`.
fn endless(start: &str, item: &str) -> Reply {
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{start}");
    Reply::Endless {
        head: head.into_bytes(),
        chunk: item.repeat(256).into_bytes(),
    }
}

#[tokio::test]
async fn an_endless_dialpad_body_stops_at_the_size_bound_quickly_and_is_not_retried() {
    let server = serving(DIALPAD_USERS, |_, _| endless(r#"{"items": ["#, r#"{"id": "1"},"#)).await;
    let started = Instant::now();
    let error = dialpad_users_failing(&server, limits(MIB, 10)).await;
    assert_eq!(
        error,
        UpstreamError::TooLarge {
            service: Service::Dialpad,
            endpoint: format!("GET {DIALPAD_USERS}"),
            limit: MIB,
        }
    );
    let text = error.to_string();
    assert!(
        text.contains("Dialpad GET /api/v2/users: the response body is larger than 1 MiB"),
        "{text}"
    );
    assert!(text.contains("spec.endpoints.dialpad"), "{text}");
    assert!(!error.is_transient(), "the same server streams again");
    assert_eq!(server.requests("GET", DIALPAD_USERS), 1, "never retried");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped at the bound, not at a timeout: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_endless_graph_page_stops_at_the_size_bound() {
    let server = serving(USERS, |_, _| endless(r#"{"value": ["#, r#"{"id": "1"},"#)).await;
    let graph = graph_client_reading(&server.base, &server.base, limits(2 * MIB, 10));
    let error = graph.list_users().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("Microsoft Graph GET /v1.0/users: the response body is larger than 2 MiB"),
        "{text}"
    );
    assert!(!error.is_transient());
    assert_eq!(server.requests("GET", USERS), 1);
}

#[tokio::test]
async fn a_body_declaring_more_than_the_bound_is_refused_before_it_is_read() {
    // The body is short of what Content-Length declares: read, it would be a body cut short
    // (read again, transient); refused on its declared length, it is never read at all.
    let server = serving(DIALPAD_USERS, |_, _| {
        Reply::Whole(response_declaring(
            200,
            "application/json",
            br#"{"items": []"#,
            2 * MIB as usize,
        ))
    })
    .await;
    let error = dialpad_users_failing(&server, limits(MIB, 10)).await;
    assert!(
        matches!(error, UpstreamError::TooLarge { limit, .. } if limit == MIB),
        "{error}"
    );
    assert_eq!(server.requests("GET", DIALPAD_USERS), 1);
}

#[tokio::test]
async fn a_body_at_the_bound_is_read_whole() {
    let page = serde_json::to_vec(&json!({"items": [{"id": "1", "emails": ["ada@contoso.com"]}]})).unwrap();
    let length = page.len() as u64;
    let server = serving(DIALPAD_USERS, move |_, _| {
        Reply::Whole(response(200, "application/json", &page))
    })
    .await;
    let users = dialpad_client_reading(&server.base, limits(length, 10))
        .list_users("all", &[])
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
}

/// Graph users, one a page, each page's `@odata.nextLink` carrying `skiptoken(earlier)`.
async fn users_linking(skiptoken: fn(usize) -> String) -> RawServer {
    serving(USERS, move |base, earlier| {
        Reply::Whole(json(&json!({
            "value": [{"id": format!("{earlier}")}],
            "@odata.nextLink": format!("{base}{USERS}?$skiptoken={}", skiptoken(earlier)),
        })))
    })
    .await
}

#[tokio::test]
async fn a_graph_listing_whose_next_link_never_ends_stops_at_the_page_bound() {
    let server = users_linking(|earlier| format!("{earlier}")).await;
    let graph = graph_client_reading(&server.base, &server.base, limits(MIB, 25));
    let mut handed_on = 0;
    let error = graph
        .list_users_by_page(&mut |page| handed_on += page.len())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("Microsoft Graph GET /v1.0/users: the listing did not end after 25 pages"),
        "{text}"
    );
    assert!(!error.is_transient());
    assert_eq!(server.requests("GET", USERS), 25);
    assert_eq!(handed_on, 25);
}

#[tokio::test]
async fn a_next_link_that_comes_back_stops_the_listing_at_once() {
    let server = users_linking(|_| "the-same".to_owned()).await;
    let graph = graph_client_reading(&server.base, &server.base, ReadLimits::default());
    let error = graph.list_users().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("the same @odata.nextLink came back after 2 pages"),
        "{text}"
    );
    assert!(!error.is_transient());
    assert_eq!(
        server.requests("GET", USERS),
        2,
        "the first page, then the link once"
    );
}

#[tokio::test]
async fn a_numbers_listing_of_full_pages_without_end_stops_at_the_page_bound() {
    let server = serving(NUMBERS, |_, earlier| {
        let numbers: Vec<_> = (0..1000)
            .map(|i| json!({"telephoneNumber": format!("+1415{earlier:03}{i:04}")}))
            .collect();
        Reply::Whole(json(&json!({ "value": numbers })))
    })
    .await;
    let graph = graph_client_reading(&server.base, &server.base, limits(MIB, 3));
    let error = graph.list_numbers().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("numberAssignments: the listing did not end after 3 pages"),
        "{text}"
    );
    assert_eq!(server.requests("GET", NUMBERS), 3);
}

#[tokio::test]
async fn a_dialpad_listing_whose_cursor_never_ends_stops_at_the_page_bound() {
    let server = serving(DIALPAD_USERS, |_, earlier| {
        Reply::Whole(json(
            &json!({"items": [{"id": format!("{earlier}")}], "cursor": format!("c{earlier}")}),
        ))
    })
    .await;
    let error = dialpad_users_failing(&server, limits(MIB, 4)).await;
    assert_eq!(
        error,
        UpstreamError::TooManyPages {
            service: Service::Dialpad,
            endpoint: format!("GET {DIALPAD_USERS}"),
            limit: 4,
        }
    );
    assert_eq!(server.requests("GET", DIALPAD_USERS), 4);
}

#[tokio::test]
async fn a_dialpad_cursor_that_comes_back_stops_the_listing_at_once() {
    let server = serving(DIALPAD_USERS, |_, earlier| {
        Reply::Whole(json(
            &json!({"items": [{"id": format!("{earlier}")}], "cursor": "again"}),
        ))
    })
    .await;
    let error = dialpad_users_failing(&server, ReadLimits::default()).await;
    assert!(
        error
            .to_string()
            .contains("the same cursor came back after 2 pages"),
        "{error}"
    );
    assert_eq!(server.requests("GET", DIALPAD_USERS), 2);
}
