//! The orgs, resources and secret values of the scenarios.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::controller::users_report::REPORT_OF_LABEL;
use dialpad_teams_operator::sync::users_report::shards::decode;
use dialpad_teams_sandbox::fixture::{OrgFixture, TeamsUserFixture};
use dialpad_teams_sandbox::generator::{
    self, Case, DOMAIN, GeneratedOrg, GeneratorSpec, PUBLIC_CLIENT_ID, TENANT_ID,
};
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::ListParams;

use super::Env;

/// A Direct Routing number Teams holds that Dialpad does not own: the operator must leave it alone.
pub const UNMANAGED_NUMBER: &str = "+16505550199";
/// The Teams user who holds it.
pub const UNMANAGED_UPN: &str = "reception@contoso.com";

/// A generated org with activation and operations immediate, plus one Teams user holding a
/// number Dialpad does not own.
pub fn org(users: usize, seed: u64, mix: Vec<(Case, u32)>, password: &str, api_key: &str) -> GeneratedOrg {
    let mut org = generator::generate(
        &GeneratorSpec { users, seed, mix },
        password,
        "unused-client-secret",
        api_key,
    );
    org.fixture.behaviour.activation_delay_ms = 0;
    org.fixture.behaviour.operation_delay_ms = 0;
    org.fixture.tenant.users.push(TeamsUserFixture {
        user_principal_name: UNMANAGED_UPN.into(),
        mail: Some(UNMANAGED_UPN.into()),
        account_enabled: true,
        usage_location: Some("US".into()),
        licenses: vec!["SPE_E5".into()],
        phone_number: Some(UNMANAGED_NUMBER.into()),
        ..Default::default()
    });
    org
}

/// How many sandboxes one scenario may start.
const SANDBOX_SLOTS: usize = 8;

/// Loopback addresses reserved for a scenario's sandboxes, so that the operator can be started
/// allowing them (as a platform admin allows a local sandbox with `--allowed-endpoint`) before
/// they run.
pub struct SandboxSlots {
    addresses: Vec<SocketAddr>,
    next: AtomicUsize,
}

