//! What a user who may only write TeamsTenantSyncs in their namespace can make the operator do, on
//! the real apiserver with the binary under the chart's RBAC: a `usernameKey` pointed at another
//! Secret's value never brings that value into the status (the message names the Secret and
//! key), and a resource naming an endpoint no platform admin allowed gets `EndpointNotAllowed`
//! while that endpoint receives not one request.

use dialpad_teams_sandbox::generator::Case;
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};

use crate::harness::cluster::with_namespaces;
use crate::harness::fixtures::*;
use crate::harness::process::OperatorProcess;
use crate::harness::rbac::operator_identity;
use crate::harness::*;

/// The (made-up) value of another Secret of the namespace the resource's writer may not read.
const DATABASE_PASSWORD: &str = "db-password-3c9f1e77a2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_writer_reads_no_secret_through_the_status_and_reaches_no_endpoint_nobody_allowed() {
    with_namespaces("boundary", 1, |env, names| async move {
        let (password, api_key) = (secret_value(), secret_value());
        let org = org(4, 41, vec![(Case::NeedsAssignment, 4)], &password, &api_key);
        let sandbox = env.start_sandbox(&org).await;
        // The same org on a port the operator was not started with.
        let elsewhere = Sandbox::start(&org.fixture, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        env.put_credentials(&password, &api_key).await;
        env.put_secret("database", &[("password", DATABASE_PASSWORD)])
            .await;
        let kubeconfig = operator_identity(&env, &names, None).await;
        let mut operator = OperatorProcess::start_for(&env, &kubeconfig, &names, &[]);
        operator.wait_ready().await;

        // The admin's "user name" taken from another Secret's key.
        let mut reflect = resource(&env, "reflect", sandbox.base_url(), "Retain");
        reflect.spec.mode = dialpad_teams_operator::api::SyncMode::DryRun;
        if let Some(admin) = reflect.spec.credentials.admin_account.as_mut() {
            admin.secret_ref.name = "database".into();
            admin.secret_ref.username_key = "password".into();
            admin.secret_ref.password_key = "password".into();
        }
        env.apply(&reflect).await.expect("the resource is accepted");
        let refused = env
            .wait("reflect", "AdminConnected=False", |r| {
                r.is_some_and(|r| observed(r) && condition(r, "AdminConnected").0 == "False")
            })
            .await
            .expect("the resource exists");
        let (reason, message) = reason_and_message(&refused, "AdminConnected");
        assert_eq!(reason, "AccountNameInvalid", "{message}");
        assert!(
            message.contains("Secret 'database' (key 'password')"),
            "names the Secret and key: {message}"
        );

        // Every endpoint at a server no platform admin allowed.
        env.apply(&resource(&env, "elsewhere", elsewhere.base_url(), "Retain"))
            .await
            .expect("the resource is accepted");
        let blocked = env
            .wait("elsewhere", "Ready=False (EndpointNotAllowed)", |r| {
                r.is_some_and(|r| condition(r, "Ready").1 == "EndpointNotAllowed")
            })
            .await
            .expect("the resource exists");
        let (reason, message) = reason_and_message(&blocked, "AdminConnected");
        assert_eq!(reason, "EndpointNotAllowed", "{message}");
        for field in ["login", "graph"] {
            let named = format!("spec.endpoints.{field} is {}", elsewhere.base_url());
            assert!(message.contains(&named), "{message}");
        }
        assert!(message.contains("--allowed-endpoint"), "{message}");
        assert_eq!(
            reason_and_message(&blocked, "SourceConnected").0,
            "EndpointNotAllowed"
        );
        env.wait_event("elsewhere", "Warning", "EndpointNotAllowed").await;
        let reached: u64 = elsewhere.counters().requests.values().sum();
        assert_eq!(reached, 0, "not one request reached the endpoint nobody allowed");

        let secrets = secrets_of(&sandbox, &[&password, &api_key, DATABASE_PASSWORD]);
        assert_no_secret_anywhere(&env, &[&operator], &secrets).await;
        operator.terminate().await;
    })
    .await;
}
