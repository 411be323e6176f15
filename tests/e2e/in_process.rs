//! End-to-end tests on a real cluster: the CRD is applied, the operator runs in this process
//! against a fresh namespace and the sandbox's simulated upstreams, and the tests assert on what
//! `kubectl get/describe` would show (status, conditions, finalizer, Events).
//!
//! They run only when `E2E_KUBECONFIG` names a kubeconfig of a disposable cluster (kind, k3d, any
//! conformant apiserver) with cluster-admin rights; otherwise every test prints why and passes.
//! Each test creates its own namespace `dto-e2e-<random>` (labelled `dto-e2e=true`) and deletes it
//! at the end, also when an assertion fails. The CRD is left installed.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dialpad_teams_operator::api::conditions::find_condition;
use dialpad_teams_operator::api::{TeamsTenantSync, TeamsTenantSyncStatus};
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::controller::context::{FINALIZER, SYNC_NOW_ANNOTATION};
use dialpad_teams_operator::controller::{ControllerConfig, run_until};
use dialpad_teams_operator::sandbox::fixture::TeamsUserFixture;
use dialpad_teams_operator::sandbox::generator::{
    self, ADMIN_UPN, Case, DOMAIN, GeneratedOrg, GeneratorSpec, PUBLIC_CLIENT_ID, TENANT_ID,
};
use dialpad_teams_operator::sandbox::{Endpoint, Sandbox, SandboxOptions};
use dialpad_teams_operator::sync::connect::ConnectOptions;
use dialpad_teams_operator::upstream::{RetryPolicy, http_client};
use futures::FutureExt;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, CustomResourceExt, ResourceExt};
use serde_json::json;

const SKIP: &str = "skipping e2e: set E2E_KUBECONFIG to a kubeconfig of a disposable cluster (kind, k3d)";
/// The longest any single wait lasts.
const WAIT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(500);
const MANAGER: &str = "e2e";
const CRD_NAME: &str = "teamstenantsyncs.teamssync.io";
/// A Direct Routing number Teams holds that Dialpad does not own: the operator must leave it alone.
const UNMANAGED_NUMBER: &str = "+16505550199";
const UNMANAGED_UPN: &str = "reception@contoso.com";

