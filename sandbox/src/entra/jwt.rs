//! JWTs as Entra's token endpoint reads them before it trusts them: header and claims unverified
//! ([`UnverifiedJwt`]), the lifetime check with Entra's tolerance, and the Entra clock. Shared by
//! certificate assertions (`assertion.rs`), federated tokens (`federation.rs`) and the grants that
//! read their own tokens' claims (`grants.rs`).

use base64::Engine;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::Value;

use super::assertion_error as fail;
use super::error::AadError;

/// Tolerance on `exp`/`nbf`. UNCONFIRMED: Microsoft documents none for client assertions; five
/// minutes is the default clock skew of Microsoft's own token validation library
/// (Microsoft.IdentityModel `TokenValidationParameters.DefaultClockSkew`).
pub(super) const CLOCK_SKEW_SECONDS: i64 = 300;

/// A client assertion read without verification.
pub(super) struct UnverifiedJwt {
    /// The compact form, for verification.
    pub(super) raw: String,
    /// The header.
    pub(super) header: Header,
    /// The claims (a JSON object).
    pub(super) claims: Value,
}

impl UnverifiedJwt {
    /// Reads the header and claims; anything unreadable is a malformed assertion.
    pub(super) fn parse(raw: &str) -> Result<Self, AadError> {
        let header = jsonwebtoken::decode_header(raw).map_err(|_| fail::malformed())?;
        let claims = claims_of(raw)
            .filter(Value::is_object)
            .ok_or_else(fail::malformed)?;
        Ok(Self {
            raw: raw.to_owned(),
            header,
            claims,
        })
    }

    /// A string claim.
    pub(super) fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// `aud` as a list (a string or an array of strings).
    pub(super) fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this is a certificate credential: `iss` and `sub` present and equal.
    pub(super) fn is_certificate_credential(&self) -> bool {
        matches!((self.claim("iss"), self.claim("sub")), (Some(iss), Some(sub)) if iss.eq_ignore_ascii_case(sub))
    }

    /// Verifies the signature with `key` for one of `algorithms`; claims are checked separately.
    pub(super) fn verify(&self, key: &DecodingKey, algorithms: &[Algorithm]) -> Result<(), String> {
        if !algorithms.contains(&self.header.alg) {
            return Err(format!("The algorithm {:?} is not accepted.", self.header.alg));
        }
        let mut validation = Validation::new(self.header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(&self.raw, key, &validation)
            .map(|_| ())
            .map_err(|_| "The signature does not verify.".to_owned())
    }
}

/// The Entra clock: the host's plus the fixture's `entraClockSkewSeconds`.
pub(super) fn entra_now(skew_seconds: i64) -> i64 {
    Timestamp::now().as_second().saturating_add(skew_seconds)
}

/// Checks `exp` (required) and `nbf` (when present) against `now`, with [`CLOCK_SKEW_SECONDS`].
pub(super) fn check_lifetime(jwt: &UnverifiedJwt, now: i64) -> Result<i64, AadError> {
    let number = |name: &str| jwt.claims.get(name).and_then(Value::as_i64);
    let exp = number("exp");
    let nbf = number("nbf");
    let show = |seconds: Option<i64>| {
        seconds
            .and_then(|s| Timestamp::from_second(s).ok())
            .map(|t| t.to_string())
            .unwrap_or_else(|| "(none)".to_owned())
    };
    let valid = exp.is_some_and(|exp| now < exp.saturating_add(CLOCK_SKEW_SECONDS))
        && nbf.is_none_or(|nbf| nbf.saturating_sub(CLOCK_SKEW_SECONDS) <= now);
    match exp {
        Some(exp) if valid => Ok(exp),
        _ => Err(fail::out_of_time_range(&show(Some(now)), &show(nbf), &show(exp))),
    }
}

/// The payload of a JWT-shaped token.
pub(super) fn claims_of(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
