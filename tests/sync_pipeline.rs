//! The whole pipeline against the sandbox: the example org, a generated org of 10,000 users with
//! every reason mixed in (counts match the generator's truth), a second sync without writes, a
//! sync interrupted half-way that converges when re-run, replacements (only of a number this
//! resource owns or adopts), DryRun, and tenant failures.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::pipeline::{
    Values, connection, converged_reason, needing_numbers, quick_options, resource, secrets, start_immediate,
};
use dialpad_teams_operator::api::{Reason, SyncMode, TeamsTenantSync};
use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_operator::connect::{ConnectOptions, Connection};
use dialpad_teams_operator::sync::model::{Policy, UserKey};
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_operator::upstream::allowed::AllowedEndpoints;
use dialpad_teams_operator::upstream::{NotRecorded, RetryPolicy, http_client};
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{Endpoint, OrgFixture, Sandbox, SandboxOptions};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

const PASSWORD: &str = "pipeline-admin-password";
const SECRET: &str = "pipeline-client-secret";
const KEY: &str = "pipeline-api-key";

async fn run(connection: &Connection, resource: &TeamsTenantSync, memory: &mut SyncMemory) -> SyncRun {
    sync_once(
        &connection.source,
        &connection.tenant,
        &Policy::from_spec(&resource.spec).unwrap(),
        memory,
        Some(1),
    )
    .await
}

fn by_reason(run: &SyncRun) -> BTreeMap<String, i32> {
    run.status.summary.clone().unwrap().by_reason
}

fn example_org() -> OrgFixture {
    let mut org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    org.behaviour.activation_delay_ms = 300;
    org.behaviour.operation_delay_ms = 0;
    org
}

/// The example org's sandbox, and the demo resource pointed at it.
async fn example_sandbox() -> (Sandbox, TeamsTenantSync) {
    let sandbox = Sandbox::start(&example_org(), SandboxOptions::default())
        .await
        .unwrap();
    let resource = resource(&sandbox);
    (sandbox, resource)
}

/// A connection for `resource` with the example org's credentials.
fn example_connection(resource: &TeamsTenantSync) -> Connection {
    example_connection_as(
        resource,
        "dialpad-msteams-admin@contoso.com",
        "sandbox-dialpad-api-key",
    )
}

/// A connection for `resource` as the admin `username`, with the example org's admin password
/// and the Dialpad API key `key`.
fn example_connection_as(resource: &TeamsTenantSync, username: &str, key: &str) -> Connection {
    connection(resource, &secrets(username, "sandbox-admin-password", key))
}

/// The tenant condition `type_` of a sync's status.
fn condition<'a>(run: &'a SyncRun, type_: &str) -> &'a Condition {
    run.status.conditions.iter().find(|c| c.type_ == type_).unwrap()
}

