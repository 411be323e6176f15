//! The policy pass of the planner over plain data: offices, group precedence, ownership, the
//! safety limit and dry runs.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::api::{AssignmentSpec, OfficeAssignment, Reason, SyncMode};
use crate::microsoft::catalog;
use crate::sync::input::PlanInput;
use crate::sync::model::*;
use crate::sync::offices::UserOffice;
use crate::sync::ownership::OwnershipRecord;
use crate::sync::plan::plan;
use crate::sync::policies::{EffectivePolicy, PolicyChange, PolicyKind, PolicySource, Unresolved};
use crate::sync::policy_execute::settle_notes;
use crate::sync::testing::{licensed, teams_state};

const BERLIN_ROUTES: &str = "7a0c2b1e-0000-4000-8000-0000000000b1";
const GLOBAL_ROUTES: &str = "7a0c2b1e-0000-4000-8000-0000000000a1";
const SALES_ROUTES: &str = "7a0c2b1e-0000-4000-8000-0000000000c1";

/// Ada (Dialpad user 1, office 4711 = Berlin) with her number in place on Teams user t1; the
/// resource names Global-Routes for everyone and Berlin-Routes for Berlin.
struct World {
    policy: Policy,
    desired: DesiredState,
    teams: TeamsState,
    record: OwnershipRecord,
    previous: HashMap<UserKey, PreviousOutcome>,
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

impl World {
    fn new() -> Self {
        let assignment = AssignmentSpec {
            emergency_location_id: Some("hq-location".into()),
            voice_routing_policy: Some("Global-Routes".into()),
            offices: vec![OfficeAssignment {
                office: "4711".into(),
                emergency_location_id: Some("berlin-location".into()),
                voice_routing_policy: Some("Berlin-Routes".into()),
                ..OfficeAssignment::default()
            }],
            ..AssignmentSpec::default()
        };
        let mut world = Self {
            policy: Policy {
                assignment,
                ..Policy::default()
            },
            desired: DesiredState::default(),
            teams: teams_state(Vec::new(), Vec::new()),
            record: OwnershipRecord::default(),
            previous: HashMap::new(),
        };
        world.teams.policies.kinds.insert(PolicyKind::VoiceRouting);
        for (name, id) in [("Global-Routes", GLOBAL_ROUTES), ("Berlin-Routes", BERLIN_ROUTES)] {
            world
                .teams
                .policies
                .ids
                .insert((PolicyKind::VoiceRouting, name.into()), Ok(id.into()));
        }
        world.user("1", "ada@c.com", "+14155550100", "t1", Some("4711"), true)
    }

    /// A desired Dialpad user in `office`, matched to licensed Teams user `teams_id`, holding
    /// their number there when `in_place`.
    fn user(
        mut self,
        id: &str,
        email: &str,
        number: &str,
        teams_id: &str,
        office: Option<&str>,
        in_place: bool,
    ) -> Self {
        self.desired.users.push(DesiredUser {
            dialpad_user_id: Some(id.into()),
            email: Some(email.into()),
            phone_number: Some(number.into()),
            display_name: None,
            office: UserOffice {
                id: office.map(str::to_owned),
                name: None,
            },
        });
        self.desired.owned_numbers.insert(number.into());
        self.teams_user(teams_id, email);
        if in_place {
            self.teams.numbers.push(HeldNumber {
                number: number.into(),
                holder: teams_id.into(),
                pending: false,
            });
        }
        self
    }

    fn teams_user(&mut self, id: &str, email: &str) {
        let mut users = std::mem::take(&mut self.teams.users);
        users.push(TeamsUser {
            id: id.into(),
            user_principal_name: email.into(),
            mail: Some(email.into()),
            enabled: true,
            licence: licensed(&[catalog::MCOEV], &["SPE_E5"]),
        });
        let (numbers, policies) = (
            std::mem::take(&mut self.teams.numbers),
            std::mem::take(&mut self.teams.policies),
        );
        self.teams = teams_state(users, numbers);
        self.teams.policies = policies;
    }

    fn applied(mut self, user: &str, id: &str, source: PolicySource) -> Self {
        self.teams
            .policies
            .effective
            .entry(user.into())
            .or_default()
            .insert(
                PolicyKind::VoiceRouting,
                EffectivePolicy {
                    policy_id: id.into(),
                    source,
                },
            );
        self
    }

