//! The answers to client assertions Entra refuses. Each names the Microsoft page its code and text
//! come from; UNCONFIRMED marks a code chosen as the closest documented one.
//!
//! Sources, cited by letter below:
//! - [R] "Microsoft Entra authentication and authorization error codes",
//!   https://learn.microsoft.com/entra/identity-platform/reference-error-codes
//!   (`MicrosoftDocs/entra-docs` `docs/identity-platform/reference-error-codes.md`).
//! - [J] "Troubleshoot service principal authentication" (Azure SDK for Java),
//!   https://learn.microsoft.com/azure/developer/java/sdk/troubleshooting-authentication-service-principal
//!   (its `ClientCertificateCredential` and `ClientAssertionCredential` tables).
//! - [D] Azure DevOps "Troubleshoot workload identity service connections",
//!   https://learn.microsoft.com/azure/devops/pipelines/release/troubleshoot-workload-identity
//!   (`MicrosoftDocs/azure-devops-docs` `docs/pipelines/release/includes/errors-workload-identity.md`).
//! - [C] "Important considerations and restrictions for federated identity credentials",
//!   https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations

use super::error::AadError;

/// Where Entra's federation messages send readers; part of the observed error text.
const FEDERATION_HELP: &str = "Please check your federated identity credential Subject, Audience and Issuer against the \
     presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";

/// The JWT could not be read: not three base64url parts, no JSON, an unknown `alg`.
/// AADSTS50027 InvalidJwtToken ("token format isn't proper") [R]. UNCONFIRMED: that Entra sends
/// this code (rather than e.g. 90014) for a malformed client assertion; the text is the sandbox's.
pub(super) fn malformed() -> AadError {
    AadError::bad("invalid_request", 50027, "JWT token is invalid or malformed.")
}

