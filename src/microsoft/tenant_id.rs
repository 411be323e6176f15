//! A tenant's identity. A resource may name its tenant by GUID or by any verified domain
//! (`contoso.com`, `contoso.onmicrosoft.com`), and every spelling reaches the same directory; so
//! whatever must hold once per tenant (the one-owner claim) is keyed by the GUID. Microsoft's
//! sign-in serves an OpenID configuration document per tenant, addressed by GUID or domain
//! (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc, "Find your app's OpenID
//! configuration document URI": `{authority}/{tenant}/v2.0/.well-known/openid-configuration`, where
//! `{tenant}` is "the domain name of the Microsoft Entra tenant or the tenant ID in GUID
//! format"), whose `issuer` carries the GUID: `https://login.microsoftonline.com/{tenant id}/v2.0`
//! (learn.microsoft.com/entra/identity-platform/id-token-claims-reference, `iss`). The document is
//! public: reading it sends no credential.

use serde::Deserialize;

use super::aadsts::{EntraError, SignInFailure};
use crate::api::Reason;
use crate::upstream::{Idempotency, Service, UpstreamClient, read_json};

/// Whether `text` is a GUID (8-4-4-4-12 hexadecimal digits).
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, length)| group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The tenant GUID an OpenID configuration document's `issuer` names, in lower case.
pub fn guid_of_issuer(issuer: &str) -> Option<String> {
    let path = issuer.split_once("://")?.1.split_once('/')?.1;
    let tenant = path.split('/').next()?;
    is_guid(tenant).then(|| tenant.to_ascii_lowercase())
}

#[derive(Deserialize)]
struct Configuration {
    issuer: String,
}

/// The GUID of `tenant` (a GUID or a verified domain), asking the sign-in endpoint `login_base`
/// for the tenant's OpenID configuration when `tenant` is not a GUID already. `login_base` must
/// be an endpoint credentials may go to (see [`crate::upstream::allowed`]), although none is sent.
pub async fn tenant_guid(
    upstream: &UpstreamClient,
    login_base: &str,
    tenant: &str,
) -> Result<String, SignInFailure> {
    let tenant = tenant.trim();
    if is_guid(tenant) {
        return Ok(tenant.to_ascii_lowercase());
    }
    let endpoint = "GET /{tenant}/v2.0/.well-known/openid-configuration";
    let url = format!(
        "{}/{tenant}/v2.0/.well-known/openid-configuration",
        login_base.trim_end_matches('/')
    );
    let fetch = || async {
        let answer = upstream
            .call(endpoint, Idempotency::Idempotent, |http| http.get(&url))
            .await
            .map_err(Failure::from)?;
        if answer.is_success() {
            return Ok(answer);
        }
        let mut failure = EntraError::read(&answer.body).classify(answer.status, "the sign-in");
        failure.message = format!(
            "cannot look up tenant '{tenant}' (spec.tenant.tenantId): {}",
            failure.message
        );
        Err(Failure(failure))
    };
    let (configuration, _): (Configuration, _) = read_json(Service::Entra, endpoint, fetch)
        .await
        .map_err(|failure: Failure| failure.0)?;
    guid_of_issuer(&configuration.issuer).ok_or_else(|| SignInFailure {
        reason: Reason::UnknownError,
        message: format!(
            "the OpenID configuration of tenant '{tenant}' at {login_base} names no tenant ID in its issuer; check spec.endpoints.login"
        ),
        code: None,
        transient: false,
    })
}

/// A failure of the lookup, convertible from the upstream errors `read_json` returns.
struct Failure(SignInFailure);

impl From<crate::upstream::UpstreamError> for Failure {
    fn from(error: crate::upstream::UpstreamError) -> Self {
        Failure(transport(&error))
    }
}

fn transport(error: &crate::upstream::UpstreamError) -> SignInFailure {
    let transient = error.is_transient();
    SignInFailure {
        reason: if transient {
            Reason::TransientError
        } else {
            Reason::UnknownError
        },
        message: format!("cannot look up the tenant's ID: {error}"),
        code: None,
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_is_told_from_a_domain() {
        assert!(is_guid("9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34"));
        assert!(is_guid("9B5E2F1C-4D3A-4B8E-9F61-2C7D8E0A1B34"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert!(!is_guid("9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b3"));
        assert!(!is_guid("9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b3g"));
    }

    #[test]
    fn the_issuer_of_a_tenants_configuration_names_its_guid() {
        assert_eq!(
            guid_of_issuer("https://login.microsoftonline.com/9B5E2F1C-4D3A-4B8E-9F61-2C7D8E0A1B34/v2.0")
                .as_deref(),
            Some("9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34")
        );
        assert_eq!(
            guid_of_issuer("https://login.microsoftonline.com/{tenantid}/v2.0"),
            None
        );
        assert_eq!(guid_of_issuer("https://sts.windows.net/"), None);
    }
}
