//! The Dialpad client against the sandbox: paging to the end, lenient ids, office filter, the
//! number inventory, 429 handling, faults, and the API key kept out of every message.

use std::time::{Duration, Instant};

use dialpad_teams_operator::dialpad::DialpadClient;
use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
use dialpad_teams_sandbox::fixture::{FaultFixture, IdEncoding};
use dialpad_teams_sandbox::generator::{self, GeneratorSpec};
use dialpad_teams_sandbox::{Endpoint, OrgFixture, Sandbox, SandboxOptions};
use secrecy::SecretString;

const KEY: &str = "client-test-dialpad-key";

fn org(users: usize) -> OrgFixture {
    generator::generate(&GeneratorSpec::with_every_case(users, 5), "pw", "secret", KEY).fixture
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
        ..Default::default()
    }
}

fn client(sandbox: &Sandbox, key: &str, rate: Option<u32>) -> DialpadClient {
    let upstream = UpstreamClient::new(Service::Dialpad, http_client(&[]).unwrap(), rate, fast_retries());
    DialpadClient::new(upstream, sandbox.base_url(), SecretString::from(key.to_owned()))
}

fn fault(yaml: &str) -> FaultFixture {
    serde_yaml::from_str(yaml).unwrap()
}

#[tokio::test]
async fn all_users_are_listed_page_by_page_never_over_100() {
    let org = org(450);
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = client(&sandbox, KEY, Some(20))
        .list_users("all", &[])
        .await
        .unwrap();
    assert_eq!(users.len(), 450);
    let mut ids: Vec<_> = users.iter().map(|u| u.id.clone().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 450, "every user exactly once");
    assert_eq!(sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET"), 5);
    assert_eq!(
        sandbox.counters().responses_from(Endpoint::DialpadUsers, 400),
        0,
        "limit stays at 100"
    );
}

#[tokio::test]
async fn the_state_filter_is_sent_to_dialpad() {
    let org = org(200);
    let deleted = org.dialpad.users.iter().filter(|u| u.state == "deleted").count();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let active = client(&sandbox, KEY, None)
        .list_users("active", &[])
        .await
        .unwrap();
    assert_eq!(active.len(), 200 - deleted);
    assert!(active.iter().all(|u| u.state.as_deref() == Some("active")));
}

#[tokio::test]
async fn ids_written_as_numbers_are_read_as_text() {
    let mut org = org(30);
    org.dialpad.id_encoding = IdEncoding::Number;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = client(&sandbox, KEY, None).list_users("all", &[]).await.unwrap();
    assert!(users.iter().all(|u| {
        u.id.as_ref()
            .is_some_and(|id| id.starts_with('5') && id.len() == 16)
    }));
    assert!(users.iter().all(|u| u.office_id.is_some()));
}

#[tokio::test]
async fn the_office_filter_is_applied_client_side() {
    let mut org = org(20);
    for (index, user) in org.dialpad.users.iter_mut().enumerate() {
        user.office_id = Some(if index % 2 == 0 { "111" } else { "222" }.to_owned());
    }
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = client(&sandbox, KEY, None)
        .list_users("all", &["111".to_owned()])
        .await
        .unwrap();
    assert_eq!(users.len(), 10);
    assert!(users.iter().all(|u| u.office_id.as_deref() == Some("111")));
}

#[tokio::test]
async fn the_number_inventory_lists_user_and_company_numbers() {
    let org = org(100);
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let numbers = client(&sandbox, KEY, None).list_numbers().await.unwrap();
    let user_numbers: usize = org.dialpad.users.iter().map(|u| u.phone_numbers.len()).sum();
    assert_eq!(numbers.len(), user_numbers + org.dialpad.other_numbers.len());
    assert!(
        numbers
            .iter()
            .any(|n| n.status.as_deref() == Some("user") && n.target_id.is_some())
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_a_permanent_error_that_does_not_show_the_key() {
    let sandbox = Sandbox::start(&org(10), SandboxOptions::default()).await.unwrap();
    let error = client(&sandbox, "wrong-key-value", None)
        .list_users("active", &[])
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_transient());
    assert!(!error.to_string().contains("wrong-key-value"), "{error}");
    assert_eq!(
        sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET"),
        1,
        "no retry of a 401"
    );
}

#[tokio::test]
async fn the_company_of_the_key_is_read_with_its_id_and_name() {
    let mut org = org(3);
    org.dialpad.company_name = "Contoso Telephony".into();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let company = client(&sandbox, KEY, None).company().await.unwrap();
    assert_eq!(company.id.as_deref(), Some(org.dialpad.company_id.as_str()));
    assert_eq!(company.name.as_deref(), Some("Contoso Telephony"));
    let other = client(&sandbox, &org.dialpad.other_company.api_key, None)
        .company()
        .await
        .unwrap();
    assert_eq!(
        other.id.as_deref(),
        Some(org.dialpad.other_company.company_id.as_str())
    );
}

#[tokio::test]
async fn reading_the_company_with_a_wrong_key_is_a_401_that_does_not_show_the_key() {
    let sandbox = Sandbox::start(&org(1), SandboxOptions::default()).await.unwrap();
    let error = client(&sandbox, "wrong-key-value", None)
        .company()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_transient());
    assert!(!error.to_string().contains("wrong-key-value"), "{error}");
}

#[tokio::test]
async fn a_429_is_waited_out_for_at_least_its_retry_after() {
    let mut org = org(10);
    org.behaviour.faults = vec![fault(
        "{endpoint: dialpad.users, failFirst: 1, errorStatus: 429, retryAfterSeconds: 1}",
    )];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let dialpad = client(&sandbox, KEY, None);
    let started = Instant::now();
    let users = dialpad.list_users("all", &[]).await.unwrap();
    assert_eq!(users.len(), 10);
    assert_eq!(sandbox.counters().responses_from(Endpoint::DialpadUsers, 429), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_burst_of_429s_longer_than_the_attempts_is_waited_out() {
    let mut org = org(10);
    org.behaviour.faults = vec![fault(
        "{endpoint: dialpad.users, failFirst: 8, errorStatus: 429, retryAfterSeconds: 0.05}",
    )];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = client(&sandbox, KEY, None).list_users("all", &[]).await.unwrap();
    assert_eq!(users.len(), 10);
    assert_eq!(sandbox.counters().responses_from(Endpoint::DialpadUsers, 429), 8);
}

#[tokio::test]
async fn server_errors_and_resets_are_retried_then_reported_as_transient() {
    let mut org = org(10);
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, failFirst: 2}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let dialpad = client(&sandbox, KEY, None);
    assert_eq!(
        dialpad.list_users("all", &[]).await.unwrap().len(),
        10,
        "two 503s, then success"
    );

    sandbox.set_faults(vec![fault("{endpoint: dialpad.users, resetRate: 1.0}")]);
    let error = dialpad.list_users("all", &[]).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("attempt"), "{error}");

    sandbox.set_faults(vec![fault(
        "{endpoint: dialpad.users, errorRate: 1.0, errorStatus: 502}",
    )]);
    let error = dialpad.list_users("all", &[]).await.unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_malformed_body_is_a_clear_error_not_a_panic() {
    let mut org = org(10);
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, malformedRate: 1.0}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let error = client(&sandbox, KEY, None)
        .list_users("all", &[])
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("unexpected response body"), "{text}");
    assert_eq!(
        sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET"),
        1 + u64::from(dialpad_teams_operator::upstream::TRUNCATED_BODY_RETRIES),
        "a body that is always cut short is read again twice, then reported"
    );
}

#[tokio::test]
async fn pages_cut_off_mid_body_are_read_again() {
    let mut org = org(450);
    org.behaviour.faults = vec![fault("{endpoint: dialpad.users, malformedRate: 0.5}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = client(&sandbox, KEY, None).list_users("all", &[]).await.unwrap();
    assert_eq!(users.len(), 450);
    assert!(sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET") > 5);
}
