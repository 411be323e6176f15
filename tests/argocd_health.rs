//! The Argo CD health check `charts/dialpad-teams-operator/argocd/health.lua`, run by a real Lua 5.1
//! interpreter (`lua5.1`; Argo CD embeds Lua 5.1) on TeamsTenantSync resources whose statuses the
//! operator's own code builds: `build_status` for finished syncs, `progress_status` for running
//! ones, `held_status` for a suspended one. The other states (a refused resource, a spec change
//! not yet observed, no status at all) are built by hand, with the same public condition helpers
//! the operator uses.
//!
//! The script runs as Argo CD runs it: `obj` is a global, and only the base, table and package
//! libraries are open (no `string`, `math`, `io` or `os`, no string methods; Argo CD's safe `os`
//! is left out too), so a script that leans on anything else fails here before it fails in Argo CD.
//!
//! Without `lua5.1` on PATH every test prints why and passes, except in CI (`CI` set), where a
//! missing interpreter fails the suite: CI must run these tests, not skip them (Debian package
//! `lua5.1`).

use std::error::Error;
use std::io::Write;
use std::process::{Command, Stdio};

use dialpad_teams_operator::api::conditions::{
    ConditionUpdate, READY, RECONCILING, STALLED, find_condition, set_condition,
};
use dialpad_teams_operator::api::{Reason, TeamsTenantSyncStatus};
use dialpad_teams_operator::commands::examples::DEMO_RESOURCE;
use dialpad_teams_operator::commands::parse_resource;
use dialpad_teams_operator::controller::status::{SUSPENDED_MESSAGE, held_status, progress_status};
use dialpad_teams_operator::sync::model::{TenantChecks, UserOutcome};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

mod common;
use common::statuses::{report, user};

type TestResult = Result<(), Box<dyn Error>>;

const LUA: &str = "lua5.1";
const HEALTH_LUA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/charts/dialpad-teams-operator/argocd/health.lua"
);

fn now() -> Time {
    Time(Timestamp::now())
}

/// A healthy finished sync of `generation`.
fn synced(generation: i64) -> TeamsTenantSyncStatus {
    report(&[user("1", Reason::InSync)], &TenantChecks::ok(), generation)
}

/// The demo TeamsTenantSync at `generation`, as JSON, the way Argo CD sees the live object.
fn resource(
    generation: i64,
    suspend: bool,
    status: Option<TeamsTenantSyncStatus>,
) -> Result<Value, Box<dyn Error>> {
    let mut resource = parse_resource(DEMO_RESOURCE, "demo")?;
    resource.metadata.generation = Some(generation);
    resource.spec.suspend = suspend;
    resource.status = status;
    Ok(serde_json::to_value(&resource)?)
}

/// The condition of `type_`, which the operator is expected to have written.
fn condition<'a>(status: &'a TeamsTenantSyncStatus, type_: &str) -> Result<&'a Condition, String> {
    find_condition(&status.conditions, type_).ok_or_else(|| format!("no {type_} condition in {status:?}"))
}

/// Whether `lua5.1` can run. Prints why the test is skipped when it cannot; fails in CI.
fn lua_available() -> bool {
    let found = Command::new(LUA).arg("-v").output().is_ok();
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        found || !ci,
        "CI is set but {LUA} is not on PATH: install Debian's lua5.1 package (apt-get install -y lua5.1)"
    );
    if !found {
        eprintln!("skipped: lua5.1 not installed (apt-get install lua5.1)");
    }
    found
}

