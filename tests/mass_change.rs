//! Mass-change safety: after the operator assigned 300 numbers, the Dialpad listing suddenly
//! comes back empty, truncated, from another company (an upstream bug, a key rotated to another
//! account), or with every user renumbered. With the grace period at zero, the worst case, no sync
//! ever takes more than `spec.safety.maxUnassignmentsPerSync` numbers off users (unassigned or
//! replaced), and the status says why it stopped. (That the
//! `SafetyLimitReached` Event fires once, when the limit starts to hold, is tested with the
//! Events in `src/controller/writer.rs`.)

mod common;

use common::pipeline::{connection, needing_numbers, resource, secrets};
use dialpad_teams_operator::api::{Reason, TeamsTenantSync};
use dialpad_teams_operator::connect::Connection;
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_sandbox::Sandbox;
use dialpad_teams_sandbox::generator;
use dialpad_teams_sandbox::world::{DialpadNumber, World};

const PASSWORD: &str = "mass-change-admin-password";
const KEY: &str = "mass-change-api-key";
const USERS: usize = 300;
const LIMIT: usize = 25;

/// A sandbox whose 300 Dialpad users the operator has assigned (and so owns), with the grace
/// period at zero so that any departure is due for removal at once.
struct Synced {
    sandbox: Sandbox,
    resource: TeamsTenantSync,
    connection: Connection,
    memory: SyncMemory,
}

impl Synced {
    async fn start() -> Self {
        let sandbox = needing_numbers(USERS, 5, 100_000, PASSWORD, KEY).await;
        let mut resource = resource(&sandbox);
        resource.spec.removal.grace_period = "0s".into();
        resource.spec.safety.max_unassignments_per_sync = LIMIT as i32;
        let connection = connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY));
        let mut synced = Synced {
            sandbox,
            resource,
            connection,
            memory: SyncMemory::default(),
        };
        synced.sync().await;
        let second = synced.sync().await;
        let summary = second.status.summary.unwrap();
        assert_eq!((summary.in_sync as usize, summary.owned as usize), (USERS, USERS));
        synced
    }

    async fn sync(&mut self) -> SyncRun {
        let policy = Policy::from_spec(&self.resource.spec).expect("a valid spec");
        let tenant = &self.connection.tenant;
        sync_once(
            &self.connection.source,
            tenant,
            &policy,
            &mut self.memory,
            Some(1),
        )
        .await
    }

    fn unassign_requests(&self) -> u64 {
        self.sandbox
            .counters()
            .requests_to(dialpad_teams_sandbox::Endpoint::GraphUnassignNumber, "POST")
    }

    fn held(&self) -> usize {
        self.sandbox
            .assignments()
            .iter()
            .filter(|a| a.assignment_target_id.is_some())
            .count()
    }

    /// Like [`Synced::assert_never_unassigns`], and asserts that nothing was written to Teams.
    async fn assert_never_writes(&mut self) -> SyncRun {
        let writes = self.sandbox.counters().write_requests();
        let run = self.assert_never_unassigns().await;
        assert_eq!(
            self.sandbox.counters().write_requests(),
            writes,
            "no number was replaced or assigned"
        );
        run
    }

    /// Syncs three times more; asserts nothing was unassigned and every owned number is held.
    async fn assert_never_unassigns(&mut self) -> SyncRun {
        let before = self.unassign_requests();
        let mut last = None;
        for _ in 0..3 {
            last = Some(self.sync().await);
        }
        assert_eq!(self.unassign_requests(), before, "no unassignment was even asked");
        assert_eq!(self.held(), USERS, "every number is still assigned");
        last.unwrap()
    }
}

/// Keeps the users' numbers in the company's inventory (the numbers listing still shows them)
/// while the users listing loses everyone after the first `keep` users.
fn users_listing_cut_to(world: &mut World, keep: usize) {
    let company = &mut world.dialpad;
    let lost: Vec<_> = company.users.drain(keep.min(company.users.len())..).collect();
    for user in lost {
        for number in user.phone_numbers {
            company.other_numbers.push(DialpadNumber {
                number,
                status: "user".into(),
                target_id: Some(user.id.clone()),
                target_type: Some("user".into()),
                office_id: user.office_id.clone(),
            });
        }
    }
}

fn count(run: &SyncRun, reason: Reason) -> usize {
    run.plan.outcomes.iter().filter(|o| o.reason == reason).count()
}

/// The message of the first user whose reason is `reason`.
fn first_message(run: &SyncRun, reason: Reason) -> &str {
    let outcome = run.plan.outcomes.iter().find(|o| o.reason == reason);
    &outcome.unwrap_or_else(|| panic!("no user is {reason}")).message
}

