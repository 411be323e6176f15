//! Bodies no upstream should send, served byte for byte by a tiny loopback server: an HTML page
//! or plain text with status 200 (a proxy, a captive portal, a wrong endpoint URL), an empty 200,
//! JSON cut short with a matching or a longer `Content-Length`. Each ends in an error naming the
//! endpoint and saying what came; a body cut short is read again (reads only) and classified
//! transient, a page that is not JSON is not. (A sandbox fault that cuts bodies is covered in
//! `client_dialpad.rs` and `client_graph.rs`.)

use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::dialpad::DialpadClient;
use dialpad_teams_operator::microsoft::graph::{GraphClient, Submitted};
use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
use dialpad_teams_operator::upstream::{
    BodyProblem, RetryPolicy, Service, TRUNCATED_BODY_RETRIES, UpstreamClient, UpstreamError, http_client,
};
use secrecy::SecretString;
use serde_json::json;

mod common;
use common::raw_http::{RawServer, Seen, json, response, response_declaring, token};

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const USERS: &str = "/v1.0/users";
const DIALPAD_USERS: &str = "/api/v2/users";
const HTML: &[u8] = b"<html><body><h1>502 Bad Gateway</h1><p>proxy.example</p></body></html>";

fn retries() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        ..Default::default()
    }
}

fn graph(server: &RawServer) -> GraphClient {
    let http = http_client(&[]).unwrap();
    let tokens = TokenClient::new(
        UpstreamClient::new(Service::Entra, http.clone(), None, retries()),
        &server.base,
        TENANT,
        &server.base,
        Credentials::ClientSecret {
            client_id: "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f".into(),
            secret: SecretString::from("s".to_owned()),
        },
    );
    GraphClient::new(
        UpstreamClient::new(Service::Graph, http, None, retries()),
        &server.base,
        Arc::new(tokens),
    )
}

fn dialpad(server: &RawServer) -> DialpadClient {
    let upstream = UpstreamClient::new(Service::Dialpad, http_client(&[]).unwrap(), None, retries());
    DialpadClient::new(upstream, &server.base, SecretString::from("k".to_owned()))
}

/// Signs in, and answers `path` with `answer` (given how many requests to it came before).
async fn serving(path: &'static str, answer: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            token()
        } else if seen.path == path {
            answer(seen.earlier)
        } else {
            response(404, "application/json", b"{}")
        }
    })
    .await
}

fn problem_of(error: &UpstreamError) -> BodyProblem {
    match error {
        UpstreamError::Malformed { problem, .. } => *problem,
        other => panic!("expected a body problem, got {other}"),
    }
}

/// Graph answers the users' list first with `first`, then with a good page: the client reads
/// again once and gets the user.
async fn assert_read_again_after(first: Vec<u8>) {
    let server = serving(
        USERS,
        move |earlier| {
            if earlier == 0 { first.clone() } else { users_page() }
        },
    )
    .await;
    let users = graph(&server).list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(server.requests("GET", USERS), 2);
}

fn users_page() -> Vec<u8> {
    json(&json!({"value": [{"id": "1", "userPrincipalName": "ada@contoso.com"}]}))
}

#[tokio::test]
async fn an_html_page_with_status_200_names_the_endpoint_and_is_not_retried() {
    let server = serving(USERS, |_| response(200, "text/html; charset=utf-8", HTML)).await;
    let error = graph(&server).list_users().await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("Microsoft Graph GET /v1.0/users"), "{text}");
    assert!(
        text.contains("not JSON (text/html; charset=utf-8, 70 bytes)"),
        "{text}"
    );
    assert!(text.contains("spec.endpoints"), "says what to check: {text}");
    assert!(
        !text.contains("Bad Gateway"),
        "the body itself is never quoted: {text}"
    );
    assert!(!error.is_transient(), "the same URL answers the same page");
    assert_eq!(
        server.requests("GET", USERS),
        1,
        "asking again gets the same page"
    );
}

#[tokio::test]
async fn plain_text_from_dialpad_names_the_endpoint() {
    let server = serving(DIALPAD_USERS, |_| response(200, "text/plain", b"OK")).await;
    let error = dialpad(&server).list_users("all", &[]).await.unwrap_err();
    assert_eq!(problem_of(&error), BodyProblem::NotJson);
    let text = error.to_string();
    assert!(
        text.contains("Dialpad GET /api/v2/users") && text.contains("text/plain, 2 bytes"),
        "{text}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn an_empty_200_is_read_again_then_reported_as_transient() {
    let server = serving(USERS, |_| response(200, "application/json", b"")).await;
    let error = graph(&server).list_users().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("GET /v1.0/users") && text.contains("empty body (application/json)"),
        "{text}"
    );
    assert!(error.is_transient(), "{text}");
    assert_eq!(
        server.requests("GET", USERS),
        1 + TRUNCATED_BODY_RETRIES as usize,
        "read again, a bounded number of times"
    );
}

#[tokio::test]
async fn json_cut_short_with_a_matching_length_is_read_again_and_then_succeeds() {
    assert_read_again_after(response(
        200,
        "application/json",
        br#"{"value": [{"id": "1", "userPrin"#,
    ))
    .await;
}

#[tokio::test]
async fn json_cut_short_every_time_ends_as_a_transient_error_saying_where_it_ended() {
    let body = br#"{"items": [{"id": "1", "emails": ["ada@contoso.com"]"#;
    let server = serving(DIALPAD_USERS, move |_| response(200, "application/json", body)).await;
    let error = dialpad(&server).list_users("all", &[]).await.unwrap_err();
    assert_eq!(problem_of(&error), BodyProblem::Truncated);
    assert!(error.is_transient());
    let text = error.to_string();
    assert!(
        text.contains("Dialpad GET /api/v2/users")
            && text.contains(&format!("ends after {} bytes", body.len())),
        "{text}"
    );
    assert_eq!(server.requests("GET", DIALPAD_USERS), 3);
}

#[tokio::test]
async fn a_connection_closed_before_the_declared_length_is_retried_as_a_transport_failure() {
    assert_read_again_after(response_declaring(
        200,
        "application/json",
        br#"{"value": ["#,
        5000,
    ))
    .await;
}

#[tokio::test]
async fn json_of_another_shape_is_not_transient_and_says_what_was_expected() {
    let server = serving(USERS, |_| json(&json!({"value": {"id": "1"}}))).await;
    let error = graph(&server).list_users().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("GET /v1.0/users") && text.contains("expected a sequence"),
        "{text}"
    );
    assert!(!error.is_transient());
    assert_eq!(server.requests("GET", USERS), 1);
}

#[tokio::test]
async fn a_write_is_never_repeated_for_a_body_it_does_not_read() {
    let path = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber";
    let server = serving(path, |_| response(202, "text/html", HTML)).await;
    // Teams' answer to a write is its status and Location header; its body is never parsed. A
    // 2xx without a Location is no verdict: the change is still running, to be read later.
    let outcome = graph(&server)
        .submit_assign("+14155550100", "1", "directRouting", None)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Submitted::Running {
            url: None,
            retry_after: None
        }
    );
    assert_eq!(server.requests("POST", path), 1);
}
