//! The sandbox: a stateful simulation of the parts of Dialpad, the Microsoft identity platform
//! and Microsoft Graph that the operator uses, served over real HTTP on one listener under the
//! upstreams' own path prefixes (`/api/v2/...` Dialpad, `/v1.0/...` Graph,
//! `/{tenant}/oauth2/v2.0/token` sign-in), so pointing a client at it only changes a base URL.
//!
//! It follows `docs/` and the vendors' own documents in `vendor/` (its licences are built from
//! Microsoft's licensing table there, its roles from Entra's built-in roles reference), and shares
//! no code or table with the operator. Where those say UNCONFIRMED,
//! the sandbox picks the most plausible behaviour:
//! - Dialpad: `state` defaults to `active` when omitted; a page without `limit` holds 100 users;
//!   `limit` over 100 returns 100 users and answers 400 on one call in five (seeded); 429 carries a
//!   whole-second `Retry-After`; errors use the Google Endpoints body
//!   `{"error": {"code", "message", "errors": [...]}}`; ids are JSON strings and timestamps have no
//!   zone unless the fixture says otherwise.
//! - Teams numbers: `assignNumber`/`unassignNumber` validate the request synchronously (400) and
//!   apply tenant rules when the operation completes: unknown user, disabled user, no Phone System
//!   and a number held by someone else make the operation `failed` with a PowerShell-style
//!   `statusDetail`; a new primary number replaces the user's old one; Direct Routing numbers need
//!   no upload before assignment; unassigned numbers stay listed as `unassigned`; the listing pages
//!   with `$top`/`$skip` only (no `@odata.nextLink`); the operation is a plain entity (no `value`
//!   wrapper).
//! - Graph: delegated tokens need a Teams admin role, held directly or through a role-assignable
//!   group, for `/admin/teams/...` (403 `Authorization_RequestDenied` otherwise); `/me/memberOf`
//!   lists direct memberships only and `/me/transitiveMemberOf` also the group-granted roles (its
//!   OData cast needs `ConsistencyLevel: eventual` and `$count=true`, as documented); app-only tokens need the matching application
//!   permission in their `roles` claim; `/me` with an app-only token answers 400.
//! - Teams policies (`graph::policies`, `world::policies`): names and types compare ignoring
//!   case; `getPolicyId` answers 404 for an unknown name and 400 for a type outside
//!   `behaviour.acceptedPolicyTypes`; `assign`/`unassign` take at most
//!   `behaviour.policyAssignmentBatchLimit` entries, are applied whole or not at all and answer
//!   204; effective assignments leave out types whose effective policy is Global; group
//!   assignments apply at once; `assignNumber` with a `locationId` the tenant does not have
//!   fails its operation.
//! - Dialpad events (`events`): websockets, change-log subscriptions and the WebSocket they
//!   deliver to; its module docs list its own choices.
//! - `users/delta` (`graph::users::delta`, `world::directory`): a page holds 100 users or
//!   removals; a garbled state token answers 400 `syncStateNotFound` like an expired one, a token
//!   from another run of the sandbox 410 `resyncRequired` with a `Location`; properties never set
//!   are left out; a deleted user is restorable (`"reason": "changed"`) and its numbers are
//!   released.
//! - Tokens look like JWTs (header.payload.signature) whose payload carries `tid`, `oid`, `upn`,
//!   `scp` or `roles` and `exp`, as Entra's do; the signature is random and not verifiable.

pub mod dialpad;
pub mod directory_admin;
pub mod directory_roles;
pub mod entra;
pub mod errors;
pub mod events;
pub mod fixture;
pub mod fixture_check;
pub mod fixture_teams;
pub mod generator;
pub mod graph;
pub mod licensing;
pub mod server;
pub mod traffic;
pub mod world;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;

pub use fixture::OrgFixture;
pub use server::{PolicyAssignmentView, Sandbox, SandboxError, SandboxOptions};
pub use traffic::{Counters, Endpoint};

/// Everything a handler can reach.
pub struct SandboxState {
    /// The simulated organisation.
    pub world: Mutex<world::World>,
    /// Request and response counts.
    pub counters: Mutex<Counters>,
    /// Fault rules and their progress.
    pub faults: Mutex<traffic::FaultInjector>,
    /// Rate limiters.
    pub limits: traffic::RateLimits,
    /// The base URL clients use to reach this sandbox (for `@odata.nextLink`, `Location` and
    /// discovery documents), without a trailing slash.
    pub public_url: String,
    /// External OIDC issuers' keys (workload identity federation), cached.
    pub oidc_keys: entra::OidcKeys,
    /// The `jti`s of accepted certificate assertions, until they expire.
    pub seen_assertions: entra::SeenAssertions,
    /// Dialpad's websockets, change-log subscriptions and open event connections.
    pub events: events::Hub,
}

impl SandboxState {
    /// State for `fixture`, reachable at `public_url`.
    pub fn new(fixture: &OrgFixture, public_url: String) -> Self {
        let behaviour = &fixture.behaviour;
        Self {
            world: Mutex::new(world::World::from_fixture(fixture, Instant::now())),
            counters: Mutex::new(Counters::default()),
            faults: Mutex::new(traffic::FaultInjector::new(behaviour.faults.clone())),
            limits: traffic::RateLimits::new(
                behaviour.graph_requests_per_second,
                behaviour.dialpad_requests_per_second,
            ),
            public_url: public_url.trim_end_matches('/').to_owned(),
            oidc_keys: entra::OidcKeys::default(),
            seen_assertions: entra::SeenAssertions::default(),
            events: events::Hub::default(),
        }
    }

    /// Locks the world and completes every operation that is due, so callers see current state.
    pub fn world(&self) -> std::sync::MutexGuard<'_, world::World> {
        let mut world = self.world.lock().expect("world lock");
        world.complete_due_operations(Instant::now());
        world
    }

    fn count_request(&self, endpoint: Endpoint, method: &str, now: Instant) {
        let mut counters = self.counters.lock().expect("counters lock");
        *counters
            .requests
            .entry(format!("{} {method}", endpoint.name()))
            .or_default() += 1;
        counters.record_arrival(endpoint.upstream(), now);
    }

    fn count_response(&self, endpoint: Endpoint, status: u16) {
        let mut counters = self.counters.lock().expect("counters lock");
        *counters
            .responses
            .entry(format!("{} {status}", endpoint.name()))
            .or_default() += 1;
    }
}

/// The whole router: every upstream, the introspection routes, and the traffic middleware.
/// `$batch` builds one too, to dispatch its inner requests through the same handlers.
pub fn router(state: Arc<SandboxState>) -> Router {
    Router::new()
        .merge(entra::routes())
        .merge(graph::routes())
        .merge(dialpad::routes())
        .merge(events::routes())
        .merge(server::introspection_routes())
        .merge(directory_admin::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            traffic::traffic,
        ))
        .with_state(state)
}
