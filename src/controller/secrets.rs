//! Secrets a TeamsTenantSync references, read only from its own namespace (through the scope's
//! [`SecretCache`](super::secret_cache::SecretCache)), and the values a sync takes from them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use secrecy::SecretString;

use crate::api::TeamsTenantSyncSpec;

/// The keys and values of one Secret.
pub type SecretData = BTreeMap<String, Vec<u8>>;

/// The names of the Secrets `spec` references (sorted, without duplicates).
pub fn referenced_secrets(spec: &TeamsTenantSyncSpec) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(admin) = &spec.credentials.admin_account {
        names.push(admin.secret_ref.name.clone());
    }
    if let Some(app) = &spec.credentials.application {
        names.extend(app.secret_ref.as_ref().map(|r| r.name.clone()));
        names.extend(app.certificate.as_ref().map(|c| c.secret_ref.name.clone()));
    }
    if let Some(dialpad) = &spec.source.dialpad {
        names.push(dialpad.api_key_secret_ref.name.clone());
    }
    names.sort();
    names.dedup();
    names
}

/// The referenced Secrets of one namespace, as they were when a sync started.
pub struct KubeSecrets {
    namespace: String,
    secrets: HashMap<String, Option<Arc<SecretData>>>,
    /// `name -> resourceVersion` of the Secrets found, to notice rotations.
    pub versions: BTreeMap<String, String>,
}

impl KubeSecrets {
    /// `names` of `namespace`, of which `found` holds those that exist (`name -> (resourceVersion,
    /// data)`). A missing Secret is remembered as missing, not an error: the sync reports it as
    /// `SecretInvalid`.
    pub fn new(
        namespace: &str,
        names: &[String],
        found: BTreeMap<String, (String, Arc<SecretData>)>,
    ) -> Self {
        let mut secrets: HashMap<String, Option<Arc<SecretData>>> =
            names.iter().map(|name| (name.clone(), None)).collect();
        let mut versions = BTreeMap::new();
        for (name, (version, data)) in found {
            versions.insert(name.clone(), version);
            secrets.insert(name, Some(data));
        }
        Self {
            namespace: namespace.to_owned(),
            secrets,
            versions,
        }
    }

    /// The value of `key` in the Secret `name`, or a message naming the Secret, the key and the
    /// fix (see [`crate::connect::SecretStore::get`]).
    pub fn get(&self, name: &str, key: &str) -> Result<SecretString, String> {
        let namespace = &self.namespace;
        match self.secrets.get(name) {
            None | Some(None) => Err(format!(
                "Secret '{name}' does not exist in namespace '{namespace}'; create it with the key '{key}'"
            )),
            Some(Some(data)) => match data.get(key) {
                None => Err(format!("Secret '{namespace}/{name}' has no key '{key}'; add it")),
                Some(bytes) => {
                    let text = String::from_utf8(bytes.clone()).map_err(|_| {
                        format!(
                            "key '{key}' of Secret '{namespace}/{name}' is not UTF-8 text; store the value as plain text, e.g. kubectl create secret generic {name} --from-literal={key}=..."
                        )
                    })?;
                    let text = text.trim_end_matches(['\r', '\n']).to_owned();
                    if text.trim().is_empty() {
                        Err(format!(
                            "key '{key}' of Secret '{namespace}/{name}' is empty; put the value in it"
                        ))
                    } else {
                        Ok(SecretString::from(text))
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    /// One Secret `creds` in `telephony` with `data` at version 7, and `absent`, which is missing.
    fn cached(data: &[(&str, &[u8])]) -> KubeSecrets {
        let data: SecretData = data.iter().map(|(k, v)| ((*k).to_owned(), v.to_vec())).collect();
        let found = [("creds".to_owned(), ("7".to_owned(), Arc::new(data)))].into();
        KubeSecrets::new("telephony", &["creds".into(), "absent".into()], found)
    }

    #[test]
    fn a_value_is_read_without_its_trailing_newline() {
        let secrets = cached(&[("password", b"s3cret\n")]);
        assert_eq!(
            secrets.get("creds", "password").unwrap().expose_secret(),
            "s3cret"
        );
        assert_eq!(secrets.versions.get("creds").map(String::as_str), Some("7"));
    }

    #[test]
    fn missing_empty_and_non_utf8_keys_each_name_the_secret_the_key_and_the_fix() {
        let secrets = cached(&[("empty", b" \n"), ("binary", &[0xff, 0xfe, 0x00])]);
        let error = |name: &str, key: &str| secrets.get(name, key).unwrap_err();
        assert_eq!(
            error("absent", "apiKey"),
            "Secret 'absent' does not exist in namespace 'telephony'; create it with the key 'apiKey'"
        );
        assert_eq!(
            error("creds", "apiKey"),
            "Secret 'telephony/creds' has no key 'apiKey'; add it"
        );
        assert_eq!(
            error("creds", "empty"),
            "key 'empty' of Secret 'telephony/creds' is empty; put the value in it"
        );
        assert_eq!(
            error("creds", "binary"),
            "key 'binary' of Secret 'telephony/creds' is not UTF-8 text; store the value as plain text, e.g. kubectl create secret generic creds --from-literal=binary=..."
        );
    }
}
