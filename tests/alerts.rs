//! The chart's alerts, checked by Prometheus' own `promtool`: the rules of the PrometheusRule in
//! `tests/chart/all-on.yaml` (the chart rendered with `ci/all-on-values.yaml`, kept equal to the
//! chart by `.ci/chart.py`) pass `promtool check rules`, and `tests/alerts/rules-test.yaml` fires
//! and silences each alert on series labelled as the Prometheus Operator labels them. Each alert
//! also links its own section of docs/troubleshooting.md.
//!
//! Without `promtool` on PATH the promtool tests print why and pass, except in CI (`CI` set),
//! where a missing promtool fails the suite (Debian package `prometheus`).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;

type TestResult = Result<(), Box<dyn Error>>;

const PROMTOOL: &str = "promtool";
const RUNBOOK_BASE: &str = "https://example.com/dialpad-teams-operator/docs/troubleshooting.md";

fn repository(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The `spec` (rule groups) of the rendered PrometheusRule.
fn rule_groups() -> Result<Value, Box<dyn Error>> {
    let rendered = std::fs::read_to_string(repository("tests/chart/all-on.yaml"))?;
    for document in serde_yaml::Deserializer::from_str(&rendered) {
        let object = Value::deserialize(document)?;
        if object["kind"] == "PrometheusRule" {
            return Ok(object["spec"].clone());
        }
    }
    Err("tests/chart/all-on.yaml has no PrometheusRule".into())
}

/// An alert rule's name and its `runbook_url`, if any.
struct Alert {
    name: String,
    runbook: Option<String>,
}

/// Every alert rule.
fn alerts() -> Result<Vec<Alert>, Box<dyn Error>> {
    let groups = rule_groups()?;
    let mut alerts = Vec::new();
    for group in groups["groups"].as_sequence().ok_or("no groups")? {
        for rule in group["rules"].as_sequence().ok_or("a group without rules")? {
            let name = rule["alert"].as_str().ok_or("a rule without alert")?.to_owned();
            let runbook = rule["annotations"]["runbook_url"].as_str().map(str::to_owned);
            alerts.push(Alert { name, runbook });
        }
    }
    Ok(alerts)
}

/// Whether promtool can run. Prints why the test is skipped when it cannot; fails in CI.
fn promtool_available() -> bool {
    let found = Command::new(PROMTOOL).arg("--version").output().is_ok();
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        found || !ci,
        "CI is set but {PROMTOOL} is not on PATH: install Debian's prometheus package (apt-get install -y prometheus)"
    );
    if !found {
        eprintln!("skipped: promtool not installed (apt-get install prometheus)");
    }
    found
}

/// A directory with the rules as `rules.yaml` and the unit tests beside them.
fn workspace(test: &str) -> Result<PathBuf, Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("dto-alerts-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("rules.yaml"), serde_yaml::to_string(&rule_groups()?)?)?;
    std::fs::copy(
        repository("tests/alerts/rules-test.yaml"),
        dir.join("rules-test.yaml"),
    )?;
    Ok(dir)
}

fn promtool(dir: &Path, args: &[&str]) -> TestResult {
    let output = Command::new(PROMTOOL).args(args).current_dir(dir).output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {}:\n{text}", args.join(" "));
    println!("{text}");
    Ok(())
}

#[test]
fn the_rendered_rules_pass_promtool_check() -> TestResult {
    if !promtool_available() {
        return Ok(());
    }
    let dir = workspace("check")?;
    promtool(&dir, &["check", "rules", "rules.yaml"])
}

#[test]
fn each_alert_fires_and_stays_silent_as_its_unit_tests_say() -> TestResult {
    if !promtool_available() {
        return Ok(());
    }
    let dir = workspace("test")?;
    promtool(&dir, &["test", "rules", "rules-test.yaml"])
}

#[test]
fn every_alert_has_a_unit_test_and_a_runbook_section() -> TestResult {
    let tests = std::fs::read_to_string(repository("tests/alerts/rules-test.yaml"))?;
    let troubleshooting = std::fs::read_to_string(repository("docs/troubleshooting.md"))?;
    let alerts = alerts()?;
    assert!(alerts.len() >= 7, "only {} alerts", alerts.len());
    for Alert { name, runbook } in alerts {
        assert!(
            tests.contains(&format!("alertname: {name}\n")),
            "{name} has no test in tests/alerts/rules-test.yaml"
        );
        assert!(
            troubleshooting.lines().any(|line| line == format!("### {name}")),
            "docs/troubleshooting.md has no section ### {name}"
        );
        assert_eq!(
            runbook.as_deref(),
            Some(format!("{RUNBOOK_BASE}#{}", name.to_lowercase()).as_str()),
            "{name}'s runbook_url"
        );
    }
    Ok(())
}
