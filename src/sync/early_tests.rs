//! Early assignments through the whole pipeline, with a source that hands its users over page by
//! page and a tenant that remembers what was sent and what was recorded when.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::*;
use crate::api::Reason;
use crate::microsoft::catalog;
use crate::sync::change::{ChangeOutcome, Submission, WriteError};
use crate::sync::model::{DesiredState, HeldNumber, Policy, TeamsState, TeamsUser, TenantChecks};
use crate::sync::pipeline::{SyncMemory, sync_once_reporting};
use crate::sync::ports::{
    DesiredSource, OwnershipStoreError, SourceFailure, SourcePages, TeamsTenant, TenantFailure,
};
use crate::sync::report::SourceState;
use crate::sync::testing::{DecidedWhenSent, licensed, teams_state};

fn policy(mode: SyncMode) -> Policy {
    Policy {
        mode,
        grace_period: Duration::from_secs(3600),
        ..Policy::default()
    }
}

fn source_user(id: &str, email: &str, number: &str) -> DesiredUser {
    DesiredUser {
        dialpad_user_id: Some(id.into()),
        email: Some(email.into()),
        phone_number: Some(number.into()),
        display_name: None,
        office: Default::default(),
    }
}

/// Teams users `t<i>` with mail `<name>@contoso.com`, each licensed for Teams Phone, no numbers.
fn teams(names: &[&str]) -> TeamsState {
    let licence = licensed(&[catalog::MCOEV], &["SPE_E5"]);
    let users: Vec<TeamsUser> = names
        .iter()
        .enumerate()
        .map(|(i, name)| TeamsUser {
            id: format!("t{i}"),
            user_principal_name: format!("{name}@contoso.com"),
            mail: Some(format!("{name}@contoso.com")),
            enabled: true,
            licence: licence.clone(),
        })
        .collect();
    teams_state(users, Vec::new())
}

/// Hands over its first page, then waits for `gate` before the rest: a source whose read cannot
/// end until something was sent.
struct PagedSource {
    pages: Vec<Vec<DesiredUser>>,
    gate: Arc<Notify>,
    /// Fail instead of handing over the pages after the first.
    fail_after_first: bool,
}

impl PagedSource {
    fn state(&self) -> Result<DesiredState, SourceFailure> {
        Ok(DesiredState {
            users: self.pages.concat(),
            ..Default::default()
        })
    }
}

impl DesiredSource for PagedSource {
    async fn read_by_page(&self, pages: SourcePages) -> Result<DesiredState, SourceFailure> {
        for (index, page) in self.pages.iter().enumerate() {
            if index == 1 {
                self.gate.notified().await;
                if self.fail_after_first {
                    return Err(SourceFailure {
                        reason: Reason::TransientError,
                        message: "Dialpad answered 503 on page 2".into(),
                    });
                }
            }
            let _ = pages.send(page.clone());
        }
        self.state()
    }
}

/// Records every save.
#[derive(Default)]
struct Saves(Mutex<Vec<OwnershipRecord>>);

impl OwnershipStore for Arc<Saves> {
    async fn load(&self) -> Result<OwnershipRecord, OwnershipStoreError> {
        Ok(self.0.lock().unwrap().last().cloned().unwrap_or_default())
    }

    async fn save(&self, record: &OwnershipRecord) -> Result<(), OwnershipStoreError> {
        self.0.lock().unwrap().push(record.clone());
        Ok(())
    }
}

/// A tenant that accepts every change at once, opens `gate` at the first one, and notes whether
/// each number was recorded in `saves` when it was sent.
struct Tenant {
    state: TeamsState,
    gate: Arc<Notify>,
    saves: Arc<Saves>,
    sent: Mutex<Vec<(String, String, bool)>>,
    unassigned: Mutex<Vec<String>>,
}

impl ChangeSender for Tenant {
    async fn submit_assign(
        &self,
        number: &str,
        user_id: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Submission, WriteError> {
        let recorded = self
            .saves
            .0
            .lock()
            .unwrap()
            .last()
            .is_some_and(|record| record.owns(number, user_id));
        self.sent
            .lock()
            .unwrap()
            .push((number.to_owned(), user_id.to_owned(), recorded));
        self.gate.notify_one();
        Ok(Submission::Done(ChangeOutcome::Succeeded))
    }

    async fn submit_unassign(&self, number: &str, _: &str) -> Result<Submission, WriteError> {
        self.unassigned.lock().unwrap().push(number.to_owned());
        Ok(Submission::Done(ChangeOutcome::Succeeded))
    }

    async fn submit_policy_changes(
        &self,
        changes: &[crate::sync::policies::PolicyChange],
    ) -> Result<(), WriteError> {
        unreachable!("no policy is configured in these tests, yet {changes:?} were sent")
    }

    fn requests_per_second(&self) -> Option<u32> {
        Some(100)
    }
}

impl DecidedWhenSent for Tenant {}

impl TeamsTenant for Tenant {
    async fn check(&self) -> TenantChecks {
        TenantChecks::ok()
    }

