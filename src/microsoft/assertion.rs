//! Client assertions for certificate credentials: a short-lived JWT the app signs with the private
//! key of a certificate registered on its app registration, sent instead of a client secret.
//!
//! The claims and header follow Microsoft's "Microsoft identity platform application
//! authentication certificate credentials"
//! (https://learn.microsoft.com/entra/identity-platform/certificate-credentials, section
//! "Assertion format", tables "Header" and "Claims (payload)"): `aud` the token endpoint, `iss`
//! and `sub` the client id, `jti` unique, `nbf`, `iat` and a short `exp`; `typ` JWT. The header
//! depends on the algorithm, each with the thumbprint header Microsoft documents beside it:
//!
//! - **PS256** (the default) with `x5t#S256`, the base64url SHA-256 thumbprint of the
//!   certificate's DER: the page's current "Header" table says `alg` "Should be PS256" and names
//!   `x5t#S256`, and its "Signature" section says to use PSS padding.
//! - **RS256** with `x5t`, the base64url SHA-1 thumbprint of the DER: the same page's earlier
//!   version (learn.microsoft.com/previous-versions/azure/active-directory/develop/certificate-credentials,
//!   "Assertion format", "Header") said `alg` "Should be RS256" and `x5t` SHA-1, which is what
//!   MSAL sends. A pull request on `MicrosoftDocs/entra-docs` (#1301, "Update
//!   certificate-credentials.md") reports AADSTS700027 for `x5t#S256` where `x5t` worked; it is
//!   one report, not Microsoft's statement. UNCONFIRMED: whether Entra today accepts RS256 with
//!   `x5t#S256` or PS256 with `x5t` (the page shows only the pairs above); `algorithm` chooses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use crate::api::AssertionAlgorithm;

/// How long a signed assertion is valid. Each token request signs a fresh one, so this only has
/// to cover the request itself (Microsoft's examples use ten minutes).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Why a certificate and key cannot sign assertions; each names the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateProblem {
    /// The certificate text is not a PEM X.509 certificate.
    #[error(
        "the certificate is not a PEM X.509 certificate ({0}); put the certificate as PEM ('-----BEGIN CERTIFICATE-----'), e.g. kubectl create secret tls <name> --cert=app.crt --key=app.key"
    )]
    CertificateUnreadable(String),
    /// The certificate's key is not RSA.
    #[error(
        "the certificate's key is {0}, not RSA; Microsoft Entra signs client assertions with RSA (RS256 or PS256): create an RSA certificate"
    )]
    NotRsa(String),
    /// The private key is not a PEM RSA key.
    #[error(
        "the private key is not a PEM RSA private key (PKCS#8 'PRIVATE KEY' or PKCS#1 'RSA PRIVATE KEY', unencrypted); export the key without a passphrase"
    )]
    KeyUnreadable,
    /// The private key does not belong to the certificate.
    #[error(
        "the private key does not belong to the certificate ({thumbprints}); put the certificate's own key pair in the Secret"
    )]
    KeyMismatch {
        /// The certificate's thumbprints.
        thumbprints: Thumbprints,
    },
    /// The certificate is past its end date.
    #[error(
        "the certificate ({thumbprints}) expired at {not_after}; create a new certificate, upload it to the app registration and put it with its key in the Secret"
    )]
    Expired {
        /// The certificate's thumbprints.
        thumbprints: Thumbprints,
        /// Its end date.
        not_after: String,
    },
}

/// A certificate's thumbprints in upper-case hex, for messages. Printed labelled, SHA-1 first:
/// "thumbprint SHA-1 AB12... (as the Entra admin center shows it), SHA-256 CD34...".
///
/// The admin center's **Certificates & secrets** page lists a certificate by a 40-digit hex
/// thumbprint; Graph's `keyCredential` ("keyCredential resource type",
/// https://learn.microsoft.com/graph/api/resources/keycredential, "Properties") says its
/// `customKeyIdentifier` is 40 characters and defaults to the certificate's thumbprint. 40 hex
/// digits are a SHA-1 digest; UNCONFIRMED: no Microsoft page we found names the hash the portal
/// shows, so both are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbprints {
    /// SHA-1 of the certificate's DER, hex.
    pub sha1_hex: String,
    /// SHA-256 of the certificate's DER, hex.
    pub sha256_hex: String,
}

impl std::fmt::Display for Thumbprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "thumbprint SHA-1 {} (as the Entra admin center shows it), SHA-256 {}",
            self.sha1_hex, self.sha256_hex
        )
    }
}

/// Upper-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Signs client assertions with one certificate's private key. Holds the key; never printed.
pub struct CertificateSigner {
    key: EncodingKey,
    algorithm: Algorithm,
    /// base64url SHA-256 of the certificate's DER, for the `x5t#S256` header (PS256).
    x5t_s256: String,
    /// base64url SHA-1 of the certificate's DER, for the `x5t` header (RS256).
    x5t_sha1: String,
    /// The certificate's thumbprints in hex, for messages.
    pub thumbprints: Thumbprints,
    /// When the certificate stops being valid (seconds since the epoch).
    pub not_after: i64,
}

