//! The change trail: one structured `info` line for every change sent to Teams and one for its
//! verdict, so that who changed which number, when and why can be read from the operator's log, as
//! external-dns logs every change it makes. Every line has the same fields, for `jq` over the JSON
//! log format and for `grep` over text:
//!
//! | field | value |
//! |---|---|
//! | `change` | `sent` or `confirmed` |
//! | `action` | `assign` or `unassign` |
//! | `number` | the number assigned or unassigned, in E.164 |
//! | `replaced` | the numbers an assignment takes off its user (a replacement), comma-separated; empty otherwise |
//! | `reason` | why it was planned: [`Cause::as_str`] |
//! | `user` | the source user's key: `dialpad:<id>`, `static:<email>`, or `departed:<Teams user id>` |
//! | `email` | the user's email (the source's, or the Teams user's for a departed user) |
//! | `teams_user_id` | the Teams user's object id |
//! | `operation` | on `sent` lines: Teams' operation URL, when it runs the change as one |
//! | `verdict` | on `confirmed` lines: `succeeded`, `refused`, `failed` or `still_running`; empty on `sent` lines |
//! | `detail` | on `confirmed` lines: Teams' words for a refusal, or what failed; empty otherwise |
//!
//! The core knows nothing of Kubernetes: the resource is named by the span the caller opens
//! around the sync (the controller's `sync` span, field `resource`), which every line inherits.
//! Nothing here is read from a Secret: users, numbers and Teams' answers only.

use super::change::{ChangeOutcome, Submission, WriteError};
use super::model::{ActionKind, Cause, DesiredUser, UserKey, UserOutcome};
use super::policies::PolicyChange;

/// Who a change is for, as the trail names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// The source user's key (see the module docs).
    pub user: String,
    /// The user's email, or empty when there is none.
    pub email: String,
    /// The Teams user's object id, or empty when none is known.
    pub teams_user_id: String,
}

impl Subject {
    /// The user of `outcome`.
    pub fn of(outcome: &UserOutcome) -> Self {
        Self {
            user: key_text(&outcome.key),
            email: outcome.email.clone().unwrap_or_default(),
            teams_user_id: match (&outcome.teams_user_id, &outcome.key) {
                (Some(id), _) => id.clone(),
                (None, UserKey::Departed { teams_user_id, .. }) => teams_user_id.clone(),
                (None, _) => String::new(),
            },
        }
    }

    /// A source user matched to the Teams user `teams_user_id`, before any plan has an outcome
    /// for them.
    pub fn of_desired(user: &DesiredUser, teams_user_id: &str) -> Self {
        Self {
            user: key_text(&user.key()),
            email: user.email.clone().unwrap_or_default(),
            teams_user_id: teams_user_id.to_owned(),
        }
    }

    /// The Teams user holding a number, known by nothing else (a deleted resource's numbers).
    pub fn holder(teams_user_id: &str) -> Self {
        Self {
            user: key_text(&UserKey::Departed {
                teams_user_id: teams_user_id.to_owned(),
                number: String::new(),
            }),
            email: String::new(),
            teams_user_id: teams_user_id.to_owned(),
        }
    }

    /// How Events name the user: the email, else the key.
    pub fn label(&self) -> &str {
        if self.email.is_empty() {
            &self.user
        } else {
            &self.email
        }
    }
}

/// A user key in the trail's words.
fn key_text(key: &UserKey) -> String {
    match key {
        UserKey::Dialpad(id) => format!("dialpad:{id}"),
        UserKey::Static(email) => format!("static:{email}"),
        UserKey::Departed { teams_user_id, .. } => format!("departed:{teams_user_id}"),
    }
}

/// The action's name and number.
fn action_of(kind: &ActionKind) -> (&'static str, &str) {
    match kind {
        ActionKind::Assign { number, .. } => ("assign", number),
        ActionKind::Unassign { number } => ("unassign", number),
    }
}

