//! The commands that run the sync pipeline: `run` (the operator), and outside a cluster `demo`
//! and `plan`.

pub mod demo;
pub mod examples;
pub mod output;
pub mod plan;
pub mod plan_result;
pub mod run;
pub mod sandbox;
pub mod stdout;
pub mod users;
pub mod users_output;

use std::path::{Path, PathBuf};

use crate::api::TeamsTenantSync;
use crate::api::validation::{SchemaViolations, validate_document};
use crate::connect::adapters::policies::PolicyTypes;
use crate::upstream::allowed::{AllowedEndpoint, AllowedEndpoints};
use dialpad_teams_sandbox::SandboxError;
use dialpad_teams_sandbox::fixture::FixtureError;

/// Errors of `demo` and `plan`.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The resource file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The resource is not valid YAML for a TeamsTenantSync.
    #[error("{path} is not a TeamsTenantSync: {message}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The resource breaks the CRD's rules (as the apiserver would say).
    #[error("{path} would be rejected by the apiserver: {violations}")]
    Invalid {
        /// The file.
        path: String,
        /// The broken rules.
        violations: SchemaViolations,
    },
    /// The org fixture could not be loaded.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The HTTP client could not be built.
    #[error("cannot set up HTTPS: {0}")]
    Http(#[source] reqwest::Error),
    /// The change events WebSocket's TLS trust could not be built from `--ca-file`.
    #[error("cannot set up TLS for change events: {0}")]
    EventTls(String),
    /// A Secret or setting is missing.
    #[error("{0}")]
    Setup(String),
    /// Output could not be written.
    #[error("cannot print the result: {0}")]
    Output(#[source] serde_yaml::Error),
    /// The result could not be written as JSON.
    #[error("cannot print the result as JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(#[source] std::io::Error),
}

/// Reads, validates (like the apiserver) and parses a TeamsTenantSync file.
pub fn load_resource(path: &Path) -> Result<TeamsTenantSync, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|source| CommandError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_resource(&text, &path.display().to_string())
}

/// Validates and parses TeamsTenantSync YAML; `origin` names it in errors.
pub fn parse_resource(text: &str, origin: &str) -> Result<TeamsTenantSync, CommandError> {
    let parse_error = |message: String| CommandError::Parse {
        path: origin.to_owned(),
        message,
    };
    let document: serde_json::Value = serde_yaml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
    validate_document(&document).map_err(|violations| CommandError::Invalid {
        path: origin.to_owned(),
        violations,
    })?;
    serde_json::from_value(document).map_err(|e| parse_error(e.to_string()))
}

/// Where credentials may be sent, and the ServiceAccount token file: the operator's
/// configuration, never a resource's.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CredentialArgs {
    /// An endpoint credentials may be sent to besides Microsoft's and Dialpad's public ones (a
    /// proxy, a gateway, the sandbox): a resource's spec.endpoints may name it.
    /// An https:// URL allows its paths; an http:// URL only itself. Repeat, or separate with
    /// commas.
    #[arg(
        long = "allowed-endpoint",
        env = "ALLOWED_ENDPOINTS",
        value_delimiter = ',',
        value_parser = AllowedEndpoint::parse
    )]
    pub allowed_endpoints: Vec<AllowedEndpoint>,
    /// A projected ServiceAccount token file (audience api://AzureADTokenExchange) for
    /// `workloadIdentity` sign-ins; read again before every exchange, as the kubelet renews it.
    /// The Azure Workload Identity webhook sets AZURE_FEDERATED_TOKEN_FILE.
    #[arg(long, env = crate::microsoft::federated::TOKEN_FILE_VARIABLE)]
    pub federated_token_file: Option<PathBuf>,
}

impl CredentialArgs {
    /// The endpoints these flags allow.
    pub fn allowed_endpoints(&self) -> AllowedEndpoints {
        AllowedEndpoints::new(self.allowed_endpoints.clone())
    }
}

/// Which Graph policy type each policy field of `spec.assignment` is assigned as.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PolicyTypeArgs {
    /// FIELD=TYPE: the Graph policyType a spec.assignment policy field (voiceRoutingPolicy,
    /// dialPlan, callingPolicy) is assigned as, instead of the default (OnlineVoiceRoutingPolicy,
    /// TenantDialPlan, TeamsCallingPolicy: the Teams PowerShell names, UNCONFIRMED for Graph).
    /// Repeat, or separate with commas.
    #[arg(
        long = "policy-type",
        env = "POLICY_TYPES",
        value_delimiter = ',',
        value_parser = parse_policy_type
    )]
    pub policy_types: Vec<String>,
}

impl PolicyTypeArgs {
    /// The policy types these flags give.
    pub fn policy_types(&self) -> PolicyTypes {
        PolicyTypes::with_overrides(&self.policy_types).expect("each flag was checked as it was parsed")
    }
}

fn parse_policy_type(text: &str) -> Result<String, String> {
    PolicyTypes::with_overrides(&[text]).map(|_| text.to_owned())
}

/// Reads the CA certificates (PEM) given with `--ca-file`, for the HTTP client.
pub fn extra_roots(ca_file: Option<&Path>) -> Result<Vec<Vec<u8>>, CommandError> {
    ca_file
        .map(|path| {
            std::fs::read(path)
                .map_err(|e| CommandError::Setup(format!("cannot read {}: {e}", path.display())))
        })
        .into_iter()
        .collect()
}

/// The Graph budget of `--graph-requests-per-second`: that many requests per second, or none at
/// all for 0 (Graph's 429 answers alone then slow the client down).
pub(crate) fn graph_budget(requests_per_second: u32) -> Option<u32> {
    (requests_per_second > 0).then_some(requests_per_second)
}
