//! Workload identity federation: a Kubernetes ServiceAccount token with the audience Entra
//! expects is the client assertion. Which ServiceAccount speaks is the resource's choice only
//! within its own namespace (`workloadIdentity.serviceAccountName`, a token minted for it with the
//! TokenRequest API); the operator's own token, read from a projected file, is used only for the
//! namespaces a platform admin names. Like every credential, the token goes only to sign-in
//! endpoints the operator allows ([`crate::upstream::allowed`]).

use std::fmt;
use std::path::PathBuf;

use futures::future::BoxFuture;
use secrecy::SecretString;

use super::aadsts::SignInFailure;
use crate::api::Reason;

/// The environment variable the Azure Workload Identity webhook sets to the projected token's
/// path (azure.github.io/azure-workload-identity, "Quick Start": `AZURE_FEDERATED_TOKEN_FILE`).
pub const TOKEN_FILE_VARIABLE: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// The audience Microsoft Entra expects of a federated token by default
/// (learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust).
pub const ENTRA_TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the federated token of one sign-in comes from.
pub trait FederatedTokenSource: Send + Sync {
    /// Whose token it is, for messages and for telling sign-ins apart: never the token itself.
    fn describe(&self) -> String;

    /// A token for one exchange, or why there is none.
    fn token(&self) -> BoxFuture<'_, Result<SecretString, SignInFailure>>;
}

impl fmt::Debug for dyn FederatedTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A failure to get a federated token: the operator cannot produce one for this resource.
pub fn token_unavailable(message: String) -> SignInFailure {
    SignInFailure {
        reason: Reason::FederatedTokenUnavailable,
        message,
        code: None,
        transient: false,
    }
}

/// A projected ServiceAccount token file, read again for every exchange (the kubelet replaces it
/// before it expires): the operator's own token, or one an admin gives `plan`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFile {
    /// The file.
    pub path: PathBuf,
    /// Whose token the file holds, for messages ("the operator's own ServiceAccount").
    pub owner: String,
}

impl TokenFile {
    /// Reads the token as the file holds it now.
    pub fn read(&self) -> Result<SecretString, SignInFailure> {
        let path = self.path.display();
        let text = std::fs::read_to_string(&self.path).map_err(|error| {
            token_unavailable(format!(
                "cannot read the token file {path} of {}: {error}; check the projected token volume of the operator's pod",
                self.owner
            ))
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(token_unavailable(format!(
                "the token file {path} of {} is empty; check the projected token volume of the operator's pod",
                self.owner
            )));
        }
        Ok(SecretString::from(token.to_owned()))
    }
}

impl FederatedTokenSource for TokenFile {
    fn describe(&self) -> String {
        format!("{} (token file {})", self.owner, self.path.display())
    }

    fn token(&self) -> BoxFuture<'_, Result<SecretString, SignInFailure>> {
        Box::pin(std::future::ready(self.read()))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn temporary_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("federated-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn file_in(dir: &std::path::Path, name: &str) -> TokenFile {
        TokenFile {
            path: dir.join(name),
            owner: "the operator's own ServiceAccount".into(),
        }
    }

    #[tokio::test]
    async fn the_token_file_is_read_again_for_every_exchange() {
        let dir = temporary_dir("reread");
        let file = file_in(&dir, "token");
        std::fs::write(&file.path, "first.token.value\n").unwrap();
        assert_eq!(file.token().await.unwrap().expose_secret(), "first.token.value");
        std::fs::write(&file.path, "rotated.token.value").unwrap();
        assert_eq!(file.token().await.unwrap().expose_secret(), "rotated.token.value");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_missing_or_empty_token_file_says_where_it_looked() {
        let dir = temporary_dir("empty");
        let empty = file_in(&dir, "empty");
        std::fs::write(&empty.path, " \n").unwrap();
        let failure = empty.token().await.unwrap_err();
        assert_eq!(failure.reason, Reason::FederatedTokenUnavailable);
        assert!(failure.message.contains("is empty"), "{}", failure.message);
        let missing = file_in(&dir, "absent").token().await.unwrap_err();
        assert!(missing.message.contains("cannot read"), "{}", missing.message);
        assert!(
            !file_in(&dir, "x").describe().contains("token.value"),
            "a description names the file, never its content"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
