//! Sign-in failures: the token endpoint's AADSTS codes mapped to the tenant reasons of
//! DESIGN.md section 2, each with a message saying what the admin must change
//! (`docs/microsoft-graph-teams.md` sections 1.4 and 1.5). Each code's meaning is Microsoft
//! Entra's own, from "Microsoft Entra authentication and authorization error codes"
//! (learn.microsoft.com/entra/identity-platform/reference-error-codes).

use serde::Deserialize;

use crate::api::Reason;
use crate::upstream::error::{QUOTED_CODE_CHARS, bounded};

/// What a failed sign-in means for the admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInFailure {
    /// The tenant reason (`AdminConnected=False`).
    pub reason: Reason,
    /// What happened and what to change; carries the AADSTS code and trace id, never a secret.
    pub message: String,
    /// The first AADSTS code, if any.
    pub code: Option<u32>,
    /// Whether a later attempt may succeed without anyone changing anything.
    pub transient: bool,
}

/// Entra's error answer, as its token and discovery endpoints send it; read leniently, so that a
/// body that is not one leaves every field empty.
#[derive(Debug, Default, Deserialize)]
pub struct EntraError {
    /// The OAuth error (`invalid_grant`, ...).
    #[serde(default)]
    pub error: String,
    /// The AADSTS codes.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// Entra's description, its words deciding where the code varies.
    #[serde(default)]
    pub error_description: String,
    /// The trace id an admin quotes to Microsoft support.
    #[serde(default)]
    pub trace_id: Option<String>,
}

