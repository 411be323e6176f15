//! The change trail (`sync::trail`) over the whole pipeline against the sandbox, read as a log
//! collector reads the operator's JSON log: one `sent` and one `confirmed` line per change, each
//! naming the resource (from the span around the sync), the user, the number, the numbers a
//! replacement takes off, the reason and the verdict; and a departed user's unassignment with its
//! reason. No line carries a credential.

use std::collections::BTreeMap;
use std::time::Duration;

mod common;

use common::captured_log::{Captured, LogBuffer, text};
use common::pipeline::{connection, resource, secrets};
use dialpad_teams_operator::api::{Reason, TeamsTenantSync};
use dialpad_teams_operator::commands::examples::{EXAMPLE_ORG, OFFICES_RESOURCE};
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::connect::Connection;
use dialpad_teams_operator::sync::model::Policy;
use dialpad_teams_operator::sync::pipeline::{SyncMemory, SyncRun, sync_once};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use serde_json::Value;
use tracing::Instrument;

const ADMIN: &str = "dialpad-msteams-admin@contoso.com";
const PASSWORD: &str = "sandbox-admin-password";
const KEY: &str = "sandbox-dialpad-api-key";
const RESOURCE: &str = "telephony/contoso";

/// The example org, with assignments that activate quickly.
async fn example_sandbox() -> (Sandbox, TeamsTenantSync) {
    let mut org = OrgFixture::from_yaml(EXAMPLE_ORG, "example").unwrap();
    org.behaviour.activation_delay_ms = 300;
    org.behaviour.operation_delay_ms = 0;
    let sandbox = Sandbox::start(&org, SandboxOptions::default()).await.unwrap();
    // The demo's resource: with its offices' voice routing policies, which the trail logs too.
    let mut resource = resource(&sandbox);
    resource.spec.assignment = parse_resource(OFFICES_RESOURCE, "offices")
        .unwrap()
        .spec
        .assignment;
    (sandbox, resource)
}

/// Serialises this file's tests: `tracing` caches whether a line is wanted per call site, across
/// threads, so a test logging without a subscriber can hide another test's lines.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A log written as `run --log-format json` writes it (`telemetry::logging`), kept in memory, for
/// this thread (the tests' runtime runs every task on it).
fn json_log() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || Captured(writer.clone()))
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

/// One sync inside the span the controller opens around it.
async fn sync(connection: &Connection, resource: &TeamsTenantSync, memory: &mut SyncMemory) -> SyncRun {
    let policy = Policy::from_spec(&resource.spec).unwrap();
    sync_once(&connection.source, &connection.tenant, &policy, memory, Some(1))
        .instrument(tracing::info_span!("sync", resource = RESOURCE))
        .await
}

/// The trail's number lines in `log`, as JSON, with `change` = `kind` (`sent` or `confirmed`).
fn trail(log: &LogBuffer, kind: &str) -> Vec<Value> {
    lines_of(log, kind)
        .into_iter()
        .filter(|line| line["fields"]["number"].is_string())
        .collect()
}

/// Every trail line in `log` with `change` = `kind`, numbers' and policies' alike.
fn lines_of(log: &LogBuffer, kind: &str) -> Vec<Value> {
    text(log)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["change"] == kind)
        .collect()
}

