//! Workload identity federation: the operator's own ServiceAccount token, read from the projected
//! token file the kubelet keeps current, is the client assertion. The token proves the operator's
//! identity to every tenant that trusts its ServiceAccount, so it is only ever sent to Microsoft's
//! sign-in endpoints (or ones the operator's own flags add), never to an endpoint a resource names.

use std::path::PathBuf;

use secrecy::SecretString;

use super::aadsts::SignInFailure;
use crate::api::Reason;

/// The environment variable the Azure Workload Identity webhook sets to the projected token's
/// path (azure.github.io/azure-workload-identity, "Quick Start": `AZURE_FEDERATED_TOKEN_FILE`).
pub const TOKEN_FILE_VARIABLE: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// The audience Microsoft Entra expects of a federated token by default
/// (learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust).
pub const ENTRA_TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Microsoft Entra's sign-in endpoints: the global service, US Government and 21Vianet
/// (learn.microsoft.com/entra/identity-platform/authentication-national-cloud, "Microsoft Entra
/// authentication endpoints"; MSAL also names login.chinacloudapi.cn for 21Vianet).
pub const MICROSOFT_LOGIN_ENDPOINTS: &[&str] = &[
    "https://login.microsoftonline.com",
    "https://login.microsoftonline.us",
    "https://login.partner.microsoftonline.cn",
    "https://login.chinacloudapi.cn",
];

/// Where the federated token is read from and where it may be sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FederatedToken {
    /// The projected token file; `None` when the operator was started without one.
    pub file: Option<PathBuf>,
    /// Sign-in endpoints the token may go to besides [`MICROSOFT_LOGIN_ENDPOINTS`].
    pub extra_login_endpoints: Vec<String>,
}

impl FederatedToken {
    /// Whether the token may be sent to the sign-in endpoint `login_base`.
    pub fn may_send_to(&self, login_base: &str) -> bool {
        let wanted = login_base.trim_end_matches('/');
        MICROSOFT_LOGIN_ENDPOINTS
            .iter()
            .copied()
            .chain(self.extra_login_endpoints.iter().map(String::as_str))
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(wanted))
    }

    /// The token as the file holds it now, for a request to `login_base`; or why there is none.
    pub fn read_for(&self, login_base: &str) -> Result<SecretString, SignInFailure> {
        let unavailable = |message: String| SignInFailure {
            reason: Reason::FederatedTokenUnavailable,
            message,
            code: None,
            transient: false,
        };
        if !self.may_send_to(login_base) {
            return Err(unavailable(format!(
                "the operator sends its ServiceAccount token only to Microsoft's sign-in endpoints, not to spec.endpoints.login '{login_base}'; remove spec.endpoints.login, or start the operator with --federated-token-login-endpoint {login_base} if that endpoint is trusted"
            )));
        }
        let Some(file) = &self.file else {
            return Err(unavailable(format!(
                "the operator has no ServiceAccount token file for workload identity; mount a projected ServiceAccount token with the audience {ENTRA_TOKEN_EXCHANGE_AUDIENCE} and set {TOKEN_FILE_VARIABLE} or --federated-token-file to its path (chart: workloadIdentity.enabled=true)"
            )));
        };
        let text = std::fs::read_to_string(file).map_err(|error| {
            unavailable(format!(
                "cannot read the ServiceAccount token file {}: {error}; check the projected token volume of the operator's pod",
                file.display()
            ))
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(unavailable(format!(
                "the ServiceAccount token file {} is empty; check the projected token volume of the operator's pod",
                file.display()
            )));
        }
        Ok(SecretString::from(token.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn token_in(dir: &std::path::Path, text: &str) -> FederatedToken {
        let file = dir.join("token");
        std::fs::write(&file, text).unwrap();
        FederatedToken {
            file: Some(file),
            extra_login_endpoints: vec!["http://127.0.0.1:8443/".into()],
        }
    }

    fn temporary_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("federated-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_token_file_is_read_again_for_every_exchange() {
        let dir = temporary_dir("reread");
        let token = token_in(&dir, "first.token.value\n");
        let read = || token.read_for("https://login.microsoftonline.com").unwrap();
        assert_eq!(read().expose_secret(), "first.token.value");
        std::fs::write(token.file.as_ref().unwrap(), "rotated.token.value").unwrap();
        assert_eq!(read().expose_secret(), "rotated.token.value");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_token_goes_only_to_microsoft_or_an_endpoint_the_operator_allows() {
        let dir = temporary_dir("allowed");
        let token = token_in(&dir, "t");
        assert!(token.read_for("https://login.microsoftonline.us/").is_ok());
        assert!(token.read_for("http://127.0.0.1:8443").is_ok());
        let refused = token.read_for("https://login.attacker.example").unwrap_err();
        assert_eq!(refused.reason, Reason::FederatedTokenUnavailable);
        assert!(
            refused.message.contains("--federated-token-login-endpoint"),
            "{}",
            refused.message
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_or_empty_token_file_says_how_to_mount_one() {
        let none = FederatedToken::default()
            .read_for("https://login.microsoftonline.com")
            .unwrap_err();
        assert!(none.message.contains(TOKEN_FILE_VARIABLE), "{}", none.message);
        let dir = temporary_dir("empty");
        let empty = token_in(&dir, " \n")
            .read_for("https://login.microsoftonline.com")
            .unwrap_err();
        assert!(empty.message.contains("is empty"), "{}", empty.message);
        let gone = FederatedToken {
            file: Some(dir.join("absent")),
            ..Default::default()
        };
        let missing = gone.read_for("https://login.microsoftonline.com").unwrap_err();
        assert!(missing.message.contains("cannot read"), "{}", missing.message);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