/// The operation Teams runs a submitted change as, if it named one.
pub fn operation_of(answer: &Result<Submission, WriteError>) -> Option<&str> {
    match answer {
        Ok(Submission::Running { url, .. }) => url.as_deref(),
        _ => None,
    }
}

/// A verdict's name and detail (Teams' words for a refusal, or what failed).
pub fn verdict_of(result: &Result<ChangeOutcome, WriteError>) -> (&'static str, String) {
    match result {
        Ok(ChangeOutcome::Succeeded) => ("succeeded", String::new()),
        Ok(ChangeOutcome::StillRunning) => ("still_running", String::new()),
        Ok(ChangeOutcome::Refused(refusal)) => ("refused", refusal.detail().to_owned()),
        Err(error) => ("failed", error.to_string()),
    }
}

/// Logs that `kind`, planned for `cause`, was sent for `subject`, with Teams' operation if it
/// runs one.
pub fn sent(subject: &Subject, kind: &ActionKind, cause: &Cause, operation: Option<&str>) {
    line("sent", subject, kind, cause, operation, "", "");
}

/// Logs Teams' verdict on `kind`, planned for `cause`, for `subject`. Teams' operation is on the
/// `sent` line only: keeping every operation's URL until its verdict would cost a large sync
/// memory for no new fact (the number and the user tie the two lines together).
pub fn confirmed(
    subject: &Subject,
    kind: &ActionKind,
    cause: &Cause,
    result: &Result<ChangeOutcome, WriteError>,
) {
    let (verdict, detail) = verdict_of(result);
    line("confirmed", subject, kind, cause, None, verdict, &detail);
}

/// One line of the trail, with every field (see the module docs).
fn line(
    change: &'static str,
    subject: &Subject,
    kind: &ActionKind,
    cause: &Cause,
    operation: Option<&str>,
    verdict: &str,
    detail: &str,
) {
    let (action, number) = action_of(kind);
    let what = if verdict.is_empty() {
        "sent to Teams"
    } else {
        verdict
    };
    tracing::info!(
        change,
        action,
        number,
        replaced = %cause.replaced().join(","),
        reason = cause.as_str(),
        user = %subject.user,
        email = %subject.email,
        teams_user_id = %subject.teams_user_id,
        operation = operation.unwrap_or_default(),
        verdict,
        detail,
        "number change {what}"
    );
}

/// Logs that the Teams policy change `change`, planned for `reason` (a [`Cause::as_str`], or
/// `policy_differs` / `policy_no_longer_wanted`), was sent. Policy lines carry `policy` (the spec
/// field) and `policy_id` where number lines carry `number`.
pub fn policy_sent(change: &PolicyChange, reason: &str) {
    policy_line("sent", change, reason, "", "");
}

/// Logs Teams' answer to the policy change `change`.
pub fn policy_confirmed(change: &PolicyChange, reason: &str, result: &Result<(), WriteError>) {
    match result {
        Ok(()) => policy_line("confirmed", change, reason, "succeeded", ""),
        Err(error) => policy_line("confirmed", change, reason, "failed", &error.to_string()),
    }
}

fn policy_line(
    change: &'static str,
    policy_change: &PolicyChange,
    reason: &str,
    verdict: &str,
    detail: &str,
) {
    let (action, user_id, kind, policy_id) = match policy_change {
        PolicyChange::Assign {
            user_id,
            kind,
            policy_id,
        } => ("assign_policy", user_id, kind, policy_id.as_str()),
        PolicyChange::Unassign { user_id, kind } => ("unassign_policy", user_id, kind, ""),
    };
    let what = if verdict.is_empty() {
        "sent to Teams"
    } else {
        verdict
    };
    tracing::info!(
        change,
        action,
        policy = kind.field(),
        policy_id,
        reason,
        teams_user_id = %user_id,
        verdict,
        detail,
        "policy change {what}"
    );
}

#[cfg(test)]
#[path = "trail_tests.rs"]
mod tests;
