//! The `demo` and `plan` commands as a user runs them: the real binary, its output, errors and
//! exit statuses.

use std::path::PathBuf;
use std::process::Command;

use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_sandbox::generator::{self, Case, GeneratorSpec};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dialpad-teams-operator"))
}

/// The standard output of a command that must have succeeded (both outputs shown if it did not).
fn succeeded(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

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
    assert!(stdout.contains("status:\n  observedGeneration: 1"), "{stdout}");
    assert!(!stdout.contains("sandbox-admin-password"), "a secret was printed");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dto-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn resource_for(base: &str) -> String {
    dialpad_teams_operator::commands::examples::DEMO_RESOURCE.replace("http://127.0.0.1:8080", base)
}

/// A directory `name` holding the demo resource at `base` and its Secrets' files, laid out for
/// `plan --secrets` (the bundled org's test credentials).
fn plan_dir(name: &str, base: &str) -> PathBuf {
    let dir = temp_dir(name);
    write(dir.join("tts.yaml"), &resource_for(base));
    write(
        dir.join("secrets/teams-admin/username"),
        "dialpad-msteams-admin@contoso.com\n",
    );
    write(
        dir.join("secrets/teams-admin/password"),
        "sandbox-admin-password\n",
    );
    write(dir.join("secrets/dialpad/apiKey"), "sandbox-dialpad-api-key");
    dir
}

/// Runs `plan -f DIR/tts.yaml --secrets DIR/secrets` with `extra` arguments, off the runtime.
async fn plan_in(dir: PathBuf, extra: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        binary()
            .arg("plan")
            .arg("-f")
            .arg(dir.join("tts.yaml"))
            .arg("--secrets")
            .arg(dir.join("secrets"))
            .args(extra)
            .output()
    })
    .await
    .unwrap()
    .unwrap()
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

/// The exit status of a plan, which must have ended by itself.
fn exit_status(output: &std::process::Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("plan was killed: {}", String::from_utf8_lossy(&output.stderr)))
}

#[tokio::test]
async fn plan_with_detailed_exitcode_exits_two_while_numbers_are_needed_and_zero_once_converged() {
    let mut org = generator::generate(
        &GeneratorSpec {
            users: 4,
            seed: 25,
            mix: vec![(Case::NeedsAssignment, 1), (Case::InSync, 1)],
        },
        "sandbox-admin-password",
        "unused-client-secret",
        "sandbox-dialpad-api-key",
    );
    org.fixture.behaviour.activation_delay_ms = 0;
    org.fixture.behaviour.operation_delay_ms = 0;
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .unwrap();
    let dir = plan_dir("plan-exit", sandbox.base_url());
    let with = |more: &[&str]| -> Vec<String> {
        let mut args = vec![
            "--allowed-endpoint".to_owned(),
            sandbox.base_url().to_owned(),
            "--detailed-exitcode".to_owned(),
        ];
        args.extend(more.iter().map(|arg| (*arg).to_owned()));
        args
    };

    let dry = plan_in(dir.clone(), with(&["-o", "json"])).await;
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

    let applied = plan_in(dir.clone(), with(&["--apply"])).await;
    assert_eq!(exit_status(&applied), 2, "numbers were assigned");
    assert!(
        succeeded_or_two(&applied).contains("(applied): 2 assigned, 0 unassigned, 0 failed"),
        "{}",
        String::from_utf8_lossy(&applied.stdout)
    );

    let converged = plan_in(dir, with(&["-o", "yaml"])).await;
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

/// The standard output of a plan that ran to the end, whatever it found (exit 0 or 2).
fn succeeded_or_two(output: &std::process::Output) -> String {
    assert!(matches!(exit_status(output), 0 | 2));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn plan_with_detailed_exitcode_exits_two_for_an_org_with_failing_users() {
    let org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    let dir = plan_dir("plan-exit-failing", sandbox.base_url());
    let args = vec![
        "--allowed-endpoint".to_owned(),
        sandbox.base_url().to_owned(),
        "--detailed-exitcode".to_owned(),
    ];
    let output = plan_in(dir, args).await;
    assert_eq!(exit_status(&output), 2);
    assert!(succeeded_or_two(&output).contains("EmailMissing"));
}

#[test]
fn plan_with_detailed_exitcode_exits_one_when_it_cannot_run() {
    let dir = temp_dir("plan-exit-error");
    write(dir.join("tts.yaml"), &resource_for("http://127.0.0.1:9"));
    let run = |extra: &[&str]| {
        binary()
            .arg("plan")
            .arg("-f")
            .arg(dir.join("tts.yaml"))
            .arg("--secrets")
            .arg(dir.join("no-such-dir"))
            .arg("--detailed-exitcode")
            .args(extra)
            .env("ALLOWED_ENDPOINTS", "http://127.0.0.1:9")
            .output()
            .unwrap()
    };
    let missing_secrets = run(&[]);
    assert_eq!(exit_status(&missing_secrets), 1);
    assert!(
        String::from_utf8_lossy(&missing_secrets.stderr).contains("no-such-dir"),
        "{}",
        String::from_utf8_lossy(&missing_secrets.stderr)
    );
    // A usage error, which clap ends with 2, must not read as "changes".
    let usage = run(&["-o", "xml"]);
    assert_eq!(exit_status(&usage), 1);
    assert!(String::from_utf8_lossy(&usage.stderr).contains("xml"));
}
