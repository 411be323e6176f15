//! The Graph client against the sandbox: users paged to the end, licence classification, roles
//! and app permissions, the number inventory, assignment outcomes, throttling, faults, and a token
//! that expires mid-run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_operator::microsoft::admin::{missing_permissions, missing_roles};
use dialpad_teams_operator::microsoft::catalog;
use dialpad_teams_operator::microsoft::directory::EmailIndex;
use dialpad_teams_operator::microsoft::graph::{AssignmentFailure, GraphClient, OperationOutcome, Submitted};
use dialpad_teams_operator::microsoft::licences::LicenceState;
use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
use dialpad_teams_sandbox::fixture::{FaultFixture, TeamsUserFixture};
use dialpad_teams_sandbox::{Endpoint, OrgFixture, Sandbox, SandboxOptions};
use secrecy::SecretString;

const TENANT: &str = "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34";
const APP: &str = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
const SECRET: &str = "sandbox-client-secret";

fn org() -> OrgFixture {
    let mut org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    org.behaviour.operation_delay_ms = 20;
    org
}

fn fault(yaml: &str) -> FaultFixture {
    serde_yaml::from_str(yaml).unwrap()
}

fn retries() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
        ..Default::default()
    }
}

fn graph_with(sandbox: &Sandbox, credentials: Credentials) -> GraphClient {
    let http = http_client(&[]).unwrap();
    let entra = UpstreamClient::new(Service::Entra, http.clone(), None, retries());
    let tokens = Arc::new(TokenClient::new(
        entra,
        sandbox.base_url(),
        TENANT,
        sandbox.base_url(),
        credentials,
    ));
    GraphClient::new(
        UpstreamClient::new(Service::Graph, http, None, retries()),
        sandbox.base_url(),
        tokens,
    )
}

fn app_graph(sandbox: &Sandbox) -> GraphClient {
    graph_with(
        sandbox,
        Credentials::ClientSecret {
            client_id: APP.into(),
            secret: SecretString::from(SECRET.to_owned()),
        },
    )
}

fn admin_graph(sandbox: &Sandbox, username: &str) -> GraphClient {
    graph_with(
        sandbox,
        Credentials::Password {
            client_id: "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b".into(),
            username: SecretString::from(username.to_owned()),
            password: SecretString::from("sandbox-admin-password".to_owned()),
            username_in: "Secret 'teams-admin' (key 'username')".into(),
            account: username.into(),
        },
    )
}

fn bulk_users(org: &mut OrgFixture, count: usize) {
    for index in 0..count {
        let email = format!("bulk{index:05}@contoso.com");
        org.tenant.users.push(TeamsUserFixture {
            user_principal_name: email.clone(),
            mail: Some(email),
            account_enabled: true,
            // Teams Phone Standard alone: one plan, so pages stay small and the timing below
            // measures the listing, not the parsing of Microsoft 365 E5's 86 plans per user.
            licenses: vec!["MCOEV".into()],
            phone_number: Some(format!("+1650{index:07}")),
            ..Default::default()
        });
    }
}

#[tokio::test]
async fn all_users_are_listed_through_every_next_link() {
    let mut org = org();
    bulk_users(&mut org, 2_500);
    let expected = org.tenant.users.len() + org.tenant.admins.len();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = app_graph(&sandbox).list_users().await.unwrap();
    assert_eq!(users.len(), expected);
    assert_eq!(
        sandbox.counters().requests_to(Endpoint::GraphUsers, "GET"),
        3,
        "pages of 999"
    );
    let index = EmailIndex::new(&users);
    assert_eq!(index.find("BULK02499@contoso.com").len(), 1);
    assert_eq!(
        index.find("alan@contoso.com").len(),
        1,
        "found through an smtp proxy address"
    );
    assert_eq!(
        index.find("katherine.johnson@contoso.com").len(),
        1,
        "found through the UPN"
    );
}

#[tokio::test]
async fn pages_cut_off_mid_body_are_read_again() {
    let mut org = org();
    bulk_users(&mut org, 2_500);
    // A third of the user pages and number pages come back as 200 with a truncated body.
    org.behaviour.faults = vec![
        fault("{endpoint: graph.users, malformedRate: 0.3}"),
        fault("{endpoint: graph.numberAssignments, malformedRate: 0.3}"),
    ];
    let expected = org.tenant.users.len() + org.tenant.admins.len();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    assert_eq!(graph.list_users().await.unwrap().len(), expected);
    assert!(graph.list_numbers().await.is_ok());
    let counters = sandbox.counters();
    assert!(
        counters.requests_to(Endpoint::GraphUsers, "GET") > 3,
        "some of the three pages were read again"
    );
}

