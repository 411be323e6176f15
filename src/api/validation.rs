//! Checks a `TeamsTenantSync` document against the generated CRD schema without an apiserver:
//! the OpenAPI part (required fields, types, enums, patterns, minimums), the CEL rules
//! (`x-kubernetes-validations`) and unknown fields, as `kubectl apply` with strict field validation
//! would. The `plan` command uses it on files; the tests use it on the examples.

use std::fmt;

use jsonschema::paths::LocationSegment;
use kube::CustomResourceExt;
use kube::core::cel::Validator as CelValidator;
use serde_json::Value;

use super::{TeamsTenantSync, TeamsTenantSyncSpec};

/// One rule a document breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaViolation {
    /// The field, as the apiserver names it: `spec.source.static.users[0].phoneNumber`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Every rule a document breaks; never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SchemaViolations(pub Vec<SchemaViolation>);

impl fmt::Display for SchemaViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}

/// The CRD's `openAPIV3Schema` as JSON.
pub fn crd_schema() -> Value {
    let crd = TeamsTenantSync::crd();
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|validation| validation.open_api_v3_schema.as_ref())
        .expect("the derived CRD always carries an openAPIV3Schema");
    serde_json::to_value(schema).expect("a JSONSchemaProps always serializes")
}

/// Validates `document` (a whole `TeamsTenantSync`, as JSON) against the CRD schema.
pub fn validate_document(document: &Value) -> Result<(), SchemaViolations> {
    let schema = crd_schema();
    let mut violations = type_meta_violations(document);
    unknown_fields(&schema, document, &mut Vec::new(), &mut violations);
    openapi_violations(&schema, document, &mut violations);
    // CEL rules assume a structurally valid object; the apiserver skips them otherwise too.
    if violations.is_empty()
        && let Err(errors) = CelValidator::new().validate(&schema, document, None)
    {
        violations.extend(errors.iter().map(|error| SchemaViolation {
            field: error.field_path.clone(),
            message: error.message.clone(),
        }));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SchemaViolations(violations))
    }
}

/// Validates the spec of a resource the apiserver already holds against the CRD's current rules.
///
/// The apiserver validates a resource when it is written, not when it is read: one written before
/// the CRD was upgraded keeps whatever the older schema allowed. The operator checks every spec
/// again before acting on it, so that such a resource is reported instead of half-understood.
pub fn validate_spec(spec: &TeamsTenantSyncSpec) -> Result<(), SchemaViolations> {
    let document = serde_json::json!({
        "apiVersion": "teamssync.io/v1alpha1",
        "kind": "TeamsTenantSync",
        "metadata": {},
        "spec": spec,
    });
    validate_document(&document)
}

/// The apiserver checks `apiVersion` and `kind` itself; the schema does not describe them.
fn type_meta_violations(document: &Value) -> Vec<SchemaViolation> {
    let expected = [
        ("apiVersion", "teamssync.io/v1alpha1"),
        ("kind", "TeamsTenantSync"),
    ];
    expected
        .into_iter()
        .filter(|(field, value)| document.get(field).and_then(Value::as_str) != Some(value))
        .map(|(field, value)| SchemaViolation {
            field: field.to_owned(),
            message: format!("must be {value}"),
        })
        .collect()
}

fn openapi_violations(schema: &Value, document: &Value, violations: &mut Vec<SchemaViolation>) {
    let schema = with_int_or_string_types(schema.clone());
    let validator = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator,
        Err(error) => {
            violations.push(SchemaViolation {
                field: String::new(),
                message: format!("the generated CRD schema does not compile: {error}"),
            });
            return;
        }
    };
    for error in validator.iter_errors(document) {
        let mut field = Vec::new();
        for segment in error.instance_path().iter() {
            match segment {
                LocationSegment::Property(name) => field.push(Segment::Name(name.into_owned())),
                LocationSegment::Index(index) => field.push(Segment::Index(index)),
            }
        }
        violations.push(SchemaViolation {
            field: render_path(&field),
            message: error.to_string(),
        });
    }
}

/// `schema` with the type the apiserver reads from `x-kubernetes-int-or-string` (an integer or a
/// string, never `null` unless `nullable`) written out, for a JSON Schema validator that does not
/// know the extension.
fn with_int_or_string_types(mut schema: Value) -> Value {
    if let Value::Object(object) = &mut schema {
        if object.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
            let nullable = object.get("nullable") == Some(&Value::Bool(true));
            let types = if nullable {
                serde_json::json!(["integer", "string", "null"])
            } else {
                serde_json::json!(["integer", "string"])
            };
            object.insert("type".to_owned(), types);
        }
        for value in object.values_mut() {
            *value = with_int_or_string_types(std::mem::take(value));
        }
    } else if let Value::Array(items) = &mut schema {
        for item in items {
            *item = with_int_or_string_types(std::mem::take(item));
        }
    }
    schema
}

enum Segment {
    Name(String),
    Index(usize),
}

fn render_path(path: &[Segment]) -> String {
    let mut rendered = String::new();
    for segment in path {
        match segment {
            Segment::Name(name) => {
                if !rendered.is_empty() {
                    rendered.push('.');
                }
                rendered.push_str(name);
            }
            Segment::Index(index) => rendered.push_str(&format!("[{index}]")),
        }
    }
    rendered
}

/// Root fields every object has, which the CRD schema leaves to the apiserver.
const IMPLICIT_ROOT_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Reports fields the schema does not declare (the apiserver would drop them silently, or
/// reject them under strict field validation; either way the user meant something else).
fn unknown_fields(schema: &Value, value: &Value, path: &mut Vec<Segment>, out: &mut Vec<SchemaViolation>) {
    match value {
        Value::Object(object) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return; // a free-form object (metadata) or a map (additionalProperties)
            };
            for (key, child) in object {
                if path.is_empty() && IMPLICIT_ROOT_FIELDS.contains(&key.as_str()) {
                    continue;
                }
                path.push(Segment::Name(key.clone()));
                match properties.get(key) {
                    Some(child_schema) => unknown_fields(child_schema, child, path, out),
                    None => out.push(SchemaViolation {
                        field: render_path(path),
                        message:
                            "unknown field; check its spelling against `kubectl explain teamstenantsync`"
                                .to_owned(),
                    }),
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    path.push(Segment::Index(index));
                    unknown_fields(item_schema, item, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}
