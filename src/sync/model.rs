//! The plain data the sync core decides over: desired and observed state in, actions and one
//! outcome per user out. No I/O types here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::offices::UserOffice;
use super::policies::{PolicyChange, PolicyNote, PolicyState};
use super::readiness::{Readiness, ReadinessField};
use crate::api::{
    AssignmentSpec, DEFAULT_GRACE_PERIOD, DEFAULT_MAX_UNASSIGNMENTS, NumberType, Reason, RemovalPolicy,
    SyncMode, TeamsTenantSyncSpec,
};
use crate::microsoft::directory::EmailIndex;
use crate::microsoft::licences::LicenceState;

/// The spec's policies, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Enforce or DryRun.
    pub mode: SyncMode,
    /// Unassign or Retain.
    pub removal: RemovalPolicy,
    /// How long a departed user keeps the number.
    pub grace_period: Duration,
    /// Whether numbers of the source that synced users held before this resource assigned them
    /// are taken over (see [`super::ownership`]): the right one stays, another one is replaced.
    pub adopt_existing: bool,
    /// The most numbers one sync may take off users: unassignments and replacements together.
    pub max_unassignments: usize,
    /// Whether a synced user's number may be replaced without the ownership record's approval,
    /// including numbers the source does not own.
    pub overwrite_foreign_numbers: bool,
    /// The Graph `numberType` to assign.
    pub number_type: &'static str,
    /// `spec.assignment`: each user's emergency location and Teams policies, by office (see
    /// [`super::offices`]), and whether group policies are overridden.
    pub assignment: AssignmentSpec,
    /// When `Ready` is True.
    pub readiness: Readiness,
}

/// A policy setting of the spec that cannot be acted on. The schema refuses these at admission;
/// a resource written before a CRD upgrade can still carry one, and a removal setting is never
/// guessed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `spec.removal.gracePeriod` is not a non-negative Go duration.
    #[error(
        "spec.removal.gracePeriod {0:?} is not a duration; write it as a Go duration such as 72h, 30m or 0s (0s unassigns at once)"
    )]
    GracePeriod(String),
    /// `spec.safety.maxUnassignmentsPerSync` is negative.
    #[error(
        "spec.safety.maxUnassignmentsPerSync is {0}; it must be 0 or more (0 lets no sync unassign anything)"
    )]
    MaxUnassignments(i32),
    /// A `spec.readiness` field.
    #[error(transparent)]
    Readiness(#[from] ReadinessField),
}

impl Policy {
    /// The policy of `spec`, or the first setting that cannot be acted on. Nothing falls back to
    /// a default: a grace period that does not parse would otherwise decide when numbers go.
    pub fn from_spec(spec: &TeamsTenantSyncSpec) -> Result<Self, PolicyError> {
        let grace_period = parse_duration(&spec.removal.grace_period)
            .ok_or_else(|| PolicyError::GracePeriod(spec.removal.grace_period.clone()))?;
        let limit = spec.safety.max_unassignments_per_sync;
        let max_unassignments = usize::try_from(limit).map_err(|_| PolicyError::MaxUnassignments(limit))?;
        Ok(Self {
            mode: spec.mode,
            removal: spec.removal.policy,
            grace_period,
            adopt_existing: spec.removal.adopt_existing,
            max_unassignments,
            overwrite_foreign_numbers: spec.safety.overwrite_foreign_numbers,
            number_type: number_type_name(spec.assignment.number_type),
            assignment: spec.assignment.clone(),
            readiness: Readiness::from_spec(&spec.readiness)?,
        })
    }
}

impl Default for Policy {
    /// The policy of a spec that leaves every setting at its default.
    fn default() -> Self {
        Self {
            mode: SyncMode::default(),
            removal: RemovalPolicy::default(),
            grace_period: parse_duration(DEFAULT_GRACE_PERIOD).expect("the default grace period parses"),
            adopt_existing: false,
            max_unassignments: DEFAULT_MAX_UNASSIGNMENTS.unsigned_abs() as usize,
            overwrite_foreign_numbers: false,
            number_type: number_type_name(NumberType::default()),
            assignment: AssignmentSpec::default(),
            readiness: Readiness::default(),
        }
    }
}

/// The Graph `numberType` of a spec's number type.
pub fn number_type_name(number_type: NumberType) -> &'static str {
    match number_type {
        NumberType::DirectRouting => "directRouting",
        NumberType::CallingPlan => "callingPlan",
        NumberType::OperatorConnect => "operatorConnect",
    }
}