    fn owning(mut self, user: &str, id: &str) -> Self {
        self.record = self.record.with_policy_changes(&[PolicyChange::Assign {
            user_id: user.into(),
            kind: PolicyKind::VoiceRouting,
            policy_id: id.into(),
        }]);
        self
    }

    /// The plan, with its policy notes folded in as if every change it plans were made.
    fn run(&self) -> Plan {
        let mut plan = self.plan();
        let done = plan
            .policy_changes
            .iter()
            .map(|(_, change)| change.owned_target())
            .collect();
        settle_notes(&mut plan, &done, self.policy.mode == SyncMode::DryRun);
        plan
    }

    fn plan(&self) -> Plan {
        plan(&PlanInput {
            scope: None,
            policy: &self.policy,
            desired: &self.desired,
            teams: &self.teams,
            checks: &TenantChecks::ok(),
            previous: &self.previous,
            retries: &HashMap::new(),
            owned: &self.record,
            now: now(),
        })
    }
}

fn assign(user: &str, id: &str) -> PolicyChange {
    PolicyChange::Assign {
        user_id: user.into(),
        kind: PolicyKind::VoiceRouting,
        policy_id: id.into(),
    }
}

fn unassign(user: &str) -> PolicyChange {
    PolicyChange::Unassign {
        user_id: user.into(),
        kind: PolicyKind::VoiceRouting,
    }
}

#[test]
fn a_synced_user_gets_their_offices_policy_and_their_number_its_location() {
    let world = World::new().user("2", "bob@c.com", "+14155550101", "t2", Some("99"), false);
    let plan = world.run();
    assert_eq!(
        plan.policy_changes,
        vec![(0, assign("t1", BERLIN_ROUTES)), (1, assign("t2", GLOBAL_ROUTES))]
    );
    let ActionKind::Assign { location_id, .. } = &plan.actions[0].kind else {
        panic!("{:?}", plan.actions)
    };
    assert_eq!(
        location_id.as_deref(),
        Some("hq-location"),
        "Bob's office is not listed"
    );
    assert_eq!(plan.outcomes[0].reason, Reason::InSync);
    assert!(
        plan.outcomes[0]
            .message
            .ends_with("; assigned voiceRoutingPolicy 'Berlin-Routes'"),
        "{}",
        plan.outcomes[0].message
    );
}

#[test]
fn a_user_with_the_wanted_policy_needs_nothing_however_it_came() {
    for source in [
        PolicySource::Direct,
        PolicySource::Group {
            group_id: Some("berlin-office".into()),
        },
    ] {
        let from_group = source != PolicySource::Direct;
        let plan = World::new().applied("t1", BERLIN_ROUTES, source).run();
        assert!(plan.policy_changes.is_empty());
        assert_eq!(plan.outcomes[0].reason, Reason::InSync);
        assert_eq!(
            plan.outcomes[0]
                .message
                .ends_with("; voiceRoutingPolicy 'Berlin-Routes' comes from group berlin-office"),
            from_group,
            "{}",
            plan.outcomes[0].message
        );
    }
}

#[test]
fn a_groups_other_policy_is_reported_and_overridden_only_when_told_to() {
    let held = World::new().applied(
        "t1",
        SALES_ROUTES,
        PolicySource::Group {
            group_id: Some("sales-team".into()),
        },
    );
    let plan = held.run();
    assert!(plan.policy_changes.is_empty());
    assert_eq!(plan.outcomes[0].reason, Reason::PolicyHeldByGroup);
    assert!(
        plan.outcomes[0].message.contains("comes from group sales-team"),
        "{}",
        plan.outcomes[0].message
    );
    let mut overriding = held;
    overriding.policy.assignment.override_group_policies = true;
    assert_eq!(
        overriding.run().policy_changes,
        vec![(0, assign("t1", BERLIN_ROUTES))]
    );
}

#[test]
fn a_policy_name_the_tenant_lacks_is_policy_not_found_and_the_number_goes_ahead() {
    let mut world = World::new().user("2", "bob@c.com", "+14155550101", "t2", Some("4711"), false);
    world.teams.policies.ids.insert(
        (PolicyKind::VoiceRouting, "Berlin-Routes".into()),
        Err(Unresolved::NotFound),
    );
    let plan = world.run();
    assert!(plan.policy_changes.is_empty());
    assert_eq!(plan.outcomes[1].reason, Reason::PolicyNotFound);
    assert!(
        plan.outcomes[1]
            .message
            .contains("the tenant has no voiceRoutingPolicy named 'Berlin-Routes'"),
        "{}",
        plan.outcomes[1].message
    );
    assert_eq!(plan.actions.len(), 1, "Bob's number is still assigned");
}

#[test]
fn a_user_whose_number_cannot_be_assigned_gets_no_policy_either() {
    let mut world = World::new();
    world.teams.users[0].licence = Default::default();
    let plan = world.run();
    assert_eq!(plan.outcomes[0].reason, Reason::PhoneSystemLicenseMissing);
    assert!(plan.policy_changes.is_empty());
}

#[test]
fn a_policy_no_longer_wanted_is_taken_back_only_when_this_resource_assigned_it() {
    let mut world = World::new().applied("t1", BERLIN_ROUTES, PolicySource::Direct);
    world.policy.assignment.offices[0].voice_routing_policy = None;
    world.policy.assignment.voice_routing_policy = None;
    // Someone else's direct assignment: left alone.
    assert!(world.run().policy_changes.is_empty());
    let owned = world.owning("t1", BERLIN_ROUTES);
    assert_eq!(owned.run().policy_changes, vec![(0, unassign("t1"))]);
}

#[test]
fn a_departed_users_policies_go_with_their_number_after_the_grace_period() {
    let mut world = World::new();
    world.policy.grace_period = Duration::ZERO;
    world.teams_user("t9", "dennis@c.com");
    world.teams.numbers.push(HeldNumber {
        number: "+14155550120".into(),
        holder: "t9".into(),
        pending: false,
    });
    world.desired.owned_numbers.insert("+14155550120".into());
    world.record = OwnershipRecord::from_entries([("+14155550120".to_owned(), "t9".to_owned())]);
    let world = world
        .applied("t1", BERLIN_ROUTES, PolicySource::Direct)
        .applied("t9", GLOBAL_ROUTES, PolicySource::Direct)
        .owning("t9", GLOBAL_ROUTES);
    let plan = world.run();
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.policy_changes, vec![(1, unassign("t9"))]);
}

