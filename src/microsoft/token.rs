//! Signing in to Microsoft: password sign-in (ROPC) as the Teams admin, or client credentials as
//! an app (with a client secret, a certificate's signed assertion, or the operator's federated
//! ServiceAccount token). Tokens are cached and renewed shortly before they expire (with the
//! refresh token when there is one), so a sync signs in once, not once per call.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::aadsts::{EntraError, SignInFailure};
use super::assertion::CertificateSigner;
use super::federated::FederatedTokenSource;
use crate::api::Reason;
use crate::upstream::error::{QUOTED_TEXT_CHARS, bounded};
use crate::upstream::{Answer, Idempotency, Service, UpstreamClient, UpstreamError};

/// How the operator signs in.
#[derive(Clone)]
pub enum Credentials {
    /// ROPC as a user, through a public client app registration.
    Password {
        /// The public client's application id.
        client_id: String,
        /// The sign-in name. Read from a Secret, so never shown: messages use `account`.
        username: SecretString,
        /// The password.
        password: SecretString,
        /// Where the sign-in name is kept, for messages: "Secret telephony/teams-admin, key
        /// username".
        username_in: String,
        /// Who signs in, for messages: the name the spec requires when the Secret holds it, else
        /// "the account in" `username_in`.
        account: String,
    },
    /// Client credentials as an app registration.
    ClientSecret {
        /// The application id.
        client_id: String,
        /// The client secret.
        secret: SecretString,
    },
    /// Client credentials as an app registration, proved by an assertion signed with the
    /// private key of a certificate registered on the app.
    Certificate {
        /// The application id.
        client_id: String,
        /// The certificate's signer (holds the private key).
        signer: Arc<CertificateSigner>,
    },
    /// Client credentials as an app registration, proved by a Kubernetes ServiceAccount token
    /// (workload identity federation).
    WorkloadIdentity {
        /// The application id.
        client_id: String,
        /// Where the token comes from.
        token: Arc<dyn FederatedTokenSource>,
    },
}

/// The `client_assertion_type` of a JWT client assertion (RFC 7523), for certificates and
/// federated tokens alike.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Password {
                client_id, account, ..
            } => f
                .debug_struct("Password")
                .field("client_id", client_id)
                .field("account", account)
                .finish_non_exhaustive(),
            Credentials::ClientSecret { client_id, .. } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Credentials::Certificate { client_id, signer } => f
                .debug_struct("Certificate")
                .field("client_id", client_id)
                .field("thumbprint_sha256", &signer.thumbprints.sha256_hex)
                .finish_non_exhaustive(),
            Credentials::WorkloadIdentity { client_id, token } => f
                .debug_struct("WorkloadIdentity")
                .field("client_id", client_id)
                .field("token", &token.describe())
                .finish_non_exhaustive(),
        }
    }
}

impl Credentials {
    /// Who signs in, for messages: the admin account (never a value read from a Secret, see
    /// [`Credentials::Password::account`]) or the app's client id.
    pub fn principal(&self) -> String {
        match self {
            Credentials::Password { account, .. } => account.clone(),
            Credentials::ClientSecret { client_id, .. }
            | Credentials::Certificate { client_id, .. }
            | Credentials::WorkloadIdentity { client_id, .. } => format!("app {client_id}"),
        }
    }
}

/// What the operator learns from a token without calling anyone: the claims clients may read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct TokenClaims {
    /// Tenant id.
    #[serde(default)]
    pub tid: Option<String>,
    /// Object id of the signed-in user (delegated tokens).
    #[serde(default)]
    pub oid: Option<String>,
    /// Application permissions (app-only tokens).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Delegated scopes, space-separated.
    #[serde(default)]
    pub scp: Option<String>,
    /// The signed-in user's tenant-wide directory roles, as role template IDs (delegated tokens):
    /// "Denotes the tenant-wide roles assigned to this user, from the section of roles present in
    /// Microsoft Entra built-in roles" (learn.microsoft.com/entra/identity-platform/
    /// access-token-claims-reference, `wids`). Microsoft says a claim may be absent, and does not
    /// say whether roles held through a role-assignable group are listed (UNCONFIRMED), so a role
    /// missing here is looked up in Graph before it counts as missing.
    #[serde(default)]
    pub wids: Vec<String>,
}

