//! What `GET /v1.0/users/delta` and `POST /_sandbox/directory/changes` refuse, over real HTTP:
//! bad, expired and foreign state tokens, modified follow-up requests, callers without
//! permission, injected faults, and directory changes that cannot be made.

mod common;

use std::time::Duration;

use common::directory::{Directory, NUMBERS_APP, change, items, org};
use common::vendor::assert_graph_schema;
use dialpad_teams_sandbox::{Endpoint, Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ODATA_ERROR: &str = "microsoft.graph.ODataErrors.ODataError";

fn code(body: &Value) -> &str {
    assert_graph_schema(ODATA_ERROR, body);
    body["error"]["code"].as_str().expect("an error code")
}

#[tokio::test]
async fn an_undecodable_or_expired_token_answers_sync_state_not_found() {
    let directory = Directory::start(&org(3, "behaviour: {deltaTokenLifetimeSeconds: 1}")).await;
    let (_, delta_link) = directory.round("/v1.0/users/delta", &[]).await;
    for option in ["$deltatoken", "$skiptoken"] {
        for garbled in ["not-a-token", "c2FuZGJveC11c2Vycy1kZWx0YTp7fQ"] {
            let url = format!("/v1.0/users/delta?{option}={garbled}");
            let (status, _, body) = directory.get(&url, &[]).await;
            assert_eq!(
                (status, code(&body)),
                (StatusCode::BAD_REQUEST, "syncStateNotFound")
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, body) = directory.get(&delta_link, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "syncStateNotFound")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
}

#[tokio::test]
async fn a_token_from_another_run_of_the_sandbox_asks_for_a_full_resync_at_the_initial_request() {
    let fixture = org(3, "");
    let first = Directory::start(&fixture).await;
    let (_, delta_link) = first
        .round("/v1.0/users/delta?$select=id,accountEnabled", &[])
        .await;
    let second = Directory::start(&fixture).await;
    let replayed = delta_link.replace(first.sandbox.base_url(), second.sandbox.base_url());
    let (status, location, body) = second.get(&replayed, &[]).await;
    assert_eq!((status, code(&body)), (StatusCode::GONE, "resyncRequired"));
    let location = location.expect("a Location");
    assert_eq!(
        location,
        format!(
            "{}/v1.0/users/delta?$select=id,accountEnabled",
            second.sandbox.base_url()
        )
    );
    let (pages, _) = second.round(&location, &[]).await;
    assert_eq!(items(&pages).len(), 5, "the Location starts a new initial round");
}

#[tokio::test]
async fn follow_up_requests_cannot_be_modified_and_unsupported_options_are_refused() {
    let directory = Directory::start(&org(3, "")).await;
    let (_, delta_link) = directory.round("/v1.0/users/delta?$select=id", &[]).await;
    let (status, _, body) = directory.get(&format!("{delta_link}&$select=mail"), &[]).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "Request_BadRequest")
    );
    for option in ["$top=5", "$orderby=displayName", "$expand=manager", "$count=true"] {
        let (status, _, body) = directory.get(&format!("/v1.0/users/delta?{option}"), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{option}: {body}");
        code(&body);
    }
    let (status, _, body) = directory
        .get("/v1.0/users/delta?$filter=mail eq 'a@contoso.com'", &[])
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "Request_UnsupportedQuery")
    );
}

#[tokio::test]
async fn a_caller_without_user_read_permission_is_refused_as_on_users() {
    let reader = Directory::start(&org(1, "")).await;
    let sandbox = Sandbox::start(&org(1, ""), SandboxOptions::default())
        .await
        .expect("the sandbox starts");
    let numbers_app = Directory::signed_in(sandbox, NUMBERS_APP, "numbers-secret").await;
    for path in ["/v1.0/users/delta", "/v1.0/users"] {
        let (status, _, body) = numbers_app.get(path, &[]).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "Authorization_RequestDenied"),
            "{path}"
        );
    }
    let response = reqwest::get(format!("{}/v1.0/users/delta", reader.sandbox.base_url()))
        .await
        .expect("the sandbox answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn faults_are_injected_by_the_endpoints_own_name() {
    let directory = Directory::start(&org(
        2,
        "behaviour: {faults: [{endpoint: graph.usersDelta, failFirst: 1}]}",
    ))
    .await;
    let (status, _, body) = directory.get("/v1.0/users/delta", &[]).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable")
    );
    let (status, _, _) = directory.get("/v1.0/users", &[]).await;
    assert_eq!(status, StatusCode::OK, "other user reads are not hit");
    directory.round("/v1.0/users/delta", &[]).await;
    let counters = directory.sandbox.counters();
    assert_eq!(counters.responses_from(Endpoint::GraphUsersDelta, 503), 1);
    assert_eq!(counters.responses_from(Endpoint::GraphUsersDelta, 200), 1);
}

#[tokio::test]
async fn directory_changes_that_cannot_be_made_are_refused_with_a_plain_message() {
    let directory = Directory::start(&org(2, "")).await;
    let (status, body) = directory
        .change(change("disableUser", "nobody@contoso.com"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("nobody@contoso.com"), "{body}");
    directory
        .changed(change("disableUser", "user000000@contoso.com"))
        .await;
    let refused = [
        change("disableUser", "user000000@contoso.com"),
        change("deleteUser", "admin@contoso.com"),
        change("removeLicence", "nomail@contoso.com"),
        change("addUser", "user000001@contoso.com"),
        change("addUser", "someone@fabrikam.com"),
        change("renameUser", "user000001@contoso.com"),
        json!({"change": "addUser"}),
    ];
    for body in refused {
        let (status, message) = directory.change(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {message}");
        assert!(!message.is_empty() && serde_json::from_str::<Value>(&message).is_err());
    }
    let (status, _) = directory.change(json!("not an object")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, delta_link) = directory.round("/v1.0/users/delta?$deltatoken=latest", &[]).await;
    let (pages, _) = directory.round(&delta_link, &[]).await;
    assert_eq!(
        items(&pages),
        Vec::<Value>::new(),
        "refused changes change nothing"
    );
}
