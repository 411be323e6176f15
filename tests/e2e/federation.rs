//! Signing in without a stored password, on the real apiserver: the binary signs in with a
//! certificate from a `kubernetes.io/tls` Secret, then, after a spec change, with workload identity
//! federation: a ServiceAccount token the apiserver minted (TokenRequest, audience
//! `api://AzureADTokenExchange`) is exchanged at the sandbox, which verifies it against the
//! apiserver's own discovery document and JWKS (`/.well-known/openid-configuration`,
//! `/openid/v1/jwks`). A token of another ServiceAccount is refused with
//! `FederatedCredentialMismatch` naming that account. No private key or token is written anywhere.

use base64::Engine;
use dialpad_teams_sandbox::fixture::OidcIssuerFixture;
use dialpad_teams_sandbox::world::Principal;
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};
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
/// Another ServiceAccount of the namespace, which the app does not trust.
const INTRUDER: &str = "intruder";

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

/// A token the apiserver mints for `account` with the Entra audience, written to a file as the
/// kubelet would project it; the file's path and the token.
async fn projected_token(env: &Env, account: &str) -> (String, String) {
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &env.namespace);
    if account != SERVICE_ACCOUNT {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_then_an_apiserver_minted_token_sign_in_and_another_accounts_token_is_refused() {
    with_namespaces("sign-in-without-secrets", 1, |env, names| async move {
        // The example org of `demo` (examples/sandbox-org.yaml): 18 Dialpad users with every
        // reason; a first sync assigns three numbers and corrects one, and four end in sync.
        // The issuer's name (kubernetes.default.svc...) resolves only inside the cluster: the
        // sandbox reaches it at the apiserver's address, trusting the cluster's CA.
        let (server, ca) = apiserver(&env);
        let route = OidcIssuerFixture {
            issuer: issuer_of(&env).await,
            address: Some(server),
            ca_pem: Some(ca),
        };
        let operator_subject = format!("system:serviceaccount:{}:{SERVICE_ACCOUNT}", env.namespace);
        let org = example_org_with_apps(&operator_subject, route);
        let api_key = org.dialpad.api_key.clone();
        let sandbox = Sandbox::start(&org, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        publish_issuer_keys(&env).await;
        env.put_secret("dialpad", &[("apiKey", &api_key)]).await;
        put_tls_secret(&env).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let (token_file, operator_token) = projected_token(&env, SERVICE_ACCOUNT).await;
        let federated = [
            "--federated-token-file",
            token_file.as_str(),
            "--federated-token-login-endpoint",
            sandbox.base_url(),
        ];
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &federated);
        operator.wait_ready().await;

        // A certificate from a kubernetes.io/tls Secret.
        let name = "contoso";
        let mut resource = resource(&env, name, sandbox.base_url(), "Retain");
        resource.spec.credentials = serde_json::from_value(json!({
            "application": {"clientId": CERTIFICATE_APP, "certificate": {"secretRef": {"name": "teams-app-certificate"}, "algorithm": "PS256"}}
        }))
        .expect("certificate credentials");
        env.apply(&resource).await.expect("the resource is accepted");
        let first = env.wait_first_status(name, EXAMPLE_DESIRED).await;
        assert_eq!(
            condition(&first, "AdminConnected").0,
            "True",
            "{}",
            describe(&first)
        );
        env.wait_event(name, "Normal", "NumbersAssigned").await;
        let synced = env
            .wait(name, "every user in sync", |r| {
                r.is_some_and(|r| by_reason(r).get("InSync") == Some(&EXAMPLE_IN_SYNC))
            })
            .await
            .expect("the resource exists");
        assert_eq!(
            status(&synced).summary.as_ref().map(|s| s.owned),
            Some(3),
            "it owns the three numbers it assigned: {}",
            describe(&synced)
        );

        // Workload identity: the apiserver's own token, verified through its discovery and JWKS.
        env.patch_spec(
            name,
            json!({"credentials": {"application": {"clientId": FEDERATED_APP, "certificate": null, "workloadIdentity": {}}}}),
        )
        .await;
        let federated_sync = env
            .wait(name, "a sync signed in by workload identity", |r| {
                r.is_some_and(|r| observed(r) && condition(r, "AdminConnected").0 == "True")
            })
            .await
            .expect("the resource exists");
        assert_eq!(by_reason(&federated_sync).get("InSync"), Some(&EXAMPLE_IN_SYNC), "{}", describe(&federated_sync));
        let federated_tokens = sandbox.with_world(|world| {
            world
                .access_tokens
                .values()
                .filter(|grant| {
                    matches!(&grant.principal, Principal::Application { client_id, .. } if client_id == FEDERATED_APP)
                })
                .count()
        });
        assert!(federated_tokens >= 1, "the sandbox issued the federated app a token");
        let (_, stopped) = operator.terminate().await;
        assert!(stopped.success());

        // Another ServiceAccount's token: refused, naming the subject it carries.
        let (intruder_file, intruder_token) = projected_token(&env, INTRUDER).await;
        let intruder_args = [
            "--federated-token-file",
            intruder_file.as_str(),
            "--federated-token-login-endpoint",
            sandbox.base_url(),
        ];
        let mut intruder =
            OperatorProcess::start_for_as(&env, "intruder", &kubeconfig, &names, &intruder_args);
        intruder.wait_ready().await;
        env.sync_now(name).await;
        let refused = env
            .wait(name, "AdminConnected=False (FederatedCredentialMismatch)", |r| {
                r.is_some_and(|r| condition(r, "AdminConnected").0 == "False")
            })
            .await
            .expect("the resource exists");
        let connected = status(&refused)
            .conditions
            .iter()
            .find(|c| c.type_ == "AdminConnected")
            .expect("an AdminConnected condition");
        let message = &connected.message;
        assert_eq!(connected.reason, "FederatedCredentialMismatch", "{message}");
        assert!(
            message.contains("AADSTS700213") && message.contains(&format!(":{INTRUDER}")),
            "{message}"
        );
        env.wait_event(name, "Warning", "FederatedCredentialMismatch").await;

        let mut secrets = secrets_of(&sandbox, &[&api_key, &operator_token, &intruder_token]);
        secrets.extend(
            certificate_file("app.key")
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .map(str::to_owned),
        );
        assert_no_secret_anywhere(&env, &[&operator, &intruder], &secrets).await;
        intruder.terminate().await;
    })
    .await;
}