impl EntraError {
    /// Reads an error answer's `body`; anything else reads as an error with every field empty.
    pub fn read(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// What it means for `account`, given the answer's HTTP `status` (see [`classify`]); Entra's
    /// error and trace id are quoted cut to [`QUOTED_CODE_CHARS`].
    pub fn classify(&self, status: u16, account: &str) -> SignInFailure {
        let trace_id = self.trace_id.as_deref().map(|id| bounded(id, QUOTED_CODE_CHARS));
        classify(
            &bounded(&self.error, QUOTED_CODE_CHARS),
            &self.error_codes,
            &self.error_description,
            status,
            trace_id.as_deref(),
            account,
        )
    }
}

/// Codes a retry fixes (Entra's own "retryable" list and throttling). Not 50196 (LoopDetected):
/// that is a client asking too often, which retrying sooner makes worse.
const TRANSIENT: &[u32] = &[50033, 90006, 90033, 90090, 50087, 90024, 90012, 90055];

/// Classifies a token-endpoint error from its OAuth `error`, its `error_codes`, its description
/// and its HTTP status.
///
/// `description` is Entra's `error_description`: where Microsoft varies the code for one failure
/// (the federated-credential family above all), its stable words decide when no code is known.
pub fn classify(
    error: &str,
    codes: &[u32],
    description: &str,
    status: u16,
    trace_id: Option<&str>,
    account: &str,
) -> SignInFailure {
    let code = codes.first().copied();
    let known = codes
        .iter()
        .find_map(|c| describe(*c, description, account).map(|d| (*c, d)))
        .or_else(|| described_by_words(description).map(|d| (code.unwrap_or_default(), d)));
    let (reason, advice, transient) = match known {
        Some((_, (reason, advice))) => (reason, advice, false),
        None if codes.iter().any(|c| TRANSIENT.contains(c))
            || error == "temporarily_unavailable"
            || status >= 500 =>
        {
            (
                Reason::TransientError,
                "Microsoft sign-in is temporarily unavailable; the operator retries with backoff.".to_owned(),
                true,
            )
        }
        None if error == "interaction_required" => (
            Reason::MfaRequired,
            format!(
                "{account} must complete an interactive step (MFA or consent) that password sign-in cannot do; exclude it from MFA or use spec.credentials.application."
            ),
            false,
        ),
        None => (
            Reason::UnknownError,
            format!(
                "Microsoft sign-in refused the request with '{error}'; look the code up at https://login.microsoftonline.com/error?code=<code>."
            ),
            false,
        ),
    };
    let mut message = match code {
        Some(code) => format!("AADSTS{code}: {advice}"),
        None => format!("{error}: {advice}"),
    };
    if let Some(trace) = trace_id {
        message.push_str(&format!(" (trace id {trace})"));
    }
    SignInFailure {
        reason,
        message,
        code,
        transient,
    }
}

/// What Entra's descriptions of the federated-credential and assertion failures say, in words
/// that stay when the code changes (the codes of one failure differ between reports: 700213,
/// 7002131, 7002137 and 7002138 all say "presented assertion subject"). The texts are those quoted
/// in the sources of [`describe`]'s codes. Most specific first.
const STABLE_WORDS: &[(&str, Failure)] = &[
    ("matches with case-insensitive comparison", Failure::SubjectCase),
    ("presented assertion subject", Failure::Subject),
    ("presented assertion issuer", Failure::Issuer),
    ("presented assertion audience", Failure::Audience),
    (
        "no configured federated identity credentials",
        Failure::NoFederatedCredential,
    ),
    (
        "no matching federated identity record found",
        Failure::NoFederatedCredential,
    ),
    ("external oidc endpoint", Failure::IssuerUnreachable),
    (
        "client assertion audience claim does not match",
        Failure::AssertionAudience,
    ),
    ("not within its valid time range", Failure::AssertionTime),
];

/// A failure that several codes (or none the operator knows) may carry.
#[derive(Clone, Copy)]
enum Failure {
    Subject,
    SubjectCase,
    Issuer,
    Audience,
    NoFederatedCredential,
    IssuerUnreachable,
    AssertionAudience,
    AssertionTime,
}

/// The reason and advice of a failure, whatever its code.
fn advise(failure: Failure) -> (Reason, String) {
    let (reason, advice) = match failure {
        Failure::NoFederatedCredential => (
            Reason::FederatedCredentialMissing,
            "the app registration has no federated credential for the operator's ServiceAccount token; add one (Certificates & secrets, Federated credentials, scenario Kubernetes) with the issuer, subject and audience that Microsoft's message quotes.",
        ),
        Failure::Issuer => (
            Reason::FederatedCredentialMismatch,
            "no federated credential of the app registration has the token's issuer; set the credential's issuer to the cluster's service account issuer exactly (for AKS: az aks show --query oidcIssuerProfile.issuerUrl).",
        ),
        Failure::Audience => (
            Reason::FederatedCredentialMismatch,
            "no federated credential of the app registration accepts the token's audience; set the credential's audience to api://AzureADTokenExchange, the audience of the operator's projected token.",
        ),
        Failure::Subject => (
            Reason::FederatedCredentialMismatch,
            "no federated credential of the app registration has the token's subject; set the credential's subject to system:serviceaccount:<namespace>:<ServiceAccount> of the token exactly (case-sensitive).",
        ),
        Failure::SubjectCase => (
            Reason::FederatedCredentialMismatch,
            "a federated credential of the app registration has the token's subject in other letter case, and Microsoft Entra compares subjects case-sensitively; write the credential's subject exactly as the token's, system:serviceaccount:<namespace>:<ServiceAccount>.",
        ),
        Failure::IssuerUnreachable => (
            Reason::FederatedIssuerUnreachable,
            "Microsoft Entra could not fetch the service account issuer's discovery document or signing keys to check the operator's token; serve <issuer>/.well-known/openid-configuration and its jwks_uri publicly over HTTPS.",
        ),
        Failure::AssertionAudience => (
            Reason::TenantNotFound,
            "Microsoft Entra refused the client assertion's audience, the token endpoint of the tenant the operator signed in to; check that spec.tenant.tenantId names this tenant and spec.endpoints.login its cloud's sign-in endpoint.",
        ),
        Failure::AssertionTime => (
            Reason::AssertionExpired,
            "the client assertion is not within its valid time range; the clock of the operator's node is wrong (synchronise it with NTP), or, with workload identity, the projected ServiceAccount token file was not renewed by the kubelet.",
        ),
    };
    (reason, advice.to_owned())
}

/// The reason and advice that Entra's `description` names in its stable words, if any.
fn described_by_words(description: &str) -> Option<(Reason, String)> {
    let description = description.to_lowercase();
    STABLE_WORDS
        .iter()
        .find(|(words, _)| description.contains(words))
        .map(|(_, failure)| advise(*failure))
}

/// The reason and advice for a known non-transient code (`description` tells apart the meanings
/// of a code Microsoft uses for more than one failure).
fn describe(code: u32, description: &str, account: &str) -> Option<(Reason, String)> {
    let reason_and_advice = match code {
        50126 | 50056 | 50064 => (
            Reason::CredentialsInvalid,
            format!("the password for {account} was rejected; put the account's current password in the Secret."),
        ),
        50034 => (
            Reason::CredentialsInvalid,
            format!("{account} does not exist in this tenant; check the user name in the Secret and spec.tenant."),
        ),
        // 7000215 "Invalid client secret is provided", 70002 InvalidClient "The specified
        // client_secret does not match the expected value for this client" (the reference).
        7000215 | 70002 => (
            Reason::CredentialsInvalid,
            "the app's client secret was rejected; put a current secret of this app registration in the Secret.".to_owned(),
        ),
        // Client assertion failed signature validation (the Entra error-code reference): the
        // certificate is not one registered on the app, or the key is not the certificate's. A
        // report on MicrosoftDocs/entra-docs (#1301) says Entra answered this to `x5t#S256` where
        // `x5t` worked (UNCONFIRMED by Microsoft), hence the hint at RS256, which sends `x5t`.
        700027 => (
            Reason::CertificateRejected,
            "the app's client assertion failed signature validation; the certificate the operator signs with is not registered on this app registration (or its key does not match); upload the Secret's certificate to the app registration (Certificates & secrets) or put a registered certificate's key pair in the Secret. If the certificate is registered, set spec.credentials.application.certificate.algorithm to RS256, which names it by its SHA-1 thumbprint (x5t).".to_owned(),
        ),
        // "Client assertion is not within its valid time range": Microsoft's workload identity
        // errors for Azure DevOps service connections (learn.microsoft.com/azure/devops,
        // "errors-workload-identity") and MSAL's certificate flows.
        700024 => advise(Failure::AssertionTime),
        // InvalidAssertion "Assertion is invalid because of various reasons - ... expired -
        // malformed" (the reference): the assertion or ServiceAccount token was refused as a whole.
        50013 => (
            Reason::AssertionExpired,
            "Microsoft Entra refused the assertion as invalid (expired, not yet valid, malformed or already used); check the clock of the operator's node (NTP) and, with workload identity, that the kubelet renews the projected ServiceAccount token file.".to_owned(),
        ),
        // The reference lists 700023 as InvalidResourcelessScope; the Azure SDK's troubleshooting
        // page for certificate credentials gives it as "Client assertion audience claim does not
        // match Realm issuer". Its words decide; a scope error is the operator's own, unknown.
        700023 => return described_by_words(description),
        // "No matching federated identity record found for presented assertion. Assertion Issuer:
        // ... Subject: ... Audience: ..." (Azure Workload Identity's troubleshooting guide,
        // azure.github.io/azure-workload-identity/docs/troubleshooting.html): the app has no
        // federated credential for this token. Entra's text carries the token's values.
        // AADSTS70025: the app "has no configured federated identity credentials" (Azure DevOps'
        // workload identity troubleshooting, learn.microsoft.com/azure/devops/pipelines/release/
        // troubleshoot-workload-identity).
        70021 | 70025 => advise(Failure::NoFederatedCredential),
        // The issuer / audience / subject variants of the same failure, as workload identity
        // users report them: AADSTS700211 "... presented assertion issuer '...'", AADSTS7002121
        // "... presented assertion audience '...'", AADSTS700213 "... presented assertion
        // subject '...'" (matching is case-sensitive). 700212 and 7002131 are the audience and
        // subject codes seen in other reports; UNCONFIRMED which of each pair Entra sends today,
        // so the words of the description ([`STABLE_WORDS`]) decide for any code not listed.
        700211 => advise(Failure::Issuer),
        700212 | 7002121 => advise(Failure::Audience),
        700213 | 7002131 => advise(Failure::Subject),
        // AADSTS7002137 "No matching federated identity record found for presented assertion
        // subject '...'. Please make sure the federated identity credential Subject is '...'"
        // (an answer quoted in microsoft/Agents issue 202).
        7002137 => advise(Failure::Subject),
        // AADSTS7002138 "... presented assertion subject '...'. The subject matches with
        // case-insensitive comparison, but not with case-sensitive comparison" (answers quoted in
        // Azure/login issues 515 and 517; Microsoft's breaking change "Federated identity
        // credentials now use case-sensitive matching", learn.microsoft.com/entra/
        // identity-platform/reference-breaking-changes, August 2024).
        7002138 => advise(Failure::SubjectCase),
        // AADSTS50166 ExternalClaimsProviderThrottled "Failed to send the request to the claims
        // provider" (the reference); for workload identity its text is "Request to External OIDC
        // endpoint failed" (a public AKS workload identity troubleshooting guide). GitLab's
        // documentation quotes the same text as AADSTS501661 (not in the reference: UNCONFIRMED).
        50166 | 501661 => advise(Failure::IssuerUnreachable),
        // InvalidClientSecretExpiredKeysProvided (the reference).
        7000222 => (
            Reason::CredentialsInvalid,
            "the app's client secret has expired; create a new secret in Entra ID and update the Secret.".to_owned(),
        ),
        50078 => (
            Reason::MfaRequired,
            format!("the multi-factor authentication of {account} has expired under the tenant's policies and must be done again, which password sign-in cannot do; exclude the account from MFA in Conditional Access, or use spec.credentials.application."),
        ),
        50076 | 50074 | 50158 => (
            Reason::MfaRequired,
            format!("{account} must pass multi-factor authentication, which password sign-in cannot do; exclude it from MFA in Conditional Access (or turn off per-user MFA), or use spec.credentials.application."),
        ),
        50079 | 50072 | 53004 => (
            Reason::MfaRequired,
            format!("{account} must register for multi-factor authentication (security defaults require it for Teams Administrators); turn off security defaults and exclude the account with Conditional Access, or use spec.credentials.application."),
        ),
        53003 | 530032 | 50131 => (
            Reason::SignInBlocked,
            format!("a Conditional Access policy blocked {account} (often a location rule); exclude the account, or allow sign-in from the operator's egress IPs (Dialpad requires at least North America)."),
        ),
        // DeviceNotCompliant, DeviceNotDomainJoined, ApplicationUsedIsNotAnApprovedApp and
        // DevicePolicyError (the reference): a policy that wants a managed device or an approved
        // app, which a service signing in with a password never is.
        53000 | 53001 | 53002 | 50005 => (
            Reason::SignInBlocked,
            format!("a Conditional Access policy requires a compliant or domain-joined device, or an approved client app, for {account}, which the operator cannot be; exclude the account from that policy, or use spec.credentials.application."),
        ),
        53011 => (
            Reason::SignInBlocked,
            format!("Microsoft Entra ID Protection blocked {account} because of sign-in risk in its home tenant; an admin must review the risk (Identity Protection, risky users) and remediate or dismiss it."),
        ),
        530035 => (
            Reason::SignInBlocked,
            format!("security defaults blocked the sign-in of {account}; turn off security defaults and use Conditional Access with an exclusion, or use spec.credentials.application."),
        ),
        50057 => (Reason::AccountDisabled, format!("{account} is disabled; enable it in Entra ID.")),
        50053 => (
            Reason::AccountDisabled,
            format!("{account} is locked (too many wrong passwords, or sign-in from a blocked IP); unlock it in Entra ID and check the password in the Secret."),
        ),
        50055 | 50144 => (
            Reason::PasswordExpired,
            format!("the password of {account} has expired; set a new one, set it never to expire, and update the Secret."),
        ),
        // SsoArtifactInvalidOrExpired / SsoArtifactRevoked: expired *or recently changed*.
        50132 | 50133 => (
            Reason::PasswordExpired,
            format!("the password of {account} has expired or was changed recently; put its current password in the Secret (and set it never to expire)."),
        ),
        50135 => (
            Reason::PasswordExpired,
            format!("{account} must change its password (risk detected); set a new one and update the Secret."),
        ),
        90002 | 50059 | 50128 | 900023 => (
            Reason::TenantNotFound,
            "the tenant is not known to Microsoft; set spec.tenant.tenantId to the tenant's GUID or a verified domain.".to_owned(),
        ),
        9001023 | 90124 | 90130 => (
            Reason::TenantNotFound,
            "this sign-in needs a specific tenant, not 'common' or 'consumers'; set spec.tenant.tenantId to the tenant's GUID or verified domain.".to_owned(),
        ),
        65001 | 65004 | 90094 => (
            Reason::ConsentMissing,
            "the app registration lacks admin consent for Microsoft Graph; a Global Administrator must grant admin consent to it.".to_owned(),
        ),
        // UnauthorizedClient_DoesNotMatchRequest / UnauthorizedClientAppNotFoundInOrgIdTenant.
        700016 | 700011 => (
            Reason::AppNotFound,
            "the app registration (client id) was not found in this tenant; check the client id, and that the app is registered in this tenant or consented to by one of its admins.".to_owned(),
        ),
        // InvalidResourceServicePrincipalNotFound: the *resource* (Microsoft Graph) is unknown.
        500011 => (
            Reason::TenantNotFound,
            "the resource principal (Microsoft Graph) was not found in this tenant: the sign-in went to the wrong tenant, or asked for the wrong resource or scope; check spec.tenant.tenantId (a tenant of Microsoft's global service).".to_owned(),
        ),
        // UnauthorizedClient (application disabled) / UnauthorizedClientApplicationDisabled.
        70001 | 7000112 => (
            Reason::AppDisabled,
            "the app registration is disabled in this tenant; enable its enterprise application for sign-in in Microsoft Entra ID.".to_owned(),
        ),
        // EntitlementGrantsNotFound: the app requires assignment.
        50105 => (
            Reason::AccountNotAssigned,
            format!("{account} is not assigned to the app registration, which requires assignment; assign the account to the enterprise application (Users and groups) or set 'Assignment required' to No."),
        ),
        // UserUnauthorized: an account of another identity provider (for example a guest).
        50020 => (
            Reason::AccountNameInvalid,
            format!("{account} is an account from another identity provider (for example a guest) and cannot sign in to this tenant this way; use a member account of this tenant, dialpad-msteams-admin@<spec.tenant.domain>."),
        ),
        // LoopDetected: the client asked for tokens too often; not fixed by asking again sooner.
        50196 => (
            Reason::UnknownError,
            "Microsoft sign-in detected a client loop (the operator asked for tokens too often); the operator waits for its next scheduled sync instead of retrying; if this repeats, report it with the trace id.".to_owned(),
        ),
        7000218 => (
            Reason::ConsentMissing,
            "the app registration is a confidential client; turn on 'Allow public client flows' for password sign-in, or use spec.credentials.application with a client secret.".to_owned(),
        ),
        // InvalidClientPublicClientWithCredential "Client is public so neither 'client_assertion'
        // nor 'client_secret' should be presented" (the reference).
        700025 => (
            Reason::ConsentMissing,
            "the app registration is a public client, so Microsoft refuses any client credential (a client secret, a certificate or a ServiceAccount token); turn off 'Allow public client flows' on it to use spec.credentials.application, or sign in with spec.credentials.adminAccount.".to_owned(),
        ),
        650052 | 650056 | 650057 => (
            Reason::ConsentMissing,
            "the app registration is misconfigured for Microsoft Graph (missing service or invalid resource); check its API permissions and grant admin consent.".to_owned(),
        ),
        _ => return None,
    };
    Some(reason_and_advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(codes: &[u32]) -> Reason {
        classify("invalid_grant", codes, "", 400, None, "admin@contoso.com").reason
    }

    #[test]
    fn each_documented_code_maps_to_its_tenant_reason() {
        let cases: &[(&[u32], Reason)] = &[
            (&[50126], Reason::CredentialsInvalid),
            (&[50034], Reason::CredentialsInvalid),
            (&[7000215], Reason::CredentialsInvalid),
            (&[7000222], Reason::CredentialsInvalid),
            (&[50076], Reason::MfaRequired),
            (&[50079], Reason::MfaRequired),
            (&[53003], Reason::SignInBlocked),
            (&[530035], Reason::SignInBlocked),
            (&[50057], Reason::AccountDisabled),
            (&[50053], Reason::AccountDisabled),
            (&[50055], Reason::PasswordExpired),
            (&[90002], Reason::TenantNotFound),
            (&[90124], Reason::TenantNotFound),
            (&[65001], Reason::ConsentMissing),
            (&[7000218], Reason::ConsentMissing),
            (&[700016], Reason::AppNotFound),
            (&[700011], Reason::AppNotFound),
            (&[500011], Reason::TenantNotFound),
            (&[70002], Reason::CredentialsInvalid),
            (&[700027], Reason::CertificateRejected),
            (&[700024], Reason::AssertionExpired),
            (&[70021], Reason::FederatedCredentialMissing),
            (&[70025], Reason::FederatedCredentialMissing),
            (&[700211], Reason::FederatedCredentialMismatch),
            (&[7002121], Reason::FederatedCredentialMismatch),
            (&[700212], Reason::FederatedCredentialMismatch),
            (&[7002131], Reason::FederatedCredentialMismatch),
            (&[700213], Reason::FederatedCredentialMismatch),
            (&[50078], Reason::MfaRequired),
            (&[50105], Reason::AccountNotAssigned),
            (&[70001], Reason::AppDisabled),
            (&[7000112], Reason::AppDisabled),
            (&[53011], Reason::SignInBlocked),
            (&[50020], Reason::AccountNameInvalid),
            (&[50132], Reason::PasswordExpired),
            (&[50133], Reason::PasswordExpired),
            (&[70002, 50126], Reason::CredentialsInvalid),
            (&[7002137], Reason::FederatedCredentialMismatch),
            (&[7002138], Reason::FederatedCredentialMismatch),
            (&[50166], Reason::FederatedIssuerUnreachable),
            (&[501661], Reason::FederatedIssuerUnreachable),
            (&[50013], Reason::AssertionExpired),
            (&[53000], Reason::SignInBlocked),
            (&[700025], Reason::ConsentMissing),
        ];
        for (codes, expected) in cases {
            assert_eq!(reason(codes), *expected, "{codes:?}");
        }
    }

    #[test]
    fn retryable_codes_and_server_errors_are_transient() {
        for failure in [
            classify("temporarily_unavailable", &[90033], "", 503, None, "a"),
            classify("server_error", &[], "", 500, None, "a"),
        ] {
            assert_eq!(failure.reason, Reason::TransientError);
            assert!(failure.transient);
        }
    }

    #[test]
    fn unknown_codes_are_unknown_errors_with_the_code_and_trace_id() {
        let failure = classify("invalid_grant", &[12345], "", 400, Some("trace-1"), "a");
        assert_eq!(failure.reason, Reason::UnknownError);
        assert!(
            failure.message.starts_with("AADSTS12345: "),
            "{}",
            failure.message
        );
        assert!(
            failure.message.ends_with("(trace id trace-1)"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn messages_tell_the_admin_what_to_change() {
        let failure = classify(
            "invalid_grant",
            &[50076],
            "",
            400,
            None,
            "dialpad-msteams-admin@contoso.com",
        );
        assert!(failure.message.contains("dialpad-msteams-admin@contoso.com"));
        assert!(failure.message.contains("exclude it from MFA"));
    }

    #[test]
    fn a_client_loop_is_not_retried_sooner() {
        let failure = classify("invalid_request", &[50196], "", 400, None, "a");
        assert!(!failure.transient);
        assert_ne!(failure.reason, Reason::TransientError);
        assert!(failure.message.contains("client loop"), "{}", failure.message);
    }

    #[test]
    fn the_resource_principal_not_found_points_at_the_tenant_not_the_client_id() {
        let message = classify("invalid_resource", &[500011], "", 400, None, "a").message;
        assert!(message.contains("Microsoft Graph"), "{message}");
        assert!(message.contains("wrong tenant"), "{message}");
        assert!(!message.contains("client id"), "{message}");
    }

    #[test]
    fn a_failed_client_assertion_is_about_the_certificate_not_a_secret() {
        let message = classify("invalid_client", &[700027], "", 401, None, "a").message;
        assert!(message.contains("client assertion"), "{message}");
        assert!(!message.contains("client secret"), "{message}");
    }

    #[test]
    fn a_failed_client_assertion_points_at_rs256_the_compatible_algorithm() {
        let message = classify("invalid_client", &[700027], "", 401, None, "a").message;
        assert!(message.contains("certificate.algorithm to RS256"), "{message}");
    }

    #[test]
    fn a_recently_changed_password_is_named_as_such() {
        let message = classify("invalid_grant", &[50133], "", 400, None, "admin@contoso.com").message;
        assert!(message.contains("changed recently"), "{message}");
    }

    #[test]
    fn an_unknown_code_is_read_by_the_stable_words_of_its_description() {
        let cases = [
            (
                "AADSTS7009999: No matching federated identity record found for presented assertion issuer 'https://x'.",
                Reason::FederatedCredentialMismatch,
                "issuer",
            ),
            (
                "AADSTS7009999: No matching federated identity record found for presented assertion subject 'system:serviceaccount:a:B'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
                Reason::FederatedCredentialMismatch,
                "case",
            ),
            (
                "AADSTS7009999: No matching federated identity record found for presented assertion audience 'x'.",
                Reason::FederatedCredentialMismatch,
                "audience",
            ),
            (
                "AADSTS7009999: Request to External OIDC endpoint failed.",
                Reason::FederatedIssuerUnreachable,
                "jwks_uri",
            ),
            (
                "AADSTS7009999: Client assertion audience claim does not match Realm issuer.",
                Reason::TenantNotFound,
                "spec.tenant.tenantId",
            ),
        ];
        for (description, reason, named) in cases {
            let failure = classify("invalid_client", &[7009999], description, 401, None, "a");
            assert_eq!(failure.reason, reason, "{description}");
            assert!(failure.message.contains(named), "{}", failure.message);
            assert!(
                failure.message.starts_with("AADSTS7009999: "),
                "{}",
                failure.message
            );
        }
        let unrelated = classify(
            "invalid_client",
            &[7009999],
            "AADSTS7009999: Something new.",
            401,
            None,
            "a",
        );
        assert_eq!(unrelated.reason, Reason::UnknownError);
    }

    #[test]
    fn a_code_with_two_meanings_is_told_apart_by_its_words() {
        let scope = classify(
            "invalid_scope",
            &[700023],
            "AADSTS700023: The provided value for the input parameter scope isn't valid when requesting an access token.",
            400,
            None,
            "a",
        );
        assert_eq!(scope.reason, Reason::UnknownError);
        let audience = classify(
            "invalid_client",
            &[700023],
            "AADSTS700023: Client assertion audience claim does not match Realm issuer.",
            401,
            None,
            "a",
        );
        assert_eq!(audience.reason, Reason::TenantNotFound);
    }

    #[test]
    fn a_device_compliance_block_says_so_not_location() {
        let message = classify(
            "interaction_required",
            &[53000],
            "",
            400,
            None,
            "admin@contoso.com",
        )
        .message;
        assert!(message.contains("compliant or domain-joined device"), "{message}");
        assert!(!message.contains("location"), "{message}");
    }
}
