//! From a spec and its Secrets to ready-to-use ports: the clients for the spec's endpoints, the
//! credentials mode and the source.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

pub mod adapters;
pub mod setup;

use crate::api::{DEFAULT_DIALPAD_URL, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, Reason, TeamsTenantSyncSpec};
use crate::dialpad::{self, DialpadClient};
use crate::microsoft::admin::required_account_name;
use crate::microsoft::assertion::CertificateSigner;
use crate::microsoft::federated::FederatedTokenSource;
use crate::microsoft::graph::GraphClient;
use crate::microsoft::token::{Credentials, TokenClient};
use crate::sync::model::DesiredState;
use crate::sync::ports::{DesiredSource, SourceFailure, SourcePages};
use crate::upstream::allowed::AllowedEndpoints;
use crate::upstream::{RetryPolicy, Service, SharedCallRecorder, UpstreamClient};
use adapters::policies::{PolicyTypes, named_policies};
use adapters::{DialpadSource, GraphTenant, StaticSource};
use setup::{Problems, SetupFailure, endpoint_problems, non_empty};

/// Where a resource's credentials come from: the Secrets of its namespace (from the Kubernetes
/// API, files, or a test) and the ServiceAccount tokens of workload identity.
pub trait SecretStore {
    /// The value of `key` in the Secret `name`, or a message naming the Secret, the key and the fix.
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String>;

    /// Where `workloadIdentity` takes its token from: a token minted for `service_account` of
    /// the resource's namespace, or with `None` the operator's own ServiceAccount token (only
    /// where a platform admin allows it); or a message saying why there is none and the fix.
    fn federated_token(&self, service_account: Option<&str>)
    -> Result<Arc<dyn FederatedTokenSource>, String>;
}

/// Either source behind one type.
pub enum AnySource {
    /// Dialpad (boxed: its client is much larger than the static list).
    Dialpad(Box<DialpadSource>),
    /// The static list.
    Static(StaticSource),
}

impl DesiredSource for AnySource {
    async fn read_by_page(&self, pages: SourcePages) -> Result<DesiredState, SourceFailure> {
        match self {
            AnySource::Dialpad(source) => source.read_by_page(pages).await,
            AnySource::Static(source) => source.read_by_page(pages).await,
        }
    }

    async fn read_users(
        &self,
        ids: &std::collections::BTreeSet<String>,
    ) -> Option<Result<Vec<crate::sync::targets::SourceUser>, SourceFailure>> {
        match self {
            AnySource::Dialpad(source) => source.read_users(ids).await,
            AnySource::Static(source) => source.read_users(ids).await,
        }
    }
}

/// The ports for one resource.
pub struct Connection {
    /// Desired state.
    pub source: AnySource,
    /// The Teams tenant.
    pub tenant: GraphTenant,
    /// The sign-in it uses; hand it to the next [`connect_reusing`] to keep its cached token.
    pub sign_in: SignIn,
}

/// A token client with the fingerprint of what it signs in with (endpoints, tenant, client id,
/// user name and secret), so that a later sync reuses its cached token while nothing changed and
/// signs in afresh when anything did (a rotated password, another tenant). It keeps the Graph
/// base URL its tokens are for: they are only ever sent there.
#[derive(Clone)]
pub struct SignIn {
    fingerprint: u64,
    graph_base: String,
    tokens: Arc<TokenClient>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("principal", &self.tokens.credentials().principal())
            .finish_non_exhaustive()
    }
}

