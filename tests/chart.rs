//! The Helm chart agrees with the code without rendering it (CI renders, lints and validates it
//! with Helm's engine in `.ci/chart.py`): the CRD file its template reads is the generated one byte
//! for byte (tests/crd.rs checks the render), its appVersion is the crate's version, every value is
//! documented, its default log filter is the operator's, and every metric and label its dashboard
//! and alerts query is one the operator exports (none of them a label the Prometheus Operator sets
//! on its targets).

use std::collections::BTreeSet;

mod common;

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/dialpad-teams-operator");

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_charts_crd_is_the_generated_crd_byte_for_byte() {
    let name = "teamstenantsyncs.teamssync.io.yaml";
    let generated = read(&format!("{}/crds/{name}", env!("CARGO_MANIFEST_DIR")));
    assert!(
        read(&format!("{CHART}/files/crds/{name}")) == generated,
        "charts/dialpad-teams-operator/files/crds/{name} differs from crds/{name}; copy it over"
    );
}

#[test]
fn the_chart_has_no_crds_folder_that_helm_would_install_unowned() {
    // Helm installs a chart's crds/ before its templates and without the release's ownership, so
    // the CRD template (which upgrades it) would then fail to take it over.
    let folder = std::path::Path::new(CHART).join("crds");
    assert!(
        !folder.exists(),
        "{} exists; the CRD belongs in files/crds/ (templates/crds.yaml renders it)",
        folder.display()
    );
}

#[test]
fn the_charts_default_log_level_is_the_operators_default_filter() {
    let values: serde_json::Value = serde_yaml::from_str(&read(&format!("{CHART}/values.yaml"))).unwrap();
    assert_eq!(
        values["logLevel"],
        dialpad_teams_operator::telemetry::logging::DEFAULT_FILTER,
        "values.yaml's logLevel should be the filter the operator uses without RUST_LOG"
    );
}

#[test]
fn the_charts_app_version_is_the_crate_version() {
    let chart: serde_json::Value = serde_yaml::from_str(&read(&format!("{CHART}/Chart.yaml"))).unwrap();
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn every_value_in_values_yaml_has_a_comment() {
    let text = read(&format!("{CHART}/values.yaml"));
    let mut previous = "";
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let is_key = !trimmed.starts_with('#')
            && !trimmed.starts_with('-')
            && trimmed.split_once(':').is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if is_key {
            assert!(
                previous.starts_with('#'),
                "values.yaml line {}: `{}` has no comment above it",
                number + 1,
                trimmed
            );
        }
        if !trimmed.is_empty() {
            previous = trimmed;
        }
    }
}

/// Metric names in the operator's `/metrics`, from a fresh registry with one series recorded in
/// every family (a family without series is not printed).
fn exported() -> BTreeSet<String> {
    let metrics = common::metrics::every_family();
    let text = metrics.encode();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            names.insert(name.to_owned());
            match kind {
                "counter" => {
                    names.insert(format!("{name}_total"));
                }
                "histogram" => {
                    for suffix in ["bucket", "count", "sum"] {
                        names.insert(format!("{name}_{suffix}"));
                    }
                }
                _ => {}
            }
        }
    }
    names
}

/// Every `dialpad_teams_*` identifier in `text`.
fn queried(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("dialpad_teams_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_dashboard_and_the_alerts_query_only_metrics_the_operator_exports() {
    let exported = exported();
    for file in [
        "dashboards/dialpad-teams-operator.json",
        "templates/prometheusrule.yaml",
    ] {
        let used = queried(&read(&format!("{CHART}/{file}")));
        assert!(!used.is_empty(), "{file} queries no metric");
        let unknown: Vec<_> = used.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{file} queries metrics the operator does not export: {unknown:?} (exported: {exported:?})"
        );
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(&format!("{CHART}/dashboards/dialpad-teams-operator.json"))).unwrap();
    assert!(dashboard["panels"].as_array().is_some_and(|p| p.len() >= 6));
}

/// The label names `text` (PromQL in a dashboard or a rule file) groups, filters or names in a
/// legend by: `by (...)`, `on (...)`, `name=` / `name=~` / `name!=` inside braces, and
/// `{{name}}` / `$labels.name` in legends and annotations.
fn labels_used(text: &str) -> BTreeSet<String> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut used = BTreeSet::new();
    for keyword in ["by (", "on ("] {
        let parts: Vec<&str> = text.split(keyword).collect();
        for (before, part) in parts.iter().zip(parts.iter().skip(1)) {
            // `duration (p50, p95)` in a title is not `on (...)`.
            if before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let list = part.split(')').next().unwrap_or_default();
            used.extend(
                list.split(',')
                    .map(|l| l.trim().to_owned())
                    .filter(|l| !l.is_empty()),
            );
        }
    }
    for part in text.split("$labels.").skip(1) {
        used.insert(word(part));
    }
    for part in text.split("{{").skip(1) {
        let inner = part.trim_start();
        if inner.starts_with(|c: char| c.is_ascii_lowercase()) {
            used.insert(word(inner));
        }
    }
    for selector in text.split('{').skip(1) {
        let selector = selector.split('}').next().unwrap_or_default();
        for matcher in selector.split(',') {
            let name = word(matcher.trim());
            let rest = matcher.trim()[name.len()..].trim_start();
            if !name.is_empty() && ["=", "!=", "=~", "!~"].iter().any(|op| rest.starts_with(op)) {
                used.insert(name);
            }
        }
    }
    used
}

#[test]
fn the_dashboard_and_the_alerts_use_only_labels_the_operator_exports() {
    let exported = common::metrics::label_names(&common::metrics::every_family().encode());
    // `up` is Prometheus' own series of each target: the OperatorAbsent alert selects the
    // operator's by the target labels the Prometheus Operator gives it.
    let target = ["job", "namespace"];
    // The rules as Helm renders them (the template's own `{{ include }}` is not PromQL).
    let rendered = read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/chart/all-on.yaml"));
    let rule: serde_json::Value = serde_yaml::from_str(
        rendered
            .split("\n---")
            .find(|document| document.contains("\nkind: PrometheusRule\n"))
            .expect("tests/chart/all-on.yaml renders the PrometheusRule"),
    )
    .expect("the rendered PrometheusRule is YAML");
    let rules: String = rule["spec"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| group["rules"].as_array().into_iter().flatten())
        .flat_map(|rule| {
            let annotations = rule["annotations"]
                .as_object()
                .into_iter()
                .flat_map(|a| a.values());
            std::iter::once(&rule["expr"]).chain(annotations)
        })
        .filter_map(|text| text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let dashboard = read(&format!("{CHART}/dashboards/dialpad-teams-operator.json"));
    for (file, text) in [
        ("the dashboard", dashboard.as_str()),
        ("the rendered PrometheusRule", rules.as_str()),
    ] {
        let used = labels_used(text);
        assert!(used.contains("namespace"), "{file}: {used:?}");
        let unknown: Vec<&String> = used
            .iter()
            .filter(|label| !exported.contains(*label) && !target.contains(&label.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "{file} uses labels the operator does not export: {unknown:?} (exported: {exported:?})"
        );
    }
    for clash in ["service", "endpoint", "pod", "instance", "job", "container"] {
        assert!(
            !exported.contains(clash),
            "the operator exports `{clash}`, a label the Prometheus Operator sets on every target"
        );
    }
}
