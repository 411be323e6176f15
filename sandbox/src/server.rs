//! Serving the sandbox: a listener (plain HTTP, or HTTPS with a certificate made at start), the
//! introspection routes, and a handle that tests, `demo` and benchmarks hold.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::fixture::{FaultFixture, OrgFixture};
use super::traffic::Counters;
use super::world::World;
use super::{SandboxState, router};

/// How to serve.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The base URL clients use, if a proxy sits in front (used in `@odata.nextLink`, `Location`
    /// and discovery documents). Defaults to the listener's own URL.
    pub public_url: Option<String>,
    /// Serve HTTPS with a self-signed certificate generated at start.
    pub tls: bool,
    /// Where to write the CA certificate (PEM) that signs the HTTPS certificate.
    pub ca_file: Option<PathBuf>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            tls: false,
            ca_file: None,
        }
    }
}

/// Errors starting the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The certificate could not be made.
    #[error("cannot create the sandbox's TLS certificate: {0}")]
    Certificate(String),
    /// The CA file could not be written.
    #[error("cannot write the CA certificate to {path}: {source}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A running sandbox. It stops when dropped.
pub struct Sandbox {
    address: SocketAddr,
    base_url: String,
    state: Arc<SandboxState>,
    ca_pem: Option<String>,
    handle: axum_server::Handle<SocketAddr>,
}

/// One number as Teams holds it, for introspection.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    /// The number.
    pub telephone_number: String,
    /// Who holds it.
    pub assignment_target_id: Option<String>,
    /// That user's UPN.
    pub user_principal_name: Option<String>,
    /// `activated` or `assignmentPending`.
    pub activation_state: String,
}

/// A policy assigned to a user directly, for introspection.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAssignmentView {
    /// The user's object id.
    pub user_id: String,
    /// The user's UPN.
    pub user_principal_name: Option<String>,
    /// The policy type, as the tenant spells it.
    pub policy_type: String,
    /// The policy's id.
    pub policy_id: String,
    /// The policy's name.
    pub policy_name: Option<String>,
}