#[tokio::test]
async fn licences_are_classified_for_every_phone_system_and_calling_plan_case() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let users = app_graph(&sandbox).list_users().await.unwrap();
    let licence_of = |upn: &str| {
        let user = users
            .iter()
            .find(|u| u.user_principal_name.as_deref() == Some(upn))
            .unwrap();
        LicenceState::classify(&user.assigned_plans, &user.assigned_licenses)
    };
    assert_eq!(licence_of("ada.lovelace@contoso.com").phone_system, Some("MCOEV"));
    assert_eq!(
        licence_of("alan.turing@contoso.com").phone_system,
        Some("MCOEV"),
        "E3 + Teams Phone add-on"
    );
    assert_eq!(
        licence_of("edsger.dijkstra@contoso.com").phone_system,
        None,
        "E3 alone"
    );
    assert_eq!(
        licence_of("barbara.liskov@contoso.com").phone_system,
        None,
        "MCOEV switched off"
    );
    assert_eq!(licence_of("donald.knuth@contoso.com").calling_plans, ["MCOPSTN8"]);
    assert_eq!(
        licence_of("frances.allen@contoso.com").calling_plans,
        ["MCOPSTN1"]
    );
    assert!(licence_of("ada.lovelace@contoso.com").calling_plans.is_empty());
}

#[tokio::test]
async fn every_calling_plan_and_phone_system_variant_is_recognised_from_graph() {
    let mut org = org();
    let skus = [
        "MCOEVSMB_1",
        "MCOPSTN1",
        "MCOPSTN2",
        "MCOPSTN_6",
        "BUSINESS_VOICE_MED2",
        "MCOTEAMS_ESSENTIALS",
    ];
    for sku in skus {
        org.tenant.users.push(TeamsUserFixture {
            user_principal_name: format!("{}@contoso.com", sku.to_lowercase()),
            licenses: vec![sku.into()],
            account_enabled: true,
            ..Default::default()
        });
    }
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let users = app_graph(&sandbox).list_users().await.unwrap();
    for sku in skus {
        let upn = format!("{}@contoso.com", sku.to_lowercase());
        let user = users
            .iter()
            .find(|u| u.user_principal_name.as_deref() == Some(upn.as_str()))
            .unwrap();
        let state = LicenceState::classify(&user.assigned_plans, &user.assigned_licenses);
        let sku_plans = catalog::sku_by_part_number(sku).unwrap();
        let expect_phone = catalog::PHONE_SYSTEM_PLANS.iter().any(|p| sku_plans.brings(p.id));
        let expect_calling: Vec<&str> = catalog::CALLING_PLANS
            .iter()
            .filter(|p| sku_plans.brings(p.id))
            .map(|p| p.name)
            .collect();
        assert_eq!(state.phone_system.is_some(), expect_phone, "{sku}");
        assert_eq!(state.calling_plans, expect_calling, "{sku}");
    }
}

#[tokio::test]
async fn roles_held_through_a_role_assignable_group_count() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let roles = admin_graph(&sandbox, "dialpad-msteams-admin@grouproles.contoso.com")
        .my_roles()
        .await
        .unwrap();
    assert!(missing_roles(&roles).is_empty(), "{roles:?}");
}

#[tokio::test]
async fn the_admins_roles_are_checked_by_template_id() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let roles = admin_graph(&sandbox, "dialpad-msteams-admin@contoso.com")
        .my_roles()
        .await
        .unwrap();
    assert!(missing_roles(&roles).is_empty(), "{roles:?}");
    let roles = admin_graph(&sandbox, "dialpad-msteams-admin@noroles.contoso.com")
        .my_roles()
        .await
        .unwrap();
    assert_eq!(
        missing_roles(&roles),
        ["Teams Administrator", "Skype for Business Administrator"]
    );
}

#[tokio::test]
async fn an_apps_missing_permissions_are_named_from_its_token() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let limited = graph_with(
        &sandbox,
        Credentials::ClientSecret {
            client_id: "8d2e3f40-5b6c-4d7e-9fa0-b1c2d3e4f5a6".into(),
            secret: SecretString::from(SECRET.to_owned()),
        },
    );
    let token = limited.tokens().access_token().await.unwrap();
    assert_eq!(
        missing_permissions(&token.claims),
        ["TeamsTelephoneNumber.ReadWrite.All"]
    );
    let error = limited.list_numbers().await.unwrap_err();
    assert!(error.to_string().contains("403"), "{error}");
    assert!(!error.is_transient());
}

