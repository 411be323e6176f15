//! Shared pieces of the Dialpad event tests: a fixture, calls to the websocket and subscription
//! API, and a WebSocket client.

use std::time::Duration;

use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use futures::StreamExt;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Client, Method};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const KEY: &str = "dp-events-key";
pub const OTHER_KEY: &str = "dp-events-other-key";

/// A WebSocket client connection.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A sandbox with two users, two free numbers and a Berlin office; `dialpad_extra` and
/// `behaviour` are spliced into the `dialpad` and `behaviour` maps.
pub async fn start(dialpad_extra: &str, behaviour: &str) -> Sandbox {
    let yaml = format!(
        r#"
seed: 7
tenant:
  id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34
  domains: [contoso.com]
dialpad:
  apiKey: {KEY}
  otherCompany: {{apiKey: {OTHER_KEY}}}
{dialpad_extra}
  offices:
  - {{id: "5012637248020481", name: Berlin}}
  users:
  - {{id: "5835806903417901", emails: [ada@contoso.com], phoneNumbers: ["+14155551001"]}}
  - {{id: "5835806903417902", emails: [bob@contoso.com], phoneNumbers: ["+14155551002"]}}
  otherNumbers:
  - {{number: "+14155550000", status: office}}
  - {{number: "+14155559001", status: available}}
  - {{number: "+14155559002", status: available}}
behaviour: {{dialpadRequestsPerSecond: 1000{behaviour}}}
"#
    );
    let fixture = OrgFixture::from_yaml(&yaml, "sandbox events test").expect("the test fixture is valid");
    Sandbox::start(&fixture, SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

/// `method path` with `key` and an optional JSON body: the status and JSON body.
pub async fn call(
    sandbox: &Sandbox,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = Client::new()
        .request(method, format!("{}{path}", sandbox.base_url()))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A sandbox route outside the vendor API (`/_sandbox/...`), POSTed `body`.
pub async fn sandbox_post(sandbox: &Sandbox, path: &str, body: Value) -> (u16, Value) {
    call(sandbox, "", Method::POST, path, Some(body)).await
}

/// `POST /_sandbox/dialpad/changes` with `change`.
pub async fn dialpad_change(sandbox: &Sandbox, change: Value) -> (u16, Value) {
    sandbox_post(sandbox, "/_sandbox/dialpad/changes", change).await
}

/// Creates a websocket (with `secret`, if any) and a change-log subscription to it: the
/// websocket's answer.
pub async fn subscribed_websocket(sandbox: &Sandbox, key: &str, secret: Option<&str>) -> Value {
    let body = secret.map_or_else(|| serde_json::json!({}), |s| serde_json::json!({"secret": s}));
    let (status, websocket) = call(sandbox, key, Method::POST, "/api/v2/websockets", Some(body)).await;
    assert_eq!(status, 200, "{websocket}");
    let (status, subscription) = call(
        sandbox,
        key,
        Method::POST,
        "/api/v2/subscriptions/changelog",
        Some(serde_json::json!({"endpoint_id": websocket["id"], "enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{subscription}");
    websocket
}

/// Opens `websocket["websocket_url"]`.
pub async fn connect(websocket: &Value) -> Socket {
    let url = websocket["websocket_url"].as_str().expect("a websocket_url");
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the URL accepts a connection")
        .0
}

/// The next message, or `None` when the connection ended first; panics after 5 s of silence.
pub async fn next_message(socket: &mut Socket) -> Option<Result<Message, String>> {
    tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("a message or the end within 5 s")
        .map(|m| m.map_err(|e| e.to_string()))
}

/// The next text frame's text.
pub async fn next_text(socket: &mut Socket) -> String {
    match next_message(socket).await {
        Some(Ok(Message::Text(text))) => text.to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The payload of a JWT frame verified with `secret`.
pub fn verify(frame: &str, secret: &str) -> Result<Value, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(frame, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// Waits until the sandbox lists `count` open connections (connections register as they open).
pub async fn wait_for_connections(sandbox: &Sandbox, count: usize) {
    for _ in 0..100 {
        let (_, view) = call(sandbox, "", Method::GET, "/_sandbox/websockets", None).await;
        if view["connections"].as_array().map_or(0, Vec::len) == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the sandbox never listed {count} open connections");
}