impl Sandbox {
    /// Builds the org of `fixture` and serves it.
    /// Also installs the process's TLS crypto provider, so clients built after it work.
    pub async fn start(fixture: &OrgFixture, options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        // Err means a provider is already installed (by the process or an earlier sandbox): fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = std::net::TcpListener::bind(options.listen).map_err(|source| SandboxError::Bind {
            address: options.listen,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| SandboxError::Bind {
                address: options.listen,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| SandboxError::Bind {
            address: options.listen,
            source,
        })?;
        let scheme = if options.tls { "https" } else { "http" };
        let own_url = format!("{scheme}://{address}");
        let public_url = options.public_url.clone().unwrap_or_else(|| own_url.clone());
        let state = Arc::new(SandboxState::new(fixture, public_url));
        let app = router(state.clone()).into_make_service();
        let handle = axum_server::Handle::new();
        let mut ca_pem = None;
        if options.tls {
            let (ca, cert, key) = certificate_chain(address)?;
            if let Some(path) = &options.ca_file {
                std::fs::write(path, &ca).map_err(|source| SandboxError::CaFile {
                    path: path.clone(),
                    source,
                })?;
            }
            ca_pem = Some(ca);
            let config = axum_server::tls_rustls::RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
                .await
                .map_err(|e| SandboxError::Certificate(e.to_string()))?;
            let server = axum_server::from_tcp_rustls(listener, config)
                .map_err(|source| SandboxError::Bind { address, source })?
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(error) = server.serve(app).await {
                    tracing::error!(%error, "sandbox server stopped");
                }
            });
        } else {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| SandboxError::Bind { address, source })?
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(error) = server.serve(app).await {
                    tracing::error!(%error, "sandbox server stopped");
                }
            });
        }
        Ok(Sandbox {
            address,
            base_url: own_url,
            state,
            ca_pem,
            handle,
        })
    }

    /// The listener's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http(s)://127.0.0.1:PORT`: the base URL for all three upstreams.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The CA certificate (PEM) to trust when serving HTTPS.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The shared state (for in-process tools such as `demo`).
    pub fn state(&self) -> &Arc<SandboxState> {
        &self.state
    }

    /// Request and response counts so far.
    pub fn counters(&self) -> Counters {
        self.state.counters.lock().expect("counters lock").clone()
    }

    /// Starts counting from zero.
    pub fn reset_counters(&self) {
        *self.state.counters.lock().expect("counters lock") = Counters::default();
    }

    /// Every number Teams knows, with its holder and activation state.
    pub fn assignments(&self) -> Vec<AssignmentView> {
        assignments_of(&self.state.world())
    }

    /// Every policy assigned to a user directly (group-held policies are not listed), by user id
    /// and type.
    pub fn policy_assignments(&self) -> Vec<PolicyAssignmentView> {
        policy_assignments_of(&self.state.world())
    }

    /// Runs `change` on the world, e.g. to remove a Dialpad user or expire tokens mid-test.
    pub fn with_world<R>(&self, change: impl FnOnce(&mut World) -> R) -> R {
        change(&mut self.state.world())
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, rules: Vec<FaultFixture>) {
        self.state
            .faults
            .lock()
            .expect("fault injector lock")
            .set_rules(rules);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

fn assignments_of(world: &World) -> Vec<AssignmentView> {
    let now = Instant::now();
    world
        .numbers
        .values()
        .map(|record| AssignmentView {
            telephone_number: record.telephone_number.clone(),
            assignment_target_id: record.assignment_target_id.clone(),
            user_principal_name: record
                .assignment_target_id
                .as_deref()
                .and_then(|id| world.user(id))
                .map(|u| u.user_principal_name.clone()),
            activation_state: record.activation_state(now).to_owned(),
        })
        .collect()
}

fn policy_assignments_of(world: &World) -> Vec<PolicyAssignmentView> {
    world
        .teams
        .direct
        .iter()
        .map(|((user_id, policy_type), policy_id)| PolicyAssignmentView {
            user_id: user_id.clone(),
            user_principal_name: world.user(user_id).map(|u| u.user_principal_name.clone()),
            policy_type: policy_type.clone(),
            policy_id: policy_id.clone(),
            policy_name: world.teams.by_id(policy_type, policy_id).map(|p| p.name.clone()),
        })
        .collect()
}

/// `GET /_sandbox/counters`, `GET /_sandbox/assignments` (numbers) and
/// `GET /_sandbox/policyAssignments` (direct policy assignments), for tests in other processes.
pub fn introspection_routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route(
            "/_sandbox/counters",
            get(|State(state): State<Arc<SandboxState>>| async move {
                Json(state.counters.lock().expect("counters lock").clone())
            }),
        )
        .route(
            "/_sandbox/assignments",
            get(|State(state): State<Arc<SandboxState>>| async move { Json(assignments_of(&state.world())) }),
        )
        .route(
            "/_sandbox/policyAssignments",
            get(|State(state): State<Arc<SandboxState>>| async move {
                Json(policy_assignments_of(&state.world()))
            }),
        )
}

/// A CA and a certificate for `localhost` and the listener's IP signed by it: `(ca, cert, key)`.
fn certificate_chain(address: SocketAddr) -> Result<(String, String, String), SandboxError> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    };
    let fail = |e: rcgen::Error| SandboxError::Certificate(e.to_string());
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "dialpad-teams-operator sandbox CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(fail)?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(fail)?;
    let names = vec!["localhost".to_owned(), address.ip().to_string()];
    let mut leaf_params = CertificateParams::new(names).map_err(fail)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate().map_err(fail)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(fail)?;
    let chain = format!("{}{}", leaf.pem(), ca.pem());
    Ok((ca.pem(), chain, leaf_key.serialize_pem()))
}
