//! The sync core's own words for changing Teams, whatever client carries the change: what Teams
//! answered to a submitted change ([`Submission`]), its verdict ([`ChangeOutcome`], and why it
//! refused one: [`Refusal`]), and a change that could not be sent or confirmed ([`WriteError`]).
//! The adapters translate the Graph client's answers into these at the edge.

use std::fmt;
use std::time::Duration;

/// Why Teams refused a change, with Teams' own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The user lacks the licence for this number type.
    Licence(String),
    /// The number is held by someone else.
    Conflict(String),
    /// The user does not exist (or is not yet provisioned in Teams).
    UserNotFound(String),
    /// Teams does not know the number for this number type in the tenant.
    NumberNotInTenant(String),
    /// The emergency location the assignment names is not the tenant's.
    LocationNotFound(String),
    /// Anything else.
    Other(String),
}

impl Refusal {
    /// Teams' own words.
    pub fn detail(&self) -> &str {
        match self {
            Refusal::Licence(detail)
            | Refusal::Conflict(detail)
            | Refusal::UserNotFound(detail)
            | Refusal::NumberNotInTenant(detail)
            | Refusal::LocationNotFound(detail)
            | Refusal::Other(detail) => detail,
        }
    }
}

/// How an assignment or unassignment ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Teams applied it.
    Succeeded,
    /// Teams refused it.
    Refused(Refusal),
    /// Still running when the writer stopped waiting; a later look (or sync) sees the result.
    StillRunning,
}

/// What Teams answered to a change when it was sent, before its verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Submission {
    /// Teams answered with its verdict at once.
    Done(ChangeOutcome),
    /// Teams runs it as an operation, to be looked at on `url`.
    Running {
        /// Where to look; `None` when Teams gave nowhere, so that only the number listing tells
        /// how it ended.
        url: Option<String>,
        /// How long Teams asked to wait before looking, if it said.
        retry_after: Option<Duration>,
    },
}

/// A change that could not be sent, or whose verdict could not be read: what happened (for the
/// user's message), and whether a later attempt may succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteError {
    /// What happened, naming the endpoint and any code or request id; never a secret.
    pub message: String,
    /// Whether a retry may succeed without anyone changing anything.
    pub transient: bool,
}

impl WriteError {
    /// Whether a retry may fix it.
    pub fn is_transient(&self) -> bool {
        self.transient
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WriteError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_error_says_what_happened_and_whether_to_retry() {
        let error = WriteError {
            message: "Microsoft Graph POST .../assignNumber: HTTP 503".into(),
            transient: true,
        };
        assert!(error.is_transient());
        assert_eq!(
            error.to_string(),
            "Microsoft Graph POST .../assignNumber: HTTP 503"
        );
        assert_eq!(Refusal::Conflict("taken".into()).detail(), "taken");
    }
}
