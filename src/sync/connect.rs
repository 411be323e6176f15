//! From a spec and its Secrets to ready-to-use ports: the clients for the spec's endpoints, the
//! credentials mode and the source.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::adapters::{DialpadSource, GraphTenant, StaticSource};
use super::model::DesiredState;
use super::ports::{DesiredSource, SourceFailure};
use crate::api::{DEFAULT_DIALPAD_URL, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, Reason, TeamsTenantSyncSpec};
use crate::dialpad::{self, DialpadClient};
use crate::microsoft::graph::GraphClient;
use crate::microsoft::token::{Credentials, TokenClient};
use crate::upstream::{RetryPolicy, Service, UpstreamClient};

/// Where Secret values come from: the Kubernetes API, files, or a test.
pub trait SecretStore {
    /// The value of `key` in the Secret `name`, or a message naming the Secret, the key and the fix.
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String>;
}

/// Either source behind one type.
pub enum AnySource {
    /// Dialpad.
    Dialpad(DialpadSource),
    /// The static list.
    Static(StaticSource),
}

impl DesiredSource for AnySource {
    async fn read(&self) -> Result<DesiredState, SourceFailure> {
        match self {
            AnySource::Dialpad(source) => source.read().await,
            AnySource::Static(source) => source.read().await,
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
/// signs in afresh when anything did (a rotated password, another tenant).
#[derive(Clone)]
pub struct SignIn {
    fingerprint: u64,
    tokens: Arc<TokenClient>,
}

impl SignIn {
    /// How many times it called the token endpoint.
    pub fn token_requests(&self) -> u32 {
        self.tokens.token_requests()
    }
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
        } => ("password", client_id, username, password.expose_secret()).hash(&mut hasher),
        Credentials::ClientSecret { client_id, secret } => {
            ("client-secret", client_id, secret.expose_secret()).hash(&mut hasher)
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
}

/// A problem found before any call: a Secret or key is missing, or the spec is incomplete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupFailure {
    /// `SecretInvalid` (or another tenant reason).
    pub reason: Reason,
    /// What is missing and how to fix it.
    pub message: String,
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
    let login = non_empty(&endpoints.login, DEFAULT_LOGIN_URL);
    let graph_base = non_empty(&endpoints.graph, DEFAULT_GRAPH_URL);
    let dialpad_base = non_empty(&endpoints.dialpad, DEFAULT_DIALPAD_URL);
    let secret = |name: &str, key: &str| {
        secrets.get(name, key).map_err(|message| SetupFailure {
            reason: Reason::SecretInvalid,
            message,
        })
    };
    let credentials = match (&spec.credentials.admin_account, &spec.credentials.application) {
        (Some(admin), _) => {
            let username = secret(&admin.secret_ref.name, &admin.secret_ref.username_key)?;
            Credentials::Password {
                client_id: admin.client_id.clone(),
                username: secrecy::ExposeSecret::expose_secret(&username).trim().to_owned(),
                password: secret(&admin.secret_ref.name, &admin.secret_ref.password_key)?,
            }
        }
        (None, Some(app)) => Credentials::ClientSecret {
            client_id: app.client_id.clone(),
            secret: secret(&app.secret_ref.name, app.client_secret_key())?,
        },
        (None, None) => {
            return Err(SetupFailure {
                reason: Reason::SecretInvalid,
                message: "spec.credentials sets neither adminAccount nor application; set exactly one".into(),
            });
        }
    };
    let upstream =
        |service, rate| UpstreamClient::new(service, options.http.clone(), rate, options.retry.clone());
    let fingerprint = sign_in_fingerprint(login, &spec.tenant.tenant_id, graph_base, &credentials);
    let sign_in = match previous.filter(|p| p.fingerprint == fingerprint) {
        Some(previous) => previous.clone(),
        None => SignIn {
            fingerprint,
            tokens: Arc::new(TokenClient::new(
                upstream(Service::Entra, None),
                login,
                &spec.tenant.tenant_id,
                graph_base,
                credentials,
            )),
        },
    };
    let graph = GraphClient::new(
        upstream(Service::Graph, options.graph_requests_per_second),
        graph_base,
        sign_in.tokens.clone(),
    );
    let source = match (&spec.source.dialpad, &spec.source.static_list) {
        (Some(source), _) => {
            let key = secret(&source.api_key_secret_ref.name, source.api_key_key())?;
            let client = DialpadClient::new(
                upstream(Service::Dialpad, Some(dialpad::REQUESTS_PER_SECOND)),
                dialpad_base,
                key,
            );
            AnySource::Dialpad(DialpadSource {
                client,
                office_ids: source.office_ids.clone(),
            })
        }
        (None, Some(list)) => AnySource::Static(StaticSource {
            users: list.users.clone(),
        }),
        (None, None) => {
            return Err(SetupFailure {
                reason: Reason::SecretInvalid,
                message: "spec.source sets neither dialpad nor static; set exactly one".into(),
            });
        }
    };
    Ok(Connection {
        source,
        tenant: GraphTenant {
            graph,
            domain: spec.tenant.domain.clone(),
        },
        sign_in,
    })
}

fn non_empty<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.trim().is_empty() { default } else { value }
}
