//! The users report at more users than `.status.users` lists: the binary under the chart's RBAC
//! keeps it in owned ConfigMaps beside the resource, each far below the 1 MiB object limit; the
//! same binary run as `kubectl-teamssync` (a symlink, as an admin installs it) lists every user,
//! filters by reason and prints CSV; a second sync with nothing changed writes no report
//! ConfigMap (every resourceVersion unchanged, no byte counted); and without the ConfigMap grant
//! the sync still completes, its status and a Warning saying why the report is missing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use dialpad_teams_sandbox::generator::Case;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ListParams;
use kube::{Api, ResourceExt};

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

/// Runs `kubectl-teamssync <args>` (a symlink to the binary) with `kubeconfig`.
fn plugin(link: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(link)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("the plugin runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "the plugin failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

/// The report's ConfigMaps of `uid`, by name with their resourceVersions.
async fn report_maps(env: &Env, uid: &str) -> Vec<ConfigMap> {
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.namespace);
    let selector = format!("teamssync.io/users-report-of={uid}");
    maps.list(&ListParams::default().labels(&selector))
        .await
        .expect("the ConfigMaps can be listed")
        .items
}

fn versions(maps: &[ConfigMap]) -> BTreeMap<String, String> {
    maps.iter()
        .map(|m| (m.name_any(), m.resource_version().unwrap_or_default()))
        .collect()
}

/// `dialpad_teams_users_report_bytes_written_total` of the resource, from the operator's metrics.
fn bytes_written(metrics: &str, namespace: &str) -> Option<u64> {
    metrics
        .lines()
        .find(|line| {
            line.starts_with("dialpad_teams_users_report_bytes_written_total{")
                && line.contains(&format!("namespace=\"{namespace}\""))
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_is_in_the_report_the_plugin_reads_and_an_unchanged_sync_writes_none_of_it() {
    with_namespaces("users-report", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let mix = vec![
            (Case::InSync, 100),
            (Case::TeamsUserNotFound, 60),
            (Case::PhoneSystemLicenseMissing, 40),
        ];
        let org = org(200, 25, mix, &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;
        let name = "contoso";
        env.apply(&resource(&env, name, sandbox.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        env.wait_first_status(name, 200).await;
        let first = env
            .wait(name, "status.usersReport listing every user", |r| {
                r.and_then(|r| r.status.as_ref()?.users_report.as_ref())
                    .is_some_and(|report| report.users == 200 && report.message.is_none())
            })
            .await
            .expect("exists");
        let uid = first.uid().expect("a uid");
        let report = status(&first).users_report.clone().expect("a report");
        let failed = status(&first).summary.as_ref().map_or(0, |s| s.failed);
        assert!(
            status(&first).users.len() < failed as usize,
            "more users fail ({failed}) than the status lists: {}",
            describe(&first)
        );

        let maps = report_maps(&env, &uid).await;
        assert_eq!(maps.len(), report.config_maps as usize);
        for map in &maps {
            let owner = &map.owner_references()[0];
            assert_eq!((owner.uid.as_str(), owner.controller), (uid.as_str(), Some(true)));
            let bytes: usize = map.binary_data.iter().flatten().map(|(_, v)| v.0.len()).sum();
            assert!(
                bytes > 0 && bytes < 1024 * 1024,
                "{} holds {bytes} bytes",
                map.name_any()
            );
        }

        let dir = TempDir::new();
        let link = dir.plugin_link();
        let admin = env.kubeconfig.clone();
        let namespace = env.namespace.as_str();
        let all = stdout(&plugin(
            &link,
            &admin,
            &["users", name, "-n", namespace, "-o", "json"],
        ));
        let all: Vec<serde_json::Value> = serde_json::from_str(&all).expect("a JSON array");
        assert_eq!(all.len(), 200, "every Dialpad user");
        let found = |reason: &str| all.iter().filter(|u| u["reason"] == reason).count();
        let filtered = stdout(&plugin(
            &link,
            &admin,
            &[
                "users",
                name,
                "-n",
                namespace,
                "--reason",
                "TeamsUserNotFound",
                "-o",
                "json",
            ],
        ));
        let filtered: Vec<serde_json::Value> = serde_json::from_str(&filtered).expect("JSON");
        assert_eq!(filtered.len(), found("TeamsUserNotFound"));
        assert!(
            filtered.len() >= 50,
            "{} users not found in Teams",
            filtered.len()
        );
        let csv = stdout(&plugin(
            &link,
            &admin,
            &["users", name, "-n", namespace, "-o", "csv"],
        ));
        assert!(csv.starts_with("email,phoneNumber,"), "{csv}");
        assert_eq!(csv.lines().count(), 201, "a header and a line per user");
        let missing = plugin(&link, &admin, &["users", "nobody", "-n", namespace]);
        assert_eq!(missing.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

        let before = versions(&maps);
        let written = bytes_written(&operator.metrics().await, namespace);
        assert!(written.is_some_and(|b| b > 0), "{written:?}");
        let value = env.sync_now(name).await;
        env.wait_handled(name, &value).await;
        assert_eq!(
            versions(&report_maps(&env, &uid).await),
            before,
            "no shard was written again"
        );
        assert_eq!(bytes_written(&operator.metrics().await, namespace), written);
        env.check_operator("the second sync");
        let secrets = secrets_of(&sandbox, &[&password, &api_key]);
        assert_no_secret_anywhere(&env, &[&operator], &secrets).await;
        drop(sandbox);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_configmap_grant_the_sync_completes_and_says_why_the_report_is_missing() {
    with_namespaces("users-report-forbidden", 2, |env, names| async move {
        // The resource lives in a watched namespace that is not the operator's own, whose Role
        // keeps its ConfigMap grants for the ownership record.
        let tenant = env.in_namespace(&names[1]);
        let (password, api_key) = (secret_value(), secret_value());
        let mix = vec![(Case::InSync, 8), (Case::TeamsUserNotFound, 4)];
        let org = org(12, 31, mix, &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        tenant.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, Some(("configmaps", "create"))).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;
        let name = "contoso";
        tenant
            .apply(&resource(&tenant, name, sandbox.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        let synced = tenant
            .wait(
                name,
                "a completed sync whose status says the report is missing",
                |r| {
                    r.and_then(|r| r.status.as_ref()).is_some_and(|s| {
                        s.summary.as_ref().is_some_and(|summary| summary.desired == 12)
                            && s.users_report
                                .as_ref()
                                .and_then(|report| report.message.as_deref())
                                .is_some_and(|message| message.contains("forbidden"))
                    })
                },
            )
            .await
            .expect("exists");
        let event = tenant.wait_event(name, "Warning", "UsersReportNotWritten").await;
        let note = event.note.unwrap_or_default();
        assert!(note.contains("next sync tries again"), "{note}");
        let dir = TempDir::new();
        let link = dir.plugin_link();
        let missing = plugin(&link, &env.kubeconfig, &["users", name, "-n", &names[1]]);
        assert_eq!(missing.status.code(), Some(1));
        let said = String::from_utf8_lossy(&missing.stderr).into_owned();
        assert!(
            said.contains("has no users report yet") && said.contains("forbidden"),
            "{said}"
        );
        assert!(status(&synced).summary.is_some(), "{}", describe(&synced));
        drop(sandbox);
    })
    .await;
}

/// A temporary directory for the plugin's symlink, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("dto-plugin-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    /// The symlink `kubectl-teamssync` to the binary, as an admin installs the plugin.
    fn plugin_link(&self) -> std::path::PathBuf {
        let link = self.0.join("kubectl-teamssync");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dialpad-teams-operator"), &link)
            .expect("the symlink is made");
        link
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