#[tokio::test]
async fn the_example_org_converges_and_a_second_sync_writes_nothing() {
    let (sandbox, resource) = example_sandbox().await;
    let connection = example_connection(&resource);
    let mut memory = SyncMemory::default();
    let first = run(&connection, &resource, &mut memory).await;
    assert_eq!(
        (first.execution.assigned, first.execution.drift_corrected),
        (2, 0)
    );
    let expected_first: BTreeMap<String, i32> = [
        ("AssignmentPending", 2),
        ("CallingPlanAssigned", 2),
        ("DuplicateEmail", 2),
        ("EmailMissing", 1),
        ("InSync", 1),
        ("InvalidPhoneNumber", 1),
        // Grace's stray office line is the source's, but this resource never assigned it to her.
        ("NumberConflict", 3),
        ("PhoneNumberMissing", 1),
        ("PhoneSystemLicenseMissing", 2),
        // The two departed users' numbers were assigned before this resource: not its to remove.
        ("TeamsUserDisabled", 1),
        ("TeamsUserNotFound", 1),
        ("UnknownError", 1),
    ]
    .into_iter()
    .map(|(r, n)| (r.to_owned(), n))
    .collect();
    assert_eq!(by_reason(&first), expected_first);
    assert_eq!(
        first.status.summary.as_ref().map(|s| s.owned),
        Some(2),
        "it owns the two numbers it assigned"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let writes = sandbox.counters().write_requests();
    let second = run(&connection, &resource, &mut memory).await;
    assert_eq!(
        sandbox.counters().write_requests(),
        writes,
        "the second sync makes no write call"
    );
    let summary = second.status.summary.clone().unwrap();
    assert_eq!((summary.desired, summary.in_sync, summary.failed), (18, 3, 15));
    let ready = condition(&second, "Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "UsersNotInSync")
    );
}

#[tokio::test]
async fn changes_teams_accepts_without_a_location_are_confirmed_by_reading_the_numbers() {
    let mut org = example_org();
    org.behaviour.operations_answered_without_location = u32::MAX;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let resource = resource(&sandbox);
    let mut connection = example_connection(&resource);
    connection.tenant.graph.operation_timeout = Duration::from_secs(2);
    let first = run(&connection, &resource, &mut SyncMemory::default()).await;
    assert_eq!(
        first.execution.assigned, 2,
        "the listing shows both assignments made"
    );
    assert_eq!(
        by_reason(&first)["AssignmentPending"],
        3,
        "the two made, and the one Teams refuses: without an operation its refusal cannot be read, \
         so it stays pending (never taken as done) until a sync sees the number"
    );
    assert!(!by_reason(&first).contains_key("UnknownError"));
    assert_eq!(
        sandbox
            .counters()
            .requests_to(dialpad_teams_sandbox::Endpoint::GraphOperations, "GET"),
        0,
        "there was no operation to look at"
    );
}

#[tokio::test]
async fn adopting_existing_numbers_replaces_graces_stray_line_after_recording_it() {
    let (_sandbox, mut resource) = example_sandbox().await;
    resource.spec.removal.adopt_existing = true;
    let connection = example_connection(&resource);
    let mut memory = SyncMemory::default();
    let first = run(&connection, &resource, &mut memory).await;
    assert_eq!(
        (first.execution.assigned, first.execution.drift_corrected),
        (3, 1)
    );
    let grace = first
        .plan
        .outcomes
        .iter()
        .find(|o| o.email.as_deref() == Some("grace.hopper@contoso.com"))
        .unwrap();
    assert!(
        grace.message.starts_with(
            "replacing +14155550199 with +14155550104 on grace.hopper@contoso.com (drift corrected; approved by spec.removal.adoptExisting)"
        ),
        "{}",
        grace.message
    );
    let holder = grace.teams_user_id.as_deref().unwrap();
    assert!(
        memory
            .owned
            .entries()
            .any(|(number, user)| number == "+14155550199" && user == holder),
        "the office line was recorded as adopted before it was replaced"
    );
}

#[tokio::test]
async fn a_generated_org_of_10000_users_matches_the_generators_truth() {
    let org = generator::generate(&GeneratorSpec::with_every_case(10_000, 11), PASSWORD, SECRET, KEY);
    let sandbox = start_immediate(org.fixture.clone(), 100_000).await;
    let resource = resource(&sandbox);
    let connection = connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY));
    let mut memory = SyncMemory::default();
    let first = run(&connection, &resource, &mut memory).await;
    let counts = org.case_counts();
    // Drift is a number this resource never assigned: reported, not replaced.
    let needing = counts[&Case::NeedsAssignment];
    assert_eq!(first.execution.assigned, needing);
    assert_eq!(first.execution.drift_corrected, 0);
    let writes = sandbox.counters().write_requests();
    let second = run(&connection, &resource, &mut memory).await;
    assert_eq!(
        sandbox.counters().write_requests(),
        writes,
        "converged: no writes"
    );

    let outcomes: HashMap<&UserKey, Reason> =
        second.plan.outcomes.iter().map(|o| (&o.key, o.reason)).collect();
    for (id, case) in &org.truth {
        let key = UserKey::Dialpad(id.clone());
        match case {
            Case::RemovalPending => assert!(!outcomes.contains_key(&key), "a deleted user is not desired"),
            _ => assert_eq!(
                outcomes.get(&key),
                Some(&converged_reason(*case)),
                "user {id} planted {case:?}"
            ),
        }
    }
    let departed = second.plan.outcomes.iter().filter(|o| !o.desired).count();
    assert_eq!(
        departed, 0,
        "deleted users and conflict holders hold numbers assigned before this resource: not removal candidates"
    );
    assert_eq!(
        second.status.summary.as_ref().map(|s| s.owned as usize),
        Some(needing),
        "it owns exactly what it assigned"
    );
    let summary = second.status.summary.unwrap();
    let desired = 10_000 - counts[&Case::RemovalPending];
    assert_eq!(summary.desired as usize, desired);
    let in_sync = counts[&Case::InSync] + counts[&Case::NeedsAssignment];
    assert_eq!(summary.in_sync as usize, in_sync);
}