/// Runs health.lua on `resource`; `None` when `lua5.1` is missing outside CI.
fn assess(resource: &Value) -> Result<Option<(String, String)>, Box<dyn Error>> {
    if !lua_available() {
        return Ok(None);
    }
    let mut child = Command::new(LUA)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(driver(resource).as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(format!("{LUA} failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8(output.stdout)?;
    let (status, message) = stdout.split_once('\n').ok_or("no newline after the status")?;
    Ok(Some((status.to_owned(), message.to_owned())))
}

/// The Lua program that hands `resource` to health.lua the way Argo CD does and prints
/// `status`, a newline, then `message`.
fn driver(resource: &Value) -> String {
    format!(
        r#"local obj = {obj}
local check = assert(loadfile({path}))
-- Argo CD opens the base, table and package libraries (and a safe os): hide everything else.
local env = {{}}
for name, value in pairs(_G) do env[name] = value end
for _, name in ipairs({{ "string", "math", "io", "os", "debug", "coroutine" }}) do env[name] = nil end
env._G = env
env.obj = obj
local write = io.write
getmetatable("").__index = nil
setfenv(check, env)
local hs = check()
assert(type(hs) == "table", "health.lua returned no table")
assert(type(hs.status) == "string" and type(hs.message) == "string", "status and message must be strings")
write(hs.status, "\n", hs.message)
"#,
        obj = lua_literal(resource),
        path = lua_string(HEALTH_LUA),
    )
}

/// `value` as a Lua table constructor expression (JSON arrays become 1-based sequences).
fn lua_literal(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_owned(),
        Value::Bool(b) => b.to_string(),
        // JSON numbers are valid Lua numerals.
        Value::Number(n) => n.to_string(),
        Value::String(s) => lua_string(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(lua_literal).collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(key, value)| format!("[{}]={}", lua_string(key), lua_literal(value)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

/// A Lua 5.1 string literal: printable ASCII as is, every other byte (and `"`, `\`) as a decimal
/// escape, so that any UTF-8 text arrives byte for byte.
fn lua_string(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for byte in text.bytes() {
        match byte {
            b'"' | b'\\' => {
                literal.push('\\');
                literal.push(char::from(byte));
            }
            b' '..=b'~' => literal.push(char::from(byte)),
            _ => literal.push_str(&format!("\\{byte:03}")),
        }
    }
    literal.push('"');
    literal
}

/// Asserts that health.lua maps `resource` to `status` with `message`.
fn assert_health(resource: &Value, status: &str, message: &str) -> TestResult {
    let Some((actual_status, actual_message)) = assess(resource)? else {
        return Ok(());
    };
    assert_eq!(
        (actual_status.as_str(), actual_message.as_str()),
        (status, message)
    );
    Ok(())
}

#[test]
fn every_user_in_sync_is_healthy_with_the_ready_message() -> TestResult {
    let outcomes = [user("1", Reason::InSync), user("2", Reason::InSync)];
    let status = report(&outcomes, &TenantChecks::ok(), 3);
    let ready = condition(&status, READY)?;
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "Synced"));
    assert_health(
        &resource(3, false, Some(status.clone()))?,
        "Healthy",
        &ready.message,
    )
}

#[test]
fn users_that_cannot_be_synced_are_degraded_with_the_ready_message() -> TestResult {
    let outcomes = [
        user("1", Reason::InSync),
        user("2", Reason::CallingPlanAssigned),
        user("3", Reason::TeamsUserNotFound),
    ];
    let status = report(&outcomes, &TenantChecks::ok(), 2);
    let ready = condition(&status, READY)?;
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "UsersNotInSync")
    );
    assert!(condition(&status, STALLED).is_ok(), "a person must act");
    assert_health(
        &resource(2, false, Some(status.clone()))?,
        "Degraded",
        &ready.message,
    )
}

#[test]
fn assignments_teams_is_still_activating_are_progressing() -> TestResult {
    let outcomes = [user("1", Reason::InSync), user("2", Reason::AssignmentPending)];
    let status = report(&outcomes, &TenantChecks::ok(), 1);
    let ready = condition(&status, READY)?;
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Synced"),
        "an activation in time is progress, not a failure"
    );
    let reconciling = condition(&status, RECONCILING)?;
    assert_health(
        &resource(1, false, Some(status.clone()))?,
        "Progressing",
        &reconciling.message,
    )
}

#[test]
fn a_rejected_sign_in_is_degraded_with_the_ready_message() -> TestResult {
    let checks = TenantChecks {
        connected: Err((
            Reason::CredentialsInvalid,
            "AADSTS50126: the password in Secret teams-admin was rejected".to_owned(),
        )),
        authorized: Ok(()),
    };
    let outcomes = [user("1", Reason::AdminNotConnected)];
    let status = report(&outcomes, &checks, 4);
    let ready = condition(&status, READY)?;
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "CredentialsInvalid")
    );
    assert_health(
        &resource(4, false, Some(status.clone()))?,
        "Degraded",
        &ready.message,
    )
}

#[test]
fn a_dry_run_that_would_change_users_is_healthy_with_what_it_would_do() -> TestResult {
    // Starting in DryRun is what the manual recommends: a dry run is as healthy as its plan,
    // and Ready (reason DryRun) says how many changes wait for spec.mode Enforce.
    let outcomes = [user("1", Reason::InSync), user("2", Reason::DryRun)];
    let status = report(&outcomes, &TenantChecks::ok(), 1);
    let ready = condition(&status, READY)?;
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "DryRun"));
    assert!(condition(&status, RECONCILING).is_err() && condition(&status, STALLED).is_err());
    assert_health(
        &resource(1, false, Some(status.clone()))?,
        "Healthy",
        &ready.message,
    )
}

