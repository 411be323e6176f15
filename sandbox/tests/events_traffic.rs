//! The websocket and change-log subscription routes go through the sandbox's traffic machinery:
//! counted and hit by faults by endpoint name, and held to the spec's per-endpoint limits.

mod common;

use common::events::{KEY, call, start};
use dialpad_teams_sandbox::Endpoint;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn faults_name_the_websocket_endpoints_and_counters_count_them() {
    let sandbox = start(
        "",
        ", faults: [{endpoint: dialpad.websocketCreate, failFirst: 1}, {endpoint: dialpad.changelogSubscriptions, failFirst: 1, errorStatus: 500}]",
    )
    .await;
    let (status, _) = call(&sandbox, KEY, Method::POST, "/api/v2/websockets", Some(json!({}))).await;
    assert_eq!(status, 503, "the first create is hit by the fault");
    let (status, websocket) = call(&sandbox, KEY, Method::POST, "/api/v2/websockets", Some(json!({}))).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &sandbox,
        KEY,
        Method::GET,
        "/api/v2/subscriptions/changelog",
        None,
    )
    .await;
    assert_eq!(status, 500);
    let id = websocket["id"].as_str().unwrap();
    let (status, _) = call(
        &sandbox,
        KEY,
        Method::GET,
        &format!("/api/v2/websockets/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "dialpad.websockets has no fault rule");
    let counters = sandbox.counters();
    assert_eq!(counters.requests_to(Endpoint::DialpadWebsocketCreate, "POST"), 2);
    assert_eq!(counters.responses_from(Endpoint::DialpadWebsocketCreate, 503), 1);
    assert_eq!(counters.requests_to(Endpoint::DialpadWebsockets, "GET"), 1);
    assert_eq!(
        counters.responses_from(Endpoint::DialpadChangelogSubscriptions, 500),
        1
    );
}

#[tokio::test]
async fn creating_websockets_is_limited_to_250_a_minute_while_reading_them_is_not() {
    let sandbox = start("", "").await;
    // The quota refills one request every 240 ms, so a few more than 250 pass while the loop runs.
    let started = std::time::Instant::now();
    let mut created = 0;
    let refused = loop {
        let (status, body) = call(&sandbox, KEY, Method::POST, "/api/v2/websockets", Some(json!({}))).await;
        if status != 200 {
            break (status, body);
        }
        created += 1;
        assert!(created < 1000, "creating websockets is never refused");
    };
    let refilled = (started.elapsed().as_millis() / 240) as usize + 1;
    assert_eq!(refused.0, 429, "{}", refused.1);
    assert!(
        (250..=250 + refilled).contains(&created),
        "{created} created before the first 429 ({refilled} refilled)"
    );
    let (status, list) = call(&sandbox, KEY, Method::GET, "/api/v2/websockets", None).await;
    assert_eq!(status, 200, "the list has its own limit of 1200 a minute");
    assert!(list["items"].as_array().unwrap().len() >= 250);
}
