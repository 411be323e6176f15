//! Assignments sent while the source is still being read. On a first sync the source's read
//! (Dialpad: 20 requests/s, 100 users a page) would otherwise sit before every write; instead,
//! once Teams has been read, each page of source users is checked as it arrives, and the users
//! whose assignment the complete plan makes whatever the rest of the source says are recorded and
//! sent at once. Everything else (removals, drift, conflicts, anything that needs the whole
//! source) waits for the complete plan, which is made as before and then matched against what was
//! already sent (see [`match_sent`]); what it would not have made is undone in the same sync (see
//! `settle_unplanned`), so the sync ends where the complete plan alone would have.

use std::collections::{HashMap, HashSet, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc::UnboundedReceiver;

use super::change::{ChangeOutcome, Submission, WriteError};
use super::confirm::{FIRST_LOOK, PendingChange, concurrency_for, confirm};
use super::input::PlanInput;
use super::lookup::{Lookup, retry_gate};
use super::model::{Action, ActionKind, Cause, DesiredUser, Plan, Policy, UserKey};
use super::ownership::OwnershipRecord;
use super::plan::decide;
use super::ports::{ChangeConfirmer, ChangeSender, OwnershipStore};
use super::sent::{ExecutionSummary, SentChange, SentEarly, send};
use super::trail::{self, Subject};
use crate::api::SyncMode;

/// An assignment that may be sent before the source is completely read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyAssignment {
    /// The source user it is for.
    pub key: UserKey,
    /// The same user as the change trail names them (kept only until the change is sent).
    pub subject: Subject,
    /// The assignment.
    pub kind: ActionKind,
}

/// Picks early assignments from pages of source users, against a complete read of Teams.
pub struct EarlyAssigner<'a> {
    input: &'a PlanInput<'a>,
    teams: Lookup<'a>,
    emails: HashSet<String>,
    not_early: &'a HashSet<UserKey>,
}

impl<'a> EarlyAssigner<'a> {
    /// An assigner over `input` (whose desired state is not read) that leaves the users of
    /// `not_early` to the complete plan, or `None` when nothing may be sent early: a dry run,
    /// or a tenant that failed its checks.
    pub fn new(input: &'a PlanInput<'a>, not_early: &'a HashSet<UserKey>) -> Option<Self> {
        let checked = input.checks.connected.is_ok() && input.checks.authorized.is_ok();
        (checked && input.policy.mode == SyncMode::Enforce).then(|| Self {
            input,
            teams: Lookup::new(input),
            emails: HashSet::new(),
            not_early,
        })
    }

    /// The assignments among `users` that the complete plan makes whatever the rest of the
    /// source holds: the user's email is the first of its kind so far, matches one enabled,
    /// licensed Teams user who holds no number, the number is free in Teams, and no retry is
    /// pending. Only a later source user with the same email can still change that verdict
    /// (both are then `DuplicateEmail`): [`match_sent`] finds such an assignment unplanned, and
    /// `settle_unplanned` unassigns it again in the same sync.
    pub fn assignments(&mut self, users: &[DesiredUser]) -> Vec<EarlyAssignment> {
        let none = HashSet::new();
        let email_of = |user: &DesiredUser| user.email.as_deref().map(|e| e.trim().to_lowercase());
        // A repeat within the page is already known: neither user is sent early, so a small org
        // (one page) never assigns and undoes.
        let mut in_page: HashMap<String, usize> = HashMap::new();
        for email in users.iter().filter_map(email_of) {
            *in_page.entry(email).or_default() += 1;
        }
        let mut picked = Vec::new();
        for user in users {
            let Some(email) = email_of(user) else {
                continue;
            };
            let repeated = in_page.get(&email).is_some_and(|count| *count > 1);
            if email.is_empty() || !self.emails.insert(email) || repeated {
                continue;
            }
            let decision = decide(self.input, &self.teams, user, &none);
            let Some(kind @ ActionKind::Assign { user_id, .. }) = &decision.action else {
                continue;
            };
            let key = user.key();
            // A replacement takes a number off the user: it waits for the complete plan, which
            // holds it to the safety limit with every other removal.
            if decision.replacing.is_some()
                || self.not_early.contains(&key)
                || self.teams.numbers_of.contains_key(user_id.as_str())
                || retry_gate(self.input, &key).is_some()
            {
                continue;
            }
            picked.push(EarlyAssignment {
                key,
                subject: Subject::of_desired(user, user_id),
                kind: kind.clone(),
            });
        }
        picked
    }
}

