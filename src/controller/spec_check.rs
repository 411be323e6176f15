//! Checking a resource's spec before acting on it. The apiserver validates a resource when it is
//! written, not when it is read, so one written before a CRD upgrade (or by a client that skipped
//! validation) can break the installed CRD's rules: it is reported as `InvalidSpec`, naming each
//! field and how to see its format, and nothing is read or changed for it.

use crate::api::TeamsTenantSyncSpec;
use crate::api::validation::{SchemaViolation, validate_spec};
use crate::sync::model::{Policy, PolicyError};
use crate::sync::readiness::ReadinessField;

/// How many broken rules a message names before it only counts the rest.
const MAX_NAMED: usize = 5;

/// The policy of `spec`, or the `InvalidSpec` message saying which fields break which rule and
/// how to correct them.
pub fn checked_policy(spec: &TeamsTenantSyncSpec) -> Result<Policy, String> {
    if let Err(violations) = validate_spec(spec) {
        return Err(invalid_spec_message(&violations.0));
    }
    Policy::from_spec(spec).map_err(|error| {
        let field = match error {
            PolicyError::GracePeriod(_) => "spec.removal.gracePeriod",
            PolicyError::MaxUnassignments(_) => "spec.safety.maxUnassignmentsPerSync",
            PolicyError::Readiness(ReadinessField::MaxFailedUsers(_)) => "spec.readiness.maxFailedUsers",
            PolicyError::Readiness(ReadinessField::MaxActivationTime(_)) => {
                "spec.readiness.maxActivationTime"
            }
        };
        invalid_spec_message(&[SchemaViolation {
            field: field.to_owned(),
            message: error.to_string(),
        }])
    })
}

/// The `InvalidSpec` message for `violations`: each field with its rule and the `kubectl explain`
/// path that documents it, the first few only when there are many.
pub fn invalid_spec_message(violations: &[SchemaViolation]) -> String {
    let named: Vec<String> = violations
        .iter()
        .take(MAX_NAMED)
        .map(|violation| {
            if violation.field.is_empty() {
                violation.message.clone()
            } else {
                format!(
                    "{}: {} (see kubectl explain {})",
                    violation.field,
                    violation
                        .message
                        .trim_start_matches(&format!("{}: ", violation.field)),
                    explain_path(&violation.field)
                )
            }
        })
        .collect();
    let more = match violations.len().saturating_sub(MAX_NAMED) {
        0 => String::new(),
        more => format!("; and {more} more"),
    };
    format!(
        "the resource breaks the installed CRD's rules, so nothing is read or changed until it is corrected and applied again: {}{more}",
        named.join("; ")
    )
}

/// `spec.source.static.users[3].phoneNumber` -> `teamstenantsync.spec.source.static.users.phoneNumber`.
fn explain_path(field: &str) -> String {
    let mut path = String::from("teamstenantsync.");
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => path.push(c),
            _ => {}
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explain_path_drops_list_indexes() {
        assert_eq!(
            explain_path("spec.source.static.users[3].phoneNumber"),
            "teamstenantsync.spec.source.static.users.phoneNumber"
        );
    }

    #[test]
    fn many_violations_are_counted_after_the_first_few() {
        let violations: Vec<SchemaViolation> = (0..8)
            .map(|i| SchemaViolation {
                field: format!("spec.source.static.users[{i}].phoneNumber"),
                message: "\"0\" does not match".into(),
            })
            .collect();
        let message = invalid_spec_message(&violations);
        assert!(message.contains("users[4].phoneNumber"), "{message}");
        assert!(!message.contains("users[5]"), "{message}");
        assert!(message.ends_with("; and 3 more"), "{message}");
    }
}