/// A hash of everything a sign-in depends on; held in memory only, never shown.
fn sign_in_fingerprint(login: &str, tenant: &str, graph: &str, credentials: &Credentials) -> u64 {
    let mut hasher = DefaultHasher::new();
    (login, tenant, graph).hash(&mut hasher);
    match credentials {
        Credentials::Password {
            client_id,
            username,
            password,
            ..
        } => (
            "password",
            client_id,
            username.expose_secret(),
            password.expose_secret(),
        )
            .hash(&mut hasher),
        Credentials::ClientSecret { client_id, secret } => {
            ("client-secret", client_id, secret.expose_secret()).hash(&mut hasher)
        }
        Credentials::Certificate { client_id, signer } => {
            ("certificate", client_id, signer.fingerprint()).hash(&mut hasher)
        }
        Credentials::WorkloadIdentity { client_id, token } => {
            ("workload-identity", client_id, token.describe()).hash(&mut hasher)
        }
    }
    hasher.finish()
}

/// Shared HTTP settings.
#[derive(Clone)]
pub struct ConnectOptions {
    /// The process's HTTP client.
    pub http: reqwest::Client,
    /// Retry settings for every upstream.
    pub retry: RetryPolicy,
    /// Graph requests per second per tenant (`None`: only Graph's own 429s limit us).
    pub graph_requests_per_second: Option<u32>,
    /// Dialpad requests per second per company (`None`: Dialpad's documented
    /// [`dialpad::REQUESTS_PER_SECOND`]).
    pub dialpad_requests_per_second: Option<u32>,
    /// The endpoints credentials may be sent to (`--allowed-endpoint`).
    pub allowed_endpoints: AllowedEndpoints,
    /// Where every upstream client reports its HTTP attempts (the operator's metrics).
    pub upstream_calls: SharedCallRecorder,
    /// The Graph policy type of each kind of Teams policy (`--policy-type`).
    pub policy_types: PolicyTypes,
}

impl ConnectOptions {
    /// A client for `service` with these settings, at most `requests_per_second`, reporting its
    /// attempts to [`ConnectOptions::upstream_calls`].
    pub fn upstream(&self, service: Service, requests_per_second: Option<u32>) -> UpstreamClient {
        UpstreamClient::new(
            service,
            self.http.clone(),
            requests_per_second,
            self.retry.clone(),
        )
        .recording_calls_to(self.upstream_calls.clone())
    }
}

/// Builds the ports of `spec` with the values from `secrets`, signing in afresh.
pub fn connect(
    spec: &TeamsTenantSyncSpec,
    secrets: &dyn SecretStore,
    options: &ConnectOptions,
) -> Result<Connection, SetupFailure> {
    connect_reusing(spec, secrets, options, None)
}

/// [`connect`], keeping the token of `previous` (the last sync's [`Connection::sign_in`]) when
/// the sign-in has not changed: a sync then asks Entra for a token only when the cached one is
/// close to expiry.
pub fn connect_reusing(
    spec: &TeamsTenantSyncSpec,
    secrets: &dyn SecretStore,
    options: &ConnectOptions,
    previous: Option<&SignIn>,
) -> Result<Connection, SetupFailure> {
    let endpoints = spec.endpoints.clone().unwrap_or_default();
    let dialpad_base = non_empty(&endpoints.dialpad, DEFAULT_DIALPAD_URL);
    let (mut sign_in_problems, mut source_problems) = endpoint_problems(spec, &options.allowed_endpoints);
    let take = |problems: &mut Problems, name: &str, key: &str| take_secret(secrets, problems, name, key);
    let credentials = sign_in_credentials(spec, secrets, &mut sign_in_problems);
    let api_key = match (&spec.source.dialpad, &spec.source.static_list) {
        (Some(source), _) => take(
            &mut source_problems,
            &source.api_key_secret_ref.name,
            source.api_key_key(),
        ),
        (None, Some(_)) => None,
        (None, None) => {
            source_problems.push((
                Reason::SecretInvalid,
                "spec.source sets neither dialpad nor static; set exactly one".into(),
            ));
            None
        }
    };
    let complete = sign_in_problems.is_empty() && source_problems.is_empty();
    let Some(credentials) = credentials.filter(|_| complete) else {
        return Err(SetupFailure::of(&sign_in_problems, &source_problems));
    };
    let upstream = |service, rate| options.upstream(service, rate);
    let sign_in = sign_in_for(spec, credentials, options, previous);
    let tenant = tenant_for(spec, &sign_in, options);
    let source = match (&spec.source.dialpad, api_key) {
        (Some(source), Some(key)) => AnySource::Dialpad(Box::new(DialpadSource {
            client: DialpadClient::new(
                upstream(
                    Service::Dialpad,
                    Some(
                        options
                            .dialpad_requests_per_second
                            .unwrap_or(dialpad::REQUESTS_PER_SECOND),
                    ),
                ),
                dialpad_base,
                key,
            ),
            office_ids: source.office_ids.clone(),
            company_id: source.company_id.clone(),
            office_names: names_offices(&spec.assignment),
        })),
        _ => AnySource::Static(StaticSource {
            users: spec
                .source
                .static_list
                .as_ref()
                .map(|list| list.users.clone())
                .unwrap_or_default(),
        }),
    };
    Ok(Connection {
        source,
        tenant,
        sign_in,
    })
}