#[test]
fn a_few_users_that_cannot_be_synced_in_a_large_tenant_are_healthy() -> TestResult {
    // 3 of 100 failing is within the default spec.readiness.maxFailedUsers (5%).
    let outcomes: Vec<UserOutcome> = (0..100)
        .map(|i| {
            let reason = if i < 3 {
                Reason::PhoneSystemLicenseMissing
            } else {
                Reason::InSync
            };
            user(&i.to_string(), reason)
        })
        .collect();
    let status = report(&outcomes, &TenantChecks::ok(), 1);
    let ready = condition(&status, READY)?;
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "Synced"));
    assert_health(
        &resource(1, false, Some(status.clone()))?,
        "Healthy",
        &ready.message,
    )
}

#[test]
fn a_first_sync_still_running_is_progressing_with_how_far_it_is() -> TestResult {
    let message = "sync running for 95s: applied 413 of 10000 planned changes";
    let status = progress_status(None, Some(1), message);
    assert_eq!(
        status.observed_generation, None,
        "a first sync has observed nothing yet"
    );
    assert_health(&resource(1, false, Some(status))?, "Progressing", message)
}

#[test]
fn a_sync_of_a_changed_spec_still_running_is_progressing_with_how_far_it_is() -> TestResult {
    let message = "sync running for 31s: reading the source and Teams, planning";
    let status = progress_status(Some(&synced(1)), Some(2), message);
    assert_health(&resource(2, false, Some(status))?, "Progressing", message)
}

#[test]
fn a_spec_change_the_operator_has_not_seen_is_progressing() -> TestResult {
    assert_health(
        &resource(2, false, Some(synced(1)))?,
        "Progressing",
        "waiting for the operator to observe generation 2",
    )
}

#[test]
fn a_new_resource_without_a_status_is_progressing() -> TestResult {
    assert_health(
        &resource(1, false, None)?,
        "Progressing",
        "waiting for the operator to observe generation 1",
    )
}

#[test]
fn a_status_without_a_ready_condition_is_progressing() -> TestResult {
    let status = TeamsTenantSyncStatus {
        observed_generation: Some(1),
        ..Default::default()
    };
    assert_health(
        &resource(1, false, Some(status))?,
        "Progressing",
        "no Ready condition yet",
    )
}

#[test]
fn a_suspended_resource_is_suspended_with_the_operators_message() -> TestResult {
    // As the controller writes it: Ready=True (Suspended), no Stalled.
    let status = held_status(Some(2), Some(&synced(2)), Reason::Suspended, SUSPENDED_MESSAGE);
    assert_eq!(condition(&status, READY)?.status, "True");
    assert_health(&resource(2, true, Some(status))?, "Suspended", SUSPENDED_MESSAGE)
}

#[test]
fn suspending_is_shown_before_the_operator_has_seen_it() -> TestResult {
    assert_health(
        &resource(2, true, Some(synced(1)))?,
        "Suspended",
        "spec.suspend is true: nothing is synced until it is set to false",
    )
}

#[test]
fn a_duplicate_of_another_resources_tenant_is_degraded() -> TestResult {
    // As the controller's held_status writes it (private): Ready=False and Stalled=True, both
    // DuplicateTenant, for the current generation.
    let message = "TeamsTenantSync telephony/first already syncs Microsoft tenant 9b5e2f1c, so this \
                   resource changes nothing";
    let mut status = synced(1);
    for update in [
        ConditionUpdate::holding(STALLED, Reason::DuplicateTenant, message),
        ConditionUpdate::new(READY, Reason::DuplicateTenant, message),
    ] {
        set_condition(&mut status.conditions, update.with_generation(Some(1)), &now());
    }
    assert_health(&resource(1, false, Some(status))?, "Degraded", message)
}

#[test]
fn messages_reach_lua_byte_for_byte() -> TestResult {
    let message = "quote \" backslash \\ tab\t newline\n café ✓ ]] [[";
    let mut status = synced(1);
    set_condition(
        &mut status.conditions,
        ConditionUpdate::new(READY, Reason::Synced, message).with_generation(Some(1)),
        &now(),
    );
    assert_health(&resource(1, false, Some(status))?, "Healthy", message)
}