/// A timestamp for messages: UTC, to the second (`2026-11-27T23:55:15Z`).
pub fn display_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a Go duration (`90s`, `15m`, `1h30m`, `0`). `None` also for one longer than 64
/// characters or with a number of more than 12 digits before its point: kube's parser panics on
/// durations that do not fit, and the schema's pattern admits them.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let longest_integer = text
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if text.len() > 64 || longest_integer > 12 {
        return None;
    }
    text.parse::<kube::core::Duration>()
        .ok()
        .filter(|d| !d.is_negative())
        .map(Duration::from)
}

/// Identifies a user entry across syncs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserKey {
    /// A Dialpad user, by id.
    Dialpad(String),
    /// A static-list user, by lower-cased email.
    Static(String),
    /// A Teams user holding a source number without being desired, by object id and number.
    Departed {
        /// Teams object id.
        teams_user_id: String,
        /// The number.
        number: String,
    },
}

/// A user the source wants to have a number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredUser {
    /// Dialpad user id (none for the static list).
    pub dialpad_user_id: Option<String>,
    /// Primary email, as the source has it.
    pub email: Option<String>,
    /// Primary number, as the source has it (not yet normalised).
    pub phone_number: Option<String>,
    /// Name for messages.
    pub display_name: Option<String>,
    /// The user's office, which decides their emergency location and policies.
    pub office: UserOffice,
}

impl DesiredUser {
    /// This user's key.
    pub fn key(&self) -> UserKey {
        match &self.dialpad_user_id {
            Some(id) => UserKey::Dialpad(id.clone()),
            None => UserKey::Static(self.email.clone().unwrap_or_default().to_lowercase()),
        }
    }
}

/// What the source says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredState {
    /// Users who should have their number in Teams.
    pub users: Vec<DesiredUser>,
    /// Normalised numbers the source owns (Dialpad's inventory, or the static list's numbers):
    /// only these may be unassigned or overwritten.
    pub owned_numbers: BTreeSet<String>,
    /// Normalised numbers of users who are neither desired nor gone (e.g. invited, not yet
    /// active): never unassigned.
    pub protected_numbers: BTreeSet<String>,
    /// Dialpad user id per owned number, for messages about departed users.
    pub number_owners: HashMap<String, String>,
    /// What the state was read from, in words for the admin (e.g. which Dialpad company); `None`
    /// when there is nothing to add to "the source".
    pub origin: Option<String>,
}

/// A Teams user as the planner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamsUser {
    /// Object id.
    pub id: String,
    /// Sign-in name.
    pub user_principal_name: String,
    /// Primary SMTP address.
    pub mail: Option<String>,
    /// Account enabled.
    pub enabled: bool,
    /// Licences.
    pub licence: LicenceState,
}

/// A number Teams holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldNumber {
    /// Normalised number.
    pub number: String,
    /// Holder's object id.
    pub holder: String,
    /// Still activating.
    pub pending: bool,
}

/// What Teams looks like.
#[derive(Clone, Debug, Default)]
pub struct TeamsState {
    /// Users.
    pub users: Vec<TeamsUser>,
    /// Email index over `users`.
    pub index: EmailIndex,
    /// Assigned numbers (unassigned ones are left out).
    pub numbers: Vec<HeldNumber>,
    /// The Teams policies the resource converges, as the tenant has them.
    pub policies: PolicyState,
}

/// The tenant-level checks done before planning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantChecks {
    /// Sign-in: `Ok` or the tenant reason and message.
    pub connected: Result<(), (Reason, String)>,
    /// Roles or permissions: `Ok` or the tenant reason and message.
    pub authorized: Result<(), (Reason, String)>,
}

impl TenantChecks {
    /// Both checks passed.
    pub fn ok() -> Self {
        Self {
            connected: Ok(()),
            authorized: Ok(()),
        }
    }
}

/// A user's earlier outcome, for grace periods and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousOutcome {
    /// Its reason.
    pub reason: Reason,
    /// When the condition last changed status (or reason, for grace periods: see `since`).
    pub since: Timestamp,
}

