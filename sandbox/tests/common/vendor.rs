//! Validation of sandbox responses against the vendor descriptions in `vendor/`: Microsoft
//! Graph's (OpenAPI 3.1, strict: the numbers file and the policy file, whose schemas are read as
//! one set) and Dialpad's own published spec (OpenAPI 3.0). The files are
//! copies kept in the repository (provenance in `vendor/README.md`), so a clone passes alone.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

fn vendor_dir() -> PathBuf {
    // The repository's vendor/ beside the sandbox crate.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("vendor")
}

fn graph_components() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let numbers = read_yaml(NUMBERS_FILE);
        let mut components = numbers["components"].clone();
        // The policy file refers to the numbers file's types by file name: one set of schemas.
        let mut policy = read_yaml("graph-teams-policy-openapi.yaml");
        rewrite_refs(&mut policy, &format!("{NUMBERS_FILE}#"), "#");
        let schemas = components["schemas"]
            .as_object_mut()
            .expect("the numbers file has schemas");
        for (name, schema) in policy["components"]["schemas"]
            .as_object()
            .expect("the policy file has schemas")
        {
            let clash = schemas.insert(name.clone(), schema.clone());
            assert!(clash.is_none(), "{name} is defined in both Graph descriptions");
        }
        json!({"components": components})
    })
}

const NUMBERS_FILE: &str = "graph-teams-numbers-openapi.yaml";

fn read_yaml(name: &str) -> Value {
    let path = vendor_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// Replaces the prefix `from` of every `$ref` by `to`.
fn rewrite_refs(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref")
                && let Some(rest) = reference.strip_prefix(from)
            {
                *reference = format!("{to}{rest}");
            }
            object
                .values_mut()
                .for_each(|child| rewrite_refs(child, from, to));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, from, to)),
        _ => {}
    }
}

fn dialpad_components() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = vendor_dir().join("dialpad-openapi.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).expect("the Dialpad spec is JSON");
        let mut components = doc["components"].clone();
        openapi30_to_json_schema(&mut components);
        json!({"components": components})
    })
}

/// OpenAPI 3.0 -> JSON Schema: `nullable: true` admits null; an int64 admits the decimal string
/// form every one of Dialpad's own examples uses; objects with declared properties admit no
/// others (so a misspelled field fails).
fn openapi30_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for child in object.values_mut() {
                openapi30_to_json_schema(child);
            }
            let is_int64 = object.get("type") == Some(&json!("integer"))
                && object.get("format") == Some(&json!("int64"));
            if is_int64 {
                object.remove("type");
                object.remove("format");
                object.insert(
                    "anyOf".into(),
                    json!([{"type": "integer"}, {"type": "string", "pattern": "^-?[0-9]+$"}]),
                );
            }
            if object.get("type") == Some(&json!("object")) && object.contains_key("properties") {
                object.entry("additionalProperties").or_insert(json!(false));
            }
            if object.remove("nullable") == Some(json!(true)) {
                nullable(object);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(openapi30_to_json_schema),
        _ => {}
    }
}

fn nullable(object: &mut Map<String, Value>) {
    if let Some(kind) = object.get("type").cloned() {
        object.insert("type".into(), json!([kind, "null"]));
    } else if let Some(any_of) = object.get_mut("anyOf").and_then(Value::as_array_mut) {
        any_of.push(json!({"type": "null"}));
    }
    if let Some(values) = object.get_mut("enum").and_then(Value::as_array_mut) {
        values.push(Value::Null);
    }
}

fn assert_schema(components: &Value, schema_name: &str, value: &Value) {
    assert!(
        components["components"]["schemas"].get(schema_name).is_some(),
        "no schema {schema_name} in the vendor description"
    );
    let mut root = components.clone();
    root["$ref"] = json!(format!("#/components/schemas/{schema_name}"));
    let validator = jsonschema::validator_for(&root).expect("the vendor schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(10)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "response does not match {schema_name}:\n{}\nbody: {value}",
        errors.join("\n")
    );
}

/// Asserts that `value` matches the Graph schema `schema_name`, e.g.
/// `microsoft.graph.userCollectionResponse`.
pub fn assert_graph_schema(schema_name: &str, value: &Value) {
    assert_schema(graph_components(), schema_name, value);
}

/// The schema Dialpad's spec gives for a successful `GET path` (e.g. `/api/v2/company`, whose
/// 200 answer is `schemas.company.CompanyProto`), read from the spec's own `paths`.
pub fn dialpad_response_schema(path: &str) -> String {
    dialpad_operation_schema("get", path)
}

/// The schema Dialpad's spec gives for a successful `method path` (lower-case method, e.g.
/// `post` on `/api/v2/websockets`, whose 200 answer is `schemas.websocket.WebsocketProto`).
pub fn dialpad_operation_schema(method: &str, path: &str) -> String {
    static DOC: OnceLock<Value> = OnceLock::new();
    let doc = DOC.get_or_init(|| {
        let path = vendor_dir().join("dialpad-openapi.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("the Dialpad spec is JSON")
    });
    let reference =
        doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("the Dialpad spec has no JSON answer to {method} {path}"));
    reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("{method} {path}: {reference} is not a component schema"))
        .to_owned()
}

/// Asserts that `value` matches the Dialpad schema `schema_name`, e.g. `schemas.user.UserCollection`.
pub fn assert_dialpad_schema(schema_name: &str, value: &Value) {
    assert_schema(dialpad_components(), schema_name, value);
}