fn kubeconfig() -> Option<PathBuf> {
    std::env::var_os("E2E_KUBECONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// What a test body gets: a client and its own namespace, watched by a running operator.
#[derive(Clone)]
struct Env {
    client: Client,
    namespace: String,
    /// Set when the operator task ends early; waits fail fast with it.
    operator_exit: Arc<Mutex<Option<String>>>,
}

/// Runs `body` against a fresh namespace with the operator running in-process, then stops the
/// operator and deletes the namespace whether or not `body` panicked. Skips without a cluster.
async fn with_operator<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(path) = kubeconfig() else {
        eprintln!("{SKIP}");
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    dialpad_teams_operator::tls::ensure_crypto_provider();
    let kubeconfig = kube::config::Kubeconfig::read_from(&path)
        .unwrap_or_else(|e| panic!("cannot read E2E_KUBECONFIG={}: {e}", path.display()));
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("E2E_KUBECONFIG={} is not usable: {e}", path.display()));
    let client = Client::try_from(config).expect("a Kubernetes client");
    install_crd(&client).await;

    let namespace = format!("dto-e2e-{:08x}", rand::random::<u32>());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let labels = BTreeMap::from([("dto-e2e".to_owned(), "true".to_owned())]);
    let meta = ObjectMeta {
        name: Some(namespace.clone()),
        labels: Some(labels),
        ..Default::default()
    };
    namespaces
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: meta,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("cannot create namespace {namespace}: {e}"));
    eprintln!("{test}: namespace {namespace}");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator_exit = Arc::new(Mutex::new(None));
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let config = ControllerConfig {
        namespaces: vec![namespace.clone()],
        leader_election: None,
        connect: ConnectOptions {
            http: http_client(&[]).expect("an HTTP client"),
            retry: RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(50),
                cap: Duration::from_secs(1),
                ..Default::default()
            },
            graph_requests_per_second: None,
        },
        on_ready: Some({
            let ready = ready.clone();
            Arc::new(move || ready.store(true, std::sync::atomic::Ordering::SeqCst))
        }),
    };
    let mut operator = tokio::spawn({
        let (client, exit) = (client.clone(), operator_exit.clone());
        async move {
            let result = run_until(client, config, async move {
                let _ = stopped.await;
            })
            .await;
            *exit.lock().expect("exit lock") = Some(format!("{result:?}"));
            result
        }
    });
    let env = Env {
        client: client.clone(),
        namespace: namespace.clone(),
        operator_exit,
    };
    let outcome = AssertUnwindSafe(async {
        let started = Instant::now();
        while !ready.load(std::sync::atomic::Ordering::SeqCst) {
            env.check_operator("the operator to report ready");
            assert!(
                started.elapsed() < WAIT,
                "timed out after {WAIT:?} waiting for the operator to report ready"
            );
            tokio::time::sleep(POLL).await;
        }
        body(env).await;
    })
    .catch_unwind()
    .await;

    // Cleanup, best effort: stop the operator first so that it cannot re-add its finalizer, then
    // strip finalizers left by a failed test and delete the namespace.
    let _ = stop.send(());
    let shutdown = match tokio::time::timeout(Duration::from_secs(30), &mut operator).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(format!("the operator returned an error: {e}")),
        Ok(Err(e)) => Err(format!("the operator task failed: {e}")),
        Err(_) => {
            operator.abort();
            Err("the operator did not stop within 30s of the shutdown signal".to_owned())
        }
    };
    let resources: Api<TeamsTenantSync> = Api::namespaced(client.clone(), &namespace);
    if let Ok(list) = resources.list(&ListParams::default()).await {
        for resource in list.items.iter().filter(|r| !r.finalizers().is_empty()) {
            let strip = Patch::Merge(json!({"metadata": {"finalizers": null}}));
            if let Err(e) = resources
                .patch(&resource.name_any(), &PatchParams::default(), &strip)
                .await
            {
                eprintln!(
                    "cleanup: cannot remove the finalizer of {}: {e}",
                    resource.name_any()
                );
            }
        }
    }
    if let Err(e) = namespaces.delete(&namespace, &DeleteParams::background()).await {
        eprintln!(
            "cleanup: cannot delete namespace {namespace}: {e}; delete it with kubectl delete ns -l dto-e2e=true"
        );
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    if let Err(message) = shutdown {
        panic!("{message}");
    }
}

/// Applies the CRD by server-side apply and waits until the apiserver serves it.
async fn install_crd(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let started = Instant::now();
    // Tests apply it concurrently: a create racing another create gets a conflict, so retry.
    while let Err(e) = crds
        .patch(
            CRD_NAME,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&TeamsTenantSync::crd()),
        )
        .await
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "cannot apply the CRD {CRD_NAME} (is the kubeconfig cluster-admin?): {e}"
        );
        tokio::time::sleep(POLL).await;
    }
    loop {
        let crd = crds.get(CRD_NAME).await;
        let conditions = crd
            .as_ref()
            .ok()
            .and_then(|c| c.status.as_ref()?.conditions.clone())
            .unwrap_or_default();
        if conditions
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
        {
            return;
        }
        let seen = match &crd {
            Ok(_) => format!("{conditions:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < WAIT,
            "timed out after {WAIT:?} waiting for CRD {CRD_NAME} to be Established; last seen: {seen}"
        );
        tokio::time::sleep(POLL).await;
    }
}

impl Env {
    fn resources(&self) -> Api<TeamsTenantSync> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn check_operator(&self, what: &str) {
        if let Some(exit) = self.operator_exit.lock().expect("exit lock").as_ref() {
            panic!("the operator stopped ({exit}) while waiting for {what}");
        }
    }

