//! Every Kubernetes API request the operator makes, in one place: the Helm chart's RBAC must grant
//! exactly these (a test renders the chart and compares both ways), so a new call without a rule,
//! or a rule no call needs, fails the build instead of a deployment.

/// Where a request goes, which decides the kind of grant it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantScope {
    /// The namespaces the operator watches (every namespace, or those of `--namespace`).
    Watched,
    /// The operator's own namespace (`--operator-namespace`).
    OwnNamespace,
}

/// One API request: `verb` on `resource` of `group` (`""` is the core group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    /// The API group.
    pub group: &'static str,
    /// The resource, or `resource/subresource`.
    pub resource: &'static str,
    /// The RBAC verb.
    pub verb: &'static str,
    /// Where it goes.
    pub scope: GrantScope,
    /// What in the code makes it.
    pub why: &'static str,
}

/// A request whose grant goes to `scope`.
const fn request(
    scope: GrantScope,
    group: &'static str,
    resource: &'static str,
    verb: &'static str,
    why: &'static str,
) -> ApiRequest {
    ApiRequest {
        group,
        resource,
        verb,
        scope,
        why,
    }
}

/// A request in each watched namespace.
const fn watched(
    group: &'static str,
    resource: &'static str,
    verb: &'static str,
    why: &'static str,
) -> ApiRequest {
    request(GrantScope::Watched, group, resource, verb, why)
}

/// A request in the operator's own namespace.
const fn own(
    group: &'static str,
    resource: &'static str,
    verb: &'static str,
    why: &'static str,
) -> ApiRequest {
    request(GrantScope::OwnNamespace, group, resource, verb, why)
}

const TTS: &str = "teamssync.io";
const LEASES: &str = "coordination.k8s.io";
const EVENTS: &str = "events.k8s.io";

/// Every request the operator makes.
pub const API_REQUESTS: &[ApiRequest] = &[
    watched(
        TTS,
        "teamstenantsyncs",
        "list",
        "the controller's watcher (initial list)",
    ),
    watched(TTS, "teamstenantsyncs", "watch", "the controller's watcher"),
    watched(
        TTS,
        "teamstenantsyncs",
        "patch",
        "the finalizer, added and removed by JSON patch",
    ),
    watched(
        TTS,
        "teamstenantsyncs",
        "get",
        "a refused resource reads the one that claimed its tenant",
    ),
    watched(
        TTS,
        "teamstenantsyncs/status",
        "patch",
        "the status, by server-side apply",
    ),
    watched("", "secrets", "list", "the Secret metadata watch (initial list)"),
    watched("", "secrets", "watch", "the Secret metadata watch"),
    watched(
        "",
        "secrets",
        "get",
        "a referenced Secret's data, once per resourceVersion",
    ),
    watched(
        "",
        "serviceaccounts/token",
        "create",
        "workload identity: a token minted for a ServiceAccount of the resource's namespace",
    ),
    watched(
        "",
        "configmaps",
        "list",
        "the users report's ConfigMaps, by resource label: their versions each sync, their content once after a restart",
    ),
    watched(
        "",
        "configmaps",
        "create",
        "a new shard of the users report (server-side apply)",
    ),
    watched(
        "",
        "configmaps",
        "patch",
        "a changed shard of the users report (server-side apply)",
    ),
    watched(
        "",
        "configmaps",
        "delete",
        "a shard of the users report no longer needed",
    ),
    watched(EVENTS, "events", "create", "a new Event"),
    watched(EVENTS, "events", "patch", "a repeated Event, counted as a series"),
    own(
        LEASES,
        "leases",
        "get",
        "the leader Lease and tenant claims are read",
    ),
    own(
        LEASES,
        "leases",
        "list",
        "a standby's watch of the leader Lease (initial list)",
    ),
    own(
        LEASES,
        "leases",
        "watch",
        "a standby's watch, to take over on release",
    ),
    own(
        LEASES,
        "leases",
        "create",
        "a missing leader Lease or tenant claim",
    ),
    own(
        LEASES,
        "leases",
        "patch",
        "locking, renewing and releasing the leader Lease",
    ),
    own(
        LEASES,
        "leases",
        "update",
        "a tenant claim taken over from a deleted resource, at the version read",
    ),
    own(LEASES, "leases", "delete", "a tenant claim released on delete"),
    own("", "configmaps", "list", "the ownership record, by owner label"),
    own(
        "",
        "configmaps",
        "create",
        "a new shard of the ownership record (server-side apply)",
    ),
    own(
        "",
        "configmaps",
        "patch",
        "the ownership record written, or marked as left",
    ),
    own(
        "",
        "configmaps",
        "delete",
        "the ownership record of a deleted resource",
    ),
    own(
        "",
        "secrets",
        "get",
        "a Dialpad company's change-event secret and endpoint ids, read when its feed starts",
    ),
    own(
        "",
        "secrets",
        "create",
        "a new change-event secret (server-side apply)",
    ),
    own(
        "",
        "secrets",
        "patch",
        "the change-event secret with the ids of what was made in Dialpad",
    ),
    own(
        "",
        "secrets",
        "delete",
        "the change-event secret, with the company's last resource",
    ),
    own(
        EVENTS,
        "events",
        "create",
        "an Event about a resource whose namespace is gone",
    ),
    own(EVENTS, "events", "patch", "such an Event repeated"),
];
