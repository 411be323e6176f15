//! Teams' answers to a number change: the long-running operation's body, its statuses and its
//! verdict.

use std::time::Duration;

use serde::Deserialize;

use crate::microsoft::nullable_vec;
use crate::upstream::{Answer, BodyProblem, Service, UpstreamError};

/// Why Teams refused an assignment, from the operation's `statusDetail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignmentFailure {
    /// The user lacks the licence for this number type.
    Licence(String),
    /// The number is held by someone else.
    Conflict(String),
    /// The user does not exist (or is not yet provisioned in Teams).
    UserNotFound(String),
    /// Teams does not know the number for this number type in the tenant (a Calling Plan or
    /// Operator Connect number outside the tenant's inventory, or the wrong `numberType`).
    NumberNotInTenant(String),
    /// The emergency location (`locationId`) is not one of the tenant's. UNCONFIRMED wording:
    /// Microsoft documents `locationId` as the emergency location's id (assignNumber,
    /// https://learn.microsoft.com/en-us/graph/api/teamsadministration-numberassignment-assignnumber)
    /// but not what an unknown one answers, so any detail naming a location that was not found
    /// counts.
    LocationNotFound(String),
    /// Anything else.
    Other(String),
}

impl AssignmentFailure {
    /// Classifies a `statusDetail` text (the wording of Teams' PowerShell errors, which Graph
    /// presumably shares; `docs/microsoft-graph-teams.md` section 5.8).
    pub fn from_detail(detail: &str) -> Self {
        let lower = detail.to_lowercase();
        if lower.contains("lacks appropriate licenses")
            || lower.contains("restricted for the user service plan")
        {
            AssignmentFailure::Licence(detail.to_owned())
        } else if lower.contains("already been assigned") || lower.contains("already assigned") {
            AssignmentFailure::Conflict(detail.to_owned())
        } else if lower.contains("location") && (lower.contains("not found") || lower.contains("notfound")) {
            AssignmentFailure::LocationNotFound(detail.to_owned())
        } else if lower.contains("is not found from tenant") {
            // "Telephone Number '…' is not found from tenant '…'": the number, not the user
            // (MicrosoftDocs/office-docs-powershell#8905: seen with the OperatorConnect type, and
            // on removing a number with a type it was not assigned as).
            AssignmentFailure::NumberNotInTenant(detail.to_owned())
        } else if lower.contains("notfound") || lower.contains("not found") {
            AssignmentFailure::UserNotFound(detail.to_owned())
        } else {
            AssignmentFailure::Other(detail.to_owned())
        }
    }

    /// Teams' own words.
    pub fn detail(&self) -> &str {
        match self {
            AssignmentFailure::Licence(detail)
            | AssignmentFailure::Conflict(detail)
            | AssignmentFailure::UserNotFound(detail)
            | AssignmentFailure::NumberNotInTenant(detail)
            | AssignmentFailure::LocationNotFound(detail)
            | AssignmentFailure::Other(detail) => detail,
        }
    }
}

/// How an assign or unassign ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationOutcome {
    /// Teams applied it.
    Succeeded,
    /// Teams refused it.
    Failed(AssignmentFailure),
    /// Still running when polling stopped; the next sync sees the result.
    StillRunning,
}

/// What Teams answered to a change request, before its verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Submitted {
    /// Teams answered with its verdict at once.
    Done(OperationOutcome),
    /// Teams runs it as a long-running operation, to be looked at on `url`.
    Running {
        /// The operation's URL (the `Location` header); `None` when Teams answered without one,
        /// so that only reading the number's assignment tells how it ended.
        url: Option<String>,
        /// How long Teams asked the client to wait before looking (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
}

#[derive(Deserialize)]
pub(super) struct OperationBody {
    status: String,
    #[serde(default, deserialize_with = "nullable_vec")]
    numbers: Vec<OperationNumber>,
}

/// The statuses of a telephoneNumberLongRunningOperation: `notStarted` and `running` before the
/// verdict, then `succeeded`, `failed` or `skipped` (`unknownFutureValue` is Graph's evolvable-enum
/// sentinel). Source: https://learn.microsoft.com/en-us/graph/api/resources/teamsAdministration-telephoneNumberLongRunningOperation?view=graph-rest-1.0
const OPERATION_PENDING: [&str; 2] = ["notStarted", "running"];
const OPERATION_DONE: [&str; 3] = ["succeeded", "failed", "skipped"];

/// The operation in a `GET operations/{id}` body: the example of Graph's "Get
/// telephoneNumberLongRunningOperation" page wraps the entity in `{"value": {...}}`, an entity
/// read normally comes bare, so both are read
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-telephonenumberlongrunningoperation-get).
/// Anything else, or a status outside the documented ones, is an error naming what came, so that
/// polling never waits on a body it cannot read. A status this client does not know is
/// [`BodyProblem::UnknownValue`]: not a verdict, so the change counts as still running and the
/// next sync reads the number's state from the listing.
pub(super) fn operation_of(body: &serde_json::Value) -> Result<OperationBody, (BodyProblem, String)> {
    let entity = match body.get("value") {
        Some(inner) if inner.is_object() && body.get("status").is_none() => inner,
        _ => body,
    };
    let operation: OperationBody = serde_json::from_value(entity.clone()).map_err(|_| {
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        (
            BodyProblem::UnexpectedShape,
            quoted(&format!(
                "an operation body without a status (top-level keys: {keys:?})"
            )),
        )
    })?;
    let known = OPERATION_PENDING.contains(&operation.status.as_str())
        || OPERATION_DONE.contains(&operation.status.as_str());
    if !known {
        return Err((
            BodyProblem::UnknownValue,
            quoted(&format!(
                "an operation status this client does not know: {:?}",
                operation.status
            )),
        ));
    }
    Ok(operation)
}