    async fn read(&self) -> Result<TeamsState, TenantFailure> {
        Ok(self.state.clone())
    }
}

fn setup(names: &[&str], pages: Vec<Vec<DesiredUser>>) -> (PagedSource, Tenant, Arc<Saves>) {
    let gate = Arc::new(Notify::new());
    let saves = Arc::new(Saves::default());
    let source = PagedSource {
        pages,
        gate: gate.clone(),
        fail_after_first: false,
    };
    let tenant = Tenant {
        state: teams(names),
        gate,
        saves: saves.clone(),
        sent: Mutex::new(Vec::new()),
        unassigned: Mutex::new(Vec::new()),
    };
    (source, tenant, saves)
}

async fn sync(
    source: &PagedSource,
    tenant: &Tenant,
    saves: &Arc<Saves>,
    mode: SyncMode,
) -> super::super::pipeline::SyncRun {
    sync_reporting(source, tenant, saves, mode, &|_, _| {}).await
}

async fn sync_reporting(
    source: &PagedSource,
    tenant: &Tenant,
    saves: &Arc<Saves>,
    mode: SyncMode,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> super::super::pipeline::SyncRun {
    let mut memory = SyncMemory::default();
    let policy = policy(mode);
    let run = sync_once_reporting(source, tenant, saves, &policy, &mut memory, None, progress);
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the sync ends: the source waits for the first assignment, so it must be sent while the source is read")
        .expect("the record is saved")
}

#[tokio::test]
async fn progress_counts_the_changes_sent_early() {
    let (source, tenant, saves) = setup(
        &["ada", "bob"],
        vec![
            vec![source_user("1", "ada@contoso.com", "+14155550101")],
            vec![source_user("2", "bob@contoso.com", "+14155550102")],
        ],
    );
    let seen = Mutex::new(Vec::new());
    sync_reporting(&source, &tenant, &saves, SyncMode::Enforce, &|done, total| {
        seen.lock().unwrap().push((done, total))
    })
    .await;
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.last().map(|(done, _)| *done), Some(2), "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "never back to zero: {seen:?}"
    );
    assert!(seen.iter().all(|(done, total)| done <= total), "{seen:?}");
}

#[tokio::test]
async fn assignments_start_while_the_source_is_still_being_read() {
    let (source, tenant, saves) = setup(
        &["ada", "bob"],
        vec![
            vec![source_user("1", "ada@contoso.com", "+14155550101")],
            vec![source_user("2", "bob@contoso.com", "+14155550102")],
        ],
    );
    let run = sync(&source, &tenant, &saves, SyncMode::Enforce).await;
    let sent = tenant.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "each number is sent once: {sent:?}");
    assert_eq!(run.execution.assigned, 2);
    assert!(
        run.plan
            .outcomes
            .iter()
            .all(|o| o.reason == Reason::AssignmentPending),
        "{:#?}",
        run.plan.outcomes
    );
}

#[tokio::test]
async fn every_early_assignment_is_recorded_before_it_is_sent() {
    let (source, tenant, saves) = setup(
        &["ada", "bob", "cy"],
        vec![
            vec![source_user("1", "ada@contoso.com", "+14155550101")],
            vec![
                source_user("2", "bob@contoso.com", "+14155550102"),
                source_user("3", "cy@contoso.com", "+14155550103"),
            ],
        ],
    );
    sync(&source, &tenant, &saves, SyncMode::Enforce).await;
    let sent = tenant.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|(_, _, recorded)| *recorded), "{sent:?}");
    let last = saves.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.len(), 3, "{}", last.to_text());
}

#[tokio::test]
async fn a_duplicate_email_on_a_later_page_undoes_the_early_assignment_in_the_same_sync() {
    let (source, tenant, saves) = setup(
        &["ada"],
        vec![
            vec![source_user("1", "ada@contoso.com", "+14155550101")],
            vec![source_user("2", "Ada@contoso.com", "+14155550102")],
        ],
    );
    let run = sync(&source, &tenant, &saves, SyncMode::Enforce).await;
    let sent = tenant.sent.lock().unwrap().clone();
    assert_eq!(sent, [("+14155550101".to_owned(), "t0".to_owned(), true)]);
    assert_eq!(
        tenant.unassigned.lock().unwrap().as_slice(),
        ["+14155550101"],
        "the complete plan assigns nothing here, so the early assignment is unassigned again"
    );
    assert_eq!((run.execution.assigned, run.execution.undone), (0, 1));
    let first = &run.plan.outcomes[0];
    assert_eq!(first.reason, Reason::DuplicateEmail);
    assert!(first.message.contains("unassigned again"), "{}", first.message);
    assert_eq!(run.plan.outcomes[1].reason, Reason::DuplicateEmail);
    let last = saves.0.lock().unwrap().last().cloned().unwrap();
    assert!(last.is_empty(), "dropped once unassigned: {}", last.to_text());
}

