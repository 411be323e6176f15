//! Dialpad change-log events over the sandbox's WebSocket, over real HTTP and a real WebSocket
//! client: a change reaches a connected client as one signed frame; URLs expire and `GET`
//! regenerates them; the server ends connections after their lifetime; scopes and companies
//! are kept apart; the test hooks drop connections and send bad frames.

mod common;

use std::time::Duration;

use common::events::{
    KEY, OTHER_KEY, call, connect, dialpad_change, next_message, next_text, sandbox_post, start,
    subscribed_websocket, verify, wait_for_connections,
};
use common::vendor::{assert_dialpad_schema, dialpad_operation_schema};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn a_new_user_reaches_a_connected_client_as_one_frame_signed_with_the_websockets_secret() {
    let sandbox = start("", "").await;
    let websocket = subscribed_websocket(&sandbox, KEY, Some("s3cret")).await;
    assert_dialpad_schema(
        &dialpad_operation_schema("post", "/api/v2/websockets"),
        &websocket,
    );
    assert_eq!(
        websocket["signature"],
        json!({"algo": "HS256", "secret": "s3cret", "type": "jwt"})
    );
    let url = websocket["websocket_url"].as_str().unwrap();
    let expected_prefix = format!("{}/events/", sandbox.base_url().replacen("http", "ws", 1));
    assert!(url.starts_with(&expected_prefix), "{url}");
    let mut socket = connect(&websocket).await;

    let (status, answer) = dialpad_change(
        &sandbox,
        json!({"change": "addUser", "email": "new@contoso.com", "firstName": "New"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["events"], 1, "one frame delivered: {answer}");
    assert_eq!(
        answer["number"], "+14155559001",
        "the first free number: {answer}"
    );

    let event = verify(&next_text(&mut socket).await, "s3cret").expect("the frame verifies with the secret");
    assert_eq!(event["action"], "add_team_members");
    assert_eq!(event["target"]["type"], "User");
    assert_eq!(event["target"]["id"], answer["userId"]);
    assert!(
        event["date"].as_i64().is_some_and(|ms| ms > 1_600_000_000_000),
        "{event}"
    );
    assert_eq!(event["changed_by"]["type"], "User");

    let (_, users) = call(
        &sandbox,
        KEY,
        Method::GET,
        "/api/v2/users?email=new@contoso.com",
        None,
    )
    .await;
    assert_eq!(users["items"][0]["id"], answer["userId"]);
    assert_eq!(users["items"][0]["phone_numbers"], json!(["+14155559001"]));
}

#[tokio::test]
async fn each_change_is_one_event_naming_its_user_and_plain_json_without_a_secret() {
    let sandbox = start("", "").await;
    let websocket = subscribed_websocket(&sandbox, KEY, None).await;
    assert!(websocket.get("signature").is_none(), "{websocket}");
    let mut socket = connect(&websocket).await;
    let changes = [
        (
            json!({"change": "changeNumber", "email": "ada@contoso.com"}),
            "user_number_changed",
        ),
        (
            json!({"change": "moveOffice", "email": "ada@contoso.com", "office": "Berlin"}),
            "user_office_changed",
        ),
        (
            json!({"change": "removeUser", "email": "ADA@contoso.com"}),
            "user_deleted",
        ),
    ];
    for (change, action) in changes {
        let (status, answer) = dialpad_change(&sandbox, change).await;
        assert_eq!((status, &answer["events"]), (200, &json!(1)), "{answer}");
        assert_eq!(answer["userId"], "5835806903417901");
        let event: Value = serde_json::from_str(&next_text(&mut socket).await).expect("plain JSON");
        assert_eq!(event["action"], action);
        assert_eq!(event["target"], json!({"type": "User", "id": "5835806903417901"}));
    }
    let (status, message) = dialpad_change(
        &sandbox,
        json!({"change": "removeUser", "email": "ada@contoso.com"}),
    )
    .await;
    assert_eq!(status, 404, "a removed user is gone: {message}");
    let (status, _) =
        dialpad_change(&sandbox, json!({"change": "addUser", "email": "bob@contoso.com"})).await;
    assert_eq!(status, 400, "bob exists");
}

#[tokio::test]
async fn an_expired_url_is_refused_and_get_regenerates_a_working_one() {
    let sandbox = start("", ", websocketUrlLifetimeSeconds: 2").await;
    let websocket = subscribed_websocket(&sandbox, KEY, Some("s")).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let url = websocket["websocket_url"].as_str().unwrap();
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("an expired URL must be refused, got {:?}", other.map(|_| ())),
    }
    let id = websocket["id"].as_str().unwrap();
    let (status, fresh) = call(
        &sandbox,
        KEY,
        Method::GET,
        &format!("/api/v2/websockets/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_dialpad_schema(
        &dialpad_operation_schema("get", "/api/v2/websockets/{id}"),
        &fresh,
    );
    assert_ne!(fresh["websocket_url"], websocket["websocket_url"]);
    let mut socket = connect(&fresh).await;
    let (_, answer) = dialpad_change(
        &sandbox,
        json!({"change": "removeUser", "email": "bob@contoso.com"}),
    )
    .await;
    assert_eq!(answer["events"], 1);
    assert!(verify(&next_text(&mut socket).await, "s").is_ok());
}

#[tokio::test]
async fn the_server_closes_a_connection_after_its_lifetime_with_a_normal_close_frame() {
    let sandbox = start("", ", websocketConnectionLifetimeSeconds: 1").await;
    let websocket = subscribed_websocket(&sandbox, KEY, Some("s")).await;
    let mut socket = connect(&websocket).await;
    match next_message(&mut socket).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a normal close frame, got {other:?}"),
    }
    wait_for_connections(&sandbox, 0).await;
}

#[tokio::test]
async fn a_key_without_the_change_log_scope_is_refused_the_subscription_routes() {
    let sandbox = start("  apiKeyScopes: [offline_access]", "").await;
    let (status, websocket) = call(&sandbox, KEY, Method::POST, "/api/v2/websockets", Some(json!({}))).await;
    assert_eq!(status, 200, "websockets need no scope");
    for (method, body) in [
        (Method::POST, Some(json!({"endpoint_id": websocket["id"]}))),
        (Method::GET, None),
    ] {
        let (status, error) = call(&sandbox, KEY, method, "/api/v2/subscriptions/changelog", body).await;
        assert_eq!(status, 403, "{error}");
        assert_eq!(error["error"]["code"], 403);
        assert!(error["error"]["message"].as_str().unwrap().contains("change_log"));
    }
}

#[tokio::test]
async fn another_companys_key_sees_none_of_the_orgs_websockets_nor_its_events() {
    let sandbox = start("  idEncoding: number", "").await;
    let org = subscribed_websocket(&sandbox, KEY, Some("org-secret")).await;
    assert!(org["id"].is_u64(), "ids follow idEncoding: {org}");
    let other = subscribed_websocket(&sandbox, OTHER_KEY, Some("other-secret")).await;
    let (_, list) = call(&sandbox, OTHER_KEY, Method::GET, "/api/v2/websockets", None).await;
    assert_dialpad_schema(&dialpad_operation_schema("get", "/api/v2/websockets"), &list);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], other["id"]);
    let (status, _) = call(
        &sandbox,
        OTHER_KEY,
        Method::GET,
        &format!("/api/v2/websockets/{}", org["id"]),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &sandbox,
        OTHER_KEY,
        Method::POST,
        "/api/v2/subscriptions/changelog",
        Some(json!({"endpoint_id": org["id"]})),
    )
    .await;
    assert_eq!(
        status, 400,
        "another company's websocket is no endpoint of this one"
    );
    let (_, subscriptions) = call(
        &sandbox,
        KEY,
        Method::GET,
        "/api/v2/subscriptions/changelog",
        None,
    )
    .await;
    assert_dialpad_schema(
        &dialpad_operation_schema("get", "/api/v2/subscriptions/changelog"),
        &subscriptions,
    );
    assert_eq!(subscriptions["items"].as_array().unwrap().len(), 1);

    let mut other_socket = connect(&other).await;
    let mut org_socket = connect(&org).await;
    let (_, answer) = dialpad_change(
        &sandbox,
        json!({"change": "addUser", "email": "eve@contoso.com", "number": "+14155559002"}),
    )
    .await;
    assert_eq!(answer["events"], 1, "the org's connection only: {answer}");
    assert!(verify(&next_text(&mut org_socket).await, "org-secret").is_ok());
    let (_, emitted) = sandbox_post(
        &sandbox,
        "/_sandbox/websockets/emit",
        json!({"payload": {"action": "marker"}, "company": "other"}),
    )
    .await;
    assert_eq!(emitted["frames"], 1);
    let first = verify(&next_text(&mut other_socket).await, "other-secret").unwrap();
    assert_eq!(
        first["action"], "marker",
        "the other company's first frame is the marker, not the org's event"
    );
}

