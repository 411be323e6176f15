//! Driving the sync pipeline against a sandbox: Secrets from memory, the demo resource pointed at
//! the sandbox, a connection, and what the generator's planted cases converge to.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dialpad_teams_operator::api::{Reason, TeamsTenantSync};
use dialpad_teams_operator::commands::examples::DEMO_RESOURCE;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::connect::{ConnectOptions, Connection, SecretStore, connect};
use dialpad_teams_operator::microsoft::federated::{FederatedTokenSource, TokenFile};
use dialpad_teams_operator::upstream::allowed::AllowedEndpoints;
use dialpad_teams_operator::upstream::{NotRecorded, RetryPolicy, http_client};
use dialpad_teams_sandbox::fixture::OrgFixture;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};
use secrecy::SecretString;

/// The reason the operator gives a user the generator planted as `case`, once a sync in Enforce
/// mode has converged and assignments activated.
pub fn converged_reason(case: Case) -> Reason {
    match case {
        Case::InSync | Case::NeedsAssignment => Reason::InSync,
        // The stray number is the source's, but this resource never assigned it.
        Case::Drift => Reason::NumberConflict,
        Case::EmailMissing => Reason::EmailMissing,
        Case::PhoneNumberMissing => Reason::PhoneNumberMissing,
        Case::TeamsUserNotFound => Reason::TeamsUserNotFound,
        Case::PhoneSystemLicenseMissing => Reason::PhoneSystemLicenseMissing,
        Case::CallingPlanAssigned => Reason::CallingPlanAssigned,
        Case::InvalidPhoneNumber => Reason::InvalidPhoneNumber,
        Case::DuplicateEmail => Reason::DuplicateEmail,
        Case::NumberConflict => Reason::NumberConflict,
        Case::TeamsUserDisabled => Reason::TeamsUserDisabled,
        Case::RemovalPending => Reason::RemovalPending,
    }
}

/// Secrets held in memory (`(secret name, key) -> value`), and a token file that stands for
/// every ServiceAccount's token.
pub struct Values {
    /// The Secrets' values.
    pub values: HashMap<(&'static str, &'static str), String>,
    /// The workload identity token, as `plan --federated-token-file` gives it.
    pub token_file: Option<PathBuf>,
}

impl Values {
    /// Secrets without a token file.
    pub fn new(values: HashMap<(&'static str, &'static str), String>) -> Self {
        Self {
            values,
            token_file: None,
        }
    }
}

impl SecretStore for Values {
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        self.values
            .iter()
            .find(|((n, k), _)| *n == name && *k == key)
            .map(|(_, v)| SecretString::from(v.clone()))
            .ok_or_else(|| format!("Secret {name} has no key {key}"))
    }

    fn federated_token(
        &self,
        service_account: Option<&str>,
    ) -> Result<Arc<dyn FederatedTokenSource>, String> {
        let path = self.token_file.clone().ok_or("no token file in this test")?;
        let owner =
            service_account.map_or("the operator".to_owned(), |name| format!("ServiceAccount {name}"));
        Ok(Arc::new(TokenFile { path, owner }))
    }
}

/// The demo resource with every endpoint at `sandbox`.
pub fn resource(sandbox: &Sandbox) -> TeamsTenantSync {
    let mut resource = parse_resource(DEMO_RESOURCE, "demo").unwrap();
    let base = sandbox.base_url().to_owned();
    let endpoints = resource.spec.endpoints.as_mut().unwrap();
    endpoints.login = base.clone();
    endpoints.graph = base.clone();
    endpoints.dialpad = base;
    resource
}

/// The demo resource's Secrets: the admin's username and password and the Dialpad API key.
pub fn secrets(username: &str, password: &str, key: &str) -> Values {
    Values::new(HashMap::from([
        (("teams-admin", "username"), username.to_owned()),
        (("teams-admin", "password"), password.to_owned()),
        (("dialpad", "apiKey"), key.to_owned()),
    ]))
}

/// Retries fast enough for tests (10 ms to 50 ms apart), otherwise the defaults.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        ..Default::default()
    }
}

/// Options with the default HTTP client, [`quick_retries`], no rate of our own, and credentials
/// allowed to go to `sandbox` (as a platform admin allows a local sandbox with
/// `--allowed-endpoint`) at `sandbox_base`.
pub fn quick_options(sandbox_base: &str) -> ConnectOptions {
    ConnectOptions {
        http: http_client(&[]).unwrap(),
        retry: quick_retries(),
        graph_requests_per_second: None,
        dialpad_requests_per_second: None,
        allowed_endpoints: AllowedEndpoints::parse(&[sandbox_base]).unwrap(),
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
    }
}

/// Connects `resource` with `store` and `options`; panics on a setup failure.
pub fn connection_with(resource: &TeamsTenantSync, store: &Values, options: &ConnectOptions) -> Connection {
    connect(&resource.spec, store, options)
        .map_err(|f| f.message)
        .unwrap()
}

/// Connects `resource` with `store` and [`quick_options`] allowing the sandbox its Graph endpoint
/// names (see [`resource`]).
pub fn connection(resource: &TeamsTenantSync, store: &Values) -> Connection {
    let sandbox_base = &resource
        .spec
        .endpoints
        .as_ref()
        .expect("endpoints at a sandbox")
        .graph;
    connection_with(resource, store, &quick_options(sandbox_base))
}

/// A sandbox serving `users` Dialpad users who each need a number (seeded by `seed`), with
/// operations and activation immediate and Graph limited to `graph_rate` requests a second.
pub async fn needing_numbers(users: usize, seed: u64, graph_rate: u32, password: &str, key: &str) -> Sandbox {
    let spec = GeneratorSpec {
        users,
        seed,
        mix: vec![(Case::NeedsAssignment, 1)],
    };
    let org = generator::generate(&spec, password, "unused-client-secret", key);
    start_immediate(org.fixture, graph_rate).await
}

/// A sandbox serving `fixture` with operations and activation immediate, Dialpad unlimited and
/// Graph limited to `graph_rate` requests a second.
pub async fn start_immediate(mut fixture: OrgFixture, graph_rate: u32) -> Sandbox {
    let behaviour = &mut fixture.behaviour;
    behaviour.activation_delay_ms = 0;
    behaviour.operation_delay_ms = 0;
    behaviour.graph_requests_per_second = graph_rate;
    behaviour.dialpad_requests_per_second = 100_000;
    Sandbox::start(&fixture, SandboxOptions::default())
        .await
        .expect("the sandbox starts")
}

/// Posts `body` to the sandbox's admin route `path` (`/_sandbox/...`), as an admin changing the
/// world would, and returns its answer (`null` when it is not JSON); an error status fails the
/// test.
pub async fn sandbox_admin(sandbox: &Sandbox, path: &str, body: serde_json::Value) -> serde_json::Value {
    let answer = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the sandbox answers");
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    assert!(status.is_success(), "{path} {body}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}