#[tokio::test]
async fn a_source_failing_part_way_keeps_what_was_sent_early_for_the_next_sync_to_judge() {
    let (mut source, tenant, saves) = setup(
        &["ada", "bob"],
        vec![
            vec![source_user("1", "ada@contoso.com", "+14155550101")],
            vec![source_user("2", "bob@contoso.com", "+14155550102")],
        ],
    );
    source.fail_after_first = true;
    let run = sync(&source, &tenant, &saves, SyncMode::Enforce).await;
    assert!(
        matches!(run.source, SourceState::Failed { .. }),
        "{:?}",
        run.source
    );
    assert_eq!(tenant.sent.lock().unwrap().len(), 1);
    assert!(
        tenant.unassigned.lock().unwrap().is_empty(),
        "a failed read changes nothing it did not have to: the early assignment stays"
    );
    assert_eq!(run.execution.assigned, 1);
    let last = saves.0.lock().unwrap().last().cloned().unwrap();
    assert!(last.owns("+14155550101", "t0"), "{}", last.to_text());
}

#[tokio::test]
async fn a_dry_run_sends_nothing_early_or_late() {
    let (source, tenant, saves) = setup(
        &["ada"],
        vec![vec![source_user("1", "ada@contoso.com", "+14155550101")]],
    );
    let run = sync(&source, &tenant, &saves, SyncMode::DryRun).await;
    assert!(tenant.sent.lock().unwrap().is_empty());
    assert_eq!(run.execution.assigned, 0);
}

#[test]
fn only_plain_assignments_are_picked_early() {
    let mut state = teams(&["ada", "bob", "cy", "dee", "eve"]);
    // bob already holds a number this resource assigned him (replacing it takes it off him, so it
    // waits for the complete plan and its safety limit); cy's number is held by dee.
    state.numbers = vec![
        HeldNumber {
            number: "+14155550199".into(),
            holder: "t1".into(),
            pending: false,
        },
        HeldNumber {
            number: "+14155550103".into(),
            holder: "t3".into(),
            pending: false,
        },
    ];
    let policy = policy(SyncMode::Enforce);
    let nobody = DesiredState::default();
    let (previous, retries) = (HashMap::new(), HashMap::new());
    let owned = OwnershipRecord::from_entries([("+14155550199".into(), "t1".into())]);
    let checks = TenantChecks::ok();
    let input = PlanInput {
        scope: None,
        policy: &policy,
        desired: &nobody,
        teams: &state,
        checks: &checks,
        previous: &previous,
        retries: &retries,
        owned: &owned,
        now: k8s_openapi::jiff::Timestamp::now(),
    };
    let none = HashSet::new();
    let mut assigner = EarlyAssigner::new(&input, &none).expect("an Enforce sync with a checked tenant");
    let picked = assigner.assignments(&[
        source_user("1", "ada@contoso.com", "+1 (415) 555-0101"),
        source_user("2", "bob@contoso.com", "+14155550102"),
        source_user("3", "cy@contoso.com", "+14155550103"),
        source_user("4", "nobody@contoso.com", "+14155550104"),
    ]);
    assert_eq!(
        picked,
        [EarlyAssignment {
            key: UserKey::Dialpad("1".into()),
            subject: Subject {
                user: "dialpad:1".into(),
                email: "ada@contoso.com".into(),
                teams_user_id: "t0".into(),
            },
            kind: ActionKind::Assign {
                number: "+14155550101".into(),
                user_id: "t0".into(),
                location_id: None,
            },
        }]
    );

    assert!(
        assigner
            .assignments(&[source_user("5", "ADA@contoso.com", "+14155550105")])
            .is_empty(),
        "an email seen on an earlier page is not sent again"
    );
    let mut fresh = EarlyAssigner::new(&input, &none).unwrap();
    assert!(
        fresh
            .assignments(&[
                source_user("6", "eve@contoso.com", "+14155550106"),
                source_user("7", "Eve@contoso.com", "+14155550107"),
            ])
            .is_empty(),
        "a repeat within one page is known at once: neither is sent early"
    );

    let dry = crate::sync::model::Policy {
        mode: SyncMode::DryRun,
        ..policy.clone()
    };
    assert!(
        EarlyAssigner::new(
            &PlanInput {
                scope: None,
                policy: &dry,
                ..input
            },
            &none
        )
        .is_none()
    );
    let failed = TenantChecks {
        authorized: Err((Reason::RolesMissing, "no roles".into())),
        ..TenantChecks::ok()
    };
    assert!(
        EarlyAssigner::new(
            &PlanInput {
                scope: None,
                checks: &failed,
                ..input
            },
            &none
        )
        .is_none()
    );
    let late = HashSet::from([UserKey::Dialpad("1".into())]);
    let mut assigner = EarlyAssigner::new(&input, &late).unwrap();
    assert!(
        assigner
            .assignments(&[source_user("1", "ada@contoso.com", "+14155550101")])
            .is_empty(),
        "a user whose early assignment was undone waits for the complete plan"
    );
}
