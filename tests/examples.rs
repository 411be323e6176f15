//! Every file in `examples/` parses into the Rust types and passes the CRD schema, and every Secret
//! a TeamsTenantSync example references exists among the examples with the keys it needs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::api::validation::validate_document;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::Value;

fn example_documents() -> Vec<(PathBuf, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    let mut documents = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable example");
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
            documents.push((path.clone(), value));
        }
    }
    documents
}

fn is_kind(document: &Value, kind: &str) -> bool {
    document["kind"] == kind
}

#[test]
fn every_teamstenantsync_example_parses_and_passes_the_schema() {
    let mut checked = 0;
    for (path, document) in example_documents()
        .into_iter()
        .filter(|(_, d)| is_kind(d, "TeamsTenantSync"))
    {
        serde_json::from_value::<TeamsTenantSync>(document.clone())
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
        if let Err(violations) = validate_document(&document) {
            panic!("{}: rejected by the schema: {violations}", path.display());
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected at least two TeamsTenantSync examples, found {checked}"
    );
}

#[test]
fn examples_cover_each_credentials_mode_and_each_source() {
    let examples: Vec<TeamsTenantSync> = example_documents()
        .into_iter()
        .filter(|(_, d)| is_kind(d, "TeamsTenantSync"))
        .map(|(_, d)| serde_json::from_value(d).expect("parses"))
        .collect();
    assert!(
        examples
            .iter()
            .any(|e| e.spec.credentials.admin_account.is_some())
    );
    assert!(examples.iter().any(|e| e.spec.credentials.application.is_some()));
    assert!(examples.iter().any(|e| e.spec.source.dialpad.is_some()));
    assert!(examples.iter().any(|e| e.spec.source.static_list.is_some()));
}

#[test]
fn every_referenced_secret_exists_among_the_examples_with_its_keys() {
    let documents = example_documents();
    let secrets: BTreeMap<(String, String), Secret> = documents
        .iter()
        .filter(|(_, d)| is_kind(d, "Secret"))
        .map(|(path, d)| {
            let secret: Secret = serde_json::from_value(d.clone())
                .unwrap_or_else(|e| panic!("{}: not a Secret: {e}", path.display()));
            let key = (
                secret.metadata.namespace.clone().unwrap_or_default(),
                secret.metadata.name.clone().unwrap_or_default(),
            );
            (key, secret)
        })
        .collect();
    for (path, document) in documents.iter().filter(|(_, d)| is_kind(d, "TeamsTenantSync")) {
        let tts: TeamsTenantSync = serde_json::from_value(document.clone()).expect("parses");
        let namespace = tts.metadata.namespace.clone().unwrap_or_default();
        let mut wanted: Vec<(String, String)> = Vec::new();
        if let Some(admin) = &tts.spec.credentials.admin_account {
            let r = &admin.secret_ref;
            wanted.push((r.name.clone(), r.username_key.clone()));
            wanted.push((r.name.clone(), r.password_key.clone()));
        }
        if let Some(app) = &tts.spec.credentials.application {
            if let Some(secret_ref) = &app.secret_ref {
                wanted.push((secret_ref.name.clone(), app.client_secret_key().to_owned()));
            }
            if let Some(certificate) = &app.certificate {
                let r = &certificate.secret_ref;
                wanted.push((r.name.clone(), r.certificate_key.clone()));
                wanted.push((r.name.clone(), r.private_key_key.clone()));
            }
        }
        if let Some(dialpad) = &tts.spec.source.dialpad {
            wanted.push((
                dialpad.api_key_secret_ref.name.clone(),
                dialpad.api_key_key().to_owned(),
            ));
        }
        for (name, key) in wanted {
            let secret = secrets
                .get(&(namespace.clone(), name.clone()))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: Secret {namespace}/{name} is not among the examples",
                        path.display()
                    )
                });
            let has_key = secret.string_data.as_ref().is_some_and(|d| d.contains_key(&key))
                || secret.data.as_ref().is_some_and(|d| d.contains_key(&key));
            assert!(
                has_key,
                "{}: Secret {namespace}/{name} lacks key {key}",
                path.display()
            );
        }
    }
}