/// Per-user retry bookkeeping carried across syncs: a user whose change failed is not tried
/// again before `next_attempt`, and keeps its failure's reason meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryState {
    /// Consecutive failed attempts.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt: Option<Timestamp>,
    /// The last failure's reason.
    pub reason: Reason,
    /// The last failure's message.
    pub message: String,
}

/// A change to make in Teams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// Assign `number` to `user_id` (replacing the user's primary number if any).
    Assign {
        /// Normalised number.
        number: String,
        /// Teams object id.
        user_id: String,
        /// The emergency location to attach, from the user's office or the resource.
        location_id: Option<String>,
    },
    /// Unassign `number`.
    Unassign {
        /// Normalised number.
        number: String,
    },
}

/// Why a change was planned, as the change trail (see [`trail`](super::trail)) names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A user who holds no number in Teams gets the source's: a new user, or one whose number
    /// was taken off in Teams.
    NewUser,
    /// A user holding other numbers gets the source's, which takes `replaced` off them.
    DriftCorrected {
        /// The numbers the assignment takes off the user.
        replaced: Vec<String>,
    },
    /// A user who left the source loses the number once the grace period has passed.
    DepartedAfterGrace,
    /// An assignment sent while the source was still being read, which the complete plan does
    /// not make, is taken back.
    EarlyAssignmentUndone,
    /// The resource was deleted with removal policy Unassign.
    ResourceDeleted,
}

impl Cause {
    /// The cause's name in log lines.
    pub fn as_str(&self) -> &'static str {
        match self {
            Cause::NewUser => "new_user",
            Cause::DriftCorrected { .. } => "drift_corrected",
            Cause::DepartedAfterGrace => "departed_after_grace",
            Cause::EarlyAssignmentUndone => "early_assignment_undone",
            Cause::ResourceDeleted => "resource_deleted",
        }
    }

    /// The numbers the change takes off its user besides its own (a replacement's).
    pub fn replaced(&self) -> &[String] {
        match self {
            Cause::DriftCorrected { replaced } => replaced,
            _ => &[],
        }
    }
}

/// An action and the user outcome it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// Index into [`Plan::outcomes`].
    pub outcome: usize,
    /// What to do.
    pub kind: ActionKind,
    /// Why it was planned.
    pub cause: Cause,
}

/// One user's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserOutcome {
    /// Identity across syncs.
    pub key: UserKey,
    /// Email (source's, or the Teams user's for departed users).
    pub email: Option<String>,
    /// The number in E.164 when it normalised, else as the source has it.
    pub phone_number: Option<String>,
    /// Dialpad id.
    pub dialpad_user_id: Option<String>,
    /// Matched Teams user.
    pub teams_user_id: Option<String>,
    /// Why.
    pub reason: Reason,
    /// For the admin.
    pub message: String,
    /// Whether this entry is a desired user (not a departed one).
    pub desired: bool,
}

/// The plan: actions and an outcome per user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Users, in source order, then departed users by key.
    pub outcomes: Vec<UserOutcome>,
    /// Changes, assignments first, then unassignments.
    pub actions: Vec<Action>,
    /// Replacements among the actions (a user held another number, which the assignment takes
    /// off them).
    pub drift_corrections: usize,
    /// Numbers that planned replacements take off their users and that this resource adopts
    /// first (`spec.removal.adoptExisting`), each with the Teams user id holding it: recorded
    /// before any change is made, as if this resource had assigned them.
    pub adoptions: Vec<(String, String)>,
    /// Teams policy changes, each with its user's index into [`Plan::outcomes`].
    pub policy_changes: Vec<(usize, PolicyChange)>,
    /// What users' outcomes say of their policies once the changes are made, by index.
    pub policy_notes: Vec<(usize, PolicyNote)>,
}

impl Plan {
    /// Counts per reason.
    pub fn counts(&self) -> BTreeMap<Reason, usize> {
        let mut counts = BTreeMap::new();
        for outcome in &self.outcomes {
            *counts.entry(outcome.reason).or_default() += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_too_long_for_kube_to_parse_is_none_not_a_panic() {
        // Found by the planner fuzz target: kube's parser panics on values that overflow, and
        // spec.removal.gracePeriod's pattern admits them.
        assert_eq!(parse_duration("99999999999999999999h"), None);
        assert_eq!(parse_duration(&"999999999999h".repeat(6000)), None);
        assert_eq!(
            parse_duration("999999999999h"),
            Some(Duration::from_secs(999_999_999_999 * 3600))
        );
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
    }
}
