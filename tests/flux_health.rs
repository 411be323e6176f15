//! The Flux health expressions `docs/gitops.md` gives (`healthCheckExprs`), evaluated as Flux
//! evaluates them (CEL, in the order `inProgress`, `failed`, `current`, with the object's fields
//! as variables) on statuses the operator's own code builds, so that the documented mapping and
//! the operator's conditions cannot drift apart.

use std::error::Error;

use dialpad_teams_operator::api::{Reason, TeamsTenantSyncStatus};
use dialpad_teams_operator::controller::status::{SUSPENDED_MESSAGE, held_status, progress_status};
use dialpad_teams_operator::sync::model::{TenantChecks, UserOutcome};

mod common;
use common::statuses::user;

type TestResult = Result<(), Box<dyn Error>>;

/// What Flux makes of a status.
#[derive(Debug, PartialEq, Eq)]
enum Health {
    InProgress,
    Failed,
    Current,
    /// No expression matched: Flux keeps waiting.
    Undecided,
}

/// The three expressions, read from the `healthCheckExprs` example in docs/gitops.md.
struct FluxExpressions {
    in_progress: String,
    failed: String,
    current: String,
}

impl FluxExpressions {
    fn from_docs() -> Result<Self, Box<dyn Error>> {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/gitops.md"))?;
        let expression = |key: &str| -> Result<String, Box<dyn Error>> {
            let prefix = format!("{key}: \"");
            let line = docs
                .lines()
                .map(str::trim)
                .find(|line| line.starts_with(&prefix))
                .ok_or_else(|| format!("docs/gitops.md has no `{key}:` expression"))?;
            Ok(line[prefix.len()..].trim_end_matches('"').to_owned())
        };
        Ok(Self {
            in_progress: expression("inProgress")?,
            failed: expression("failed")?,
            current: expression("current")?,
        })
    }

    fn health(&self, status: &TeamsTenantSyncStatus) -> Result<Health, Box<dyn Error>> {
        let mut context = cel::Context::default();
        context.add_variable("status", serde_json::to_value(status)?)?;
        let holds = |expression: &str| -> Result<bool, Box<dyn Error>> {
            let program = cel::Program::compile(expression).map_err(|e| format!("{expression}: {e}"))?;
            match program
                .execute(&context)
                .map_err(|e| format!("{expression}: {e}"))?
            {
                cel::Value::Bool(value) => Ok(value),
                other => Err(format!("{expression} gave {other:?}, not a bool").into()),
            }
        };
        Ok(if holds(&self.in_progress)? {
            Health::InProgress
        } else if holds(&self.failed)? {
            Health::Failed
        } else if holds(&self.current)? {
            Health::Current
        } else {
            Health::Undecided
        })
    }
}

/// 100 users: the first `count` with `reason`, the rest in sync.
fn users(count: usize, reason: Reason) -> Vec<UserOutcome> {
    (0..100)
        .map(|id| user(&id.to_string(), if id < count { reason } else { Reason::InSync }))
        .collect()
}

fn report(outcomes: &[UserOutcome], checks: &TenantChecks) -> TeamsTenantSyncStatus {
    common::statuses::report(outcomes, checks, 1)
}

#[test]
fn the_documented_expressions_read_each_state_as_the_gitops_table_says() -> TestResult {
    let flux = FluxExpressions::from_docs()?;
    let ok = TenantChecks::ok();
    let signed_out = TenantChecks {
        connected: Err((Reason::CredentialsInvalid, "AADSTS50126".into())),
        authorized: Ok(()),
    };
    let cases = [
        (
            "every user in sync",
            report(&users(0, Reason::InSync), &ok),
            Health::Current,
        ),
        (
            "3 of 100 failing, within 5%",
            report(&users(3, Reason::PhoneSystemLicenseMissing), &ok),
            Health::Current,
        ),
        (
            "6 of 100 failing, past 5%",
            report(&users(6, Reason::PhoneSystemLicenseMissing), &ok),
            Health::Failed,
        ),
        (
            "Teams activating",
            report(&users(4, Reason::AssignmentPending), &ok),
            Health::InProgress,
        ),
        (
            "a dry run",
            report(&users(10, Reason::DryRun), &ok),
            Health::Current,
        ),
        ("sign-in refused", report(&[], &signed_out), Health::Failed),
        (
            "suspended",
            held_status(
                Some(1),
                Some(&report(&users(0, Reason::InSync), &ok)),
                Reason::Suspended,
                SUSPENDED_MESSAGE,
            ),
            Health::Current,
        ),
        (
            "the first sync running",
            progress_status(None, Some(1), "the first sync is running"),
            Health::InProgress,
        ),
    ];
    for (state, status, expected) in cases {
        assert_eq!(flux.health(&status)?, expected, "{state}");
    }
    Ok(())
}
