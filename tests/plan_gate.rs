//! `plan` as a pipeline step: `--detailed-exitcode`'s exit statuses, the document `-o json|yaml`
//! prints, and what `plan --apply` leaves to the operator.

mod common;

use common::cli::{
    allowing, exit_status, plan_dir, plan_in, resource_for, succeeded_or_two, temp_dir, write,
};
use common::pipeline::{connection, needing_numbers, resource, secrets, start_immediate};
use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, sync_once};
use dialpad_teams_sandbox::generator::{self, ADMIN_UPN, Case, GeneratorSpec};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};

/// The values `common::cli::plan_dir` writes into the Secrets' files.
const PASSWORD: &str = "sandbox-admin-password";
const KEY: &str = "sandbox-dialpad-api-key";
/// An endpoint nothing listens on: the tests that use it end before any request.
const UNREACHABLE: &str = "http://127.0.0.1:9";

#[tokio::test]
async fn plan_with_detailed_exitcode_exits_two_while_numbers_are_needed_and_zero_once_converged() {
    let spec = GeneratorSpec {
        users: 4,
        seed: 25,
        mix: vec![(Case::NeedsAssignment, 1), (Case::InSync, 1)],
    };
    let org = generator::generate(&spec, PASSWORD, "unused-client-secret", KEY);
    let sandbox = start_immediate(org.fixture, 1_000).await;
    let dir = plan_dir("plan-exit", sandbox.base_url());
    let dry = plan_in(
        dir.clone(),
        allowing(sandbox.base_url(), &["--detailed-exitcode", "-o", "json"]),
    )
    .await;
    assert_eq!(exit_status(&dry), 2, "{}", String::from_utf8_lossy(&dry.stderr));
    let document: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(document["name"], "contoso");
    assert_eq!(document["namespace"], "telephony");
    assert_eq!(document["mode"], "DryRun");
    assert_eq!(document["changes"]["assigned"], 0);
    assert_eq!(document["summary"]["desired"], 4);
    let users = document["users"].as_array().unwrap();
    assert_eq!(users.len(), 4, "{document}");
    let planned: Vec<&serde_json::Value> = users.iter().filter(|u| u["reason"] == "DryRun").collect();
    assert_eq!(planned.len(), 2, "{document}");
    for user in planned {
        assert_eq!(user["state"], "Pending");
        assert!(user["key"].as_str().unwrap().starts_with("dialpad/"), "{user}");
        assert!(
            user["email"].as_str().unwrap().ends_with("@contoso.com"),
            "{user}"
        );
        assert!(user["number"].as_str().unwrap().starts_with("+1415"), "{user}");
        assert!(
            user["message"].as_str().unwrap().contains("would be assigned"),
            "{user}"
        );
    }
    let conditions = document["conditions"].as_array().unwrap();
    assert!(conditions.iter().any(|c| c["type"] == "Ready"), "{document}");
    assert_eq!(sandbox.counters().write_requests(), 0);

    let applied = plan_in(
        dir.clone(),
        allowing(sandbox.base_url(), &["--detailed-exitcode", "--apply"]),
    )
    .await;
    assert_eq!(exit_status(&applied), 2, "numbers were assigned");
    assert!(
        succeeded_or_two(&applied).contains("(applied): 2 assigned, 0 unassigned, 0 failed"),
        "{}",
        String::from_utf8_lossy(&applied.stdout)
    );

    let converged = plan_in(
        dir,
        allowing(sandbox.base_url(), &["--detailed-exitcode", "-o", "yaml"]),
    )
    .await;
    assert_eq!(
        exit_status(&converged),
        0,
        "{}",
        String::from_utf8_lossy(&converged.stdout)
    );
    let document: serde_json::Value = serde_yaml::from_slice(&converged.stdout).unwrap();
    assert_eq!(document["summary"]["inSync"], 4, "{document:?}");
    let users = document["users"].as_array().unwrap();
    assert!(users.iter().all(|u| u["reason"] == "InSync"), "{document:?}");
    for output in [&dry, &converged] {
        let text = String::from_utf8_lossy(&output.stdout);
        for secret in ["sandbox-admin-password", "sandbox-dialpad-api-key"] {
            assert!(!text.contains(secret), "a Secret's value was printed");
        }
    }
}