    /// Creates an Opaque Secret.
    async fn put_secret(&self, name: &str, data: &[(&str, &str)]) {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            string_data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..Default::default()
        };
        self.secrets()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("cannot create Secret {name}: {e}"));
    }

    /// Rotates one key of a Secret, as `kubectl patch --type merge -p '{"stringData":...}'` would.
    async fn rotate(&self, name: &str, key: &str, value: &str) {
        let patch = Patch::Merge(json!({"stringData": {key: value}}));
        self.secrets()
            .patch(name, &PatchParams::default(), &patch)
            .await
            .unwrap_or_else(|e| panic!("cannot rotate {key} of Secret {name}: {e}"));
    }

    /// Applies `resource` by server-side apply, as `kubectl apply --server-side` would.
    async fn apply(&self, resource: &TeamsTenantSync) -> Result<TeamsTenantSync, kube::Error> {
        self.resources()
            .patch(
                &resource.name_any(),
                &PatchParams::apply(MANAGER),
                &Patch::Apply(resource),
            )
            .await
    }

    /// Asks for a sync now, as `kubectl annotate --overwrite tts NAME teamssync.io/sync-now=...`.
    async fn sync_now(&self, name: &str) {
        let value = format!("{:x}", rand::random::<u64>());
        let patch = Patch::Merge(json!({"metadata": {"annotations": {SYNC_NOW_ANNOTATION: value}}}));
        self.resources()
            .patch(name, &PatchParams::default(), &patch)
            .await
            .unwrap_or_else(|e| panic!("cannot annotate {name} with {SYNC_NOW_ANNOTATION}: {e}"));
    }

    /// Polls the resource until `done` holds (`None`: it does not exist), for at most [`WAIT`].
    async fn wait(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(Option<&TeamsTenantSync>) -> bool,
    ) -> Option<TeamsTenantSync> {
        let started = Instant::now();
        loop {
            self.check_operator(what);
            let seen = match self.resources().get_opt(name).await {
                Ok(resource) if done(resource.as_ref()) => return resource,
                Ok(Some(resource)) => describe(&resource),
                Ok(None) => "the resource does not exist".to_owned(),
                Err(e) => format!("error reading the resource: {e}"),
            };
            if started.elapsed() >= WAIT {
                panic!(
                    "timed out after {WAIT:?} waiting for {what} on {}/{name}; last seen:\n{seen}",
                    self.namespace
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The Events of the namespace (`events.k8s.io/v1`).
    async fn events(&self) -> Result<Vec<Event>, kube::Error> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        Ok(events.list(&ListParams::default()).await?.items)
    }

    /// Polls until an Event about `name` has this type and reason, for at most [`WAIT`].
    async fn wait_event(&self, name: &str, type_: &str, reason: &str) -> Event {
        let started = Instant::now();
        loop {
            let (about, error) = match self.events().await {
                Ok(events) => (events.into_iter().filter(|e| regards(e, name)).collect(), None),
                Err(e) => (Vec::new(), Some(e)),
            };
            if let Some(event) = about
                .iter()
                .find(|e| e.type_.as_deref() == Some(type_) && e.reason.as_deref() == Some(reason))
            {
                return event.clone();
            }
            if started.elapsed() >= WAIT {
                let seen: Vec<String> = about
                    .iter()
                    .map(|e| format!("{:?} {:?}: {:?}", e.type_, e.reason, e.note))
                    .collect();
                panic!(
                    "timed out after {WAIT:?} waiting for a {type_} Event {reason} about {name}; Events about it: {seen:#?}; last list error: {error:?}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn regards(event: &Event, name: &str) -> bool {
    event
        .regarding
        .as_ref()
        .is_some_and(|r| r.name.as_deref() == Some(name) && r.kind.as_deref() == Some("TeamsTenantSync"))
}

fn describe(resource: &TeamsTenantSync) -> String {
    format!(
        "generation {:?}, finalizers {:?}, deletionTimestamp {:?}, annotations {:?}\nstatus: {}",
        resource.metadata.generation,
        resource.finalizers(),
        resource.metadata.deletion_timestamp,
        resource.annotations(),
        serde_yaml::to_string(&resource.status).unwrap_or_default()
    )
}

/// `(status, reason)` of a tenant condition, or empty strings when absent.
fn condition(resource: &TeamsTenantSync, type_: &str) -> (String, String) {
    resource
        .status
        .as_ref()
        .and_then(|s| find_condition(&s.conditions, type_))
        .map(|c| (c.status.clone(), c.reason.clone()))
        .unwrap_or_default()
}

fn status(resource: &TeamsTenantSync) -> &TeamsTenantSyncStatus {
    resource.status.as_ref().expect("the resource has a status")
}

fn by_reason(resource: &TeamsTenantSync) -> BTreeMap<String, i32> {
    resource
        .status
        .as_ref()
        .and_then(|s| s.summary.as_ref())
        .map(|s| s.by_reason.clone())
        .unwrap_or_default()
}

/// Whether the last written status describes the current spec.
fn observed(resource: &TeamsTenantSync) -> bool {
    resource.status.as_ref().is_some_and(|s| {
        s.observed_generation.is_some() && s.observed_generation == resource.metadata.generation
    })
}

/// A generated org with activation and operations immediate, plus one Teams user holding a
/// number Dialpad does not own.
fn org(users: usize, seed: u64, mix: Vec<(Case, u32)>, password: &str, api_key: &str) -> GeneratedOrg {
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

/// The numbers of the org's Dialpad users, by planted case.
fn numbers_by_case(org: &GeneratedOrg) -> BTreeMap<String, Case> {
    org.fixture
        .dialpad
        .users
        .iter()
        .filter_map(|u| Some((u.phone_numbers.first()?.clone(), org.truth[u.id.as_ref()?])))
        .collect()
}

/// Numbers Teams holds, with their holder's UPN.
fn held(sandbox: &Sandbox) -> BTreeMap<String, String> {
    sandbox
        .assignments()
        .into_iter()
        .filter(|a| a.assignment_target_id.is_some())
        .map(|a| (a.telephone_number, a.user_principal_name.unwrap_or_default()))
        .collect()
}

/// The resource, as a user would write it, pointed at the sandbox.
fn resource(env: &Env, name: &str, sandbox: &Sandbox, policy: &str) -> TeamsTenantSync {
    let base = sandbox.base_url();
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
  syncInterval: 1m
  endpoints:
    login: {base}
    graph: {base}
    dialpad: {base}
"#,
        namespace = env.namespace
    );
    parse_resource(&yaml, "e2e resource").expect("the e2e resource is valid")
}

fn secret_value() -> String {
    format!("e2e-{:016x}", rand::random::<u64>())
}

/// Fails if any of `values` appears in the resource or in any Event of the namespace.
async fn assert_no_secret_leaks(env: &Env, resource: &TeamsTenantSync, values: &[&str]) {
    let status = serde_json::to_string(&resource.status).expect("status serializes");
    let events =
        serde_json::to_string(&env.events().await.expect("listing Events")).expect("Events serialize");
    for value in values {
        assert!(
            !status.contains(value),
            "a Secret value appears in the status: {status}"
        );
        assert!(
            !events.contains(value),
            "a Secret value appears in an Event: {events}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_with_calling_plan_users_syncs_reports_rotates_secrets_and_unassigns_on_delete() {
    with_operator("calling-plan", |env| async move {
        let (password, wrong_password, api_key) = (secret_value(), secret_value(), secret_value());
        let mix = vec![
            (Case::InSync, 10),
            (Case::NeedsAssignment, 8),
            (Case::CallingPlanAssigned, 2),
        ];
        let org = org(20, 7, mix, &password, &api_key);
        let numbers = numbers_by_case(&org);
        let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        env.put_secret("teams-admin", &[("username", ADMIN_UPN), ("password", &password)])
            .await;
        env.put_secret("dialpad", &[("apiKey", &api_key)]).await;
        let name = "contoso";
        env.apply(&resource(&env, name, &sandbox, "Unassign"))
            .await
            .expect("the resource is accepted");

        // 1. The first sync: finalizer, all 20 desired users, each with its reason.
        let first = env
            .wait(
                name,
                "the finalizer and a status with summary.desired == 20",
                |r| {
                    r.is_some_and(|r| {
                        r.finalizers().iter().any(|f| f == FINALIZER)
                            && r.status
                                .as_ref()
                                .and_then(|s| s.summary.as_ref())
                                .is_some_and(|s| s.desired == 20)
                    })
                },
            )
            .await
            .expect("exists");
        let users = &status(&first).users;
        assert_eq!(
            (users.len(), status(&first).users_omitted),
            (20, 0),
            "every user listed: {}",
            describe(&first)
        );
        for user in users {
            let synced = find_condition(&user.conditions, "Synced").expect("every user has Synced");
            let case = user.dialpad_user_id.as_ref().map(|id| org.truth[id]);
            match synced.reason.as_str() {
                "CallingPlanAssigned" => {
                    assert_eq!(synced.status, "False", "{user:?}");
                    assert_eq!(case, Some(Case::CallingPlanAssigned), "{user:?}");
                }
                "InSync" => assert_eq!(synced.status, "True", "{user:?}"),
                "AssignmentPending" => assert_eq!(case, Some(Case::NeedsAssignment), "{user:?}"),
                other => panic!("unexpected reason {other} for {user:?}"),
            }
        }
        assert_eq!(
            by_reason(&first).get("CallingPlanAssigned"),
            Some(&2),
            "{}",
            describe(&first)
        );

        // 2. A sync asked for with the annotation converges: 18 in sync, 2 Calling Plans.
        let reads = sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET");
        env.sync_now(name).await;
        let expected = BTreeMap::from([("InSync".to_owned(), 18), ("CallingPlanAssigned".to_owned(), 2)]);
        let converged = env
            .wait(
                name,
                "a sync after the sync-now annotation with 18 users InSync and 2 CallingPlanAssigned",
                |r| {
                    r.is_some_and(|r| by_reason(r) == expected && observed(r))
                        && sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET") > reads
                },
            )
            .await
            .expect("exists");
        let summary = status(&converged).summary.clone().expect("summary");
        assert_eq!(
            (summary.desired, summary.in_sync, summary.pending, summary.failed),
            (20, 18, 0, 2)
        );
        let users_synced =
            find_condition(&status(&converged).conditions, "UsersSynced").expect("UsersSynced");
        assert_eq!(
            (users_synced.status.as_str(), users_synced.reason.as_str()),
            ("False", "UsersNotInSync")
        );
        assert!(
            users_synced
                .message
                .starts_with("18 of 20 users in sync; 2 failed (CallingPlanAssigned: 2)"),
            "{}",
            users_synced.message
        );
        for type_ in ["AdminConnected", "AdminAuthorized", "SourceConnected"] {
            assert_eq!(
                condition(&converged, type_).0,
                "True",
                "{type_}: {}",
                describe(&converged)
            );
        }
        assert_eq!(
            condition(&converged, "Ready"),
            ("False".into(), "UsersNotInSync".into())
        );
        let held_before = held(&sandbox);
        for (number, case) in &numbers {
            let holds = held_before.contains_key(number);
            assert_eq!(
                holds,
                *case != Case::CallingPlanAssigned,
                "{number} ({case:?}) held: {holds}"
            );
        }
        env.wait_event(name, "Normal", "NumbersAssigned").await;

        // 3. A wrong password (the Secret watch triggers the sync), then the right one again.
        env.rotate("teams-admin", "password", &wrong_password).await;
        env.wait(
            name,
            "AdminConnected=False with reason CredentialsInvalid after the rotation",
            |r| {
                r.is_some_and(|r| {
                    condition(r, "AdminConnected") == ("False".into(), "CredentialsInvalid".into())
                })
            },
        )
        .await;
        let warning = env.wait_event(name, "Warning", "CredentialsInvalid").await;
        assert!(
            warning.note.as_deref().is_some_and(|n| !n.is_empty()),
            "{warning:?}"
        );
        env.rotate("teams-admin", "password", &password).await;
        let recovered = env
            .wait(
                name,
                "AdminConnected=True after rotating the password back",
                |r| r.is_some_and(|r| condition(r, "AdminConnected").0 == "True"),
            )
            .await
            .expect("exists");
        assert_no_secret_leaks(&env, &recovered, &[&password, &wrong_password, &api_key]).await;

        // 4. Delete: the finalizer unassigns the 18 numbers it manages, nothing else.
        env.resources()
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete accepted");
        env.wait(name, "the resource to be gone (finalizer removed)", |r| {
            r.is_none()
        })
        .await;
        let held_after = held(&sandbox);
        let still: Vec<_> = numbers.keys().filter(|n| held_after.contains_key(*n)).collect();
        assert!(
            still.is_empty(),
            "Dialpad numbers still assigned after delete: {still:?}"
        );
        assert_eq!(
            held_after.get(UNMANAGED_NUMBER).map(String::as_str),
            Some(UNMANAGED_UPN),
            "{held_after:?}"
        );
        let unassigned = env.wait_event(name, "Normal", "NumbersUnassigned").await;
        assert!(
            unassigned
                .note
                .as_deref()
                .is_some_and(|n| n.contains("Unassigned 18 number")),
            "{unassigned:?}"
        );
        let events =
            serde_json::to_string(&env.events().await.expect("listing Events")).expect("Events serialize");
        for value in [&password, &wrong_password, &api_key] {
            assert!(
                !events.contains(value.as_str()),
                "a Secret value appears in an Event: {events}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_failures_becomes_ready_and_retain_keeps_numbers_on_delete() {
    with_operator("ready", |env| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(
            10,
            8,
            vec![(Case::InSync, 6), (Case::NeedsAssignment, 4)],
            &password,
            &api_key,
        );
        let numbers = numbers_by_case(&org);
        let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        env.put_secret("teams-admin", &[("username", ADMIN_UPN), ("password", &password)])
            .await;
        env.put_secret("dialpad", &[("apiKey", &api_key)]).await;
        let name = "fabrikam";
        let resource = resource(&env, name, &sandbox, "Retain");

        // The apiserver, not the operator, rejects a malformed spec (CEL rule on syncInterval).
        let mut invalid = resource.clone();
        invalid.spec.sync_interval = "30s".into();
        match env.apply(&invalid).await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 422, "{status:?}");
                assert!(
                    status.message.contains("must be at least 1m"),
                    "{}",
                    status.message
                );
            }
            other => panic!("a 30s syncInterval was not rejected at admission: {other:?}"),
        }

        // `kubectl wait --for=condition=Ready`: Ready=True for the current generation.
        env.apply(&resource).await.expect("the resource is accepted");
        let ready = env
            .wait(name, "condition Ready=True", |r| {
                r.is_some_and(|r| condition(r, "Ready").0 == "True" && observed(r))
            })
            .await
            .expect("exists");
        let summary = status(&ready).summary.clone().expect("summary");
        assert_eq!((summary.desired, summary.failed), (10, 0), "{}", describe(&ready));
        assert!(
            ready.finalizers().iter().any(|f| f == FINALIZER),
            "{}",
            describe(&ready)
        );
        // Assignments made by the first sync may still show AssignmentPending; the next sync sees
        // them active.
        env.sync_now(name).await;
        env.wait(name, "UsersSynced=True (AllUsersInSync) after a sync-now", |r| {
            r.is_some_and(|r| condition(r, "UsersSynced") == ("True".into(), "AllUsersInSync".into()))
        })
        .await;
        let held_before = held(&sandbox);
        assert!(
            numbers.keys().all(|n| held_before.contains_key(n)),
            "every number assigned: {held_before:?}"
        );
        assert_no_secret_leaks(&env, &ready, &[&password, &api_key]).await;

        // Delete with removal policy Retain: the finalizer goes, Teams keeps every number.
        let writes = sandbox.counters().write_requests();
        env.resources()
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete accepted");
        env.wait(name, "the resource to be gone (finalizer removed)", |r| {
            r.is_none()
        })
        .await;
        assert_eq!(held(&sandbox), held_before, "Retain leaves Teams as it was");
        assert_eq!(
            sandbox.counters().write_requests(),
            writes,
            "no write call on delete with Retain"
        );
    })
    .await;
}
