//! How the benches connect to their sandbox as the operator would: the org's Secrets (the admin's
//! username and password and the Dialpad API key, as the generator made them) and the connection
//! options.

use std::sync::Arc;

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::connect::{ConnectOptions, Connection, SecretStore, connect};
use dialpad_teams_operator::microsoft::federated::FederatedTokenSource;
use dialpad_teams_operator::upstream::allowed::AllowedEndpoints;
use dialpad_teams_operator::upstream::{NotRecorded, RetryPolicy, http_client};
use dialpad_teams_sandbox::{Sandbox, generator};
use secrecy::SecretString;

/// The admin's password.
pub const PASSWORD: &str = "bench-admin-password";
/// The Dialpad API key.
pub const KEY: &str = "bench-api-key";

/// The demo resource's Secrets, holding the values above.
pub struct Secrets;

impl SecretStore for Secrets {
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        let value = match (name, key) {
            ("teams-admin", "username") => generator::ADMIN_UPN,
            ("teams-admin", "password") => PASSWORD,
            ("dialpad", "apiKey") => KEY,
            _ => return Err(format!("no {name}/{key}")),
        };
        Ok(SecretString::from(value.to_owned()))
    }

    fn federated_token(&self, _: Option<&str>) -> Result<Arc<dyn FederatedTokenSource>, String> {
        Err("the bench signs in with the admin account".into())
    }
}

/// Connects to `sandbox` as the operator would for `resource`, pacing Graph and Dialpad at the
/// given rates.
pub fn connect_to(
    sandbox: &Sandbox,
    resource: &TeamsTenantSync,
    graph_rate: f64,
    dialpad_rate: f64,
) -> Connection {
    let connect_options = ConnectOptions {
        http: http_client(&[]).expect("an HTTP client"),
        retry: RetryPolicy::default(),
        graph_requests_per_second: Some(graph_rate.round() as u32),
        dialpad_requests_per_second: Some(dialpad_rate.round() as u32),
        allowed_endpoints: AllowedEndpoints::parse(&[sandbox.base_url()]).expect("the sandbox URL"),
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
    };
    connect(&resource.spec, &Secrets, &connect_options)
        .map_err(|f| f.message)
        .expect("the bench connects")
}
