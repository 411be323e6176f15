//! The Secrets the operator holds, with the binary under the chart's RBAC: thousands of unrelated
//! Secrets in a watched namespace barely move its memory (it holds the data of the referenced
//! ones only), and a referenced Secret created after its resource re-syncs it within seconds.

use std::time::{Duration, Instant};

use dialpad_teams_sandbox::generator::Case;
use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};

use crate::binary::expect_syncs;
use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

/// Unrelated Secrets created beside the resource.
const UNRELATED: usize = 3_000;
/// The size of each one's value, random so that nothing compresses.
const SECRET_BYTES: usize = 8 * 1024;
/// Creations in flight at once.
const CONCURRENCY: usize = 32;
/// How much the operator's RSS may grow with them: their data alone is 23 MiB.
const MAX_GROWTH: u64 = 16 * 1024 * 1024;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Creates [`UNRELATED`] Opaque Secrets of [`SECRET_BYTES`] random bytes, [`CONCURRENCY`] at a time.
async fn create_unrelated_secrets(env: &Env) {
    let api = env.secrets();
    let created = futures::stream::iter(0..UNRELATED)
        .map(|i| {
            let api = api.clone();
            async move {
                let value: Vec<u8> = (0..SECRET_BYTES).map(|_| rand::random::<u8>()).collect();
                let secret = Secret {
                    metadata: ObjectMeta {
                        name: Some(format!("unrelated-{i:05}")),
                        ..Default::default()
                    },
                    type_: Some("Opaque".into()),
                    data: Some([("value".to_owned(), ByteString(value))].into()),
                    ..Default::default()
                };
                api.create(&PostParams::default(), &secret)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create Secret unrelated-{i:05}: {e}"));
            }
        })
        .buffer_unordered(CONCURRENCY)
        .count()
        .await;
    assert_eq!(created, UNRELATED);
}

/// The binary under the chart's RBAC, ready, and the resource `contoso` applied, pointed at `base`.
async fn operator_syncing_contoso(env: &Env, names: &[String], base: &str) -> OperatorProcess {
    let kubeconfig = operator_identity(env, names, None).await;
    let mut operator = OperatorProcess::start_for(env, &kubeconfig, names, &[]);
    operator.wait_ready().await;
    env.apply(&resource(env, "contoso", base, "Retain"))
        .await
        .expect("the resource is accepted");
    operator
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_unrelated_secrets_grow_the_operator_by_less_than_sixteen_mebibytes() {
    with_namespaces("secret-memory", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(4, 41, vec![(Case::InSync, 4)], &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let mut operator = operator_syncing_contoso(&env, &names, sandbox.base_url()).await;
        let name = "contoso";
        env.wait_first_status(name, 4).await;
        expect_syncs(&mut operator, &env, name, 1, "the first sync").await;
        let before = operator.rss_bytes();

        let started = Instant::now();
        create_unrelated_secrets(&env).await;
        let creating = started.elapsed();
        // A watch delivers events in order: once a change made after the last creation has
        // re-synced the resource, the operator has seen every one of them.
        env.rotate("teams-admin", "marker", &secret_value()).await;
        expect_syncs(&mut operator, &env, name, 2, "a change after the unrelated Secrets").await;
        let after = operator.rss_bytes();

        let growth = after.saturating_sub(before);
        eprintln!(
            "secret-memory: RSS {:.1} MiB before, {:.1} MiB after {UNRELATED} unrelated Secrets of {} KiB (created in {creating:.1?}): growth {:.1} MiB",
            mib(before),
            mib(after),
            SECRET_BYTES / 1024,
            mib(growth)
        );
        assert!(
            growth < MAX_GROWTH,
            "the operator's RSS grew by {:.1} MiB with {UNRELATED} unrelated Secrets (limit {:.0} MiB)",
            mib(growth),
            mib(MAX_GROWTH)
        );
        operator.assert_running();
        let (_, exit) = operator.terminate().await;
        assert!(exit.success(), "exit status after SIGTERM: {exit}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_created_after_its_resource_re_syncs_it_within_seconds() {
    with_namespaces("secret-created-later", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(4, 43, vec![(Case::InSync, 4)], &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        let admin = dialpad_teams_sandbox::generator::ADMIN_UPN;
        env.put_secret("teams-admin", &[("username", admin), ("password", &password)])
            .await;
        let mut operator = operator_syncing_contoso(&env, &names, sandbox.base_url()).await;
        let name = "contoso";
        let missing = env
            .wait(name, "SourceConnected=False (SecretInvalid)", |r| {
                r.is_some_and(|r| condition(r, "SourceConnected") == ("False".into(), "SecretInvalid".into()))
            })
            .await
            .expect("exists");
        let message = missing
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "SourceConnected"))
            .map(|c| c.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains("Secret 'dialpad'"),
            "the missing Secret is named: {message}"
        );

        // The failed sync retries after 5 s at the earliest; the watch must be quicker.
        let created = Instant::now();
        env.put_secret("dialpad", &[("apiKey", &api_key)]).await;
        env.wait(name, "SourceConnected=True", |r| {
            r.is_some_and(|r| condition(r, "SourceConnected").0 == "True")
        })
        .await;
        let took = created.elapsed();
        eprintln!("secret-created-later: synced {took:?} after the Secret was created");
        assert!(
            took < Duration::from_millis(3_500),
            "the new Secret re-synced its resource only after {took:?}: the retry, not the watch, found it"
        );
        operator.assert_running();
        operator.terminate().await;
    })
    .await;
}