#[tokio::test]
async fn an_app_with_directory_read_write_lists_users_as_microsoft_documents() {
    let mut org = org();
    let broad = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7";
    org.tenant.applications.push(
        serde_yaml::from_str(&format!(
            "{{clientId: {broad}, clientSecret: {SECRET}, permissions: [Directory.ReadWrite.All, TeamsTelephoneNumber.ReadWrite.All]}}"
        ))
        .unwrap(),
    );
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = graph_with(
        &sandbox,
        Credentials::ClientSecret {
            client_id: broad.into(),
            secret: SecretString::from(SECRET.to_owned()),
        },
    );
    let token = graph.tokens().access_token().await.unwrap();
    assert!(missing_permissions(&token.claims).is_empty());
    assert!(
        !graph.list_users().await.unwrap().is_empty(),
        "the sandbox agrees"
    );
}

#[tokio::test]
async fn the_number_inventory_is_paged_with_top_and_skip() {
    let mut org = org();
    bulk_users(&mut org, 2_100);
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let numbers = app_graph(&sandbox).list_numbers().await.unwrap();
    let expected = org
        .tenant
        .users
        .iter()
        .filter(|u| u.phone_number.is_some())
        .count();
    assert_eq!(numbers.len(), expected);
    assert_eq!(
        sandbox
            .counters()
            .requests_to(Endpoint::GraphNumberAssignments, "GET"),
        3
    );
}

#[tokio::test]
async fn assignment_outcomes_are_success_pending_conflict_licence_and_unknown() {
    let sandbox = Sandbox::start(&org(), SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    let users = graph.list_users().await.unwrap();
    let id_of = |upn: &str| {
        users
            .iter()
            .find(|u| u.user_principal_name.as_deref() == Some(upn))
            .unwrap()
            .id
            .clone()
    };

    let outcome = graph
        .assign_number(
            "+442079460000",
            &id_of("alan.turing@contoso.com"),
            "directRouting",
            None,
        )
        .await;
    assert_eq!(outcome.unwrap(), OperationOutcome::Succeeded);
    let numbers = graph.list_numbers().await.unwrap();
    let alan = numbers
        .iter()
        .find(|n| n.telephone_number == "+442079460000")
        .unwrap();
    assert_eq!(
        alan.activation_state.as_deref(),
        Some("assignmentPending"),
        "activation takes a while"
    );

    let conflict = graph
        .assign_number(
            "+14155550110",
            &id_of("linus.torvalds@contoso.com"),
            "directRouting",
            None,
        )
        .await;
    assert!(matches!(
        conflict.unwrap(),
        OperationOutcome::Failed(AssignmentFailure::Conflict(_))
    ));

    let licence = graph
        .assign_number(
            "+31205550108",
            &id_of("edsger.dijkstra@contoso.com"),
            "directRouting",
            None,
        )
        .await;
    assert!(matches!(
        licence.unwrap(),
        OperationOutcome::Failed(AssignmentFailure::Licence(_))
    ));

    let missing = graph
        .assign_number(
            "+14155550198",
            "00000000-0000-4000-a000-000000000000",
            "directRouting",
            None,
        )
        .await;
    assert!(matches!(
        missing.unwrap(),
        OperationOutcome::Failed(AssignmentFailure::UserNotFound(_))
    ));

    let unknown = graph
        .assign_number(
            "+14155550119",
            &id_of("ken.thompson@contoso.com"),
            "directRouting",
            None,
        )
        .await;
    assert!(matches!(
        unknown.unwrap(),
        OperationOutcome::Failed(AssignmentFailure::Other(_))
    ));

    let removed = graph
        .unassign_number("+14155550120", "directRouting")
        .await
        .unwrap();
    assert_eq!(removed, OperationOutcome::Succeeded);
}

#[tokio::test]
async fn an_operation_still_running_when_polling_stops_is_reported_as_such() {
    let mut org = org();
    org.behaviour.operation_delay_ms = 5_000;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let mut graph = app_graph(&sandbox);
    graph.operation_timeout = Duration::from_millis(300);
    let users = graph.list_users().await.unwrap();
    let alan = users
        .iter()
        .find(|u| u.user_principal_name.as_deref() == Some("alan.turing@contoso.com"))
        .unwrap();
    let outcome = graph
        .assign_number("+442079460000", &alan.id, "directRouting", None)
        .await
        .unwrap();
    assert_eq!(outcome, OperationOutcome::StillRunning);
}

#[tokio::test]
async fn an_accepted_change_without_a_location_is_still_running_never_taken_as_done() {
    let mut org = org();
    org.behaviour.operations_answered_without_location = 1;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    let users = graph.list_users().await.unwrap();
    let alan = users
        .iter()
        .find(|u| u.user_principal_name.as_deref() == Some("alan.turing@contoso.com"))
        .unwrap();
    let submitted = graph
        .submit_assign("+442079460000", &alan.id, "directRouting", None)
        .await
        .unwrap();
    assert_eq!(
        submitted,
        Submitted::Running {
            url: None,
            retry_after: None
        },
        "a 204 without a Location is no verdict"
    );
    // The next answer carries its Location again, and is polled to its verdict.
    let outcome = graph
        .assign_number("+442079460001", &alan.id, "directRouting", None)
        .await
        .unwrap();
    assert_eq!(outcome, OperationOutcome::Succeeded);
    assert!(
        sandbox.counters().requests_to(Endpoint::GraphOperations, "GET") > 0,
        "the second change was polled on its Location"
    );
}

#[tokio::test]
async fn a_429_is_waited_out_for_at_least_its_retry_after() {
    let mut org = org();
    org.behaviour.faults = vec![fault(
        "{endpoint: graph.users, failFirst: 1, errorStatus: 429, retryAfterSeconds: 1.5}",
    )];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let started = Instant::now();
    app_graph(&sandbox).list_users().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.counters().responses_from(Endpoint::GraphUsers, 429), 1);
}

