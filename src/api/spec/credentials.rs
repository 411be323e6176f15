//! `spec.credentials`: how the operator signs in to Microsoft (an admin account, or an application
//! with a client secret, a certificate or workload identity).

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SecretKeyRef;
use crate::api::schema;

/// How the operator signs in to Microsoft. Exactly one mode is set.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.adminAccount) != has(self.application)").message("set exactly one of adminAccount or application"))]
pub struct CredentialsSpec {
    /// Sign in as the tenant's Teams admin user with a password, as Dialpad's own integration
    /// does. The account must be `dialpad-msteams-admin@<tenant.domain>`, hold the Teams
    /// Administrator and Skype for Business Administrator roles, and be excluded from MFA and
    /// location-based Conditional Access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_account: Option<AdminAccountCredentials>,

    /// Sign in as an app registration (client credentials) with a client secret, a certificate or
    /// workload identity federation. The app needs the
    /// Graph application permissions `TeamsTelephoneNumber.ReadWrite.All` and `User.Read.All` (or
    /// `User.ReadWrite.All`, `Directory.Read.All`, `Directory.ReadWrite.All`), granted by admin
    /// consent; no user account, MFA or admin roles are involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationCredentials>,
}

/// Password sign-in as the Teams admin user.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdminAccountCredentials {
    /// The Secret, in this resource's namespace, that holds the admin's sign-in name and password.
    pub secret_ref: AdminSecretRef,

    /// Application (client) ID of the public client app registration used for the password
    /// sign-in, a GUID.
    #[schemars(pattern(schema::GUID))]
    pub client_id: String,
}

/// Where the admin account's sign-in name and password are stored.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdminSecretRef {
    /// Name of the Secret in this resource's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Key of the sign-in name (`dialpad-msteams-admin@<domain>`) in the Secret.
    #[serde(default = "default_username_key")]
    #[schemars(length(min = 1))]
    pub username_key: String,

    /// Key of the password in the Secret.
    #[serde(default = "default_password_key")]
    #[schemars(length(min = 1))]
    pub password_key: String,
}

fn default_username_key() -> String {
    "username".to_owned()
}

fn default_password_key() -> String {
    "password".to_owned()
}

/// App-only sign-in as an app registration (client credentials). Exactly one way to prove the
/// app's identity is set: a client secret, a certificate, or workload identity federation.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[has(self.secretRef), has(self.certificate), has(self.workloadIdentity)].filter(x, x).size() == 1").message("set exactly one of secretRef, certificate or workloadIdentity"))]
pub struct ApplicationCredentials {
    /// Application (client) ID of the app registration, a GUID.
    #[schemars(pattern(schema::GUID))]
    pub client_id: String,

    /// The Secret, in this resource's namespace, that holds the app's client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,

    /// Sign in with a certificate registered on the app registration: the operator signs a
    /// short-lived client assertion with its private key, so no secret travels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateCredentials>,

    /// Sign in with no stored secret (workload identity federation): a Kubernetes ServiceAccount
    /// token with the audience `api://AzureADTokenExchange` is exchanged for an Entra token. The
    /// app registration needs a federated credential trusting the cluster's service account
    /// issuer and the ServiceAccount's subject (see the manual).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<WorkloadIdentityCredentials>,
}

impl ApplicationCredentials {
    /// The Secret key that holds the client secret.
    pub fn client_secret_key(&self) -> &str {
        self.secret_ref
            .as_ref()
            .and_then(|r| r.key.as_deref())
            .unwrap_or(DEFAULT_CLIENT_SECRET_KEY)
    }
}

/// A certificate and its private key in a Secret, for signing client assertions.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateCredentials {
    /// The Secret, in this resource's namespace, that holds the certificate and its key: a
    /// `kubernetes.io/tls` Secret (`kubectl create secret tls`), or any Secret with those keys.
    pub secret_ref: TlsSecretRef,

    /// The signature algorithm of the client assertion: PS256 (the default, with the SHA-256
    /// thumbprint in `x5t#S256`, as Microsoft's certificate credentials page documents today) or
    /// RS256 (with the SHA-1 thumbprint in `x5t`, what MSAL sends: the compatible choice).
    #[serde(default)]
    pub algorithm: AssertionAlgorithm,
}

/// Where a certificate and its private key are stored.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TlsSecretRef {
    /// Name of the Secret in this resource's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Key of the PEM certificate (the first certificate in it is the app's).
    #[serde(default = "default_certificate_key")]
    #[schemars(length(min = 1))]
    pub certificate_key: String,

    /// Key of the PEM private key (PKCS#8 or PKCS#1 RSA).
    #[serde(default = "default_private_key_key")]
    #[schemars(length(min = 1))]
    pub private_key_key: String,
}

fn default_certificate_key() -> String {
    "tls.crt".to_owned()
}

fn default_private_key_key() -> String {
    "tls.key".to_owned()
}

/// The signature algorithm of a certificate's client assertion, and with it the thumbprint header
/// the assertion carries (`microsoft::assertion` cites Microsoft's pages for each pairing).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AssertionAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, sent with the SHA-1 thumbprint in `x5t`.
    RS256,
    /// RSASSA-PSS with SHA-256, sent with the SHA-256 thumbprint in `x5t#S256`; the default.
    #[default]
    PS256,
}

/// Workload identity federation: whose ServiceAccount token is exchanged.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadIdentityCredentials {
    /// A ServiceAccount in this resource's namespace. The operator mints a short-lived token for
    /// it (TokenRequest API), so the federated credential's subject is
    /// `system:serviceaccount:<this namespace>:<name>`. Leave unset to use the operator's own
    /// ServiceAccount token, which a platform admin allows only for some namespaces
    /// (`--operator-token-namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), pattern(schema::DNS_SUBDOMAIN))]
    pub service_account_name: Option<String>,
}

/// The default key of the client secret in an application's Secret.
pub const DEFAULT_CLIENT_SECRET_KEY: &str = "clientSecret";