#[tokio::test]
async fn the_eleventh_changelog_subscription_is_refused_and_deleting_the_websocket_removes_them() {
    let sandbox = start("", "").await;
    let websocket = subscribed_websocket(&sandbox, KEY, None).await;
    for _ in 1..10 {
        let (status, subscription) = call(
            &sandbox,
            KEY,
            Method::POST,
            "/api/v2/subscriptions/changelog",
            Some(json!({"endpoint_id": websocket["id"], "enabled": false})),
        )
        .await;
        assert_eq!(status, 200);
        assert_dialpad_schema(
            &dialpad_operation_schema("post", "/api/v2/subscriptions/changelog"),
            &subscription,
        );
    }
    let (status, error) = call(
        &sandbox,
        KEY,
        Method::POST,
        "/api/v2/subscriptions/changelog",
        Some(json!({"endpoint_id": websocket["id"]})),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    let mut socket = connect(&websocket).await;
    let (status, deleted) = call(
        &sandbox,
        KEY,
        Method::DELETE,
        &format!("/api/v2/websockets/{}", websocket["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    match next_message(&mut socket).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a normal close frame, got {other:?}"),
    }
    let (_, subscriptions) = call(
        &sandbox,
        KEY,
        Method::GET,
        "/api/v2/subscriptions/changelog",
        None,
    )
    .await;
    assert_eq!(subscriptions["items"], json!([]));
}

#[tokio::test]
async fn drop_cuts_every_connection_without_a_close_frame() {
    let sandbox = start("", "").await;
    let websocket = subscribed_websocket(&sandbox, KEY, Some("s")).await;
    let mut first = connect(&websocket).await;
    let mut second = connect(&websocket).await;
    let (_, answer) = sandbox_post(&sandbox, "/_sandbox/websockets/drop", json!({})).await;
    assert_eq!(answer["dropped"], 2);
    for socket in [&mut first, &mut second] {
        match next_message(socket).await {
            None | Some(Err(_)) => {}
            other => panic!("expected the connection to end without a close frame, got {other:?}"),
        }
    }
    wait_for_connections(&sandbox, 0).await;
}

#[tokio::test]
async fn emit_sends_wrongly_signed_raw_and_repeated_frames() {
    let sandbox = start("", "").await;
    let websocket = subscribed_websocket(&sandbox, KEY, Some("right")).await;
    let mut socket = connect(&websocket).await;
    let (_, answer) = sandbox_post(
        &sandbox,
        "/_sandbox/websockets/emit",
        json!({"payload": {"action": "forged"}, "secret": "wrong"}),
    )
    .await;
    assert_eq!(answer["frames"], 1);
    let forged = next_text(&mut socket).await;
    assert!(
        verify(&forged, "right").is_err(),
        "a wrong secret must not verify"
    );
    assert_eq!(verify(&forged, "wrong").unwrap()["action"], "forged");

    sandbox_post(&sandbox, "/_sandbox/websockets/emit", json!({"raw": "not a jwt"})).await;
    assert_eq!(next_text(&mut socket).await, "not a jwt");

    let (_, answer) = sandbox_post(
        &sandbox,
        "/_sandbox/websockets/emit",
        json!({"payload": {"n": 1}, "count": 50}),
    )
    .await;
    assert_eq!(answer["frames"], 50);
    for _ in 0..50 {
        assert_eq!(
            verify(&next_text(&mut socket).await, "right").unwrap(),
            json!({"n": 1})
        );
    }
    let (_, view) = call(&sandbox, "", Method::GET, "/_sandbox/websockets", None).await;
    assert_eq!(view["framesSent"], 52);
    assert_eq!(view["connections"][0]["framesSent"], 52);
}
