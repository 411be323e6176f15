//! Workload identity per namespace. A resource signs in as a ServiceAccount of its own namespace:
//! the operator asks the apiserver to mint a short-lived token for it (TokenRequest, with the
//! audience Entra expects), so the subject Entra sees is
//! `system:serviceaccount:<the resource's namespace>:<name>` and a namespace can only be who it
//! is. The operator's own ServiceAccount token, which every federated credential trusting the
//! operator accepts, is used only in the namespaces a platform admin lists
//! (`--operator-token-namespace`).

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::PostParams;
use kube::{Api, Client};
use secrecy::SecretString;

use super::secrets::KubeSecrets;
use crate::connect::SecretStore;
use crate::microsoft::aadsts::SignInFailure;
use crate::microsoft::federated::{
    ENTRA_TOKEN_EXCHANGE_AUDIENCE, FederatedTokenSource, TOKEN_FILE_VARIABLE, TokenFile, token_unavailable,
};

/// How long a minted token lives: the shortest the TokenRequest API grants (ten minutes), as one
/// token serves one exchange.
pub const MINTED_TOKEN_SECONDS: i64 = 600;

/// The flag that lets a namespace use the operator's own token, for messages.
pub const OPERATOR_TOKEN_NAMESPACE_FLAG: &str = "--operator-token-namespace";

/// The operator's own ServiceAccount token, and the namespaces whose resources may use it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorToken {
    /// The projected token file (`--federated-token-file`), if the operator has one.
    pub file: Option<PathBuf>,
    /// Namespaces allowed to use it; `*` allows every namespace. Empty: none.
    pub namespaces: Vec<String>,
}

impl OperatorToken {
    /// The operator's token for a resource in `namespace`, or why it may not have it.
    pub fn for_namespace(&self, namespace: &str) -> Result<Arc<dyn FederatedTokenSource>, String> {
        let allowed = self.namespaces.iter().any(|n| n == "*" || n == namespace);
        if !allowed {
            return Err(format!(
                "spec.credentials.application.workloadIdentity sets no serviceAccountName, which means the operator's own ServiceAccount token, and a platform admin has not allowed namespace '{namespace}' to use it ({OPERATOR_TOKEN_NAMESPACE_FLAG}); name a ServiceAccount of this namespace in serviceAccountName and trust it in the app registration's federated credential"
            ));
        }
        let Some(path) = &self.file else {
            return Err(format!(
                "the operator has no ServiceAccount token file of its own; mount a projected token with the audience {ENTRA_TOKEN_EXCHANGE_AUDIENCE} and set {TOKEN_FILE_VARIABLE} or --federated-token-file (chart: workloadIdentity.enabled=true), or name a ServiceAccount of this namespace in serviceAccountName"
            ));
        };
        Ok(Arc::new(TokenFile {
            path: path.clone(),
            owner: "the operator's own ServiceAccount".into(),
        }))
    }
}

/// A ServiceAccount of a resource's namespace, whose token the apiserver mints for each exchange.
pub struct ServiceAccountToken {
    accounts: Api<ServiceAccount>,
    namespace: String,
    name: String,
}

impl ServiceAccountToken {
    /// The ServiceAccount `name` of `namespace`.
    pub fn new(client: Client, namespace: &str, name: &str) -> Self {
        Self {
            accounts: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    async fn mint(&self) -> Result<SecretString, SignInFailure> {
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![ENTRA_TOKEN_EXCHANGE_AUDIENCE.to_owned()],
                expiration_seconds: Some(MINTED_TOKEN_SECONDS),
                ..Default::default()
            },
            ..Default::default()
        };
        let minted = self
            .accounts
            .create_token_request(&self.name, &PostParams::default(), &request)
            .await
            .map_err(|error| self.failure(&error))?;
        match minted.status.map(|status| status.token).filter(|t| !t.is_empty()) {
            Some(token) => Ok(SecretString::from(token)),
            None => Err(token_unavailable(format!(
                "the apiserver minted no token for {}; retrying at the next sync",
                self.describe()
            ))),
        }
    }

    fn failure(&self, error: &kube::Error) -> SignInFailure {
        let account = self.describe();
        let field = "spec.credentials.application.workloadIdentity.serviceAccountName";
        match error {
            kube::Error::Api(status) if status.is_not_found() => token_unavailable(format!(
                "{account} ({field}) does not exist; create it, or name an existing one"
            )),
            kube::Error::Api(status) if status.is_forbidden() => token_unavailable(format!(
                "the operator may not mint tokens for {account}: it needs create on serviceaccounts/token in namespace {} (the chart's RBAC grants it); the apiserver said: {}",
                self.namespace, status.message
            )),
            other => SignInFailure {
                transient: true,
                ..token_unavailable(format!("cannot mint a token for {account}: {other}"))
            },
        }
    }
}

impl FederatedTokenSource for ServiceAccountToken {
    fn describe(&self) -> String {
        format!("ServiceAccount {}/{}", self.namespace, self.name)
    }

    fn token(&self) -> BoxFuture<'_, Result<SecretString, SignInFailure>> {
        Box::pin(self.mint())
    }
}