#[tokio::test]
async fn plan_with_detailed_exitcode_exits_two_for_an_org_with_failing_users() {
    let org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let dir = plan_dir("plan-exit-failing", sandbox.base_url());
    let output = plan_in(dir, allowing(sandbox.base_url(), &["--detailed-exitcode"])).await;
    assert_eq!(exit_status(&output), 2);
    assert!(succeeded_or_two(&output).contains("EmailMissing"));
}

#[tokio::test]
async fn plan_with_detailed_exitcode_exits_one_when_it_cannot_run() {
    // The directory holds the resource and no `secrets` directory at all.
    let dir = temp_dir("plan-exit-error");
    write(dir.join("tts.yaml"), &resource_for(UNREACHABLE));
    let missing_secrets = plan_in(dir.clone(), allowing(UNREACHABLE, &["--detailed-exitcode"])).await;
    assert_eq!(exit_status(&missing_secrets), 1);
    let stderr = String::from_utf8_lossy(&missing_secrets.stderr);
    assert!(
        stderr.contains("SecretInvalid") && stderr.contains("secrets"),
        "{stderr}"
    );
    // A usage error, which clap ends with 2, must not read as "changes".
    let usage = plan_in(dir, allowing(UNREACHABLE, &["--detailed-exitcode", "-o", "xml"])).await;
    assert_eq!(exit_status(&usage), 1);
    assert!(String::from_utf8_lossy(&usage.stderr).contains("xml"));
}

#[tokio::test]
async fn numbers_plan_apply_assigned_are_never_taken_off_and_adopt_existing_hands_them_over() {
    let sandbox = needing_numbers(3, 25, 1_000, PASSWORD, KEY).await;
    let dir = plan_dir("plan-apply-unowned", sandbox.base_url());
    let applied = plan_in(dir, allowing(sandbox.base_url(), &["--apply"])).await;
    assert!(
        succeeded_or_two(&applied).contains("(applied): 3 assigned"),
        "{}",
        String::from_utf8_lossy(&applied.stdout)
    );
    // One of them leaves Dialpad: the operator's sync, with no record of what plan assigned,
    // neither unassigns the number nor lists the user.
    let leaver = sandbox.with_world(|world| {
        let user = &mut world.dialpad.users[0];
        user.state = "deleted".into();
        user.emails[0].clone()
    });
    let mut resource = resource(&sandbox);
    resource.spec.removal.grace_period = "0s".into();
    let store = secrets(ADMIN_UPN, PASSWORD, KEY);
    let connection = connection(&resource, &store);
    let sync = |resource: TeamsTenantSync, mut memory: SyncMemory| {
        let connection = &connection;
        async move {
            let policy = Policy::from_spec(&resource.spec).unwrap();
            let run = sync_once(
                &connection.source,
                &connection.tenant,
                &policy,
                &mut memory,
                Some(1),
            )
            .await;
            (run, memory)
        }
    };
    let (run, memory) = sync(resource.clone(), SyncMemory::default()).await;
    assert_eq!(
        run.execution.unassigned, 0,
        "a number no record holds is never unassigned"
    );
    assert!(memory.owned.is_empty(), "{:?}", memory.owned);
    assert!(
        run.plan
            .outcomes
            .iter()
            .all(|o| o.email.as_deref() != Some(leaver.as_str())),
        "{:?}",
        run.plan.outcomes
    );
    let held = sandbox.with_world(|world| {
        world
            .numbers
            .values()
            .filter(|n| n.assignment_target_id.is_some())
            .count()
    });
    assert_eq!(held, 3, "the departed user keeps the number plan assigned");
    // With adoptExisting the next sync records the numbers users hold as the source wants.
    resource.spec.removal.adopt_existing = true;
    let (run, mut memory) = sync(resource.clone(), memory).await;
    assert_eq!(memory.owned.len(), 2, "{:?}", memory.owned);
    assert_eq!(run.status.summary.unwrap().owned, 2);
    // What kept the leaver's number was the missing record: recorded, it goes.
    let (number, holder) = sandbox.with_world(|world| {
        let user = world.users.iter().find(|u| u.answers_to(&leaver)).unwrap();
        let held = world.numbers_of(&user.id)[0];
        (held.telephone_number.clone(), user.id.clone())
    });
    memory.owned = memory.owned.with([(number.as_str(), holder.as_str())]);
    let (run, _) = sync(resource, memory).await;
    assert_eq!(run.execution.unassigned_numbers, vec![number]);
}