/// A field of a trail line, as text.
fn field<'a>(line: &'a Value, name: &str) -> &'a str {
    line["fields"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

/// The trail's lines by number and action.
fn by_change(lines: &[Value]) -> BTreeMap<(String, String), Vec<&Value>> {
    let mut by = BTreeMap::<_, Vec<_>>::new();
    for line in lines {
        let key = (field(line, "number").to_owned(), field(line, "action").to_owned());
        by.entry(key).or_default().push(line);
    }
    by
}

#[tokio::test]
async fn a_sync_of_the_example_org_logs_one_sent_and_one_confirmed_line_per_change() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_sandbox, mut resource) = example_sandbox().await;
    // Grace's stray office line is then replaced, so a replacement is among the changes.
    resource.spec.removal.adopt_existing = true;
    let connection = connection(&resource, &secrets(ADMIN, PASSWORD, KEY));
    let (log, _guard) = json_log();
    let run = sync(&connection, &resource, &mut SyncMemory::default()).await;
    let (sent, confirmed) = (trail(&log, "sent"), trail(&log, "confirmed"));
    // Three assignments Teams makes (one a replacement) and one it refuses (Ken's, see the org).
    assert_eq!((run.execution.assigned, run.execution.failed), (3, 1));
    // And the voice routing policies of the two users whose numbers are assigned (London's for
    // Alan, the resource's for Grace; Ada's comes from a group as wanted), each sent and confirmed
    // on lines of their own.
    let policy_lines: Vec<Value> = ["sent", "confirmed"]
        .into_iter()
        .flat_map(|kind| lines_of(&log, kind))
        .filter(|line| line["fields"]["policy"] == "voiceRoutingPolicy")
        .collect();
    assert_eq!(run.execution.policies_assigned, 2);
    assert_eq!(policy_lines.len(), 4, "{}", text(&log));
    for line in &policy_lines {
        assert_eq!(field(line, "action"), "assign_policy", "{line}");
        assert_eq!(field(line, "reason"), "policy_differs", "{line}");
        assert!(!field(line, "teams_user_id").is_empty(), "{line}");
    }
    let verdicts: Vec<&str> = policy_lines.iter().map(|line| field(line, "verdict")).collect();
    assert_eq!(verdicts, ["", "", "succeeded", "succeeded"]);
    assert_eq!((sent.len(), confirmed.len()), (4, 4), "{}", text(&log));
    let (sent, confirmed) = (by_change(&sent), by_change(&confirmed));
    assert_eq!(
        sent.keys().collect::<Vec<_>>(),
        confirmed.keys().collect::<Vec<_>>(),
        "each change sent has its verdict"
    );
    for ((number, action), lines) in &confirmed {
        assert_eq!(lines.len(), 1, "one verdict for {action} {number}");
        let line = lines[0];
        assert_eq!(line["span"]["resource"], RESOURCE, "{line}");
        assert_eq!(action, "assign");
        for name in ["user", "email", "teams_user_id", "reason", "verdict"] {
            assert!(!field(line, name).is_empty(), "{name} in {line}");
        }
        let outcome = run
            .plan
            .outcomes
            .iter()
            .find(|o| o.phone_number.as_deref() == Some(number.as_str()))
            .unwrap_or_else(|| panic!("a user for {number}"));
        assert_eq!(Some(field(line, "email")), outcome.email.as_deref());
        assert_eq!(
            Some(field(line, "teams_user_id")),
            outcome.teams_user_id.as_deref()
        );
        let sent = sent[&(number.clone(), action.clone())][0];
        assert_eq!(field(sent, "user"), field(line, "user"));
        assert_eq!(field(sent, "reason"), field(line, "reason"));
        assert!(
            field(sent, "operation").contains("operations"),
            "the sent line names Teams' operation: {sent}"
        );
        // Teams' operation ends in an error for Ken (see the org): a refusal, in Teams' words.
        let expected = if outcome.reason == Reason::UnknownError {
            "refused"
        } else {
            "succeeded"
        };
        assert_eq!(field(line, "verdict"), expected, "{line}");
    }
    let grace = confirmed[&("+14155550104".to_owned(), "assign".to_owned())][0];
    assert_eq!(
        (field(grace, "reason"), field(grace, "replaced")),
        ("drift_corrected", "+14155550199"),
        "the replacement names the number it takes off Grace"
    );
    let katherine = confirmed[&("+14155550103".to_owned(), "assign".to_owned())][0];
    assert_eq!(
        (field(katherine, "reason"), field(katherine, "replaced")),
        ("new_user", "")
    );
    let refused = confirmed[&("+14155550119".to_owned(), "assign".to_owned())][0];
    assert!(
        field(refused, "detail").contains("0x80004005"),
        "Teams' words for the refusal: {refused}"
    );
    let everything = text(&log);
    for secret in [PASSWORD, KEY] {
        assert!(!everything.contains(secret), "a credential in the log");
    }
}

#[tokio::test]
async fn a_departed_users_unassignment_logs_its_reason() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (log, _guard) = json_log();
    let (sandbox, mut resource) = example_sandbox().await;
    resource.spec.removal.grace_period = "0s".into();
    let connection = connection(&resource, &secrets(ADMIN, PASSWORD, KEY));
    let mut memory = SyncMemory::default();
    sync(&connection, &resource, &mut memory).await;
    // Katherine's number, assigned by the first sync, activates; then she leaves Dialpad.
    tokio::time::sleep(Duration::from_millis(400)).await;
    sandbox.with_world(|world| {
        let katherine = world
            .dialpad
            .users
            .iter_mut()
            .find(|user| user.id == "5835806903417903")
            .unwrap();
        katherine.state = "deleted".into();
    });
    // Only the second sync's lines.
    log.lock().unwrap().clear();
    let run = sync(&connection, &resource, &mut memory).await;
    assert_eq!(run.execution.unassigned, 1, "{}", text(&log));
    let unassigned: Vec<Value> = trail(&log, "confirmed")
        .into_iter()
        .filter(|line| line["fields"]["action"] == "unassign")
        .collect();
    assert_eq!(unassigned.len(), 1, "{}", text(&log));
    let line = &unassigned[0];
    assert_eq!(
        (
            field(line, "number"),
            field(line, "reason"),
            field(line, "verdict"),
            field(line, "email"),
        ),
        (
            "+14155550103",
            "departed_after_grace",
            "succeeded",
            "katherine.johnson@contoso.com"
        ),
        "{line}"
    );
    assert!(field(line, "user").starts_with("departed:"), "{line}");
    assert!(!field(line, "teams_user_id").is_empty(), "{line}");
    assert_eq!(line["span"]["resource"], RESOURCE);
}