/// What a resource may use of its namespace to sign in: its Secrets (from the scope's cache) and
/// its ServiceAccounts' tokens.
pub struct ResourceCredentials<'a> {
    /// The referenced Secrets.
    pub secrets: &'a KubeSecrets,
    /// The Kubernetes client that mints tokens.
    pub client: Client,
    /// The resource's namespace.
    pub namespace: &'a str,
    /// The operator's own token and who may use it.
    pub operator_token: &'a OperatorToken,
}

impl SecretStore for ResourceCredentials<'_> {
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        self.secrets.get(name, key)
    }

    fn federated_token(
        &self,
        service_account: Option<&str>,
    ) -> Result<Arc<dyn FederatedTokenSource>, String> {
        match service_account {
            Some(name) => Ok(Arc::new(ServiceAccountToken::new(
                self.client.clone(),
                self.namespace,
                name,
            ))),
            None => self.operator_token.for_namespace(self.namespace),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::{Request, Response};
    use kube::client::Body;
    use secrecy::ExposeSecret;

    use super::*;

    /// A client whose apiserver answers one request with `status` and `body`, and hands the
    /// request's method, path and body to the test.
    fn apiserver(
        status: u16,
        body: serde_json::Value,
    ) -> (
        Client,
        tokio::task::JoinHandle<(String, String, serde_json::Value)>,
    ) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let answered = tokio::spawn(async move {
            let (request, respond) = handle.next_request().await.expect("a request");
            let (method, path) = (request.method().to_string(), request.uri().path().to_owned());
            let bytes = request.into_body().collect_bytes().await.expect("a body");
            let sent: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON body");
            let answer = Response::builder()
                .status(status)
                .body(Body::from(serde_json::to_vec(&body).expect("JSON")))
                .expect("a response");
            respond.send_response(answer);
            (method, path, sent)
        });
        (Client::new(service, "telephony"), answered)
    }

    #[tokio::test]
    async fn a_namespaces_service_account_gets_a_ten_minute_token_for_entra_only() {
        let minted = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": [ENTRA_TOKEN_EXCHANGE_AUDIENCE]},
            "status": {"token": "minted.token.value", "expirationTimestamp": "2026-12-06T18:00:00Z"},
        });
        let (client, answered) = apiserver(201, minted);
        let source = ServiceAccountToken::new(client, "telephony", "teams-sync");
        assert_eq!(source.describe(), "ServiceAccount telephony/teams-sync");
        let token = source.token().await.expect("a token");
        assert_eq!(token.expose_secret(), "minted.token.value");
        let (method, path, sent) = answered.await.unwrap();
        assert_eq!(
            (method.as_str(), path.as_str()),
            (
                "POST",
                "/api/v1/namespaces/telephony/serviceaccounts/teams-sync/token"
            )
        );
        assert_eq!(
            sent["spec"]["audiences"],
            serde_json::json!([ENTRA_TOKEN_EXCHANGE_AUDIENCE])
        );
        assert_eq!(sent["spec"]["expirationSeconds"], MINTED_TOKEN_SECONDS);
    }

    #[tokio::test]
    async fn a_missing_service_account_names_the_field_and_the_fix() {
        let not_found = serde_json::json!({
            "apiVersion": "v1", "kind": "Status", "status": "Failure",
            "message": "serviceaccounts \"teams-sync\" not found", "reason": "NotFound", "code": 404,
        });
        let (client, _answered) = apiserver(404, not_found);
        let failure = ServiceAccountToken::new(client, "telephony", "teams-sync")
            .token()
            .await
            .expect_err("no such ServiceAccount");
        assert_eq!(failure.reason, crate::api::Reason::FederatedTokenUnavailable);
        assert!(!failure.transient);
        assert!(
            failure.message.contains("ServiceAccount telephony/teams-sync")
                && failure.message.contains("serviceAccountName")
                && failure.message.contains("create it"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn the_operators_own_token_is_only_for_the_namespaces_a_platform_admin_lists() {
        let token = OperatorToken {
            file: Some("/var/run/secrets/azure/tokens/azure-identity-token".into()),
            namespaces: vec!["telephony".into()],
        };
        assert!(token.for_namespace("telephony").is_ok());
        let refused = token.for_namespace("team-b").err().unwrap();
        assert!(
            refused.contains("namespace 'team-b'") && refused.contains(OPERATOR_TOKEN_NAMESPACE_FLAG),
            "{refused}"
        );
        let nobody = OperatorToken {
            namespaces: vec![],
            ..token.clone()
        };
        assert!(nobody.for_namespace("telephony").is_err(), "off by default");
        let everyone = OperatorToken {
            namespaces: vec!["*".into()],
            ..token
        };
        assert!(everyone.for_namespace("team-b").is_ok());
    }

    #[test]
    fn an_allowed_namespace_without_a_token_file_says_how_to_mount_one() {
        let token = OperatorToken {
            file: None,
            namespaces: vec!["*".into()],
        };
        let message = token.for_namespace("telephony").err().unwrap();
        assert!(message.contains(TOKEN_FILE_VARIABLE), "{message}");
    }
}