/// The sign-in credentials of `spec` from `secrets`; each problem is pushed to `problems`.
fn sign_in_credentials(
    spec: &TeamsTenantSyncSpec,
    secrets: &dyn SecretStore,
    problems: &mut Problems,
) -> Option<Credentials> {
    let take = |problems: &mut Problems, name: &str, key: &str| take_secret(secrets, problems, name, key);
    match (&spec.credentials.admin_account, &spec.credentials.application) {
        (Some(admin), _) => {
            let secret_ref = &admin.secret_ref;
            let username = take(problems, &secret_ref.name, &secret_ref.username_key);
            let password = take(problems, &secret_ref.name, &secret_ref.password_key);
            let (username, password) = username.zip(password)?;
            let username_in = format!("Secret '{}' (key '{}')", secret_ref.name, secret_ref.username_key);
            // The name the spec requires may be shown once the Secret is known to hold it; any
            // other value is not, since the key may point at any value of any Secret.
            let required = required_account_name(&spec.tenant.domain);
            let account = if username.expose_secret().trim().eq_ignore_ascii_case(&required) {
                required
            } else {
                format!("the account in {username_in}")
            };
            Some(Credentials::Password {
                client_id: admin.client_id.clone(),
                username: SecretString::from(username.expose_secret().trim().to_owned()),
                password,
                username_in,
                account,
            })
        }
        (None, Some(app)) => {
            let client_id = app.client_id.clone();
            if let Some(secret_ref) = &app.secret_ref {
                take(problems, &secret_ref.name, app.client_secret_key())
                    .map(|secret| Credentials::ClientSecret { client_id, secret })
            } else if let Some(certificate) = &app.certificate {
                let tls = &certificate.secret_ref;
                let pem = take(problems, &tls.name, &tls.certificate_key);
                let key = take(problems, &tls.name, &tls.private_key_key);
                let (pem, key) = pem.zip(key)?;
                match CertificateSigner::from_pem(
                    pem.expose_secret(),
                    key.expose_secret(),
                    certificate.algorithm,
                    std::time::SystemTime::now(),
                ) {
                    Ok(signer) => Some(Credentials::Certificate {
                        client_id,
                        signer: Arc::new(signer),
                    }),
                    Err(problem) => {
                        problems.push((
                            Reason::SecretInvalid,
                            format!(
                                "Secret '{}' (keys '{}' and '{}'): {problem}",
                                tls.name, tls.certificate_key, tls.private_key_key
                            ),
                        ));
                        None
                    }
                }
            } else if let Some(workload_identity) = &app.workload_identity {
                match secrets.federated_token(workload_identity.service_account_name.as_deref()) {
                    Ok(token) => Some(Credentials::WorkloadIdentity { client_id, token }),
                    Err(message) => {
                        problems.push((Reason::FederatedTokenUnavailable, message));
                        None
                    }
                }
            } else {
                problems.push((
                    Reason::SecretInvalid,
                    "spec.credentials.application sets none of secretRef, certificate or workloadIdentity; set exactly one".into(),
                ));
                None
            }
        }
        (None, None) => {
            problems.push((
                Reason::SecretInvalid,
                "spec.credentials sets neither adminAccount nor application; set exactly one".into(),
            ));
            None
        }
    }
}