#[tokio::test]
async fn an_empty_users_listing_blocks_every_removal_and_says_why() {
    let mut synced = Synced::start().await;
    synced.sandbox.with_world(|world| users_listing_cut_to(world, 0));
    let run = synced.assert_never_unassigns().await;
    assert_eq!(count(&run, Reason::BlockedBySafetyLimit), USERS);
    let blocked = first_message(&run, Reason::BlockedBySafetyLimit);
    assert!(
        blocked.contains(
            "300 numbers are due to be taken off users in this sync (300 by unassignment, 0 by replacement)"
        ) && blocked.contains("spec.safety.maxUnassignmentsPerSync is 25"),
        "{blocked}"
    );
    let summary = run.status.summary.unwrap();
    assert_eq!(
        summary.by_reason.get("BlockedBySafetyLimit"),
        Some(&(USERS as i32))
    );
}

#[tokio::test]
async fn a_listing_truncated_to_a_third_blocks_every_removal() {
    let mut synced = Synced::start().await;
    synced
        .sandbox
        .with_world(|world| users_listing_cut_to(world, USERS / 3));
    let run = synced.assert_never_unassigns().await;
    assert_eq!(count(&run, Reason::BlockedBySafetyLimit), USERS - USERS / 3);
    assert_eq!(count(&run, Reason::InSync), USERS / 3);
}

#[tokio::test]
async fn a_company_with_no_users_and_no_numbers_unassigns_nothing() {
    let mut synced = Synced::start().await;
    synced.sandbox.with_world(|world| {
        world.dialpad.users.clear();
        world.dialpad.other_numbers.clear();
    });
    let run = synced.assert_never_unassigns().await;
    assert!(
        run.plan.outcomes.iter().all(|o| o.reason != Reason::InSync),
        "nobody is reported in sync with a source that lists nobody"
    );
}

#[tokio::test]
async fn another_companys_listing_with_the_same_emails_replaces_no_number() {
    let mut synced = Synced::start().await;
    // Another account: the same people (emails), other numbers, and none of ours in its inventory.
    synced.sandbox.with_world(|world| {
        for user in &mut world.dialpad.users {
            for number in &mut user.phone_numbers {
                number.replace_range(1..5, "1999");
            }
        }
        world.dialpad.other_numbers.clear();
    });
    let run = synced.assert_never_writes().await;
    assert_eq!(count(&run, Reason::NumberConflict), USERS);
    let conflict = first_message(&run, Reason::NumberConflict);
    assert!(
        conflict.contains("a number the source does not own"),
        "{conflict}"
    );
}

#[tokio::test]
async fn departures_within_the_limit_are_unassigned_and_no_more() {
    let mut synced = Synced::start().await;
    synced
        .sandbox
        .with_world(|world| users_listing_cut_to(world, USERS - LIMIT));
    let before = synced.unassign_requests();
    let run = synced.sync().await;
    assert_eq!(run.execution.unassigned, LIMIT);
    assert_eq!(synced.unassign_requests() - before, LIMIT as u64);
    assert_eq!(synced.held(), USERS - LIMIT);
}

/// Gives the first `count` users another number of the company's and keeps their old one in its
/// inventory (an office line now), as a renumbering in Dialpad does.
fn renumber(world: &mut World, count: usize) {
    let company = &mut world.dialpad;
    let office_id = company.office_id.clone();
    for user in company.users.iter_mut().take(count) {
        for number in &mut user.phone_numbers {
            let old = number.clone();
            number.replace_range(1..5, "1999");
            company.other_numbers.push(DialpadNumber {
                number: old,
                status: "office".into(),
                target_id: Some(office_id.clone()),
                target_type: Some("office".into()),
                office_id: office_id.clone(),
            });
        }
    }
}

#[tokio::test]
async fn renumbering_every_user_replaces_no_number_past_the_limit() {
    let mut synced = Synced::start().await;
    synced.sandbox.with_world(|world| renumber(world, USERS));
    let run = synced.assert_never_writes().await;
    assert_eq!(count(&run, Reason::BlockedBySafetyLimit), USERS);
    let blocked = first_message(&run, Reason::BlockedBySafetyLimit);
    assert!(
        blocked.contains(
            "300 numbers are due to be taken off users in this sync (0 by unassignment, 300 by replacement) but spec.safety.maxUnassignmentsPerSync is 25"
        ),
        "{blocked}"
    );
}

#[tokio::test]
async fn renumbering_within_the_limit_replaces_exactly_those_numbers() {
    let mut synced = Synced::start().await;
    synced.sandbox.with_world(|world| renumber(world, LIMIT));
    let run = synced.sync().await;
    assert_eq!(
        (run.execution.assigned, run.execution.drift_corrected),
        (LIMIT, LIMIT),
        "numbers this resource assigned are replaced when the source changes them"
    );
    let replaced = run
        .plan
        .outcomes
        .iter()
        .filter(|o| o.message.contains("approved by the ownership record"))
        .count();
    assert_eq!(replaced, LIMIT);
    assert_eq!(synced.held(), USERS);
}
