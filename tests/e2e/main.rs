//! End-to-end tests on a real cluster: the CRD is applied, the operator runs against fresh
//! namespaces and the sandbox's simulated upstreams, and the tests assert on what `kubectl
//! get/describe` would show (status, conditions, finalizer, Events, the Lease).
//!
//! - [`in_process`]: the controller loop in this process (`run_until`, as `run` calls it);
//! - [`boundary`]: what a user who may only write TeamsTenantSyncs can make the operator do: no
//!   Secret read back through the status, no credential sent to an endpoint nobody allowed;
//! - [`binary`]: the `dialpad-teams-operator run` binary as a child process under a ServiceAccount
//!   holding exactly the RBAC the chart renders (its watchNamespaces mode; the namespace-deletion
//!   scenarios also its cluster-wide mode);
//! - [`change_events`]: a new hire and a number changed in Dialpad reach the status and Teams within seconds through
//!   change-log events; deleting the resource deletes what the operator made in Dialpad;
//! - [`chart`]: the chart's rendered manifests, dry-run applied, and its pod under the restricted
//!   Pod Security Standard;
//! - [`crash`]: `kill -9` of the binary mid-sync, and what a new process finishes;
//! - [`federation`]: certificate and workload identity sign-ins, with tokens the apiserver minted
//!   for the namespace's own ServiceAccount and the operator's, verified by the sandbox against the
//!   apiserver's own discovery document and keys; no namespace borrows another's identity;
//! - [`leader`]: two replicas of the binary with the chart's default arguments (leader election);
//! - [`offices`]: a resource with two offices: each user's number, emergency location and voice
//!   routing policy, and a deletion that takes back only what the resource assigned;
//! - [`scale`]: fifty resources in five namespaces;
//! - [`secrets`]: the operator's memory beside 3,000 unrelated Secrets, and a referenced Secret
//!   created after its resource.
//! - [`users_report`]: the users report at more users than the status lists, read with the
//!   `kubectl-teamssync` plugin; an unchanged sync writes none of it.
//!
//! They run only when `E2E_KUBECONFIG` names a kubeconfig of a disposable cluster (kind, k3d, the
//! apiserver of `../shared/k8s/up.sh`) with cluster-admin rights; otherwise every test prints why
//! and passes, except in CI (`CI` set), where a missing cluster fails the suite. Each test creates
//! its own namespaces `dto-e2e-<random>` (labelled `dto-e2e=true`) and deletes them at the end, also
//! when an assertion fails. The CRD is left installed, and so is the ClusterRoleBinding
//! `dto-e2e-public-issuer-discovery` that lets anyone read the service account issuer's keys. Operator logs go to `target/tmp/e2e-logs/`.

mod binary;
mod boundary;
mod change_events;
mod chart;
#[path = "../common/mod.rs"]
mod common;
mod crash;
mod federation;
mod harness;
mod in_process;
mod leader;
mod offices;
mod ownership;
mod scale;
mod secrets;
mod users_report;
