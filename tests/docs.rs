//! The admin's manual agrees with the code: the generated tables of `docs/` (reasons, operator
//! flags) equal what the code produces, and every field path, metric, annotation, flag and
//! identifier the manual names exists.
//!
//! After changing a reason or a `run` or `plan` flag, regenerate the tables with
//! `UPDATE_DOCS=1 cargo test --test docs` and commit the changed files under `docs/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use dialpad_teams_operator::api::Reason;
use dialpad_teams_operator::api::TeamsTenantSync;
use dialpad_teams_operator::api::troubleshooting::{self, is_camel_case, replace_section, section};
use dialpad_teams_operator::cli::Cli;
use kube::CustomResourceExt;
use serde_json::Value;

mod common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const REGENERATE: &str = "UPDATE_DOCS=1 cargo test --test docs";

/// The manual's pages that these tests own (the GitOps page is kept elsewhere).
const PAGES: [&str; 2] = ["docs/manual.md", "docs/troubleshooting.md"];

const FLAGS_BEGIN: &str = "<!-- flags:begin -->";
const FLAGS_END: &str = "<!-- flags:end -->";
const PLAN_FLAGS_BEGIN: &str = "<!-- plan-flags:begin -->";
const PLAN_FLAGS_END: &str = "<!-- plan-flags:end -->";

/// Flags of other tools (kubectl, helm) that the manual's commands use.
const OTHER_TOOLS_FLAGS: [&str; 22] = [
    "--all",
    // kubectl create secret tls
    "--cert",
    "--create-namespace",
    "--field-selector",
    "--for",
    "--from-literal",
    // az ad app federated-credential create
    "--id",
    "--key",
    // cargo install (the kubectl plugin)
    "--locked",
    "--namespace",
    "--overwrite",
    "--parameters",
    "--path",
    // az aks show
    "--query",
    // kubectl get --raw
    "--raw",
    // helm upgrade
    "--reuse-values",
    "--root",
    // kube-apiserver's own flag, named when explaining the issuer
    "--service-account-issuer",
    "--set",
    "--timeout",
    "--type",
    // helm install of a chart from an OCI registry
    "--version",
];

fn path(page: &str) -> PathBuf {
    Path::new(ROOT).join(page)
}

fn read(page: &str) -> String {
    std::fs::read_to_string(path(page)).unwrap_or_else(|e| panic!("cannot read {page}: {e}"))
}

fn update_requested() -> bool {
    std::env::var("UPDATE_DOCS").is_ok_and(|value| value == "1")
}

/// Checks that the section of `page` between `begin` and `end` is `generated`; with
/// `UPDATE_DOCS=1`, writes it there instead.
fn check_generated(page: &str, begin: &str, end: &str, generated: &str) {
    let document = read(page);
    let Some(current) = section(&document, begin, end) else {
        panic!("{page} lacks the lines {begin} and {end} around its generated section");
    };
    if current == generated {
        return;
    }
    if update_requested() {
        let updated = replace_section(&document, begin, end, generated).expect("markers were found");
        // Other tests read the page meanwhile: write a copy, then rename it over the page.
        let temporary = path(&format!("{page}.tmp"));
        std::fs::write(&temporary, updated).unwrap_or_else(|e| panic!("cannot write {page}: {e}"));
        std::fs::rename(&temporary, path(page)).unwrap_or_else(|e| panic!("cannot write {page}: {e}"));
        return;
    }
    let first_difference = current
        .lines()
        .zip(generated.lines())
        .find(|(old, new)| old != new)
        .map(|(old, new)| format!("\n  in {page}: {old}\n  generated: {new}"))
        .unwrap_or_default();
    panic!(
        "the section of {page} between {begin} and {end} is stale{first_difference}\n\
         regenerate it with:\n  {REGENERATE}"
    );
}

#[test]
fn troubleshooting_table_matches_the_reasons() {
    check_generated(
        "docs/troubleshooting.md",
        troubleshooting::BEGIN_MARKER,
        troubleshooting::END_MARKER,
        &troubleshooting::troubleshooting_table(),
    );
}

#[test]
fn every_tenant_reason_is_placed_on_its_condition_in_troubleshooting() {
    let text = read("docs/troubleshooting.md");
    let start = text
        .find("Which tenant condition carries which reasons")
        .expect("docs/troubleshooting.md has the table of tenant conditions");
    let table: String = text[start..]
        .lines()
        .skip(1)
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    let missing: Vec<&str> = Reason::ALL
        .iter()
        .filter(|reason| reason.level() != dialpad_teams_operator::api::ReasonLevel::User)
        .map(|reason| reason.as_str())
        .filter(|name| !table.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/troubleshooting.md's table of tenant conditions does not place {missing:?} on a condition"
    );
}

