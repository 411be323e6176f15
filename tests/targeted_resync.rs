//! Targeted re-syncs over real HTTP against the sandbox, through the real adapters: a change
//! named by an event is read again, planned and written with a handful of requests and no full
//! listing, and the status stays the one a full sync would write.

mod common;

use std::collections::BTreeSet;

use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::connect::Connection;
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_operator::sync::ports::MemoryOwnership;
use dialpad_teams_operator::sync::targeted::sync_targets;
use dialpad_teams_operator::sync::targets::Targets;
use dialpad_teams_sandbox::Sandbox;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::traffic::{Counters, Endpoint};
use serde_json::{Value, json};

use common::pipeline::{connection, resource, sandbox_admin, secrets, start_immediate};

const PASSWORD: &str = "targeted-password";
const KEY: &str = "targeted-api-key";

/// A converged org of `users`, synced once in full with a snapshot kept.
struct Synced {
    sandbox: Sandbox,
    connection: Connection,
    policy: Policy,
    memory: SyncMemory,
    store: MemoryOwnership,
    first: SyncRun,
}

async fn synced(users: usize) -> Synced {
    let spec = GeneratorSpec {
        users,
        seed: 2727,
        mix: vec![(Case::InSync, 1)],
    };
    let fixture = generator::generate(&spec, PASSWORD, "unused-client-secret", KEY).fixture;
    let sandbox = start_immediate(fixture, 1_000).await;
    let mut resource = resource(&sandbox);
    // The org's numbers were assigned before the operator: it takes them over, so that it may
    // replace one.
    resource.spec.removal.adopt_existing = true;
    let connection = connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY));
    let policy = Policy::from_spec(&resource.spec).unwrap();
    let mut memory = SyncMemory {
        keeps_snapshot: true,
        ..SyncMemory::default()
    };
    let first = sync_once(&connection.source, &connection.tenant, &policy, &mut memory, None).await;
    assert!(memory.snapshot.is_some(), "a complete sync keeps its snapshot");
    let store = MemoryOwnership(std::sync::Mutex::new(memory.owned.clone()));
    Synced {
        sandbox,
        connection,
        policy,
        memory,
        store,
        first,
    }
}

impl Synced {
    async fn admin(&self, path: &str, body: Value) -> Value {
        sandbox_admin(&self.sandbox, path, body).await
    }

    async fn targeted(&mut self, targets: Targets) -> Option<SyncRun> {
        let (source, tenant) = (&self.connection.source, &self.connection.tenant);
        let run = sync_targets(
            source,
            tenant,
            &self.store,
            &self.policy,
            &mut self.memory,
            None,
            &targets,
            &|_, _| {},
        );
        run.await.expect("the record in memory is readable")
    }

    /// The Dialpad id and email of the `index`th user of the company.
    fn dialpad_user(&self, index: usize) -> (String, String) {
        self.sandbox.with_world(|world| {
            let user = &world.dialpad.users[index];
            (user.id.clone(), user.emails[0].clone())
        })
    }

    fn holder_upn(&self, number: &str) -> Option<String> {
        self.sandbox.with_world(|world| {
            world
                .numbers
                .get(number)
                .and_then(|n| n.assignment_target_id.clone())
                .and_then(|id| world.user(&id).map(|u| u.user_principal_name.to_lowercase()))
        })
    }
}

fn dialpad(ids: &[&str]) -> Targets {
    Targets {
        dialpad_users: ids.iter().map(|id| (*id).to_owned()).collect(),
        teams_users: BTreeSet::new(),
    }
}

