//! Credentials stay on the configured endpoints' origins: a redirect from the token endpoint,
//! Graph or Dialpad is not followed (the target gets no request) and the error says where it
//! pointed and what to set; an `@odata.nextLink` or an operation's `Location` on another origin is
//! refused before anything is sent there. And an upstream's error text, however long, is quoted
//! cut to a bounded length. Each against loopback servers scripted byte for byte.

use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::microsoft::graph::GraphError;
use dialpad_teams_operator::upstream::{ReadLimits, UpstreamError};
use serde_json::json;

mod common;
use common::raw_http::{
    RawServer, Seen, dialpad_client_reading, graph_client_reading, json, response, token,
};

const USERS: &str = "/v1.0/users";
const ROLES: &str = "/v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole";
const NUMBERS: &str = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";
const DIALPAD_USERS: &str = "/api/v2/users";

/// A server that answers everything as a willing upstream would; it must receive nothing.
async fn elsewhere() -> RawServer {
    RawServer::start(|seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            token()
        } else {
            json(&json!({"value": [], "items": [], "status": "succeeded"}))
        }
    })
    .await
}

/// A redirect with `status` to `target`'s base with a path and query that no message may show.
fn redirect(status: u16, target: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} Moved\r\nLocation: {target}/collect?token=stolen\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn assert_names_the_redirect(text: &str, status: u16, target: &RawServer, field: &str) {
    let expected = format!(
        "answered HTTP {status} with a redirect to {}; the operator does not follow redirects on requests that carry credentials; set {field} to the final URL",
        target.base
    );
    assert!(text.contains(&expected), "{text}");
    assert!(
        !text.contains("collect") && !text.contains("stolen"),
        "no path or query: {text}"
    );
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed_and_says_so() {
    let target = elsewhere().await;
    let to = target.base.clone();
    let login = RawServer::start(move |_: &Seen| redirect(302, &to)).await;
    let graph_server = elsewhere().await;
    let graph = graph_client_reading(&login.base, &graph_server.base, ReadLimits::default());
    let Err(GraphError::SignIn(failure)) = graph.list_users().await else {
        panic!("signing in fails");
    };
    assert_names_the_redirect(&failure.message, 302, &target, "spec.endpoints.login");
    assert_eq!(failure.reason, Reason::UnknownError);
    assert!(!failure.transient);
    assert_eq!(target.all_requests(), 0, "the client secret never went there");
    assert_eq!(login.all_requests(), 1, "not retried");
    assert_eq!(graph_server.all_requests(), 0);
}

#[tokio::test]
async fn a_redirect_from_graph_is_not_followed_and_says_so() {
    let target = elsewhere().await;
    let to = target.base.clone();
    let server = RawServer::start(move |seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            token()
        } else {
            redirect(307, &to)
        }
    })
    .await;
    let graph = graph_client_reading(&server.base, &server.base, ReadLimits::default());
    let error = graph.list_users().await.unwrap_err();
    assert!(
        matches!(
            error,
            GraphError::Upstream(UpstreamError::Redirected { status: 307, .. })
        ),
        "{error}"
    );
    assert_names_the_redirect(&error.to_string(), 307, &target, "spec.endpoints.graph");
    assert!(!error.is_transient());
    assert_eq!(target.all_requests(), 0, "the access token never went there");
    assert_eq!(server.requests("GET", USERS), 1);
}

#[tokio::test]
async fn a_redirect_from_dialpad_is_not_followed_whatever_its_status() {
    let target = elsewhere().await;
    for status in [301, 302, 303, 307, 308] {
        let to = target.base.clone();
        let server = RawServer::start(move |_: &Seen| redirect(status, &to)).await;
        let error = dialpad_client_reading(&server.base, ReadLimits::default())
            .list_users("all", &[])
            .await
            .unwrap_err();
        assert_names_the_redirect(&error.to_string(), status, &target, "spec.endpoints.dialpad");
        assert!(!error.is_transient());
        assert_eq!(server.requests("GET", DIALPAD_USERS), 1);
    }
    assert_eq!(target.all_requests(), 0, "the API key never went there");
}

/// A Graph tenant whose answers on `path` point to `other`.
async fn pointing_elsewhere(path: &'static str, other: &RawServer) -> RawServer {
    let other = other.base.clone();
    RawServer::start(move |seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            token()
        } else if seen.path == path {
            json(&json!({
                "value": [{"id": "1", "roleTemplateId": "69091246-20e8-4a56-aa4d-066075b2a7a8"}],
                "@odata.nextLink": format!("{other}{path}?$skiptoken=2"),
            }))
        } else if seen.path.ends_with("/assignNumber") {
            format!(
                "HTTP/1.1 202 Accepted\r\nLocation: {other}/v1.0/admin/teams/telephoneNumberManagement/operations/1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes()
        } else {
            response(404, "application/json", b"{}")
        }
    })
    .await
}

fn assert_refused(error: &GraphError, link: &str, other: &RawServer, graph: &RawServer) {
    let text = error.to_string();
    let expected = format!(
        "the {link} points to {}, not to the origin of spec.endpoints.graph ({}); the operator sends credentials to no other origin",
        other.base, graph.base
    );
    assert!(text.contains(&expected), "{text}");
    assert!(!error.is_transient());
}

#[tokio::test]
async fn a_next_link_on_another_origin_is_refused_and_that_origin_gets_no_request() {
    let other = elsewhere().await;
    for path in [USERS, ROLES] {
        let server = pointing_elsewhere(path, &other).await;
        let graph = graph_client_reading(&server.base, &server.base, ReadLimits::default());
        let error = if path == USERS {
            graph.list_users().await.map(|_| ()).unwrap_err()
        } else {
            graph.my_roles().await.map(|_| ()).unwrap_err()
        };
        assert_refused(&error, "@odata.nextLink", &other, &server);
        assert_eq!(server.requests("GET", path), 1, "the first page only");
    }
    assert_eq!(other.all_requests(), 0, "the access token never went there");
}

#[tokio::test]
async fn an_operation_location_on_another_origin_is_never_polled() {
    let other = elsewhere().await;
    let server = pointing_elsewhere(NUMBERS, &other).await;
    let graph = graph_client_reading(&server.base, &server.base, ReadLimits::default());
    let error = graph
        .assign_number("+14155550100", "1", "directRouting", None)
        .await
        .unwrap_err();
    assert_refused(&error, "operation's Location", &other, &server);
    // A Location remembered from an earlier sync, polled later, is checked the same way.
    let remembered = format!(
        "{}/v1.0/admin/teams/telephoneNumberManagement/operations/7",
        other.base
    );
    let error = graph.operation_outcome(&remembered).await.unwrap_err();
    assert_refused(&error, "operation's Location", &other, &server);
    assert_eq!(other.all_requests(), 0, "the access token never went there");
}

#[tokio::test]
async fn an_error_message_of_10_kb_is_quoted_cut_short() {
    let long = "x".repeat(10 * 1024);
    let body =
        serde_json::to_vec(&json!({"error": {"code": "y".repeat(10 * 1024), "message": long}})).unwrap();
    let server = RawServer::start(move |seen: &Seen| {
        if seen.path.ends_with("/oauth2/v2.0/token") {
            token()
        } else {
            response(400, "application/json", &body)
        }
    })
    .await;
    let graph = graph_client_reading(&server.base, &server.base, ReadLimits::default());
    let text = graph.list_users().await.unwrap_err().to_string();
    assert!(text.len() < 1000, "{} bytes: {text}", text.len());
    assert!(text.contains("xxx…") && text.contains("yyy…"), "{text}");
}