#[tokio::test]
async fn server_errors_and_resets_are_retried_then_transient() {
    let mut org = org();
    org.behaviour.faults = vec![fault("{endpoint: graph.users, failFirst: 2, errorStatus: 503}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    graph.list_users().await.unwrap();
    sandbox.set_faults(vec![fault("{endpoint: graph.users, resetRate: 1.0}")]);
    let error = graph.list_users().await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    sandbox.set_faults(vec![fault(
        "{endpoint: graph.users, errorRate: 1.0, errorStatus: 504}",
    )]);
    let error = graph.list_users().await.unwrap_err();
    assert!(
        error.is_transient() && error.to_string().contains("504"),
        "{error}"
    );
}

#[tokio::test]
async fn a_write_is_not_retried_after_a_server_error() {
    let mut org = org();
    org.behaviour.faults = vec![fault(
        "{endpoint: graph.assignNumber, errorRate: 1.0, errorStatus: 503}",
    )];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    let error = graph
        .assign_number("+442079460000", "any", "directRouting", None)
        .await
        .unwrap_err();
    assert!(error.is_transient());
    assert_eq!(
        sandbox
            .counters()
            .requests_to(Endpoint::GraphAssignNumber, "POST"),
        1,
        "never twice"
    );
}

#[tokio::test]
async fn a_malformed_body_is_a_clear_error() {
    let mut org = org();
    org.behaviour.faults = vec![fault("{endpoint: graph.numberAssignments, malformedRate: 1.0}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let error = app_graph(&sandbox).list_numbers().await.unwrap_err();
    assert!(error.to_string().contains("unexpected response body"), "{error}");
}

#[tokio::test]
async fn a_token_expiring_mid_listing_is_refreshed_once() {
    let mut org = org();
    bulk_users(&mut org, 3_000);
    org.behaviour.token_lifetime_seconds = 1;
    org.behaviour.faults = vec![fault("{endpoint: graph.users, latencyMs: 400}")];
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    let users = graph.list_users().await.unwrap();
    assert_eq!(users.len(), org.tenant.users.len() + org.tenant.admins.len());
    assert_eq!(
        graph.tokens().token_requests(),
        2,
        "four pages over 1.6 s: one sign-in, one renewal"
    );
}

#[tokio::test]
async fn a_client_without_a_rate_learns_one_from_429s_and_loses_no_call() {
    let mut org = org();
    org.behaviour.graph_requests_per_second = 50;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let graph = app_graph(&sandbox);
    let calls = futures::future::join_all((0..250).map(|_| graph.list_numbers())).await;
    let failed: Vec<String> = calls
        .iter()
        .filter_map(|call| call.as_ref().err().map(ToString::to_string))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 250 calls failed, e.g. {}",
        failed.len(),
        failed[0]
    );
    let throttled = sandbox
        .counters()
        .responses_from(Endpoint::GraphNumberAssignments, 429);
    // The first wave cannot know the limit: 250 at once against a bucket of 50 is up to 200
    // 429s. After that the client paces itself and the sandbox throttles almost nothing.
    assert!(
        throttled <= 225,
        "{throttled} 429s for 250 calls: the client kept sending after being told to slow down"
    );
}
