//! The Secrets of the benches' org: the admin's username and password and the Dialpad API key,
//! as the generator made it.

use std::sync::Arc;

use dialpad_teams_operator::connect::SecretStore;
use dialpad_teams_operator::microsoft::federated::FederatedTokenSource;
use dialpad_teams_sandbox::generator;
use secrecy::SecretString;

/// The admin's password.
pub const PASSWORD: &str = "bench-admin-password";
/// The Dialpad API key.
pub const KEY: &str = "bench-api-key";

/// The demo resource's Secrets, holding the values above.
pub struct Secrets;

impl SecretStore for Secrets {
    fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        let value = match (name, key) {
            ("teams-admin", "username") => generator::ADMIN_UPN,
            ("teams-admin", "password") => PASSWORD,
            ("dialpad", "apiKey") => KEY,
            _ => return Err(format!("no {name}/{key}")),
        };
        Ok(SecretString::from(value.to_owned()))
    }

    fn federated_token(&self, _: Option<&str>) -> Result<Arc<dyn FederatedTokenSource>, String> {
        Err("the bench signs in with the admin account".into())
    }
}