/// The flags of `dialpad-teams-operator <subcommand>`, one row each, from the command line
/// definition.
fn flags_table(subcommand: &str) -> String {
    let cli = Cli::command();
    let command = cli
        .find_subcommand(subcommand)
        .unwrap_or_else(|| panic!("a {subcommand} subcommand"));
    let mut table = String::from("| Flag | Default | Environment | What it does |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.is_hide_set() || matches!(long, "help" | "version") {
            continue;
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|value| format!("`{}`", value.to_string_lossy()))
            .collect();
        let default = defaults.join(", ");
        let env = arg
            .get_env()
            .map(|name| format!("`{}`", name.to_string_lossy()))
            .unwrap_or_default();
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|help| help.to_string())
            .unwrap_or_default();
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|value| !value.is_hide_set())
            .map(|value| format!("`{}`", value.get_name()))
            .collect();
        let boolean = values.iter().all(|v| v == "`true`" || v == "`false`");
        let help = if boolean {
            help
        } else {
            format!("{help} (one of {})", values.join(", "))
        };
        let help = help
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('|', "\\|");
        table.push_str(&format!("| `--{long}` | {default} | {env} | {help} |\n"));
    }
    table
}

#[test]
fn operator_flags_table_matches_the_command_line() {
    check_generated("docs/manual.md", FLAGS_BEGIN, FLAGS_END, &flags_table("run"));
}

#[test]
fn plan_flags_table_matches_the_command_line() {
    check_generated(
        "docs/manual.md",
        PLAN_FLAGS_BEGIN,
        PLAN_FLAGS_END,
        &flags_table("plan"),
    );
}

/// The metric families `/metrics` exposes, as (name, type), with one sample of each so that the
/// encoder lists them all.
fn metric_families() -> Vec<(String, String)> {
    let metrics = common::metrics::every_family();
    metrics
        .encode()
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect()
}

/// Each page's text with fenced code blocks removed (inline code stays).
fn prose(text: &str) -> String {
    let mut inside = false;
    let mut kept = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if !inside {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// The contents of the inline code spans of `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Every `prefix`-started run of `allowed` characters in `text` that does not continue a word.
fn words_starting<'a>(text: &'a str, prefix: &str, allowed: impl Fn(char) -> bool) -> Vec<&'a str> {
    let mut found = Vec::new();
    for (start, _) in text.match_indices(prefix) {
        let continues_word = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if continues_word {
            continue;
        }
        let rest = &text[start..];
        let end = rest.find(|c: char| !allowed(c)).unwrap_or(rest.len());
        let word = rest[..end].trim_end_matches('.');
        if word.len() > prefix.len() {
            found.push(word);
        }
    }
    found
}

/// The JSON schema of the CRD's top level object.
fn crd_schema() -> Value {
    let crd = serde_json::to_value(TeamsTenantSync::crd()).expect("the CRD serializes");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn field_exists(schema: &Value, path: &str) -> bool {
    let mut node = schema;
    for segment in path.split('.') {
        while let Some(items) = node.get("items") {
            node = items;
        }
        match node.get("properties").and_then(|p| p.get(segment)) {
            Some(next) => node = next,
            None => return false,
        }
    }
    true
}

#[test]
fn manual_names_only_fields_the_crd_has() {
    let schema = crd_schema();
    let mut unknown = BTreeSet::new();
    for page in PAGES {
        let text = read(page);
        let is_path_char = |c: char| c.is_ascii_alphanumeric() || c == '.';
        for prefix in ["spec.", "status."] {
            for word in words_starting(&text, prefix, is_path_char) {
                if !field_exists(&schema, word) {
                    unknown.insert(format!("{page}: {word}"));
                }
            }
        }
        for word in words_starting(&text, "summary.", is_path_char) {
            if !field_exists(&schema, &format!("status.{word}")) {
                unknown.insert(format!("{page}: {word}"));
            }
        }
    }
    assert!(unknown.is_empty(), "fields the CRD does not have: {unknown:#?}");
}

#[test]
fn manual_names_only_metrics_the_operator_exports() {
    let families = metric_families();
    let known = |name: &str| {
        families.iter().any(|(base, kind)| {
            let suffixes: &[&str] = match kind.as_str() {
                "counter" => &["_total"],
                "histogram" => &["", "_bucket", "_sum", "_count"],
                _ => &[""],
            };
            suffixes.iter().any(|suffix| name == format!("{base}{suffix}"))
        })
    };
    assert!(known("dialpad_teams_reconciles_total"), "{families:?}");
    let mut unknown = BTreeSet::new();
    for page in PAGES {
        let text = read(page);
        for word in words_starting(&text, "dialpad_teams_", |c| c.is_ascii_alphanumeric() || c == '_') {
            if !known(word) {
                unknown.insert(format!("{page}: {word}"));
            }
        }
    }
    assert!(unknown.is_empty(), "metrics /metrics does not have: {unknown:#?}");
}

/// Every Rust source file's text under `src/`.
fn source_text() -> String {
    rust_text("src")
}

/// Every Rust source file's text under `dir` (relative to the repository).
fn rust_text(dir: &str) -> String {
    fn walk(dir: &Path, text: &mut String) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                walk(&entry, text);
            } else if entry.extension().is_some_and(|ext| ext == "rs") {
                text.push_str(&std::fs::read_to_string(&entry).unwrap_or_default());
            }
        }
    }
    let mut text = String::new();
    walk(&Path::new(ROOT).join(dir), &mut text);
    text
}

