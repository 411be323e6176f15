//! Signing in without a stored password, on the real apiserver: the binary signs in with a
//! certificate from a `kubernetes.io/tls` Secret, then, after a spec change, with workload identity
//! federation as a ServiceAccount of the resource's own namespace: the operator has the apiserver
//! mint a token for it (TokenRequest, audience `api://AzureADTokenExchange`), which the sandbox
//! verifies against the apiserver's own discovery document and JWKS
//! (`/.well-known/openid-configuration`, `/openid/v1/jwks`). Another namespace naming the same app
//! is refused with `FederatedCredentialMismatch` naming its own account, and cannot borrow the
//! operator's token; the namespace a platform admin allowed can. No private key or token is
//! written anywhere.

use base64::Engine;
use dialpad_teams_sandbox::Sandbox;
use dialpad_teams_sandbox::fixture::OidcIssuerFixture;
use dialpad_teams_sandbox::world::Principal;
use k8s_openapi::ByteString;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Api;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::common::sign_in::{
    AUDIENCE, CERTIFICATE_APP, FEDERATED_APP, certificate_file, example_org_with_apps,
};
use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::{OperatorProcess, log_dir};
use crate::harness::rbac::{SERVICE_ACCOUNT, operator_identity};
use crate::harness::*;

/// Dialpad users of the example org, and how many of them end in sync (as in
/// `tests/sync_pipeline.rs`).
const EXAMPLE_DESIRED: i32 = 18;
const EXAMPLE_IN_SYNC: i32 = 3;
/// The team's own ServiceAccount, which the app trusts in the first namespace only.
const TEAM_ACCOUNT: &str = "teams-sync";

/// The apiserver's URL and CA (PEM) from the admin kubeconfig.
fn apiserver(env: &Env) -> (String, String) {
    let text = std::fs::read_to_string(&env.kubeconfig).expect("the admin kubeconfig is readable");
    let config: Value = serde_yaml::from_str(&text).expect("the admin kubeconfig is YAML");
    let cluster = &config["clusters"][0]["cluster"];
    let server = cluster["server"].as_str().expect("a server URL").to_owned();
    let ca = cluster["certificate-authority-data"]
        .as_str()
        .expect("the kubeconfig carries its CA");
    let ca = base64::engine::general_purpose::STANDARD
        .decode(ca)
        .expect("the CA is base64");
    (server, String::from_utf8(ca).expect("the CA is PEM"))
}

/// The service account issuer the apiserver names in its discovery document.
async fn issuer_of(env: &Env) -> String {
    let request = http::Request::get("/.well-known/openid-configuration")
        .body(Vec::new())
        .expect("a request");
    let discovery: Value = env
        .client
        .request(request)
        .await
        .expect("the apiserver serves its discovery document");
    discovery["issuer"].as_str().expect("an issuer").to_owned()
}

/// Lets anyone read the issuer's discovery document and keys, as a cluster whose issuer Entra
/// must reach does (the Kubernetes documentation's advice for public issuers: bind
/// `system:service-account-issuer-discovery` to `system:unauthenticated`).
async fn publish_issuer_keys(env: &Env) {
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "dto-e2e-public-issuer-discovery"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:service-account-issuer-discovery"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}],
    });
    Api::<ClusterRoleBinding>::all(env.client.clone())
        .patch(
            "dto-e2e-public-issuer-discovery",
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(binding),
        )
        .await
        .expect("the discovery binding is applied");
}

/// Creates the ServiceAccount `account` in `env`'s namespace.
async fn create_service_account(env: &Env, account: &str) {
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &env.namespace);
    let object = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}});
    accounts
        .patch(
            account,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(object),
        )
        .await
        .expect("the ServiceAccount is created");
}

