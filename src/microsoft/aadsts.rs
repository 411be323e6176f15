//! Sign-in failures: the token endpoint's AADSTS codes mapped to the tenant reasons of
//! DESIGN.md section 2, each with a message saying what the admin must change
//! (`docs/microsoft-graph-teams.md` sections 1.4 and 1.5).

use crate::api::Reason;

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

/// Codes a retry fixes (Entra's own "retryable" list, throttling and loop detection).
const TRANSIENT: &[u32] = &[50033, 90006, 90033, 90090, 50087, 90024, 90012, 90055, 50196];

/// Classifies a token-endpoint error from its OAuth `error`, its `error_codes` and its HTTP status.
pub fn classify(
    error: &str,
    codes: &[u32],
    status: u16,
    trace_id: Option<&str>,
    account: &str,
) -> SignInFailure {
    let code = codes.first().copied();
    let known = codes.iter().find_map(|c| describe(*c, account).map(|d| (*c, d)));
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

/// The reason and advice for a known non-transient code.
fn describe(code: u32, account: &str) -> Option<(Reason, String)> {
    let reason_and_advice = match code {
        50126 | 50056 | 50064 => (
            Reason::CredentialsInvalid,
            format!("the password for {account} was rejected; put the account's current password in the Secret."),
        ),
        50034 => (
            Reason::CredentialsInvalid,
            format!("{account} does not exist in this tenant; check the user name in the Secret and spec.tenant."),
        ),
        7000215 | 700027 => (
            Reason::CredentialsInvalid,
            "the app's client secret was rejected; put a current secret of this app registration in the Secret.".to_owned(),
        ),
        7000222 => (
            Reason::CredentialsInvalid,
            "the app's client secret has expired; create a new secret in Entra ID and update the Secret.".to_owned(),
        ),
        50076 | 50074 | 50158 => (
            Reason::MfaRequired,
            format!("{account} must pass multi-factor authentication, which password sign-in cannot do; exclude it from MFA in Conditional Access (or turn off per-user MFA), or use spec.credentials.application."),
        ),
        50079 | 50072 | 53004 => (
            Reason::MfaRequired,
            format!("{account} must register for multi-factor authentication (security defaults require it for Teams Administrators); turn off security defaults and exclude the account with Conditional Access, or use spec.credentials.application."),
        ),
        53003 | 530032 | 50131 | 53000 | 53001 | 53002 | 50005 => (
            Reason::SignInBlocked,
            format!("a Conditional Access policy blocked {account} (often a location rule); exclude the account, or allow sign-in from the operator's egress IPs (Dialpad requires at least North America)."),
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
        50055 | 50144 | 50133 | 50132 => (
            Reason::PasswordExpired,
            format!("the password of {account} has expired; set a new one, set it never to expire, and update the Secret."),
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
        700016 | 500011 => (
            Reason::ConsentMissing,
            "the app registration (client id) is not known in this tenant; check the client id, and that the app is registered or consented in this tenant.".to_owned(),
        ),
        7000218 => (
            Reason::ConsentMissing,
            "the app registration is a confidential client; turn on 'Allow public client flows' for password sign-in, or use spec.credentials.application with a client secret.".to_owned(),
        ),
        700025 => (
            Reason::ConsentMissing,
            "the app registration is a public client, so it must not be given a client secret; use spec.credentials.adminAccount or make it confidential.".to_owned(),
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
        classify("invalid_grant", codes, 400, None, "admin@contoso.com").reason
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
            (&[700016], Reason::ConsentMissing),
            (&[70002, 50126], Reason::CredentialsInvalid),
        ];
        for (codes, expected) in cases {
            assert_eq!(reason(codes), *expected, "{codes:?}");
        }
    }

    #[test]
    fn retryable_codes_and_server_errors_are_transient() {
        for failure in [
            classify("temporarily_unavailable", &[90033], 503, None, "a"),
            classify("invalid_request", &[50196], 400, None, "a"),
            classify("server_error", &[], 500, None, "a"),
        ] {
            assert_eq!(failure.reason, Reason::TransientError);
            assert!(failure.transient);
        }
    }

    #[test]
    fn unknown_codes_are_unknown_errors_with_the_code_and_trace_id() {
        let failure = classify("invalid_grant", &[12345], 400, Some("trace-1"), "a");
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
            400,
            None,
            "dialpad-msteams-admin@contoso.com",
        );
        assert!(failure.message.contains("dialpad-msteams-admin@contoso.com"));
        assert!(failure.message.contains("exclude it from MFA"));
    }
}