impl TokenClaims {
    /// Reads the claims from a JWT's payload; `None` if the token is not a JWT.
    pub fn from_jwt(token: &str) -> Option<TokenClaims> {
        use base64::Engine;
        let payload = token.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A valid access token.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: SecretString,
    /// Its claims.
    pub claims: TokenClaims,
}

/// A token as cached, with when to renew it.
pub(crate) struct Cached {
    token: AccessToken,
    renew_at: Instant,
    refresh_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
    refresh_token: Option<String>,
}

/// The reasons whose Entra description names what the admin must register: the federated
/// token's issuer, subject and audience (never secret: they are the token's public claims).
const REASONS_QUOTING_ENTRA: &[Reason] = &[
    Reason::FederatedCredentialMissing,
    Reason::FederatedCredentialMismatch,
    Reason::FederatedIssuerUnreachable,
];

/// The first line of an Entra error description without its `AADSTSnnnnn: ` prefix, cut to
/// [`QUOTED_TEXT_CHARS`].
fn entra_said(description: &str) -> Option<String> {
    let line = description.lines().next()?.trim();
    let text = match line.split_once(": ") {
        Some((code, rest)) if code.starts_with("AADSTS") => rest,
        _ => line,
    };
    (!text.is_empty()).then(|| bounded(text, QUOTED_TEXT_CHARS))
}

/// The longest a token is kept, whatever lifetime the answer claims (Entra's last about an hour):
/// a token said to live longer is renewed after this, and the instant to renew it at can always
/// be computed.
pub const LONGEST_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Why a token endpoint answer gave no token.
pub(crate) enum TokenAnswerError {
    /// The sign-in was refused (a non-2xx answer), classified.
    SignIn(SignInFailure),
    /// A 2xx answer whose body is not a token response.
    Malformed(UpstreamError),
}

/// Reads the token endpoint's answer received at `now`: the token to cache, or why there is
/// none. `account` names who signed in, for messages. Also the fuzz targets' entry
/// (`crate::fuzzing`).
pub(crate) fn read_token_answer(
    answer: &Answer,
    endpoint: &str,
    account: &str,
    now: Instant,
) -> Result<Cached, TokenAnswerError> {
    if !answer.is_success() {
        let body = EntraError::read(&answer.body);
        let mut failure = body.classify(answer.status, account);
        if REASONS_QUOTING_ENTRA.contains(&failure.reason)
            && let Some(said) = entra_said(&body.error_description)
        {
            failure.message = format!("{} Microsoft said: {said}", failure.message);
        }
        return Err(TokenAnswerError::SignIn(failure));
    }
    let response: TokenResponse = answer
        .json(Service::Entra, endpoint)
        .map_err(TokenAnswerError::Malformed)?;
    let lifetime = Duration::from_secs(response.expires_in.unwrap_or(3599)).min(LONGEST_TOKEN_LIFETIME);
    let margin = Duration::from_secs(60).min(lifetime / 5);
    let claims = TokenClaims::from_jwt(&response.access_token).unwrap_or_default();
    Ok(Cached {
        token: AccessToken {
            secret: SecretString::from(response.access_token),
            claims,
        },
        renew_at: now + lifetime - margin,
        refresh_token: response.refresh_token.map(SecretString::from),
    })
}

/// Signs in to one tenant and keeps a token.
pub struct TokenClient {
    upstream: UpstreamClient,
    token_url: String,
    scope: String,
    credentials: Credentials,
    cache: Mutex<Option<Cached>>,
    sign_ins: std::sync::atomic::AtomicU32,
}

impl TokenClient {
    /// A client for `tenant` (GUID or domain) at `login_base` (e.g. `https://login.microsoftonline.com`),
    /// asking for Graph at `graph_base`.
    pub fn new(
        upstream: UpstreamClient,
        login_base: &str,
        tenant: &str,
        graph_base: &str,
        credentials: Credentials,
    ) -> Self {
        let token_url = format!("{}/{tenant}/oauth2/v2.0/token", login_base.trim_end_matches('/'));
        let mut scope = format!("{}/.default", graph_base.trim_end_matches('/'));
        if matches!(credentials, Credentials::Password { .. }) {
            scope.push_str(" offline_access");
        }
        Self {
            upstream,
            token_url,
            scope,
            credentials,
            cache: Mutex::new(None),
            sign_ins: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// How many times this client called the token endpoint.
    pub fn token_requests(&self) -> u32 {
        self.sign_ins.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A token valid for at least a minute more (or a fifth of its lifetime, if shorter),
    /// signing in or refreshing only when needed.
    pub async fn access_token(&self) -> Result<AccessToken, SignInFailure> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some(cached) = cache.as_ref().filter(|c| c.renew_at > now) {
            return Ok(cached.token.clone());
        }
        let refresh = cache.as_ref().and_then(|c| c.refresh_token.clone());
        let fresh = match refresh {
            Some(refresh_token) => match self.request(Some(&refresh_token)).await {
                Ok(fresh) => fresh,
                // A revoked or expired refresh token: sign in again from the credentials.
                Err(failure) if !failure.transient => self.request(None).await?,
                Err(failure) => return Err(failure),
            },
            None => self.request(None).await?,
        };
        let token = fresh.token.clone();
        *cache = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached token (after Graph rejected it), keeping the refresh token.
    pub async fn invalidate(&self) {
        if let Some(cached) = self.cache.lock().await.as_mut() {
            cached.renew_at = Instant::now();
        }
    }

    async fn request(&self, refresh_token: Option<&SecretString>) -> Result<Cached, SignInFailure> {
        self.sign_ins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let endpoint = "POST /oauth2/v2.0/token";
        // A federated token is fetched once per request (a minted one lives ten minutes or more),
        // before any call, so that one that cannot be had fails here.
        let federated = match &self.credentials {
            Credentials::WorkloadIdentity { token, .. } => Some(token.token().await?),
            _ => None,
        };
        let first = self.form(refresh_token, federated.as_ref())?;
        let retrying = std::sync::atomic::AtomicBool::new(false);
        let answer = self
            .upstream
            .call(endpoint, Idempotency::Idempotent, |http| {
                // A retry carries a freshly signed assertion (Entra refuses a jti it has seen, and
                // a retry may follow an attempt Entra did process).
                let attempt = if retrying.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    self.form(refresh_token, federated.as_ref())
                        .unwrap_or_else(|_| first.clone())
                } else {
                    first.clone()
                };
                http.post(&self.token_url).form(&attempt.fields())
            })
            .await
            .map_err(|error| self.transport_failure(&error))?;
        read_token_answer(&answer, endpoint, &self.credentials.principal(), Instant::now()).map_err(
            |failure| match failure {
                TokenAnswerError::SignIn(failure) => failure,
                TokenAnswerError::Malformed(error) => self.transport_failure(&error),
            },
        )
    }

    fn transport_failure(&self, error: &UpstreamError) -> SignInFailure {
        let reason = if error.is_transient() {
            Reason::TransientError
        } else {
            Reason::UnknownError
        };
        SignInFailure {
            reason,
            message: error.to_string(),
            code: None,
            transient: error.is_transient(),
        }
    }

    fn form(
        &self,
        refresh_token: Option<&SecretString>,
        federated: Option<&SecretString>,
    ) -> Result<TokenForm, SignInFailure> {
        let mut fields = vec![("scope", SecretString::from(self.scope.clone()))];
        let plain = |value: &str| SecretString::from(value.to_owned());
        match (&self.credentials, refresh_token) {
            (Credentials::Password { client_id, .. }, Some(refresh)) => {
                fields.push(("grant_type", plain("refresh_token")));
                fields.push(("client_id", plain(client_id)));
                fields.push(("refresh_token", refresh.clone()));
            }
            (
                Credentials::Password {
                    client_id,
                    username,
                    password,
                    ..
                },
                None,
            ) => {
                fields.push(("grant_type", plain("password")));
                fields.push(("client_id", plain(client_id)));
                fields.push(("username", username.clone()));
                fields.push(("password", password.clone()));
            }
            (Credentials::ClientSecret { client_id, secret }, _) => {
                fields.push(("grant_type", plain("client_credentials")));
                fields.push(("client_id", plain(client_id)));
                fields.push(("client_secret", secret.clone()));
            }
            (Credentials::Certificate { client_id, signer }, _) => {
                // A fresh assertion per request: each has its own jti and a short lifetime.
                let assertion = signer
                    .sign(client_id, &self.token_url, SystemTime::now())
                    .map_err(|message| SignInFailure {
                        reason: Reason::SecretInvalid,
                        message,
                        code: None,
                        transient: false,
                    })?;
                fields.push(("grant_type", plain("client_credentials")));
                fields.push(("client_id", plain(client_id)));
                fields.push(("client_assertion_type", plain(JWT_BEARER_ASSERTION)));
                fields.push(("client_assertion", assertion));
            }
            (Credentials::WorkloadIdentity { client_id, token }, _) => {
                let assertion = federated.cloned().ok_or_else(|| {
                    super::federated::token_unavailable(format!("no token from {}", token.describe()))
                })?;
                fields.push(("grant_type", plain("client_credentials")));
                fields.push(("client_id", plain(client_id)));
                fields.push(("client_assertion_type", plain(JWT_BEARER_ASSERTION)));
                fields.push(("client_assertion", assertion));
            }
        }
        Ok(TokenForm(fields))
    }
}

/// Form fields, all kept secret until the moment they are encoded.
#[derive(Clone)]
struct TokenForm(Vec<(&'static str, SecretString)>);

impl TokenForm {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (*name, value.expose_secret()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static str) -> Answer {
        Answer {
            status: 200,
            headers: Default::default(),
            body: bytes::Bytes::from_static(body.as_bytes()),
            request_id: None,
            attempts: 1,
        }
    }

    #[test]
    fn a_token_said_to_live_for_ever_is_renewed_within_a_day_not_a_panic() {
        // Found while writing the graph_parser fuzz target, and confirmed through it: an
        // expires_in of u64::MAX overflowed the instant to renew the token at.
        let now = Instant::now();
        let body = r#"{"access_token": "x", "expires_in": 18446744073709551615}"#;
        let Ok(cached) = read_token_answer(&answer(body), "POST /token", "admin@contoso.com", now) else {
            panic!("a 200 with an access token gives a token");
        };
        assert!(cached.renew_at <= now + LONGEST_TOKEN_LIFETIME);
        assert!(cached.renew_at > now + LONGEST_TOKEN_LIFETIME - Duration::from_secs(61));
    }

    #[test]
    fn entras_words_of_10_kb_are_quoted_cut_short() {
        let long = "d".repeat(10 * 1024);
        let body = serde_json::json!({
            "error": "e".repeat(10 * 1024),
            "error_codes": [700211],
            "error_description": format!("AADSTS700211: {long}"),
            "trace_id": "t".repeat(10 * 1024),
        });
        let mut refused = answer("");
        refused.status = 400;
        refused.body = bytes::Bytes::from(serde_json::to_vec(&body).unwrap());
        let Err(TokenAnswerError::SignIn(failure)) =
            read_token_answer(&refused, "POST /token", "app 1", Instant::now())
        else {
            panic!("a 400 is a refused sign-in");
        };
        assert_eq!(failure.reason, Reason::FederatedCredentialMismatch);
        assert!(
            failure.message.contains("Microsoft said: ddd"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("d…") && failure.message.contains("t…"),
            "{}",
            failure.message
        );
        assert!(failure.message.len() < 1500, "{} bytes", failure.message.len());
    }

    #[test]
    fn a_token_is_renewed_a_minute_before_it_expires() {
        let now = Instant::now();
        let body = r#"{"access_token": "x", "expires_in": 3599}"#;
        let Ok(cached) = read_token_answer(&answer(body), "POST /token", "admin@contoso.com", now) else {
            panic!("a 200 with an access token gives a token");
        };
        assert_eq!(cached.renew_at, now + Duration::from_secs(3599 - 60));
    }
}