/// A token the apiserver mints for `account` with the Entra audience, written to a file as the
/// kubelet would project it; the file's path and the token.
async fn projected_token(env: &Env, account: &str) -> (String, String) {
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &env.namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![AUDIENCE.into()],
            expiration_seconds: Some(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let minted: TokenRequest = accounts
        .create_subresource("token", account, &PostParams::default(), &request)
        .await
        .expect("the apiserver mints a token for the Entra audience");
    let token = minted.status.expect("a token").token;
    let path = log_dir().join(format!("{}-{account}.token", env.namespace));
    std::fs::write(&path, &token).expect("the token file is written");
    (path.display().to_string(), token)
}

/// The scenario's TLS Secret, as `kubectl create secret tls teams-app-certificate` makes it.
async fn put_tls_secret(env: &Env) {
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("teams-app-certificate".into()),
            ..Default::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(
            [("tls.crt", "app.crt"), ("tls.key", "app.key")]
                .into_iter()
                .map(|(key, file)| (key.to_owned(), ByteString(certificate_file(file).into_bytes())))
                .collect(),
        ),
        ..Default::default()
    };
    env.secrets()
        .create(&PostParams::default(), &secret)
        .await
        .expect("the TLS Secret is created");
}

/// How many tokens the sandbox issued to the federated app.
fn federated_grants(sandbox: &Sandbox) -> usize {
    sandbox.with_world(|world| {
        world
            .access_tokens
            .values()
            .filter(|grant| {
                matches!(&grant.principal, Principal::Application { client_id, .. } if client_id == FEDERATED_APP)
            })
            .count()
    })
}