/// Sends the early assignments of the pages arriving on `pages` until the source's read ends,
/// as fast as the writer's budget allows. Each batch is added to `record` and saved in `store`
/// before any of it is sent; if saving fails, nothing more is sent early (the complete plan's
/// own save then reports the error). `progress(sent, known)` is called as changes are sent
/// (`known` grows as pages arrive). Returns what was sent, by user.
pub async fn send_early<W: ChangeSender + ChangeConfirmer, O: OwnershipStore>(
    writer: &W,
    assigner: Option<EarlyAssigner<'_>>,
    mut pages: UnboundedReceiver<Vec<DesiredUser>>,
    store: &O,
    record: &mut OwnershipRecord,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<(UserKey, SentChange)> {
    let Some(mut assigner) = assigner else {
        return Vec::new();
    };
    let policy = assigner.input.policy;
    let mut unsaved: Vec<EarlyAssignment> = Vec::new();
    let mut queue: VecDeque<EarlyAssignment> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    let mut sent = Vec::new();
    // One change at a time until the first one measures the latency.
    let mut concurrency = 1;
    let mut reading = true;
    let mut recording = true;
    loop {
        // Record what arrived once the queue runs low: few saves, and nothing sent unrecorded.
        if recording && !unsaved.is_empty() && queue.len() < concurrency {
            let next = record.with(unsaved.iter().filter_map(|early| match &early.kind {
                ActionKind::Assign { number, user_id, .. } => Some((number.as_str(), user_id.as_str())),
                ActionKind::Unassign { .. } => None,
            }));
            match store.save(&next).await {
                Ok(()) => {
                    *record = next;
                    queue.extend(unsaved.drain(..));
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot record early assignments; the rest wait for the complete plan");
                    recording = false;
                    unsaved.clear();
                }
            }
        }
        while in_flight.len() < concurrency
            && let Some(early) = queue.pop_front()
        {
            // Only a user who holds no number is assigned early (see `assignments`).
            let action = Action {
                outcome: 0,
                kind: early.kind,
                cause: Cause::NewUser,
            };
            let key = early.key;
            let subject = early.subject;
            in_flight.push(async move { (key, send(writer, policy, action, &subject).await) });
        }
        let unsent = !queue.is_empty() || (recording && !unsaved.is_empty());
        if !reading && in_flight.is_empty() && !unsent {
            break;
        }
        tokio::select! {
            page = pages.recv(), if reading => match page {
                Some(users) if recording => unsaved.extend(assigner.assignments(&users)),
                Some(_) => {}
                None => reading = false,
            },
            Some((key, change)) = in_flight.next(), if !in_flight.is_empty() => {
                if sent.is_empty() {
                    concurrency = concurrency_for(writer.requests_per_second(), change.took);
                }
                sent.push((key, change));
                let known = sent.len() + in_flight.len() + queue.len() + unsaved.len();
                progress(sent.len(), known);
            },
            else => {}
        }
    }
    sent
}

/// Matches the changes sent early against the complete `plan`: a change the plan makes too is
/// taken out of its actions (it was sent) and folded into its user; any other is reported as
/// unplanned, with its user's outcome when the plan has one.
pub fn match_sent(plan: &mut Plan, sent: Vec<(UserKey, SentChange)>) -> SentEarly {
    let by_key: HashMap<&UserKey, usize> = plan
        .outcomes
        .iter()
        .enumerate()
        .filter(|(_, outcome)| outcome.desired)
        .map(|(index, outcome)| (&outcome.key, index))
        .collect();
    let action_of: HashMap<usize, usize> = plan
        .actions
        .iter()
        .enumerate()
        .map(|(position, action)| (action.outcome, position))
        .collect();
    let mut early = SentEarly::default();
    let mut taken = HashSet::new();
    for (key, mut change) in sent {
        let user = by_key.get(&key).copied();
        let position = user
            .and_then(|index| action_of.get(&index).copied())
            .filter(|&position| plan.actions[position].kind == change.action.kind);
        match (user, position) {
            (Some(index), Some(position)) => {
                taken.insert(position);
                change.action.outcome = index;
                early.planned.push(change);
            }
            _ => early.unplanned.push((user, change)),
        }
    }
    let mut position = 0;
    plan.actions.retain(|_| {
        let keep = !taken.contains(&position);
        position += 1;
        keep
    });
    early
}

/// An early assignment the complete plan does not make, with Teams' verdict on it: its user's
/// outcome in the plan if there is one, the user as the trail names them, and the change.
pub(super) type Unplanned = (
    Option<usize>,
    Subject,
    ActionKind,
    Result<ChangeOutcome, WriteError>,
);

/// Settles the early assignments the complete plan does not make, so that the sync ends where
/// the complete plan alone would have: each one Teams made (or is making) is unassigned again,
/// one Teams refused is dropped from the record, and one whose result is unknown stays recorded
/// until a sync sees Teams. Each user is told what happened to the number. Without a complete
/// read (no user: the source failed part-way) there is no plan to end at, and what Teams made
/// stays, recorded, for the next sync to judge.
pub(super) async fn settle_unplanned<W: ChangeSender + ChangeConfirmer>(
    writer: &W,
    policy: &Policy,
    plan: &mut Plan,
    summary: &mut ExecutionSummary,
    verdicts: Vec<Unplanned>,
) {
    let mut undo = Vec::new();
    for (user, subject, kind, result) in verdicts {
        let ActionKind::Assign { number, .. } = kind else {
            continue;
        };
        let note = match result {
            // Without a complete read there is no plan to end at: what was sent early was right
            // for everything read, so it stays (recorded) and the next sync judges it.
            Ok(ChangeOutcome::Succeeded | ChangeOutcome::StillRunning) if user.is_none() => {
                summary.assigned += 1;
                continue;
            }
            Ok(ChangeOutcome::Succeeded | ChangeOutcome::StillRunning) => {
                undo.push((user, number, subject));
                continue;
            }
            Ok(ChangeOutcome::Refused(failure)) => {
                summary.failed += 1;
                summary.refused_numbers.push(number.clone());
                format!("Teams refused it ({})", failure.detail())
            }
            Err(error) => {
                summary.failed += 1;
                format!(
                    "its result is unknown ({error}): it stays recorded as this resource's until a sync sees whether Teams holds it"
                )
            }
        };
        note_on(plan, user, &number, &note);
    }
    if undo.is_empty() {
        return;
    }
    tracing::warn!(
        count = undo.len(),
        "numbers assigned while the source was still being read are not in the complete plan; unassigning them again"
    );
    let mut pending = Vec::new();
    let mut verdicts = Vec::new();
    for (position, (_, number, subject)) in undo.iter().enumerate() {
        let kind = ActionKind::Unassign {
            number: number.clone(),
        };
        let action = Action {
            outcome: position,
            kind: kind.clone(),
            cause: Cause::EarlyAssignmentUndone,
        };
        match send(writer, policy, action, subject).await.result {
            Ok(Submission::Done(outcome)) => verdicts.push((position, kind, Ok(outcome))),
            Ok(Submission::Running { url, .. }) => pending.push(PendingChange {
                outcome: position,
                kind,
                url,
            }),
            Err(error) => verdicts.push((position, kind, Err(error))),
        }
    }
    verdicts.extend(confirm(writer, pending, FIRST_LOOK).await);
    for (position, kind, result) in verdicts {
        let (user, number, subject) = &undo[position];
        trail::confirmed(subject, &kind, &Cause::EarlyAssignmentUndone, &result);
        let note = if let Ok(ChangeOutcome::Succeeded) = result {
            summary.undone += 1;
            summary.unassigned_numbers.push(number.clone());
            "it has been unassigned again".to_owned()
        } else {
            summary.assigned += 1;
            let why = match result {
                Ok(ChangeOutcome::StillRunning) => "Teams is still processing the unassignment".to_owned(),
                Ok(ChangeOutcome::Refused(failure)) => failure.detail().to_owned(),
                Err(error) => error.to_string(),
                Ok(ChangeOutcome::Succeeded) => unreachable!("handled above"),
            };
            format!(
                "it could not be unassigned again yet ({why}): it stays recorded as this resource's, and later syncs treat it as a number whose user no longer matches"
            )
        };
        note_on(plan, *user, number, &note);
    }
}

/// Tells `user` what happened to `number`, assigned early before the complete read ruled it out.
fn note_on(plan: &mut Plan, user: Option<usize>, number: &str, what: &str) {
    if let Some(outcome) = user.and_then(|index| plan.outcomes.get_mut(index)) {
        outcome.message = format!(
            "{}; {number} had been assigned to this user's Teams account while Dialpad was still being read, before this was known: {what}",
            outcome.message
        );
    }
}

#[cfg(test)]
#[path = "early_tests.rs"]
mod tests;
