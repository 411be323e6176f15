//! No secret (password, client secret, API key, access or refresh token) appears in any log line
//! or error message the clients produce, including on failures and retries.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dialpad_teams_operator::dialpad::DialpadClient;
use dialpad_teams_operator::microsoft::graph::GraphClient;
use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
use dialpad_teams_sandbox::fixture::FaultFixture;
use dialpad_teams_sandbox::generator::{self, GeneratorSpec};
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};
use secrecy::{ExposeSecret, SecretString};

const PASSWORD: &str = "Pa55word-never-logged";
const CLIENT_SECRET: &str = "client-secret-never-logged";
const API_KEY: &str = "dialpad-key-never-logged";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fault(yaml: &str) -> FaultFixture {
    serde_yaml::from_str(yaml).unwrap()
}

#[tokio::test]
async fn no_secret_reaches_logs_or_error_messages() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut org = generator::generate(
        &GeneratorSpec::with_every_case(300, 9),
        PASSWORD,
        CLIENT_SECRET,
        API_KEY,
    );
    org.fixture.behaviour.token_lifetime_seconds = 1;
    org.fixture.behaviour.faults = vec![
        fault("{endpoint: graph.users, failFirst: 1, errorStatus: 503}"),
        fault("{endpoint: dialpad.users, failFirst: 1, errorStatus: 429, retryAfterSeconds: 0.1}"),
    ];
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .unwrap();
    let http = http_client(&[]).unwrap();
    let retries = RetryPolicy {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        ..Default::default()
    };
    let upstream = |service| UpstreamClient::new(service, http.clone(), None, retries.clone());
    let base = sandbox.base_url();
    let mut messages: Vec<String> = Vec::new();
    let mut tokens_seen: Vec<String> = Vec::new();

    for credentials in [
        Credentials::Password {
            client_id: generator::PUBLIC_CLIENT_ID.into(),
            username: SecretString::from(generator::ADMIN_UPN.to_owned()),
            password: SecretString::from(PASSWORD.to_owned()),
            username_in: "Secret 'teams-admin' (key 'username')".into(),
            account: generator::ADMIN_UPN.into(),
        },
        Credentials::ClientSecret {
            client_id: generator::APPLICATION_CLIENT_ID.into(),
            secret: SecretString::from(CLIENT_SECRET.to_owned()),
        },
    ] {
        messages.push(format!("{credentials:?}"));
        let tokens = Arc::new(TokenClient::new(
            upstream(Service::Entra),
            base,
            generator::TENANT_ID,
            base,
            credentials,
        ));
        let graph = GraphClient::new(upstream(Service::Graph), base, tokens.clone());
        let token = tokens.access_token().await.unwrap();
        tokens_seen.push(token.secret.expose_secret().to_owned());
        graph.list_users().await.unwrap();
        tokio::time::sleep(Duration::from_millis(900)).await;
        graph.list_numbers().await.unwrap();
        tokens_seen.push(
            tokens
                .access_token()
                .await
                .unwrap()
                .secret
                .expose_secret()
                .to_owned(),
        );
        if let Err(error) = graph
            .assign_number("+19995550100", "no-such-user", "directRouting", None)
            .await
        {
            messages.push(error.to_string());
        }
    }
    // Failures: a wrong password, a wrong client secret, a wrong API key.
    for credentials in [
        Credentials::Password {
            client_id: generator::PUBLIC_CLIENT_ID.into(),
            username: SecretString::from(generator::ADMIN_UPN.to_owned()),
            password: SecretString::from(format!("{PASSWORD}-wrong")),
            username_in: "Secret 'teams-admin' (key 'username')".into(),
            account: generator::ADMIN_UPN.into(),
        },
        Credentials::ClientSecret {
            client_id: generator::APPLICATION_CLIENT_ID.into(),
            secret: SecretString::from(format!("{CLIENT_SECRET}-wrong")),
        },
    ] {
        let tokens = TokenClient::new(
            upstream(Service::Entra),
            base,
            generator::TENANT_ID,
            base,
            credentials,
        );
        let failure = tokens.access_token().await.err().expect("a wrong secret fails");
        messages.push(failure.message.clone());
        messages.push(format!("{failure:?}"));
    }
    let dialpad = DialpadClient::new(
        upstream(Service::Dialpad),
        base,
        SecretString::from(API_KEY.to_owned()),
    );
    dialpad.list_users("active", &[]).await.unwrap();
    let wrong = DialpadClient::new(
        upstream(Service::Dialpad),
        base,
        SecretString::from(format!("{API_KEY}-wrong")),
    );
    let error = wrong.list_users("active", &[]).await.unwrap_err();
    messages.push(error.to_string());
    messages.push(format!("{error:?}"));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying upstream call"),
        "the retries were logged, so logs were captured:\n{logs}"
    );
    let everything = format!("{logs}\n{}", messages.join("\n"));
    for secret in [PASSWORD, CLIENT_SECRET, API_KEY]
        .iter()
        .copied()
        .chain(tokens_seen.iter().map(String::as_str))
    {
        assert!(
            !everything.contains(secret),
            "a secret leaked: {}...",
            &secret[..secret.len().min(12)]
        );
    }
    assert!(!everything.contains("0.sandbox."), "a refresh token leaked");
    assert!(
        !everything.contains("Bearer ey"),
        "an authorization header leaked"
    );
}
