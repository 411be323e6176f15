//! One watched scope (all namespaces, or one namespace): a kube-runtime Controller over its
//! TeamsTenantSyncs, fed by a metadata-only watch of its Secrets that both keeps the Secret cache
//! current (see [`super::secret_cache`]) and re-syncs exactly the resources that reference a
//! changed Secret. TeamsTenantSyncs the operator cannot read are reported on their own status
//! instead (see [`super::unreadable`]).

use std::future::Future;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use kube::api::DynamicObject;
use kube::runtime::controller::Error as ControllerRunError;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};

use super::context::{Context, OperatorSettings};
use super::error::ReconcileError;
use super::ready::store_ready;
use super::reconcile;
use super::secret_cache::{ListedSecret, SecretCache, in_use, strip};
use super::secrets::referenced_secrets;
use super::unreadable;
use crate::api::TeamsTenantSync;
use crate::connect::ConnectOptions;
use crate::telemetry::Metrics;

/// Secret types no resource can use, left out of the watch: Helm keeps a release in a
/// `helm.sh/release.v1` Secret, and every upgrade would wake the watch for nothing.
pub const UNCACHED_SECRET_TYPES: &[&str] = &["helm.sh/release.v1"];

/// A running scope.
pub struct WatchedScope {
    /// What it watches, for logs.
    pub name: String,
    /// The scope's TeamsTenantSync cache.
    pub resources: Store<TeamsTenantSync>,
    /// The scope's listed Secrets (names and versions only).
    pub secrets: Store<ListedSecret>,
    /// Runs the controller until `stop` resolves and the reconciles in flight finish.
    pub run: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl WatchedScope {
    /// Resolves once both caches hold a complete list (the first list succeeded).
    pub async fn synced(resources: Store<TeamsTenantSync>, secrets: Store<ListedSecret>) {
        store_ready(&resources).await;
        store_ready(&secrets).await;
    }
}

/// What every scope of the process shares.
#[derive(Clone)]
pub struct ScopeShared {
    /// This replica's name in the Events it publishes.
    pub instance: Option<String>,
    /// Operator-wide settings.
    pub settings: OperatorSettings,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
    /// The change event feeds, one per Dialpad company whichever scopes use it.
    pub events: Arc<crate::events::EventHub>,
}

/// Builds the controller of `namespace` (`None`: every namespace). Nothing runs until
/// [`Scope::run`] is polled.
pub fn scope(
    client: Client,
    namespace: Option<String>,
    connect: ConnectOptions,
    shared: ScopeShared,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> WatchedScope {
    let ScopeShared {
        instance,
        settings,
        metrics,
        events: hub,
    } = shared;
    // TeamsTenantSyncs are watched untyped and read one by one (see `unreadable`): one resource the
    // operator's types cannot read must not make the whole scope's list fail.
    // An `Api` of `PartialObjectMeta` lists and watches metadata only.
    let (resources_api, secrets_api): (Api<DynamicObject>, Api<ListedSecret>) = match &namespace {
        Some(ns) => (
            Api::namespaced_with(client.clone(), ns, &unreadable::resource()),
            Api::namespaced(client.clone(), ns),
        ),
        None => (
            Api::all_with(client.clone(), &unreadable::resource()),
            Api::all(client.clone()),
        ),
    };
    let name = namespace.map_or_else(|| "all namespaces".to_owned(), |ns| format!("namespace {ns}"));
    let secret_filter = UNCACHED_SECRET_TYPES
        .iter()
        .map(|t| format!("type!={t}"))
        .collect::<Vec<_>>()
        .join(",");
    let (secrets, writer) = reflector::store::<ListedSecret>();
    let cache = SecretCache::new(secrets.clone());
    let observer = cache.clone();
    let secret_events = reflector::reflector(
        writer,
        watcher(secrets_api, watcher::Config::default().fields(&secret_filter))
            .default_backoff()
            .modify(strip)
            .inspect_ok(move |event| observer.observe(event)),
    )
    .touched_objects();
    let (reports, reported) = tokio::sync::mpsc::unbounded_channel();
    let readable_events =
        watcher(resources_api, watcher::Config::default().any_semantic()).try_filter_map(move |event| {
            let (typed, unreadable) = unreadable::read_event(event);
            if let Some(unreadable) = unreadable {
                // The reporter outlives the watch; a send fails only while shutting down.
                let _ = reports.send(unreadable);
            }
            std::future::ready(Ok(typed))
        });
    let (resources, resource_writer) = reflector::store::<TeamsTenantSync>();
    // Once the store has taken in a change of resources, the data of Secrets none uses goes.
    let (in_store, pruned) = (resources.clone(), cache.clone());
    let resource_events = reflector::reflector(resource_writer, readable_events)
        .inspect_ok(move |_| pruned.retain(&in_use(&in_store.state())));
    let controller = Controller::for_stream(resource_events.applied_objects(), resources.clone());
    let mut ctx = Context::new(client, connect, instance, cache, metrics);
    ctx.settings = settings;
    // Resources a change event wakes are queued for a reconcile like any other trigger.
    let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel();
    ctx.events = Some(super::change_events::ChangeEvents { hub, wake });
    let woken = futures::stream::poll_fn(move |cx| woken.poll_recv(cx));
    let ctx = Arc::new(ctx);
    let report_unreadable = unreadable::report(ctx.clone(), reported);
    let mapper_store = resources.clone();
    let scope_name = name.clone();
    let run = controller
        .watches_stream(secret_events, move |secret: ListedSecret| {
            let namespace = secret.namespace();
            let secret_name = secret.name_any();
            mapper_store
                .state()
                .into_iter()
                .filter(|tts| tts.namespace() == namespace)
                .filter(|tts| referenced_secrets(&tts.spec).contains(&secret_name))
                .map(|tts| ObjectRef::from_obj(&*tts))
                .collect::<Vec<_>>()
        })
        .reconcile_on(woken)
        .graceful_shutdown_on(stop)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(move |result| {
            log_outcome(&scope_name, result);
            std::future::ready(())
        });
    // The reporter ends when the controller drops its watch, at shutdown.
    let run = futures::future::join(run, report_unreadable);
    WatchedScope {
        name,
        resources,
        secrets,
        run: Box::pin(async move {
            run.await;
        }),
    }
}

type RunResult = Result<
    (ObjectRef<TeamsTenantSync>, kube::runtime::controller::Action),
    ControllerRunError<ReconcileError, watcher::Error>,
>;

/// Watch failures are the admin's business (a missing RBAC rule shows here first); reconcile
/// failures were logged by the error policy already.
fn log_outcome(scope: &str, result: RunResult) {
    match result {
        Ok((object, _)) => tracing::debug!(resource = %object, "reconciled"),
        Err(ControllerRunError::QueueError(error)) => {
            let hint = forbidden_hint(&error);
            tracing::error!(%scope, %error, "cannot watch{hint}");
        }
        Err(ControllerRunError::ReconcilerFailed(..)) => {}
        Err(error) => tracing::debug!(%scope, %error, "controller"),
    }
}

fn forbidden_hint(error: &watcher::Error) -> &'static str {
    let status = match error {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    };
    if status == Some(403) {
        ": the operator's ServiceAccount lacks a permission (grant the RBAC of the Helm chart, or of deploy/dialpad-teams-operator.yaml)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            message: "secrets is forbidden: User \"system:serviceaccount:ops:operator\" cannot list resource \"secrets\"".into(),
            reason: "Forbidden".into(),
            ..Default::default()
        }))
    }

    #[test]
    fn a_forbidden_watch_names_the_missing_rbac_rule() {
        let hint = forbidden_hint(&watcher::Error::InitialListFailed(api_error(403)));
        assert!(
            hint.contains("lacks a permission") && hint.contains("deploy/dialpad-teams-operator.yaml"),
            "{hint}"
        );
        assert_eq!(forbidden_hint(&watcher::Error::WatchFailed(api_error(500))), "");
    }
}