/// The verdict an operation answer carries (`None` while it runs); the fuzz targets' entry
/// (`crate::fuzzing`). [`GraphClient::operation_outcome`] reads the body with [`read_json`] first.
pub(crate) fn outcome_of_answer(
    answer: &Answer,
    endpoint: &str,
) -> Result<Option<OperationOutcome>, UpstreamError> {
    let body: serde_json::Value = answer.json(Service::Graph, endpoint)?;
    outcome_of_body(&body, endpoint, answer.request_id.clone())
}

/// The verdict an operation's body carries (`None` while it runs).
pub(super) fn outcome_of_body(
    body: &serde_json::Value,
    endpoint: &str,
    request_id: Option<String>,
) -> Result<Option<OperationOutcome>, UpstreamError> {
    let operation = operation_of(body).map_err(|(problem, detail)| UpstreamError::Malformed {
        service: Service::Graph,
        endpoint: endpoint.to_owned(),
        detail,
        request_id,
        problem,
    })?;
    Ok(match operation.status.as_str() {
        "succeeded" => Some(OperationOutcome::Succeeded),
        "failed" => {
            let detail = operation
                .numbers
                .iter()
                .find_map(|n| n.status_detail.as_deref().map(quoted))
                .unwrap_or_else(|| "the operation failed without a detail".into());
            Some(OperationOutcome::Failed(AssignmentFailure::from_detail(&detail)))
        }
        "skipped" => {
            let detail = "Teams skipped the operation, so the number was not changed";
            Some(OperationOutcome::Failed(AssignmentFailure::Other(detail.into())))
        }
        _ => None,
    })
}

/// Teams' own words as a message quotes them: cut to a bounded length.
pub(super) fn quoted(text: &str) -> String {
    crate::upstream::error::bounded(text, crate::upstream::error::QUOTED_TEXT_CHARS)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationNumber {
    #[serde(default)]
    status_detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_is_read_bare_or_wrapped_in_value() {
        let bare =
            serde_json::json!({"id": "1", "status": "failed", "numbers": [{"statusDetail": "no licence"}]});
        let wrapped = serde_json::json!({"value": bare.clone()});
        for body in [bare, wrapped] {
            let operation = operation_of(&body).unwrap();
            assert_eq!(operation.status, "failed");
            assert_eq!(operation.numbers[0].status_detail.as_deref(), Some("no licence"));
        }
        assert_eq!(
            operation_of(&serde_json::json!({"status": "running"}))
                .unwrap()
                .status,
            "running"
        );
    }

    #[test]
    fn an_operation_body_without_a_status_is_an_error_naming_its_shape() {
        let (problem, error) = operation_of(&serde_json::json!({"id": "1", "state": "done"}))
            .err()
            .unwrap();
        assert!(error.contains(r#"["id", "state"]"#), "{error}");
        assert_eq!(problem, BodyProblem::UnexpectedShape);
        let (problem, unknown) = operation_of(&serde_json::json!({"status": "paused"}))
            .err()
            .unwrap();
        assert!(unknown.contains("\"paused\""), "{unknown}");
        assert_eq!(
            problem,
            BodyProblem::UnknownValue,
            "an unknown status is no verdict: the change counts as still running"
        );
        assert!(operation_of(&serde_json::json!({"status": "skipped"})).is_ok());
    }

    #[test]
    fn status_details_are_classified() {
        let cases = [
            (
                "User 'x' lacks appropriate licenses to assign a 'DirectRouting' number.",
                "licence",
            ),
            (
                "Telephone Number '+1' has already been assigned to another user",
                "conflict",
            ),
            (
                "The server responded with a Request Error, Status: NotFound.",
                "not found",
            ),
            (
                "Telephone Number '+14155550100' is not found from tenant '9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34'",
                "number not in tenant",
            ),
            (
                "Emergency location 'berlin-location' was not found in the tenant.",
                "location not found",
            ),
            ("Internal error 0x80004005", "other"),
        ];
        for (detail, kind) in cases {
            let failure = AssignmentFailure::from_detail(detail);
            let got = match failure {
                AssignmentFailure::Licence(_) => "licence",
                AssignmentFailure::Conflict(_) => "conflict",
                AssignmentFailure::UserNotFound(_) => "not found",
                AssignmentFailure::NumberNotInTenant(_) => "number not in tenant",
                AssignmentFailure::LocationNotFound(_) => "location not found",
                AssignmentFailure::Other(_) => "other",
            };
            assert_eq!(got, kind, "{detail}");
        }
    }
}