impl std::fmt::Debug for CertificateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateSigner")
            .field("thumbprint_sha256", &self.thumbprints.sha256_hex)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct AssertionClaims {
    aud: String,
    iss: String,
    sub: String,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

impl CertificateSigner {
    /// Reads the first certificate of `certificate_pem` and the RSA key of `key_pem`, checking
    /// that the key is the certificate's and that the certificate has not expired at `now`.
    pub fn from_pem(
        certificate_pem: &str,
        key_pem: &str,
        algorithm: AssertionAlgorithm,
        now: SystemTime,
    ) -> Result<Self, CertificateProblem> {
        // The parsers' own messages can quote what they read (a label, a byte), and the key names
        // any value of any Secret: only fixed descriptions go into the message.
        let unreadable = |what: &str| CertificateProblem::CertificateUnreadable(what.to_owned());
        let (_, pem) = parse_x509_pem(certificate_pem.as_bytes())
            .map_err(|_| unreadable("no PEM block that decodes"))?;
        if pem.label != "CERTIFICATE" {
            return Err(unreadable("the first PEM block is not a CERTIFICATE"));
        }
        let certificate = pem
            .parse_x509()
            .map_err(|_| unreadable("the CERTIFICATE block is not valid X.509"))?;
        let sha256 = Sha256::digest(&pem.contents);
        let sha1 = Sha1::digest(&pem.contents);
        let thumbprints = Thumbprints {
            sha1_hex: hex(&sha1),
            sha256_hex: hex(&sha256),
        };
        let spki = certificate.public_key();
        let public_key = match spki.parsed() {
            Ok(PublicKey::RSA(_)) => DecodingKey::from_rsa_der(&spki.subject_public_key.data),
            Ok(PublicKey::EC(_)) => return Err(CertificateProblem::NotRsa("an elliptic-curve key".into())),
            _ => {
                return Err(CertificateProblem::NotRsa(format!(
                    "of type {}",
                    spki.algorithm.algorithm
                )));
            }
        };
        let key =
            EncodingKey::from_rsa_pem(key_pem.as_bytes()).map_err(|_| CertificateProblem::KeyUnreadable)?;
        let algorithm = match algorithm {
            AssertionAlgorithm::RS256 => Algorithm::RS256,
            AssertionAlgorithm::PS256 => Algorithm::PS256,
        };
        let not_after = certificate.validity().not_after.timestamp();
        let signer = Self {
            key,
            algorithm,
            x5t_s256: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256),
            x5t_sha1: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha1),
            thumbprints,
            not_after,
        };
        if !signer.key_matches(&public_key) {
            return Err(CertificateProblem::KeyMismatch {
                thumbprints: signer.thumbprints.clone(),
            });
        }
        if not_after <= seconds_since_epoch(now) as i64 {
            return Err(CertificateProblem::Expired {
                thumbprints: signer.thumbprints.clone(),
                not_after: certificate.validity().not_after.to_string(),
            });
        }
        Ok(signer)
    }

    /// What identifies this signer for reuse of a cached token: the certificate's SHA-256
    /// thumbprint and algorithm (a new key pair always comes with a new certificate).
    pub fn fingerprint(&self) -> (&str, &str) {
        (&self.thumbprints.sha256_hex, algorithm_name(self.algorithm))
    }

    /// Whether the private key signs what the certificate's public key verifies.
    fn key_matches(&self, public_key: &DecodingKey) -> bool {
        let probe = AssertionClaims {
            aud: "probe".into(),
            iss: "probe".into(),
            sub: "probe".into(),
            jti: "probe".into(),
            nbf: 0,
            iat: 0,
            exp: u64::MAX / 2,
        };
        let Ok(token) = jsonwebtoken::encode(&Header::new(self.algorithm), &probe, &self.key) else {
            return false;
        };
        let mut validation = Validation::new(self.algorithm);
        validation.set_audience(&["probe"]);
        jsonwebtoken::decode::<AssertionClaims>(&token, public_key, &validation).is_ok()
    }

    /// A fresh assertion for `client_id` at the token endpoint `audience`, valid from `now` for
    /// [`ASSERTION_LIFETIME`], with a random `jti`.
    pub fn sign(&self, client_id: &str, audience: &str, now: SystemTime) -> Result<SecretString, String> {
        let issued = seconds_since_epoch(now);
        let claims = AssertionClaims {
            aud: audience.to_owned(),
            iss: client_id.to_owned(),
            sub: client_id.to_owned(),
            jti: random_jti(),
            nbf: issued,
            iat: issued,
            exp: issued + ASSERTION_LIFETIME.as_secs(),
        };
        let mut header = Header::new(self.algorithm);
        header.typ = Some("JWT".into());
        // Each algorithm with the thumbprint header Microsoft documents beside it (module docs).
        match self.algorithm {
            Algorithm::PS256 => header.x5t_s256 = Some(self.x5t_s256.clone()),
            _ => header.x5t = Some(self.x5t_sha1.clone()),
        }
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(SecretString::from)
            .map_err(|error| format!("signing the client assertion failed: {error}"))
    }
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::PS256 => "PS256",
        _ => "RS256",
    }
}

fn seconds_since_epoch(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random UUID-shaped identifier (version 4 layout).
fn random_jti() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
#[path = "assertion_tests.rs"]
mod tests;