impl SandboxSlots {
    /// Reserves [`SANDBOX_SLOTS`] free loopback ports.
    pub fn reserve() -> Self {
        let listeners: Vec<TcpListener> = (0..SANDBOX_SLOTS)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
            .collect();
        Self {
            addresses: listeners
                .iter()
                .map(|l| l.local_addr().expect("an address"))
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The sandboxes' base URLs.
    pub fn urls(&self) -> Vec<String> {
        self.addresses.iter().map(|a| format!("http://{a}")).collect()
    }

    /// Serves `fixture` on the next reserved address.
    pub async fn start(&self, fixture: &OrgFixture) -> Sandbox {
        let slot = self.next.fetch_add(1, Ordering::Relaxed);
        let listen = *self
            .addresses
            .get(slot)
            .unwrap_or_else(|| panic!("a scenario starts at most {SANDBOX_SLOTS} sandboxes"));
        let options = SandboxOptions {
            listen,
            ..Default::default()
        };
        Sandbox::start(fixture, options)
            .await
            .expect("the sandbox starts")
    }
}

/// The numbers of the org's Dialpad users, by planted case.
pub fn numbers_by_case(org: &GeneratedOrg) -> BTreeMap<String, Case> {
    org.fixture
        .dialpad
        .users
        .iter()
        .filter_map(|u| Some((u.phone_numbers.first()?.clone(), org.truth[u.id.as_ref()?])))
        .collect()
}

/// Numbers Teams holds, with their holder's UPN.
pub fn held(sandbox: &Sandbox) -> BTreeMap<String, String> {
    sandbox
        .assignments()
        .into_iter()
        .filter(|a| a.assignment_target_id.is_some())
        .map(|a| (a.telephone_number, a.user_principal_name.unwrap_or_default()))
        .collect()
}

/// The resource, as a user would write it, pointed at the sandbox at `base`. Syncs come from
/// changes and `sync-now` (the interval is longer than any scenario).
pub fn resource(env: &Env, name: &str, base: &str, policy: &str) -> TeamsTenantSync {
    let yaml = format!(
        r#"
apiVersion: teamssync.io/v1alpha1
kind: TeamsTenantSync
metadata:
  name: {name}
  namespace: {namespace}
spec:
  tenant:
    tenantId: {TENANT_ID}
    domain: {DOMAIN}
  credentials:
    adminAccount:
      secretRef:
        name: teams-admin
      clientId: {PUBLIC_CLIENT_ID}
  source:
    dialpad:
      apiKeySecretRef:
        name: dialpad
  removal:
    policy: {policy}
    gracePeriod: 72h
  safety:
    maxUnassignmentsPerSync: 100
  mode: Enforce
  syncInterval: 10m
  endpoints:
    login: {base}
    graph: {base}
    dialpad: {base}
"#,
        namespace = env.namespace
    );
    parse_resource(&yaml, "e2e resource").expect("the e2e resource is valid")
}

/// A fresh random value for a password or API key.
pub fn secret_value() -> String {
    format!("e2e-{:016x}", rand::random::<u64>())
}

/// Every secret a scenario's operator handled: `values` (passwords, API keys) and every access
/// and refresh token the sandbox issued.
pub fn secrets_of(sandbox: &Sandbox, values: &[&str]) -> Vec<String> {
    let mut secrets: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    sandbox.with_world(|world| {
        secrets.extend(world.access_tokens.keys().cloned());
        secrets.extend(world.refresh_tokens.keys().cloned());
    });
    secrets
}

/// Fails if any of `secrets` appears in any line of the operators' logs (panic messages
/// included: they go to the same stderr), in what the operator logged in this process, in their
/// metrics, in any resource's status of the
/// namespace, in any users report there (decompressed), or in any of its Events.
pub async fn assert_no_secret_anywhere(
    env: &Env,
    operators: &[&super::process::OperatorProcess],
    secrets: &[String],
) {
    let mut places: Vec<(String, String)> = vec![("the in-process log".into(), super::logs::text())];
    for operator in operators {
        places.push((format!("the log of {}", operator.name), operator.log()));
        // Empty when the process is gone.
        places.push((
            format!("the metrics of {}", operator.name),
            operator.metrics().await,
        ));
    }
    let resources = env
        .resources()
        .list(&Default::default())
        .await
        .expect("listing resources");
    for resource in resources {
        let status = serde_json::to_string(&resource.status).expect("status serializes");
        places.push((
            format!("the status of {}", resource.metadata.name.unwrap_or_default()),
            status,
        ));
    }
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.namespace);
    let reports = maps
        .list(&ListParams::default().labels(REPORT_OF_LABEL))
        .await
        .expect("listing the users reports' ConfigMaps");
    for map in reports.items {
        for (_, payload) in map.binary_data.iter().flatten() {
            let (document, _) = decode(&payload.0).expect("a users report shard decodes");
            places.push((
                format!(
                    "the users report {}",
                    map.metadata.name.clone().unwrap_or_default()
                ),
                serde_json::to_string(&document).expect("the shard serializes"),
            ));
        }
    }
    let events = env.events().await.expect("listing Events");
    places.push((
        "the Events".into(),
        serde_json::to_string(&events).expect("Events serialize"),
    ));
    for secret in secrets {
        for (place, text) in &places {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({} characters; not shown) appears in {place}",
                secret.len()
            );
        }
    }
    // Tokens the test never saw (those the apiserver minted for the operator, say) are JWTs.
    for (place, text) in &places {
        assert!(!holds_a_jwt(text), "a JWT (not shown) appears in {place}");
    }
}

/// Whether `text` holds something shaped like a JWT: a base64url JSON header, a dot, a base64url
/// JSON payload (both start `eyJ`, the encoding of `{"`).
fn holds_a_jwt(text: &str) -> bool {
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices("eyJ").any(|(at, _)| {
        let rest = &text[at..];
        let header = rest.find(|c: char| !base64url(c)).unwrap_or(rest.len());
        header > 10 && rest[header..].starts_with(".eyJ")
    })
}