fn take_secret(
    secrets: &dyn SecretStore,
    problems: &mut Problems,
    name: &str,
    key: &str,
) -> Option<SecretString> {
    match secrets.get(name, key) {
        Ok(value) => Some(value),
        Err(message) => {
            problems.push((Reason::SecretInvalid, message));
            None
        }
    }
}

/// The Teams tenant of `spec` alone (no source): what deleting a resource needs. Signs in with
/// the Secrets when they are complete; otherwise with `previous`, the last sync's sign-in, which
/// still holds the credentials it was made with (so cleanup works after the Secrets are deleted,
/// as when a whole namespace goes). Errors when neither is there.
pub fn connect_tenant(
    spec: &TeamsTenantSyncSpec,
    secrets: &dyn SecretStore,
    options: &ConnectOptions,
    previous: Option<&SignIn>,
) -> Result<GraphTenant, SetupFailure> {
    let (mut problems, _) = endpoint_problems(spec, &options.allowed_endpoints);
    if !problems.is_empty() {
        return Err(SetupFailure::of(&problems, &[]));
    }
    let sign_in = match sign_in_credentials(spec, secrets, &mut problems) {
        Some(credentials) => sign_in_for(spec, credentials, options, previous),
        None => match previous {
            Some(previous) => previous.clone(),
            None => return Err(SetupFailure::of(&problems, &[])),
        },
    };
    Ok(tenant_for(spec, &sign_in, options))
}

/// The sign-in of `spec` with `credentials`: `previous` (keeping its cached token) when nothing
/// it depends on changed, else a new one.
fn sign_in_for(
    spec: &TeamsTenantSyncSpec,
    credentials: Credentials,
    options: &ConnectOptions,
    previous: Option<&SignIn>,
) -> SignIn {
    let endpoints = spec.endpoints.clone().unwrap_or_default();
    let login = non_empty(&endpoints.login, DEFAULT_LOGIN_URL);
    let graph_base = non_empty(&endpoints.graph, DEFAULT_GRAPH_URL);
    let fingerprint = sign_in_fingerprint(login, &spec.tenant.tenant_id, graph_base, &credentials);
    match previous.filter(|p| p.fingerprint == fingerprint) {
        Some(previous) => previous.clone(),
        None => SignIn {
            fingerprint,
            graph_base: graph_base.to_owned(),
            tokens: Arc::new(TokenClient::new(
                options.upstream(Service::Entra, None),
                login,
                &spec.tenant.tenant_id,
                graph_base,
                credentials,
            )),
        },
    }
}

/// Whether `spec.assignment.offices` names an office by name (not all digits, as Dialpad's ids
/// are), so that users' office names must be read.
fn names_offices(assignment: &crate::api::AssignmentSpec) -> bool {
    assignment
        .offices
        .iter()
        .any(|office| !office.office.trim().chars().all(|c| c.is_ascii_digit()))
}

/// The Teams tenant of `spec`, signing in with `sign_in`, at the Graph base URL the sign-in's
/// tokens are for (a deletion with an earlier sign-in never sends its token to a new
/// `spec.endpoints.graph`).
fn tenant_for(spec: &TeamsTenantSyncSpec, sign_in: &SignIn, options: &ConnectOptions) -> GraphTenant {
    let graph = GraphClient::new(
        options.upstream(Service::Graph, options.graph_requests_per_second),
        &sign_in.graph_base,
        sign_in.tokens.clone(),
    );
    GraphTenant {
        graph,
        domain: spec.tenant.domain.clone(),
        policy_types: options.policy_types.clone(),
        policy_names: named_policies(&spec.assignment),
    }
}
