//! Change events on the real apiserver, run by the binary under the chart's RBAC: with
//! `changeEvents.enabled` and a one-hour `syncInterval`, a new hire in Dialpad (the sandbox) shows
//! in the resource's status, a changed number in Teams, and a licence removed in Microsoft 365 in
//! the status, within seconds, so only change events (and `users/delta`) can explain it; the
//! `ChangeEvents` condition says `ChangeEventsConnected`; the generated signing secret lives in a
//! Secret of the operator's namespace and nowhere else; deleting the resource deletes the
//! WebSocket endpoint, the subscription and that Secret.

use std::time::{Duration, Instant};

use dialpad_teams_operator::api::ChangeEventsSpec;
use dialpad_teams_sandbox::Endpoint;
use dialpad_teams_sandbox::generator::Case;
use kube::ResourceExt;
use serde_json::{Value, json};

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::{condition, status};

async fn sandbox_admin(base: &str, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("the sandbox answers");
    let code = answer.status();
    let text = answer.text().await.unwrap_or_default();
    assert!(code.is_success(), "{path}: {code} {text}");
    serde_json::from_str(&text).expect("JSON")
}

async fn sandbox_websockets(base: &str) -> Value {
    reqwest::get(format!("{base}/_sandbox/websockets"))
        .await
        .expect("the sandbox answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_in_dialpad_shows_in_the_status_and_teams_within_seconds() {
    with_namespaces("events", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(4, 27, vec![(Case::NeedsAssignment, 1)], &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        env.put_credentials(&password, &api_key).await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator =
            OperatorProcess::start_for(&env, &kubeconfig, &names, &["--teams-delta-interval", "5s"]);
        operator.wait_ready().await;
        let name = "contoso";
        let mut resource = resource(&env, name, sandbox.base_url(), "Unassign");
        resource.spec.sync_interval = "1h".into();
        resource.spec.full_sync_interval = Some("1h".into());
        resource
            .spec
            .source
            .dialpad
            .as_mut()
            .expect("Dialpad")
            .change_events = Some(ChangeEventsSpec { enabled: true });
        env.apply(&resource).await.expect("the resource is accepted");
        let connected = env
            .wait(name, "in sync with change events connected", |r| {
                r.is_some_and(|r| {
                    r.status
                        .as_ref()
                        .and_then(|s| s.summary.as_ref())
                        .is_some_and(|s| s.in_sync == 4)
                        && condition(r, "ChangeEvents").1 == "ChangeEventsConnected"
                })
            })
            .await
            .expect("exists");
        let syncs_before = operator.syncs_of(&env.namespace, name).await;
        let full_reads_before = sandbox.counters().requests_to(Endpoint::DialpadUsers, "GET");

        // A new hire in Dialpad whom Teams does not know yet: the status lists them at once.
        let hire = "new.hire@contoso.com";
        let changed_at = Instant::now();
        sandbox_admin(
            sandbox.base_url(),
            "/_sandbox/dialpad/changes",
            json!({"change": "addUser", "email": hire, "number": "+14155550198"}),
        )
        .await;
        let listed = env
            .wait(name, "the new hire in the status", |r| {
                r.and_then(|r| r.status.as_ref()).is_some_and(|s| {
                    s.summary.as_ref().is_some_and(|s| s.desired == 5)
                        && s.users.iter().any(|u| {
                            u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(hire))
                                && u.conditions.iter().any(|c| c.reason == "TeamsUserNotFound")
                        })
                })
            })
            .await
            .expect("exists");
        let latency = changed_at.elapsed();
        println!("a new hire in Dialpad reached the status in {latency:?}");
        assert!(
            latency < Duration::from_secs(30),
            "{latency:?}: only an event explains it before the hour"
        );
        assert!(operator.syncs_of(&env.namespace, name).await > syncs_before);
        assert_eq!(status(&listed).summary.as_ref().map(|s| s.in_sync), Some(4));

        // A number changed in Dialpad: Teams holds the new one within seconds.
        let email = org.fixture.dialpad.users[0].emails[0].clone();
        let changed_at = Instant::now();
        sandbox_admin(
            sandbox.base_url(),
            "/_sandbox/dialpad/changes",
            json!({"change": "changeNumber", "email": email, "number": "+14155550199"}),
        )
        .await;
        let holds_new = || {
            sandbox.assignments().iter().any(|a| {
                a.telephone_number.ends_with("4155550199")
                    && a.user_principal_name
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(&email))
            })
        };
        while !holds_new() {
            assert!(
                changed_at.elapsed() < Duration::from_secs(30),
                "Teams does not hold the new number: {:?}",
                sandbox.assignments()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "a number changed in Dialpad was assigned in Teams in {:?}",
            changed_at.elapsed()
        );
        let _ = connected;

        // A licence removed in Microsoft 365: users/delta sees it within a round.
        let unlicensed = org.fixture.dialpad.users[1].emails[0].clone();
        let changed_at = Instant::now();
        sandbox_admin(
            sandbox.base_url(),
            "/_sandbox/directory/changes",
            json!({"change": "removeLicence", "userPrincipalName": unlicensed}),
        )
        .await;
        env.wait(name, "the unlicensed user in the status", |r| {
            r.and_then(|r| r.status.as_ref()).is_some_and(|s| {
                s.users.iter().any(|u| {
                    u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&unlicensed))
                        && u.conditions
                            .iter()
                            .any(|c| c.reason == "PhoneSystemLicenseMissing")
                })
            })
        })
        .await
        .expect("exists");
        let latency = changed_at.elapsed();
        println!("a licence removed in Microsoft 365 reached the status in {latency:?}");
        assert!(latency < Duration::from_secs(30), "{latency:?}");
        // Each change was re-synced alone: the users it named were read, never the company.
        let counters = sandbox.counters();
        assert_eq!(
            counters.requests_to(Endpoint::DialpadUsers, "GET"),
            full_reads_before,
            "no full read of Dialpad's users for the three changes"
        );
        assert!(
            counters.requests_to(Endpoint::DialpadUser, "GET") >= 2,
            "{counters:?}"
        );

        let secrets = env.client.clone();
        let operator_secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
            kube::Api::namespaced(secrets, &env.namespace);
        let kept: Vec<_> = operator_secrets
            .list(&Default::default())
            .await
            .expect("listing Secrets")
            .items
            .into_iter()
            .filter(|s| s.name_any().starts_with("dialpad-events-"))
            .collect();
        assert_eq!(kept.len(), 1, "one Secret for the company");
        let signing = kept[0]
            .data
            .as_ref()
            .and_then(|d| d.get("secret"))
            .map(|v| String::from_utf8(v.0.clone()).expect("text"))
            .expect("the signing secret");
        let made = sandbox_websockets(sandbox.base_url()).await;
        assert_eq!(made["subscriptions"].as_array().map(Vec::len), Some(1), "{made}");

        env.delete_and_wait_gone(name).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = sandbox_websockets(sandbox.base_url()).await;
            let gone = operator_secrets
                .list(&Default::default())
                .await
                .expect("listing Secrets")
                .items
                .iter()
                .all(|s| !s.name_any().starts_with("dialpad-events-"));
            let empty = |key: &str| left[key].as_array().is_none_or(Vec::is_empty);
            if gone && empty("websockets") && empty("subscriptions") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "left behind: {left}, Secret gone: {gone}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        env.check_operator("after the deletion");
        let secrets = secrets_of(&sandbox, &[&password, &api_key, &signing]);
        assert_no_secret_anywhere(&env, &[&operator], &secrets).await;
        drop(sandbox);
    })
    .await;
}