#[tokio::test]
async fn a_sync_interrupted_half_way_converges_without_double_assignment() {
    let sandbox = needing_numbers(200, 3, 100_000, PASSWORD, KEY).await;
    let resource = resource(&sandbox);
    let connection = connection(&resource, &secrets(generator::ADMIN_UPN, PASSWORD, KEY));
    // Crash half-way: drop the sync once 100 assignments were sent, losing all memory.
    {
        let mut memory = SyncMemory::default();
        let sync = run(&connection, &resource, &mut memory);
        let watch = async {
            while sandbox.counters().write_requests() < 100 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        tokio::select! {
            _ = sync => panic!("the sync finished before the interruption"),
            _ = watch => {}
        }
    }
    let sent_before_crash = sandbox.counters().write_requests();
    let mut memory = SyncMemory::default();
    run(&connection, &resource, &mut memory).await;
    let last = run(&connection, &resource, &mut memory).await;
    assert_eq!(last.status.summary.clone().unwrap().in_sync, 200);
    let total_writes = sandbox.counters().write_requests();
    assert!(
        total_writes <= 200 + 4,
        "{total_writes} writes for 200 assignments ({sent_before_crash} before the crash)"
    );
    let held: Vec<_> = sandbox
        .assignments()
        .into_iter()
        .filter(|a| a.assignment_target_id.is_some())
        .collect();
    assert_eq!(held.len(), 200, "every number held exactly once");
}

#[tokio::test]
async fn dry_run_reports_the_plan_and_writes_nothing() {
    let (sandbox, mut resource) = example_sandbox().await;
    resource.spec.mode = SyncMode::DryRun;
    let connection = example_connection(&resource);
    let run = run(&connection, &resource, &mut SyncMemory::default()).await;
    assert_eq!(sandbox.counters().write_requests(), 0);
    assert_eq!(
        by_reason(&run)["DryRun"],
        3,
        "two assignments, and the one Teams would refuse"
    );
}

/// One sync of the example org as the admin of `domain`, one of the sandbox's tenants whose
/// sign-in or roles go wrong in a named way.
async fn run_signed_in_at(domain: &str) -> SyncRun {
    let (_sandbox, mut resource) = example_sandbox().await;
    resource.spec.tenant.domain = domain.into();
    let username = format!("dialpad-msteams-admin@{domain}");
    let connection = example_connection_as(&resource, &username, "sandbox-dialpad-api-key");
    run(&connection, &resource, &mut SyncMemory::default()).await
}

#[tokio::test]
async fn an_admin_blocked_by_mfa_cascades_to_every_user_and_ready_says_why() {
    let run = run_signed_in_at("mfa.contoso.com").await;
    assert!(
        run.plan
            .outcomes
            .iter()
            .all(|o| o.reason == Reason::AdminNotConnected)
    );
    assert!(run.plan.outcomes[0].message.contains("MfaRequired"));
    let ready = condition(&run, "Ready");
    assert_eq!(ready.reason, "MfaRequired");
    assert!(ready.message.contains("AADSTS50076"), "{}", ready.message);
}

#[tokio::test]
async fn roles_in_the_admins_token_need_no_lookup_and_roles_through_a_group_are_looked_up() {
    let member_of = |sandbox: &Sandbox| {
        sandbox
            .counters()
            .requests_to(dialpad_teams_sandbox::Endpoint::GraphMemberOf, "GET")
    };
    let (sandbox, resource) = example_sandbox().await;
    let direct = run(
        &example_connection(&resource),
        &resource,
        &mut SyncMemory::default(),
    )
    .await;
    assert_eq!(condition(&direct, "AdminAuthorized").status, "True");
    assert_eq!(member_of(&sandbox), 0, "both roles were in the token's wids");

    let (sandbox, mut resource) = example_sandbox().await;
    resource.spec.tenant.domain = "grouproles.contoso.com".into();
    let connection = example_connection_as(
        &resource,
        "dialpad-msteams-admin@grouproles.contoso.com",
        "sandbox-dialpad-api-key",
    );
    let through_a_group = run(&connection, &resource, &mut SyncMemory::default()).await;
    assert_eq!(
        condition(&through_a_group, "AdminAuthorized").status,
        "True",
        "roles held through a role-assignable group count"
    );
    assert!(member_of(&sandbox) > 0, "looked up, not in the token");
}

#[tokio::test]
async fn a_wrongly_named_admin_is_refused_before_any_call() {
    let (sandbox, resource) = example_sandbox().await;
    let connection = example_connection_as(&resource, "teams-admin@contoso.com", "sandbox-dialpad-api-key");
    let run = run(&connection, &resource, &mut SyncMemory::default()).await;
    let connected = condition(&run, "AdminConnected");
    assert_eq!(connected.reason, "AccountNameInvalid");
    assert!(connected.message.contains("dialpad-msteams-admin@contoso.com"));
    assert_eq!(
        sandbox
            .counters()
            .requests_to(dialpad_teams_sandbox::Endpoint::EntraToken, "POST"),
        0
    );
}

#[tokio::test]
async fn an_admin_without_roles_reports_roles_missing_naming_them() {
    let run = run_signed_in_at("noroles.contoso.com").await;
    let authorized = condition(&run, "AdminAuthorized");
    assert_eq!(authorized.reason, "RolesMissing");
    assert!(
        authorized
            .message
            .contains("Teams Administrator and Skype for Business Administrator"),
        "{}",
        authorized.message
    );
    assert!(
        run.plan
            .outcomes
            .iter()
            .all(|o| o.reason == Reason::AdminRolesMissing)
    );
}

#[tokio::test]
async fn a_wrong_dialpad_key_keeps_the_previous_users_and_changes_nothing() {
    let (sandbox, resource) = example_sandbox().await;
    let good = example_connection(&resource);
    let mut memory = SyncMemory::default();
    let first = run(&good, &resource, &mut memory).await;
    let bad = example_connection_as(&resource, "dialpad-msteams-admin@contoso.com", "wrong");
    let writes = sandbox.counters().write_requests();
    let second = run(&bad, &resource, &mut memory).await;
    assert_eq!(sandbox.counters().write_requests(), writes);
    assert_eq!(
        second.status.users.len(),
        first.status.users.len(),
        "nothing lost"
    );
    let source = condition(&second, "SourceConnected");
    assert_eq!(source.reason, "SourceCredentialsInvalid");
}

/// The example org's Dialpad company, and the key and id of the other company its sandbox knows.
const EXAMPLE_COMPANY_ID: &str = "4508591728425653";
const OTHER_COMPANY_KEY: &str = "sandbox-dialpad-other-company-api-key";

/// `resource` with `spec.source.dialpad.companyId` set to `company_id`.
fn pinned_to(mut resource: TeamsTenantSync, company_id: &str) -> TeamsTenantSync {
    resource.spec.source.dialpad.as_mut().unwrap().company_id = Some(company_id.to_owned());
    resource
}

#[tokio::test]
async fn the_source_condition_names_the_keys_company() {
    let (_sandbox, resource) = example_sandbox().await;
    let run = run(
        &example_connection(&resource),
        &resource,
        &mut SyncMemory::default(),
    )
    .await;
    let source = condition(&run, "SourceConnected");
    assert_eq!(source.reason, "SourceRead");
    assert_eq!(
        source.message,
        format!("Read the desired state from Dialpad company 'Contoso' (id {EXAMPLE_COMPANY_ID})")
    );
}

#[tokio::test]
async fn a_key_of_another_company_stops_the_sync_before_any_write() {
    let (sandbox, resource) = example_sandbox().await;
    let resource = pinned_to(resource, EXAMPLE_COMPANY_ID);
    let mut memory = SyncMemory::default();
    let first = run(&example_connection(&resource), &resource, &mut memory).await;
    assert_eq!(condition(&first, "SourceConnected").reason, "SourceRead");
    let other = example_connection_as(&resource, "dialpad-msteams-admin@contoso.com", OTHER_COMPANY_KEY);
    let writes = sandbox.counters().write_requests();
    let user_reads = sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET");
    let second = run(&other, &resource, &mut memory).await;
    assert_eq!(sandbox.counters().write_requests(), writes, "nothing written");
    assert_eq!(
        sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET"),
        user_reads,
        "no user of the other company read"
    );
    assert_eq!(
        second.status.users, first.status.users,
        "the users keep their status"
    );
    assert_eq!(second.status.summary, first.status.summary);
    let source = condition(&second, "SourceConnected");
    assert_eq!(source.reason, "SourceWrongCompany");
    assert!(
        source
            .message
            .contains("Dialpad company 'Fabrikam' (id 6120375840275968)")
            && source.message.contains(EXAMPLE_COMPANY_ID)
            && !source.message.contains(OTHER_COMPANY_KEY),
        "{}",
        source.message
    );
    assert_eq!(condition(&second, "Ready").reason, "SourceWrongCompany");
}

#[tokio::test]
async fn without_a_pinned_company_any_companys_key_is_read_and_named() {
    let (_sandbox, resource) = example_sandbox().await;
    let other = example_connection_as(&resource, "dialpad-msteams-admin@contoso.com", OTHER_COMPANY_KEY);
    let run = run(&other, &resource, &mut SyncMemory::default()).await;
    let source = condition(&run, "SourceConnected");
    assert_eq!(source.reason, "SourceRead");
    assert!(source.message.contains("'Fabrikam'"), "{}", source.message);
}

#[tokio::test]
async fn a_failure_to_read_the_company_is_transient_and_keeps_the_users() {
    let (sandbox, resource) = example_sandbox().await;
    let connection = example_connection(&resource);
    let mut memory = SyncMemory::default();
    let first = run(&connection, &resource, &mut memory).await;
    sandbox.set_faults(vec![
        serde_yaml::from_str("{endpoint: dialpad.company, errorRate: 1.0, errorStatus: 503}").unwrap(),
    ]);
    let writes = sandbox.counters().write_requests();
    let second = run(&connection, &resource, &mut memory).await;
    assert_eq!(sandbox.counters().write_requests(), writes);
    assert_eq!(second.status.users, first.status.users);
    assert_eq!(condition(&second, "SourceConnected").reason, "TransientError");
}

/// The example org's sandbox, the demo resource at it, and its connection after one sync.
async fn synced_example_org() -> (Sandbox, TeamsTenantSync, Connection) {
    let (sandbox, resource) = example_sandbox().await;
    let synced = example_connection(&resource);
    run(&synced, &resource, &mut SyncMemory::default()).await;
    (sandbox, resource, synced)
}

#[tokio::test]
async fn deleting_after_the_secrets_are_gone_signs_in_with_the_last_syncs_sign_in() {
    use dialpad_teams_operator::connect::connect_tenant;
    use dialpad_teams_operator::sync::ports::TeamsTenant;
    let (sandbox, resource, synced) = synced_example_org().await;
    let options = ConnectOptions {
        http: http_client(&[]).unwrap(),
        retry: RetryPolicy::default(),
        graph_requests_per_second: None,
        dialpad_requests_per_second: None,
        allowed_endpoints: AllowedEndpoints::parse(&[sandbox.base_url()]).unwrap(),
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
    };
    let gone = Values::new(HashMap::new());
    let failure = connect_tenant(&resource.spec, &gone, &options, None)
        .err()
        .expect("no Secrets and no earlier sign-in: nothing to sign in with");
    assert!(failure.message.contains("teams-admin"), "{}", failure.message);
    assert!(
        !failure.message.contains("dialpad"),
        "the source is not needed to clean up: {}",
        failure.message
    );
    let tenant = connect_tenant(&resource.spec, &gone, &options, Some(&synced.sign_in))
        .expect("the last sync's sign-in stands in for the deleted Secrets");
    let checks = tenant.check().await;
    assert_eq!(checks.connected, Ok(()));
    assert!(tenant.read().await.is_ok());
}

#[tokio::test]
async fn a_deletion_with_the_last_syncs_sign_in_never_sends_its_token_to_a_new_graph_endpoint() {
    use dialpad_teams_operator::connect::connect_tenant;
    use dialpad_teams_operator::sync::ports::TeamsTenant;
    use dialpad_teams_sandbox::Endpoint;
    let (sandbox, resource, synced) = synced_example_org().await;
    let other = Sandbox::start(&example_org(), SandboxOptions::default())
        .await
        .unwrap();
    // Before deleting, someone points spec.endpoints.graph at another endpoint the operator allows.
    let mut moved = resource.clone();
    moved.spec.endpoints.as_mut().unwrap().graph = other.base_url().to_owned();
    let options = ConnectOptions {
        allowed_endpoints: AllowedEndpoints::parse(&[sandbox.base_url(), other.base_url()]).unwrap(),
        upstream_calls: Arc::new(NotRecorded),
        policy_types: Default::default(),
        ..quick_options(sandbox.base_url())
    };
    let tenant = connect_tenant(
        &moved.spec,
        &Values::new(HashMap::new()),
        &options,
        Some(&synced.sign_in),
    )
    .expect("the last sync's sign-in stands in for the deleted Secrets");
    assert_eq!(tenant.check().await.connected, Ok(()));
    assert!(tenant.read().await.is_ok());
    let reached: u64 = other.counters().requests.values().sum();
    assert_eq!(
        reached, 0,
        "the earlier sign-in's token goes only to the Graph it was issued for"
    );
    assert!(sandbox.counters().requests_to(Endpoint::GraphUsers, "GET") > 0);
}
