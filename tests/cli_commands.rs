//! The `demo` and `plan` commands as a user runs them: the real binary, its output and errors.

mod common;

use common::cli::{binary, plan_dir, plan_in, resource_for, succeeded, temp_dir, write};
use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};

#[test]
fn demo_shows_every_failing_user_and_a_second_sync_without_writes() {
    let output = binary().args(["demo", "-o", "yaml"]).output().unwrap();
    let stdout = succeeded(&output);
    assert!(
        stdout.contains("=== Sync 1: 2 assigned (0 drift corrected)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "=== Sync 2: 0 assigned (0 drift corrected), 0 unassigned, 0 failed; 0 write calls to Teams ==="
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "grace.hopper@contoso.com holds +14155550199, a number the source owns that this resource did not assign to the user"
        ),
        "a number put on Grace by hand is not replaced on a first sync: {stdout}"
    );
    for reason in [
        "EmailMissing",
        "PhoneNumberMissing",
        "TeamsUserNotFound",
        "PhoneSystemLicenseMissing",
        "CallingPlanAssigned",
        "InvalidPhoneNumber",
        "DuplicateEmail",
        "NumberConflict",
        "TeamsUserDisabled",
        "RemovalPending",
        "UnknownError",
        "InSync",
    ] {
        assert!(stdout.contains(reason), "{reason} missing from the demo output");
    }
    // The offices' policies: London's for Alan, Paris's not created in Teams yet, Ada's from a group.
    for policy in [
        "assigned voiceRoutingPolicy 'UK-Routes'",
        "PolicyNotFound             assigned +14155550103",
        "the tenant has no voiceRoutingPolicy named 'Paris-Routes'",
        "voiceRoutingPolicy 'US-Routes' comes from group",
    ] {
        assert!(
            stdout.contains(policy),
            "{policy} missing from the demo output: {stdout}"
        );
    }
    assert!(stdout.contains("status:\n  observedGeneration: 1"), "{stdout}");
    assert!(!stdout.contains("sandbox-admin-password"), "a secret was printed");
}

/// `demo | head`: the reader goes after the first line. The process ends quietly with the status a
/// shell shows for SIGPIPE, where `println!` used to panic.
#[test]
fn demo_whose_reader_goes_early_ends_quietly_with_the_sigpipe_status() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = binary()
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("Sandbox http://127.0.0.1:"), "{first}");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn plan_runs_one_dry_run_sync_with_secrets_from_files() {
    let org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let dir = plan_dir("plan", sandbox.base_url());
    let allowed = vec!["--allowed-endpoint".to_owned(), sandbox.base_url().to_owned()];
    let output = plan_in(dir, allowed).await;
    let stdout = succeeded(&output);
    assert!(
        stdout.contains("(dry run: nothing changed): 0 assigned"),
        "{stdout}"
    );
    assert!(
        stdout.contains("DryRun") && stdout.contains("would be assigned: +442079460000"),
        "{stdout}"
    );
    assert_eq!(sandbox.counters().write_requests(), 0);
}

#[test]
fn plan_names_the_missing_secret_file() {
    let dir = temp_dir("plan-missing");
    write(dir.join("tts.yaml"), &resource_for("http://127.0.0.1:9"));
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    let output = binary()
        .arg("plan")
        .arg("-f")
        .arg(dir.join("tts.yaml"))
        .arg("--secrets")
        .arg(dir.join("secrets"))
        .env("ALLOWED_ENDPOINTS", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SecretInvalid") && stderr.contains("teams-admin/username"),
        "{stderr}"
    );
}

#[tokio::test]
async fn plan_sends_nothing_to_an_endpoint_it_was_not_allowed() {
    let org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let output = plan_in(plan_dir("plan-not-allowed", sandbox.base_url()), Vec::new()).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for field in ["login", "graph", "dialpad"] {
        let named = format!("spec.endpoints.{field} is {}", sandbox.base_url());
        assert!(stderr.contains(&named), "{stderr}");
    }
    assert!(
        stderr.starts_with("error: EndpointNotAllowed") && stderr.contains("--allowed-endpoint"),
        "{stderr}"
    );
    let requests: u64 = sandbox.counters().requests.values().sum();
    assert_eq!(requests, 0, "not one request reached it");
}

#[tokio::test]
async fn plan_refuses_a_national_cloud_before_any_request_whatever_is_allowed() {
    let org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let dir = plan_dir("plan-national-cloud", sandbox.base_url());
    let resource = std::fs::read_to_string(dir.join("tts.yaml")).unwrap();
    let graph_line = format!("graph: {}", sandbox.base_url());
    write(
        dir.join("tts.yaml"),
        &resource.replace(&graph_line, "graph: https://graph.microsoft.us"),
    );
    let allowed = vec![
        "--allowed-endpoint".to_owned(),
        sandbox.base_url().to_owned(),
        "--allowed-endpoint".to_owned(),
        "https://graph.microsoft.us".to_owned(),
    ];
    let output = plan_in(dir, allowed).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: CloudNotSupported")
            && stderr.contains(
                "spec.endpoints.graph is https://graph.microsoft.us, Microsoft's US Government L4 cloud"
            ),
        "{stderr}"
    );
    let requests: u64 = sandbox.counters().requests.values().sum();
    assert_eq!(requests, 0, "not one request was sent");
}

#[test]
fn plan_rejects_a_resource_the_apiserver_would_reject() {
    let dir = temp_dir("plan-invalid");
    let bad = resource_for("http://127.0.0.1:9").replace("syncInterval: 15m", "syncInterval: 10s");
    write(dir.join("tts.yaml"), &bad);
    let output = binary()
        .arg("plan")
        .arg("-f")
        .arg(dir.join("tts.yaml"))
        .arg("--secrets")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("spec.syncInterval: must be at least 1m"),
        "{stderr}"
    );
}