#[test]
fn manual_names_only_annotations_the_operator_uses() {
    let source = source_text();
    let mut unknown = BTreeSet::new();
    for page in PAGES {
        let text = read(page);
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-');
        for word in words_starting(&text, "teamssync.io/", allowed) {
            if !source.contains(&format!("\"{word}\"")) {
                unknown.insert(format!("{page}: {word}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "annotations the code does not use: {unknown:#?}"
    );
}

#[test]
fn manual_names_only_flags_that_exist() {
    let cli = Cli::command();
    let mut known: BTreeSet<String> = OTHER_TOOLS_FLAGS.iter().map(|f| (*f).to_owned()).collect();
    for command in cli.get_subcommands() {
        for arg in command.get_arguments() {
            known.extend(arg.get_long().map(|long| format!("--{long}")));
        }
    }
    let mut unknown = BTreeSet::new();
    for page in PAGES {
        let text = read(page);
        for word in words_starting(&text, "--", |c| c.is_ascii_alphanumeric() || c == '-') {
            let word = word.trim_end_matches('-');
            if word.len() > 2 && !known.contains(word) {
                unknown.insert(format!("{page}: {word}"));
            }
        }
    }
    assert!(unknown.is_empty(), "flags no command has: {unknown:#?}");
}

#[test]
fn manual_names_only_reasons_conditions_events_and_alerts_the_code_writes() {
    let source = source_text();
    let crd = read("crds/teamstenantsyncs.teamssync.io.yaml");
    let alerts = read("charts/dialpad-teams-operator/templates/prometheusrule.yaml");
    let mut unknown = BTreeSet::new();
    for page in PAGES {
        let text = prose(&read(page));
        for span in code_spans(&text) {
            if !is_camel_case(span) {
                continue;
            }
            let known = Reason::parse(span).is_some()
                || source.contains(&format!("\"{span}\""))
                || crd.contains(span)
                || alerts.contains(&format!("- alert: {span}\n"));
            if !known {
                unknown.insert(format!("{page}: {span}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "names that are neither a reason, a string the code writes nor an alert of the chart: {unknown:#?}"
    );
}

/// GitHub's anchor for a heading: lower case, spaces as `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

#[test]
fn links_reach_their_files_and_headings() {
    let mut broken = BTreeSet::new();
    for page in PAGES {
        let text = read(page);
        for (start, _) in text.match_indices("](") {
            let rest = &text[start + 2..];
            let target = &rest[..rest.find(')').unwrap_or(rest.len())];
            if target.contains("://") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            if !file.is_empty() && !Path::new(ROOT).join("docs").join(file).exists() {
                broken.insert(format!("{page}: {target} (no such file)"));
                continue;
            }
            let linked = if file.is_empty() {
                page.to_owned()
            } else {
                format!("docs/{file}")
            };
            if !PAGES.contains(&linked.as_str()) || fragment.is_empty() {
                continue;
            }
            if !anchors(&read(&linked)).contains(fragment) {
                broken.insert(format!("{page}: {target}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to files or headings that do not exist: {broken:#?}"
    );
}

#[test]
fn security_names_only_tests_and_test_files_that_exist() {
    let page = read("docs/security.md");
    let code = format!("{}{}", rust_text("src"), rust_text("tests"));
    let mut missing = BTreeSet::new();
    let mut named = 0;
    for span in code_spans(&page) {
        let is_test_name = span.matches('_').count() >= 3
            && span
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if is_test_name {
            named += 1;
            if !code.contains(&format!("fn {span}(")) {
                missing.insert(span.to_owned());
            }
        } else if span.ends_with(".rs") && !span.contains([' ', '<']) {
            let found = [span.to_owned(), format!("tests/{span}")]
                .iter()
                .any(|candidate| Path::new(ROOT).join(candidate).is_file());
            if !found {
                missing.insert(span.to_owned());
            }
        }
    }
    assert!(
        named >= 20,
        "docs/security.md names the test behind each promise ({named} found)"
    );
    assert!(
        missing.is_empty(),
        "docs/security.md names tests or files that do not exist: {missing:?}"
    );
}