#[test]
fn policy_unassignments_count_toward_the_safety_limit_with_numbers() {
    let mut world = World::new()
        .user("2", "bob@c.com", "+14155550101", "t2", None, true)
        .applied("t1", BERLIN_ROUTES, PolicySource::Direct)
        .applied("t2", GLOBAL_ROUTES, PolicySource::Direct)
        .owning("t1", BERLIN_ROUTES)
        .owning("t2", GLOBAL_ROUTES);
    world.policy.assignment.offices[0].voice_routing_policy = None;
    world.policy.assignment.voice_routing_policy = None;
    world.policy.max_unassignments = 1;
    let plan = world.run();
    assert!(plan.policy_changes.is_empty());
    for outcome in &plan.outcomes {
        assert_eq!(outcome.reason, Reason::BlockedBySafetyLimit);
        assert!(
            outcome
                .message
                .contains("2 numbers and policies are due to be taken off users in this sync (0 numbers by unassignment, 0 by replacement, 2 policies by unassignment)"),
            "{}",
            outcome.message
        );
    }
    world.policy.max_unassignments = 2;
    assert_eq!(world.run().policy_changes.len(), 2);
}

#[test]
fn a_dry_run_says_which_policies_it_would_assign_and_sends_none() {
    let mut world = World::new();
    world.policy.mode = SyncMode::DryRun;
    let plan = world.run();
    assert!(plan.policy_changes.is_empty());
    assert_eq!(plan.outcomes[0].reason, Reason::DryRun);
    assert!(
        plan.outcomes[0].message.ends_with(
            "; spec.mode is DryRun, so nothing was changed; would assign voiceRoutingPolicy 'Berlin-Routes'"
        ),
        "{}",
        plan.outcomes[0].message
    );
}
