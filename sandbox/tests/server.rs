//! The sandbox as a server: the bundled org, HTTPS, introspection, rate limits and fault injection,
//! over real HTTP on loopback.

use std::time::{Duration, Instant};

use dialpad_teams_sandbox::fixture::FaultFixture;
use dialpad_teams_sandbox::{Endpoint, OrgFixture, Sandbox, SandboxOptions};
use serde_json::Value;

/// The bundled example org, as `dialpad-teams-operator sandbox` serves it.
const EXAMPLE_ORG: &str = include_str!("../../examples/sandbox-org.yaml");

const DIALPAD_KEY: &str = "sandbox-dialpad-api-key";

fn example_org() -> OrgFixture {
    OrgFixture::from_yaml(EXAMPLE_ORG, "examples/sandbox-org.yaml").expect("the example org is valid")
}

fn fault(yaml: &str) -> FaultFixture {
    serde_yaml::from_str(yaml).expect("a valid fault rule")
}

async fn dialpad_users(client: &reqwest::Client, sandbox: &Sandbox) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!("{}/api/v2/users", sandbox.base_url()))
        .bearer_auth(DIALPAD_KEY)
        .send()
        .await
}

#[test]
fn the_example_org_loads_and_has_one_user_per_failure() {
    let org = example_org();
    assert!(org.dialpad.users.len() >= 15);
    assert!(
        org.tenant
            .admins
            .iter()
            .any(|a| a.user_principal_name == "dialpad-msteams-admin@contoso.com")
    );
}

#[test]
fn a_fixture_with_an_unknown_licence_is_rejected_naming_it() {
    let yaml = "tenant: {id: t, domains: [contoso.com], users: [{userPrincipalName: a@contoso.com, licenses: [NOPE]}]}";
    let error = OrgFixture::from_yaml(yaml, "org.yaml").unwrap_err().to_string();
    assert!(
        error.contains("tenant.users[0].licenses[0]: unknown SKU NOPE"),
        "{error}"
    );
}

#[test]
fn a_fixture_with_a_misspelled_field_is_rejected_with_its_position() {
    let yaml = "tenant: {id: t, domains: [contoso.com]}\ndialpad: {apiKeys: x}\n";
    let error = OrgFixture::from_yaml(yaml, "org.yaml").unwrap_err().to_string();
    assert!(error.contains("apiKeys") && error.contains("line 2"), "{error}");
}