/// Requests between two readings of the counters, over every endpoint, and those that list.
fn requests_between(before: &Counters, after: &Counters) -> (u64, Vec<String>) {
    let mut total = 0;
    let mut made = Vec::new();
    for (name, count) in &after.requests {
        let grown = count - before.requests.get(name).copied().unwrap_or(0);
        if grown > 0 {
            total += grown;
            made.push(format!("{name} x{grown}"));
        }
    }
    (total, made)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_number_is_resynced_with_at_most_five_requests_and_no_listing() {
    let mut org = synced(300).await;
    let (id, email) = org.dialpad_user(7);
    org.admin(
        "/_sandbox/dialpad/changes",
        json!({"change": "changeNumber", "email": email, "number": "+14155550177"}),
    )
    .await;
    // A user an earlier sync left waiting, whom this re-sync does not name.
    org.memory.revisit.dialpad_users.insert("424242".into());
    let before = org.sandbox.counters();
    let run = org
        .targeted(dialpad(&[&id]))
        .await
        .expect("a targeted re-sync ran");
    let after = org.sandbox.counters();
    let (total, made) = requests_between(&before, &after);
    assert!(total <= 5, "{total} requests: {made:?}");
    assert_eq!(
        after.requests_to(Endpoint::DialpadUsers, "GET"),
        before.requests_to(Endpoint::DialpadUsers, "GET"),
        "{made:?}"
    );
    assert_eq!(
        after.requests_to(Endpoint::DialpadUser, "GET") - before.requests_to(Endpoint::DialpadUser, "GET"),
        1
    );
    assert_eq!(run.execution.assigned, 1);
    assert_eq!(org.holder_upn("+14155550177"), Some(email.to_lowercase()));
    // The status still counts everyone, as the full sync did; the changed user's number is
    // assigned and activating, as after a full sync's assignment.
    let summary = run.status.summary.clone().unwrap();
    let first = org.first.status.summary.clone().unwrap();
    assert_eq!(
        (summary.desired, summary.in_sync, summary.failed),
        (first.desired, first.in_sync - 1, 0)
    );
    assert_eq!(run.plan.outcomes.len(), org.first.plan.outcomes.len());
    let changed = run
        .plan
        .outcomes
        .iter()
        .find(|o| o.dialpad_user_id.as_deref() == Some(id.as_str()));
    let changed = changed.unwrap();
    assert_eq!(
        (changed.reason, changed.phone_number.as_deref()),
        (Reason::AssignmentPending, Some("+14155550177")),
        "{}",
        changed.message
    );
    let waiting = &org.memory.revisit.dialpad_users;
    assert_eq!(
        waiting,
        &BTreeSet::from(["424242".to_owned(), id.clone()]),
        "activating: looked at again"
    );
    // Another targeted re-sync of the same user sees it in place: what a full sync says too.
    let again = org
        .targeted(dialpad(&[&id]))
        .await
        .expect("a targeted re-sync ran");
    assert_eq!(again.execution.assigned, 0);
    let waiting = &org.memory.revisit.dialpad_users;
    assert_eq!(
        waiting,
        &BTreeSet::from(["424242".to_owned()]),
        "in place: no longer waiting"
    );
    let full = sync_once(
        &org.connection.source,
        &org.connection.tenant,
        &org.policy,
        &mut org.memory,
        None,
    )
    .await;
    assert_eq!(full.execution.assigned + full.execution.unassigned, 0);
    let full_summary = full.status.summary.unwrap();
    assert_eq!(full_summary.in_sync, first.in_sync);
    assert_eq!(full_summary.by_reason, again.status.summary.unwrap().by_reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_removed_in_dialpad_leaves_only_that_user_and_starts_its_grace_period() {
    let mut org = synced(60).await;
    let (id, email) = org.dialpad_user(3);
    let number = org
        .sandbox
        .with_world(|world| world.dialpad.users[3].phone_numbers[0].clone());
    org.admin(
        "/_sandbox/dialpad/changes",
        json!({"change": "removeUser", "email": email}),
    )
    .await;
    let run = org
        .targeted(dialpad(&[&id]))
        .await
        .expect("a targeted re-sync ran");
    assert_eq!(run.execution.unassigned, 0, "not before the grace period");
    let departed: Vec<_> = run
        .plan
        .outcomes
        .iter()
        .filter(|o| !o.desired)
        .map(|o| (o.reason, o.phone_number.clone()))
        .collect();
    assert_eq!(departed, [(Reason::RemovalPending, Some(number))]);
    let summary = run.status.summary.unwrap();
    assert_eq!(summary.desired, org.first.status.summary.unwrap().desired - 1);
    assert!(
        !run.plan
            .outcomes
            .iter()
            .any(|o| o.dialpad_user_id.as_deref() == Some(id.as_str())),
        "the removed user's own entry is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_hire_in_both_systems_is_assigned_by_a_targeted_resync() {
    let mut org = synced(40).await;
    let domain = generator::ADMIN_UPN.split('@').nth(1).unwrap().to_owned();
    let email = format!("new.hire@{domain}");
    org.admin(
        "/_sandbox/directory/changes",
        json!({"change": "addUser", "userPrincipalName": email}),
    )
    .await;
    org.admin(
        "/_sandbox/dialpad/changes",
        json!({"change": "addUser", "email": email, "number": "+14155550188"}),
    )
    .await;
    let id = org.sandbox.with_world(|world| {
        world
            .dialpad
            .users
            .iter()
            .find(|u| u.emails.iter().any(|e| e.eq_ignore_ascii_case(&email)))
            .map(|u| u.id.clone())
            .unwrap()
    });
    let run = org
        .targeted(dialpad(&[&id]))
        .await
        .expect("a targeted re-sync ran");
    assert_eq!(run.execution.assigned, 1);
    assert_eq!(org.holder_upn("+14155550188"), Some(email.to_lowercase()));
    let summary = run.status.summary.unwrap();
    assert_eq!(summary.desired, org.first.status.summary.unwrap().desired + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_removed_in_microsoft_365_resyncs_the_matching_dialpad_user() {
    let mut org = synced(40).await;
    let (_, email) = org.dialpad_user(5);
    let teams_id = org.sandbox.with_world(|world| {
        world
            .users
            .iter()
            .find(|u| {
                u.user_principal_name.eq_ignore_ascii_case(&email)
                    || u.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(&email))
            })
            .map(|u| u.id.clone())
            .unwrap()
    });
    org.admin(
        "/_sandbox/directory/changes",
        json!({"change": "removeLicence", "userPrincipalName": email}),
    )
    .await;
    let before = org.sandbox.counters();
    let targets = Targets {
        dialpad_users: BTreeSet::new(),
        teams_users: BTreeSet::from([teams_id]),
    };
    let run = org.targeted(targets).await.expect("a targeted re-sync ran");
    let (total, made) = requests_between(&before, &org.sandbox.counters());
    assert!(total <= 5, "{total} requests: {made:?}");
    let outcome = run
        .plan
        .outcomes
        .iter()
        .find(|o| o.email.as_deref() == Some(email.as_str()))
        .unwrap();
    assert_eq!(
        outcome.reason,
        Reason::PhoneSystemLicenseMissing,
        "{}",
        outcome.message
    );
    assert_eq!(run.status.summary.unwrap().failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_snapshot_or_for_too_many_users_it_leaves_the_work_to_a_full_sync() {
    let mut org = synced(40).await;
    let many: Vec<String> = (0..100).map(|i| (1_000_000 + i).to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let before = org.sandbox.counters();
    assert!(org.targeted(dialpad(&many)).await.is_none(), "100 of 40 users");
    // A spec naming Teams policies (read per policy, not per user), or failed checks: full.
    let snapshot = org.memory.snapshot.as_mut().expect("kept");
    snapshot.policies = true;
    let (id, _) = org.dialpad_user(1);
    assert!(org.targeted(dialpad(&[&id])).await.is_none(), "policies named");
    let snapshot = org.memory.snapshot.as_mut().expect("kept");
    snapshot.policies = false;
    snapshot.checks.authorized = Err((Reason::RolesMissing, "missing".into()));
    assert!(org.targeted(dialpad(&[&id])).await.is_none(), "checks failed");
    org.memory.snapshot = None;
    assert!(org.targeted(dialpad(&[&id])).await.is_none());
    assert_eq!(
        requests_between(&before, &org.sandbox.counters()).0,
        0,
        "nothing was read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_read_again_outside_the_resources_offices_is_gone() {
    use dialpad_teams_operator::sync::ports::DesiredSource;

    let org = synced(10).await;
    let (id, _) = org.dialpad_user(2);
    let ids = BTreeSet::from([id.clone()]);
    let found = org.connection.source.read_users(&ids).await;
    let found = found.expect("Dialpad reads single users").expect("read");
    assert_eq!(
        found.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    let mut elsewhere = resource(&org.sandbox);
    let dialpad = elsewhere.spec.source.dialpad.as_mut().expect("Dialpad");
    dialpad.office_ids = vec!["1".into()];
    let elsewhere = connection(&elsewhere, &secrets(generator::ADMIN_UPN, PASSWORD, KEY));
    let found = elsewhere.source.read_users(&ids).await;
    assert_eq!(found.expect("Dialpad reads single users").expect("read"), []);
}