/// Applies `name` in `env`'s namespace signing in as the federated app with `workload_identity`
/// (in DryRun, so that it needs no claim on the tenant another namespace's resource owns), and
/// returns `AdminConnected`'s reason and message once it is False.
async fn sign_in_elsewhere(env: &Env, name: &str, base: &str, workload_identity: Value) -> (String, String) {
    let mut resource = resource(env, name, base, "Retain");
    resource.spec.mode = dialpad_teams_operator::api::SyncMode::DryRun;
    resource.spec.credentials = serde_json::from_value(json!({
        "application": {"clientId": FEDERATED_APP, "workloadIdentity": workload_identity}
    }))
    .expect("workload identity credentials");
    env.apply(&resource).await.expect("the resource is accepted");
    let refused = env
        .wait(name, "AdminConnected=False", |r| {
            r.is_some_and(|r| condition(r, "AdminConnected").0 == "False")
        })
        .await
        .expect("the resource exists");
    reason_and_message(&refused, "AdminConnected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_then_a_namespaces_own_service_account_sign_in_and_no_namespace_borrows_another_identity()
 {
    with_namespaces("sign-in-without-secrets", 2, |env, names| async move {
        // The example org of `demo` (examples/sandbox-org.yaml): 18 Dialpad users with every
        // reason. The issuer's name (kubernetes.default.svc...) resolves only inside the cluster:
        // the sandbox reaches it at the apiserver's address, trusting the cluster's CA.
        let team_b = env.in_namespace(&names[1]);
        let (server, ca) = apiserver(&env);
        let route = OidcIssuerFixture {
            issuer: issuer_of(&env).await,
            address: Some(server),
            ca_pem: Some(ca),
        };
        // The app trusts team A's own ServiceAccount, and the operator's (for the namespace a
        // platform admin lets use the operator's token).
        let team_subject = format!("system:serviceaccount:{}:{TEAM_ACCOUNT}", env.namespace);
        let operator_subject = format!("system:serviceaccount:{}:{SERVICE_ACCOUNT}", env.namespace);
        let org = example_org_with_apps(&[&team_subject, &operator_subject], route);
        let api_key = org.dialpad.api_key.clone();
        let sandbox = env.start_sandbox_with(&org).await;
        publish_issuer_keys(&env).await;
        for namespace in [&env, &team_b] {
            namespace.put_secret("dialpad", &[("apiKey", &api_key)]).await;
            create_service_account(namespace, TEAM_ACCOUNT).await;
        }
        put_tls_secret(&env).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let (token_file, operator_token) = projected_token(&env, SERVICE_ACCOUNT).await;
        let own_token = [
            "--federated-token-file",
            token_file.as_str(),
            "--operator-token-namespace",
            env.namespace.as_str(),
        ];
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &own_token);
        operator.wait_ready().await;

        // A certificate from a kubernetes.io/tls Secret.
        let name = "contoso";
        let mut contoso = resource(&env, name, sandbox.base_url(), "Retain");
        contoso.spec.credentials = serde_json::from_value(json!({
            "application": {"clientId": CERTIFICATE_APP, "certificate": {"secretRef": {"name": "teams-app-certificate"}, "algorithm": "PS256"}}
        }))
        .expect("certificate credentials");
        env.apply(&contoso).await.expect("the resource is accepted");
        let first = env.wait_first_status(name, EXAMPLE_DESIRED).await;
        assert_eq!(reason_and_message(&first, "AdminConnected").0, "SignedIn", "{}", describe(&first));
        env.wait_event(name, "Normal", "NumbersAssigned").await;
        let synced = env
            .wait(name, "every user in sync", |r| {
                r.is_some_and(|r| by_reason(r).get("InSync") == Some(&EXAMPLE_IN_SYNC))
            })
            .await
            .expect("the resource exists");
        assert_eq!(
            status(&synced).summary.as_ref().map(|s| s.owned),
            Some(2),
            "it owns the two numbers it assigned (Grace's stray line is a NumberConflict now): {}",
            describe(&synced)
        );

        // Workload identity as the namespace's own ServiceAccount: the apiserver mints its token.
        env.patch_spec(
            name,
            json!({"credentials": {"application": {"clientId": FEDERATED_APP, "certificate": null, "workloadIdentity": {"serviceAccountName": TEAM_ACCOUNT}}}}),
        )
        .await;
        let federated_sync = env
            .wait(name, "a sync signed in as the namespace's ServiceAccount", |r| {
                r.is_some_and(|r| observed(r) && condition(r, "AdminConnected").0 == "True")
            })
            .await
            .expect("the resource exists");
        assert_eq!(by_reason(&federated_sync).get("InSync"), Some(&EXAMPLE_IN_SYNC), "{}", describe(&federated_sync));
        assert!(federated_grants(&sandbox) >= 1, "the sandbox issued the federated app a token");

        // Team B names A's app with its own ServiceAccount: Entra sees B's subject and refuses.
        let grants_before = federated_grants(&sandbox);
        let (reason, message) = sign_in_elsewhere(&team_b, "borrowed", sandbox.base_url(), json!({"serviceAccountName": TEAM_ACCOUNT})).await;
        assert_eq!(reason, "FederatedCredentialMismatch", "{message}");
        let b_subject = format!("system:serviceaccount:{}:{TEAM_ACCOUNT}", names[1]);
        assert!(message.contains("AADSTS700213") && message.contains(&b_subject), "{message}");
        team_b.wait_event("borrowed", "Warning", "FederatedCredentialMismatch").await;

        // Nor can team B borrow the operator's own token: only team A's namespace may use it.
        let (reason, message) = sign_in_elsewhere(&team_b, "own-token", sandbox.base_url(), json!({})).await;
        assert_eq!(reason, "FederatedTokenUnavailable", "{message}");
        assert!(message.contains("--operator-token-namespace"), "{message}");
        assert_eq!(federated_grants(&sandbox), grants_before, "team B got no token of the app");

        // Team A, which a platform admin allowed, may use the operator's own token.
        env.patch_spec(
            name,
            json!({"credentials": {"application": {"workloadIdentity": {"serviceAccountName": null}}}}),
        )
        .await;
        let own_sync = env
            .wait(name, "a sync signed in with the operator's own token", |r| {
                r.is_some_and(|r| observed(r) && condition(r, "AdminConnected").0 == "True")
            })
            .await
            .expect("the resource exists");
        assert_eq!(by_reason(&own_sync).get("InSync"), Some(&EXAMPLE_IN_SYNC), "{}", describe(&own_sync));

        let mut secrets = secrets_of(&sandbox, &[&api_key, &operator_token]);
        secrets.extend(
            certificate_file("app.key")
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .map(str::to_owned),
        );
        assert_no_secret_anywhere(&env, &[&operator], &secrets).await;
        assert_no_secret_anywhere(&team_b, &[&operator], &secrets).await;
        operator.terminate().await;
    })
    .await;
}