/// `client_assertion_type` is not the JWT bearer type. AADSTS90014 MissingRequiredField [R];
/// UNCONFIRMED which code Entra sends for a wrong type.
pub(super) fn wrong_assertion_type() -> AadError {
    AadError::bad(
        "invalid_request",
        90014,
        "The request body must contain the following parameter: 'client_assertion_type'. Its value must be \
         'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    )
}

/// Signature did not verify, the certificate is not registered, or its key is not found.
/// AADSTS700027 "Client assertion failed signature validation." [R]; [J] says to check that the
/// certificate is uploaded to the app registration. For a federated token signed by a key the
/// issuer does not publish the same code is UNCONFIRMED (the closest documented one).
pub(super) fn bad_signature(reason: &str) -> AadError {
    AadError::client(
        700027,
        format!("Client assertion failed signature validation. [Reason - {reason}]"),
    )
}

/// `exp`/`nbf` do not cover the current time. AADSTS700024 "Client assertion is not within its
/// valid time range" [D]; the times after it follow the shape Entra's answers carry (UNCONFIRMED
/// beyond [D]'s first sentence).
pub(super) fn out_of_time_range(now: &str, valid_from: &str, expiry: &str) -> AadError {
    AadError::client(
        700024,
        format!(
            "Client assertion is not within its valid time range. Current time: {now}, assertion valid from \
             {valid_from}, expiry time of assertion {expiry}."
        ),
    )
}

/// A `jti` presented again while its assertion is still valid. UNCONFIRMED: Microsoft documents
/// neither the check nor a code for it; AADSTS50013 InvalidAssertion ("Assertion is invalid
/// because of various reasons") [R] is the closest documented one.
pub(super) fn replayed() -> AadError {
    AadError::client(
        50013,
        "Assertion is invalid because of various reasons. The client assertion's jti has already been used.",
    )
}

/// `aud` is not this tenant's token endpoint. AADSTS700023 "Client assertion audience claim does
/// not match Realm issuer." [J] (the reference [R] lists 700023 as InvalidResourcelessScope, so
/// which one Entra sends today is UNCONFIRMED; [J] is the page about assertions).
pub(super) fn wrong_audience() -> AadError {
    AadError::client(
        700023,
        "Client assertion audience claim does not match Realm issuer. Review the documentation at \
         https://learn.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials.",
    )
}

/// `iss`/`sub` (equal) are not the `client_id` parameter. AADSTS700021 "Client assertion
/// application identifier doesn't match 'client_id' parameter." [J].
pub(super) fn client_id_mismatch() -> AadError {
    AadError::client(
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation \
         at https://learn.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials.",
    )
}

/// `iss` is the client but `sub` is something else. AADSTS50048 SubjectMismatchesIssuer
/// "Subject mismatches Issuer claim in the client assertion." [R].
pub(super) fn subject_mismatches_issuer() -> AadError {
    AadError::client(50048, "Subject mismatches Issuer claim in the client assertion.")
}

/// The app has no federated identity credential at all. AADSTS70025 "Client application has no
/// configured federated identity credentials" [D].
pub(super) fn no_federated_credentials(client_id: &str) -> AadError {
    AadError::client(
        70025,
        format!("Client application '{client_id}' has no configured federated identity credentials."),
    )
}

/// A federated token without `iss` or `sub` cannot match any record. AADSTS70021 "No matching
/// federated identity record found for presented assertion." [C], [D].
pub(super) fn no_matching_record(issuer: &str, subject: &str) -> AadError {
    AadError::client(
        70021,
        format!(
            "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. \
             Assertion Subject: '{subject}'."
        ),
    )
}

/// No federated credential has the token's `iss`. AADSTS700211 "No matching federated identity
/// record found for presented assertion issuer" [D].
pub(super) fn issuer_mismatch(issuer: &str) -> AadError {
    AadError::client(
        700211,
        format!(
            "No matching federated identity record found for presented assertion issuer '{issuer}'. {FEDERATION_HELP}"
        ),
    )
}

/// A credential has the issuer but none the token's `sub`. AADSTS700213 "No matching federated
/// identity record found for presented assertion subject" [D].
pub(super) fn subject_mismatch(subject: &str) -> AadError {
    AadError::client(
        700213,
        format!(
            "No matching federated identity record found for presented assertion subject '{subject}'. \
             {FEDERATION_HELP}"
        ),
    )
}

/// A credential has the token's `sub` only in other letter case. Microsoft's breaking change
/// "Federated identity credentials now use case-sensitive matching" (August 2024,
/// https://learn.microsoft.com/entra/identity-platform/reference-breaking-changes) made this a
/// failure; the code and text are AADSTS7002138 as answers quoted in Azure/login issues 515 and
/// 517 show them (UNCONFIRMED on a Microsoft page).
pub(super) fn subject_case_mismatch(subject: &str) -> AadError {
    AadError::client(
        7002138,
        format!(
            "No matching federated identity record found for presented assertion subject '{subject}'. The subject \
             matches with case-insensitive comparison, but not with case-sensitive comparison. {FEDERATION_HELP}"
        ),
    )
}

/// A credential has the issuer and subject but none an audience in the token's `aud`.
/// AADSTS700212 ("... presented assertion audience"). UNCONFIRMED: the code and text are from
/// answers quoted in public issues and SDK tests, not from a Microsoft page ([D] lists its siblings
/// 700211 and 700213 only).
pub(super) fn audience_mismatch(audience: &str) -> AadError {
    AadError::client(
        700212,
        format!(
            "No matching federated identity record found for presented assertion audience '{audience}'. \
             {FEDERATION_HELP}"
        ),
    )
}

/// The issuer's discovery document or JWKS could not be fetched (or named another issuer).
/// AADSTS50166 is ExternalClaimsProviderThrottled "Failed to send the request to the claims
/// provider." in [R]; a public AKS workload-identity troubleshooting guide (not a Microsoft Learn
/// page) quotes "AADSTS50166 request to external oidc endpoint failed". UNCONFIRMED: GitLab's
/// documentation quotes the same text as AADSTS501661; the sandbox follows [R]'s number.
pub(super) fn oidc_endpoint_failed() -> AadError {
    AadError::client(50166, "Request to External OIDC endpoint failed.")
}
