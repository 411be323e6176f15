//! The generated CRD: checked in, complete, and carrying its admission rules.

use std::process::Command;

use dialpad_teams_operator::api::validation::crd_schema;
use kube::CustomResourceExt;
use serde_json::Value;

const CRD_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crds/teamstenantsyncs.teamssync.io.yaml"
);

#[test]
fn checked_in_crd_equals_the_crd_command_output() {
    let output = Command::new(env!("CARGO_BIN_EXE_dialpad-teams-operator"))
        .arg("crd")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "`crd` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).expect("the CRD is UTF-8");
    let checked_in = std::fs::read_to_string(CRD_FILE).unwrap_or_default();
    assert!(
        generated == checked_in,
        "crds/teamstenantsyncs.teamssync.io.yaml is stale; regenerate it with:\n  \
         cargo run -- crd > crds/teamstenantsyncs.teamssync.io.yaml"
    );
}

/// The chart rendered with every option on (CI keeps it equal to a fresh render with Helm's engine).
const CHART_RENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/chart/all-on.yaml");

/// `value` with every number as a float: JSON, and so the apiserver, reads `0` and `0.0` alike,
/// but Helm's `toYaml` writes a whole float without its fraction.
fn as_json_numbers(value: Value) -> Value {
    match value {
        Value::Number(number) => number
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(number), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(as_json_numbers).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, field)| (key, as_json_numbers(field)))
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn the_charts_rendered_crd_is_the_crd_command_output_with_the_releases_metadata() {
    let output = Command::new(env!("CARGO_BIN_EXE_dialpad-teams-operator"))
        .arg("crd")
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "`crd` failed");
    let generated: Value = serde_yaml::from_slice(&output.stdout).expect("the CRD is YAML");
    let render = std::fs::read_to_string(CHART_RENDER).expect("tests/chart/all-on.yaml");
    let mut rendered: Vec<Value> = serde_yaml::Deserializer::from_str(&render)
        .map(|document| serde::Deserialize::deserialize(document).expect("YAML"))
        .filter(|object: &Value| object["kind"] == "CustomResourceDefinition")
        .collect();
    assert_eq!(rendered.len(), 1, "the chart renders one CRD");
    let mut rendered = rendered.remove(0);
    let metadata = rendered["metadata"].as_object_mut().expect("metadata");
    let annotations = metadata.remove("annotations").unwrap_or_default();
    let labels = metadata.remove("labels").unwrap_or_default();
    assert_eq!(
        annotations,
        serde_json::json!({"helm.sh/resource-policy": "keep"}),
        "crds.keep (on by default) annotates the CRD and nothing else does"
    );
    assert_eq!(labels["app.kubernetes.io/managed-by"], "Helm");
    assert!(
        as_json_numbers(rendered) == as_json_numbers(generated),
        "the chart's CRD template renders another CRD than `crd` prints; copy \
         crds/teamstenantsyncs.teamssync.io.yaml to charts/dialpad-teams-operator/files/crds/ \
         and run `python .ci/chart.py --write`"
    );
}

#[test]
fn crd_is_namespaced_with_short_name_category_and_status_subresource() {
    let crd = dialpad_teams_operator::api::TeamsTenantSync::crd();
    assert_eq!(crd.spec.group, "teamssync.io");
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(
        crd.spec.names.short_names.as_deref(),
        Some(&["tts".to_owned()][..])
    );
    assert_eq!(
        crd.spec.names.categories.as_deref(),
        Some(&["teamssync".to_owned()][..])
    );
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(
        version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some()
    );
}

#[test]
fn crd_prints_tenant_ready_sync_counts_last_sync_and_age() {
    let crd = dialpad_teams_operator::api::TeamsTenantSync::crd();
    let columns: Vec<(String, String)> = crd.spec.versions[0]
        .additional_printer_columns
        .as_ref()
        .expect("printer columns")
        .iter()
        .map(|c| (c.name.clone(), c.json_path.clone()))
        .collect();
    let expected = [
        ("Tenant", ".spec.tenant.domain"),
        ("Ready", ".status.conditions[?(@.type==\"Ready\")].status"),
        ("In Sync", ".status.summary.inSync"),
        ("Desired", ".status.summary.desired"),
        ("Failed", ".status.summary.failed"),
        ("Last Sync", ".status.lastSyncTime"),
        ("Age", ".metadata.creationTimestamp"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .collect();
    assert_eq!(columns, expected);
}

/// Walks every property under `schema`, calling `visit(path, property_schema)`.
fn walk(schema: &Value, path: &str, visit: &mut dyn FnMut(&str, &Value)) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let child = format!("{path}.{name}");
            visit(&child, property);
            walk(property, &child, visit);
        }
    }
    if let Some(items) = schema.get("items") {
        walk(items, &format!("{path}[]"), visit);
    }
}

#[test]
fn every_spec_and_status_field_has_a_description_for_kubectl_explain() {
    let schema = crd_schema();
    let mut undocumented = Vec::new();
    for part in ["spec", "status"] {
        walk(&schema["properties"][part], part, &mut |path, property| {
            let documented = property
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if !documented {
                undocumented.push(path.to_owned());
            }
        });
    }
    assert!(
        undocumented.is_empty(),
        "fields without a description: {undocumented:?}"
    );
}

#[test]
fn crd_carries_the_cel_rules() {
    let schema = crd_schema();
    let spec = &schema["properties"]["spec"]["properties"];
    let rules = |value: &Value| -> Vec<String> {
        value["x-kubernetes-validations"]
            .as_array()
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| r["rule"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        rules(&spec["credentials"]),
        ["has(self.adminAccount) != has(self.application)"]
    );
    assert_eq!(rules(&spec["source"]), ["has(self.dialpad) != has(self.static)"]);
    assert_eq!(rules(&spec["syncInterval"]), ["duration(self) >= duration('1m')"]);
}

#[test]
fn tenant_conditions_are_a_list_map_keyed_by_type() {
    let schema = crd_schema();
    let conditions = &schema["properties"]["status"]["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(
        conditions["x-kubernetes-list-map-keys"],
        serde_json::json!(["type"])
    );
}