#[tokio::test]
async fn https_serves_with_a_generated_certificate_clients_can_trust() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("sandbox-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    let options = SandboxOptions {
        tls: true,
        ca_file: Some(ca_file.clone()),
        ..Default::default()
    };
    let sandbox = Sandbox::start(&example_org(), options).await.unwrap();
    assert!(sandbox.base_url().starts_with("https://127.0.0.1:"));
    let ca = std::fs::read(&ca_file).unwrap();
    assert_eq!(
        Some(String::from_utf8(ca.clone()).unwrap().as_str()),
        sandbox.ca_certificate_pem()
    );
    let trusted = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .build()
        .unwrap();
    let url = format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        sandbox.base_url(),
        "contoso.com"
    );
    let discovery: Value = trusted.get(&url).send().await.unwrap().json().await.unwrap();
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap();
    assert!(
        token_endpoint.starts_with("https://127.0.0.1:"),
        "{token_endpoint}"
    );
    let untrusted = reqwest::Client::builder().tls_certs_only([]).build().unwrap();
    assert!(
        untrusted.get(&url).send().await.is_err(),
        "an unknown CA must be refused"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn counters_and_assignments_are_visible_in_process_and_over_http() {
    let sandbox = Sandbox::start(&example_org(), SandboxOptions::default())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(dialpad_users(&client, &sandbox).await.unwrap().status(), 200);
    }
    let counters = sandbox.counters();
    assert_eq!(counters.requests_to(Endpoint::DialpadUsers, "GET"), 3);
    assert_eq!(counters.responses_from(Endpoint::DialpadUsers, 200), 3);
    let over_http: Value = client
        .get(format!("{}/_sandbox/counters", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["requests"]["dialpad.users GET"], 3);
    let assignments: Value = client
        .get(format!("{}/_sandbox/assignments", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ada = assignments
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["telephoneNumber"] == "+14155550100")
        .expect("Ada's number is assigned");
    assert_eq!(ada["userPrincipalName"], "ada.lovelace@contoso.com");
    assert_eq!(ada["activationState"], "activated");
    sandbox.reset_counters();
    assert_eq!(sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET"), 0);
}

#[tokio::test]
async fn dialpad_answers_429_with_retry_after_beyond_20_requests_a_second() {
    let sandbox = Sandbox::start(&example_org(), SandboxOptions::default())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let responses = futures::future::join_all((0..60).map(|_| dialpad_users(&client, &sandbox))).await;
    let throttled: Vec<_> = responses
        .into_iter()
        .map(Result::unwrap)
        .filter(|r| r.status() == 429)
        .collect();
    assert!(!throttled.is_empty(), "60 requests at once must exceed 20/s");
    for response in &throttled {
        let retry_after: f64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1.0..=2.0).contains(&retry_after), "Retry-After {retry_after}");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        dialpad_users(&client, &sandbox).await.unwrap().status(),
        200,
        "the limit refills"
    );
}

#[tokio::test]
async fn graph_answers_429_with_retry_after_beyond_its_configured_rate() {
    let mut org = example_org();
    org.behaviour.graph_requests_per_second = 5;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/v1.0/users", sandbox.base_url());
    let responses = futures::future::join_all((0..20).map(|_| client.get(&url).send())).await;
    let statuses: Vec<u16> = responses
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    let throttled = responses
        .into_iter()
        .map(Result::unwrap)
        .find(|r| r.status() == 429)
        .unwrap();
    assert!(throttled.headers().contains_key("retry-after"));
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
}

#[tokio::test]
async fn fail_first_faults_answer_5xx_then_recover() {
    let mut org = example_org();
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, failFirst: 2, errorStatus: 502}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(dialpad_users(&client, &sandbox).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [502, 502, 200]);
}

#[tokio::test]
async fn injected_throttling_bursts_carry_the_configured_retry_after() {
    let mut org = example_org();
    org.behaviour.faults = vec![fault(
        "{endpoint: 'dialpad.*', throttleRate: 1.0, throttleBurst: 2, retryAfterSeconds: 3}",
    )];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let client = reqwest::Client::new();
    let response = dialpad_users(&client, &sandbox).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
}

#[tokio::test]
async fn connection_resets_drop_the_response_mid_body() {
    let mut org = example_org();
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, resetRate: 1.0}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let client = reqwest::Client::new();
    let outcome = match dialpad_users(&client, &sandbox).await {
        Err(error) => Err(error),
        Ok(response) => response.bytes().await.map(|_| ()),
    };
    assert!(outcome.is_err(), "a reset connection must surface as an error");
}

#[tokio::test]
async fn malformed_bodies_are_truncated_json_with_status_200() {
    let mut org = example_org();
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, malformedRate: 1.0}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let response = dialpad_users(&reqwest::Client::new(), &sandbox).await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[tokio::test]
async fn latency_faults_slow_every_matching_request() {
    let mut org = example_org();
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, latencyMs: 150}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let started = Instant::now();
    assert_eq!(
        dialpad_users(&reqwest::Client::new(), &sandbox)
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn faults_can_be_replaced_while_running() {
    let sandbox = Sandbox::start(&example_org(), SandboxOptions::default())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    sandbox.set_faults(vec![fault("{endpoint: '*', errorRate: 1.0}")]);
    assert_eq!(dialpad_users(&client, &sandbox).await.unwrap().status(), 503);
    sandbox.set_faults(Vec::new());
    assert_eq!(dialpad_users(&client, &sandbox).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_same_seed_injects_the_same_faults() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let mut org = example_org();
        org.seed = seed;
        org.behaviour.dialpad_requests_per_second = 1000;
        org.behaviour.faults = vec![fault("{endpoint: dialpad.users, errorRate: 0.5}")];
        let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
        let client = reqwest::Client::new();
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(dialpad_users(&client, &sandbox).await.unwrap().status().as_u16());
        }
        out
    }
    let first = statuses(7).await;
    assert_eq!(first, statuses(7).await);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
}
