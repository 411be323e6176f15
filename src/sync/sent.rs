//! Changes as they are sent to Teams, before Teams' verdict: one change and its first answer
//! ([`send`]), those sent while the source was still being read ([`SentEarly`]), and what a
//! sync's execution did in the end ([`ExecutionSummary`]). Both the early sender and the executor
//! use them.

use std::time::Duration;

use tokio::time::Instant;

use super::change::{Submission, WriteError};
use super::model::{Action, ActionKind, Policy};
use super::ports::ChangeSender;
use super::trail::{self, Subject};

/// What execution did, for Events and the demo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// Numbers assigned (including drift corrections).
    pub assigned: usize,
    /// Numbers unassigned.
    pub unassigned: usize,
    /// Actions Teams refused or that failed.
    pub failed: usize,
    /// Drift corrections among `assigned`.
    pub drift_corrected: usize,
    /// The numbers unassigned, for the ownership record.
    pub unassigned_numbers: Vec<String>,
    /// The numbers whose assignment Teams refused, for the ownership record.
    pub refused_numbers: Vec<String>,
    /// Assignments sent while the source was still being read that the complete plan did not
    /// make (a later page repeated the email), unassigned again in the same sync.
    pub undone: usize,
    /// The first few users whose number was assigned (replacements included), for Events: at
    /// most [`EXAMPLES`], each as "email (number)".
    pub assigned_users: Vec<String>,
    /// The first few users a replacement corrected, as "email (new number, replacing old)".
    pub drift_corrected_users: Vec<String>,
    /// The first few departed users whose number was unassigned, as "email (number)".
    pub unassigned_users: Vec<String>,
    /// Teams policies assigned.
    pub policies_assigned: usize,
    /// Teams policies unassigned.
    pub policies_unassigned: usize,
    /// The policy unassignments made, for the ownership record.
    pub unassigned_policies: Vec<super::policies::PolicyChange>,
    /// The policy assignments that failed, for the ownership record.
    pub refused_policies: Vec<super::policies::PolicyChange>,
}

/// How many users each list of [`ExecutionSummary`] keeps: Events name the first few only.
pub const EXAMPLES: usize = 3;

/// Adds `example()` to `examples` while it holds fewer than [`EXAMPLES`].
pub fn note_example(examples: &mut Vec<String>, example: impl FnOnce() -> String) {
    if examples.len() < EXAMPLES {
        examples.push(example());
    }
}

/// A change sent to Teams: the action, Teams' first answer, and how long sending took.
#[derive(Debug)]
pub struct SentChange {
    /// What was asked, and for which outcome.
    pub action: Action,
    /// Teams' answer to the request: a verdict, or an operation to confirm later.
    pub result: Result<Submission, WriteError>,
    /// How long the request took (the latency the concurrency is sized from).
    pub took: Duration,
}

/// Sends one change for `subject` without waiting for Teams' verdict, and logs it on the change
/// trail. The subject is not kept: a sync of many users holds every change sent until its verdict,
/// and the trail names the user again from the plan's outcome then.
pub async fn send<W: ChangeSender>(
    writer: &W,
    policy: &Policy,
    action: Action,
    subject: &Subject,
) -> SentChange {
    let sent = Instant::now();
    let result = match &action.kind {
        ActionKind::Assign {
            number,
            user_id,
            location_id,
        } => {
            writer
                .submit_assign(number, user_id, policy.number_type, location_id.as_deref())
                .await
        }
        ActionKind::Unassign { number } => writer.submit_unassign(number, policy.number_type).await,
    };
    trail::sent(subject, &action.kind, &action.cause, trail::operation_of(&result));
    SentChange {
        action,
        result,
        took: sent.elapsed(),
    }
}

/// Changes sent while the source was still being read (see [`early`](super::early)), matched
/// against the complete plan.
#[derive(Debug, Default)]
pub struct SentEarly {
    /// Changes the complete plan makes too; `action.outcome` is their user in the plan. They
    /// are confirmed and folded in like the plan's own.
    pub planned: Vec<SentChange>,
    /// Changes the complete plan would not make (for example, a later page showed the email on
    /// a second source user), with their user's outcome if the plan has one. They are confirmed,
    /// then unassigned again so that the sync ends where the plan alone would, and noted on the
    /// user.
    pub unplanned: Vec<(Option<usize>, SentChange)>,
}
