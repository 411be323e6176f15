//! What happens to every request before its handler: it is named, counted, rate limited and
//! perhaps hit by an injected fault (latency, 5xx, 429 burst, dropped connection, malformed body).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;

use super::SandboxState;
use super::errors::{dialpad_error, dialpad_throttled, graph_error, graph_throttled, request_id};
use super::fixture::FaultFixture;

/// Every simulated endpoint, by the name used in fault rules and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Endpoint {
    /// `POST /{tenant}/oauth2/v2.0/token`.
    #[serde(rename = "entra.token")]
    EntraToken,
    /// OpenID discovery, instance discovery and user realm look-ups.
    #[serde(rename = "entra.metadata")]
    EntraMetadata,
    /// `GET /v1.0/users`.
    #[serde(rename = "graph.users")]
    GraphUsers,
    /// `GET /v1.0/users/delta` (and its other spellings).
    #[serde(rename = "graph.usersDelta")]
    GraphUsersDelta,
    /// `GET /v1.0/me`.
    #[serde(rename = "graph.me")]
    GraphMe,
    /// `GET /v1.0/me/memberOf/...` and `GET /v1.0/me/transitiveMemberOf/...` (direct and
    /// transitive memberships: one endpoint for counters and faults).
    #[serde(rename = "graph.memberOf")]
    GraphMemberOf,
    /// `POST /v1.0/$batch`.
    #[serde(rename = "graph.batch")]
    GraphBatch,
    /// `GET .../numberAssignments`.
    #[serde(rename = "graph.numberAssignments")]
    GraphNumberAssignments,
    /// `POST .../assignNumber`.
    #[serde(rename = "graph.assignNumber")]
    GraphAssignNumber,
    /// `POST .../unassignNumber`.
    #[serde(rename = "graph.unassignNumber")]
    GraphUnassignNumber,
    /// `GET .../operations/{id}`.
    #[serde(rename = "graph.operations")]
    GraphOperations,
    /// `GET .../userConfigurations/{id}`.
    #[serde(rename = "graph.userConfigurations")]
    GraphUserConfigurations,
    /// `GET /v1.0/admin/teams/userConfigurations` (the list).
    #[serde(rename = "graph.userConfigurationList")]
    GraphUserConfigurationList,
    /// `GET /v1.0/admin/teams/policy/getPolicyId(...)`.
    #[serde(rename = "graph.getPolicyId")]
    GraphGetPolicyId,
    /// `POST /v1.0/admin/teams/policy/userAssignments/assign`.
    #[serde(rename = "graph.assignPolicy")]
    GraphAssignPolicy,
    /// `POST /v1.0/admin/teams/policy/userAssignments/unassign`.
    #[serde(rename = "graph.unassignPolicy")]
    GraphUnassignPolicy,
    /// `GET /api/v2/users`.
    #[serde(rename = "dialpad.users")]
    DialpadUsers,
    /// `GET /api/v2/users/{id}` (its own rate limit).
    #[serde(rename = "dialpad.user")]
    DialpadUser,
    /// `GET /api/v2/numbers`.
    #[serde(rename = "dialpad.numbers")]
    DialpadNumbers,
    /// `GET /api/v2/company`.
    #[serde(rename = "dialpad.company")]
    DialpadCompany,
    /// `GET /api/v2/offices` and `GET /api/v2/offices/{id}`.
    #[serde(rename = "dialpad.offices")]
    DialpadOffices,
    /// `POST /api/v2/websockets` (its own rate limit).
    #[serde(rename = "dialpad.websocketCreate")]
    DialpadWebsocketCreate,
    /// `GET /api/v2/websockets` and `GET`/`PATCH`/`DELETE /api/v2/websockets/{id}`.
    #[serde(rename = "dialpad.websockets")]
    DialpadWebsockets,
    /// `/api/v2/subscriptions/changelog` and `.../{id}`, every method.
    #[serde(rename = "dialpad.changelogSubscriptions")]
    DialpadChangelogSubscriptions,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 24] = [
        Endpoint::EntraToken,
        Endpoint::EntraMetadata,
        Endpoint::GraphUsers,
        Endpoint::GraphUsersDelta,
        Endpoint::GraphMe,
        Endpoint::GraphMemberOf,
        Endpoint::GraphBatch,
        Endpoint::GraphNumberAssignments,
        Endpoint::GraphAssignNumber,
        Endpoint::GraphUnassignNumber,
        Endpoint::GraphOperations,
        Endpoint::GraphUserConfigurations,
        Endpoint::GraphUserConfigurationList,
        Endpoint::GraphGetPolicyId,
        Endpoint::GraphAssignPolicy,
        Endpoint::GraphUnassignPolicy,
        Endpoint::DialpadUsers,
        Endpoint::DialpadUser,
        Endpoint::DialpadNumbers,
        Endpoint::DialpadCompany,
        Endpoint::DialpadOffices,
        Endpoint::DialpadWebsocketCreate,
        Endpoint::DialpadWebsockets,
        Endpoint::DialpadChangelogSubscriptions,
    ];

    /// The name used in fixtures and counters, e.g. `graph.users`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::EntraToken => "entra.token",
            Endpoint::EntraMetadata => "entra.metadata",
            Endpoint::GraphUsers => "graph.users",
            Endpoint::GraphUsersDelta => "graph.usersDelta",
            Endpoint::GraphMe => "graph.me",
            Endpoint::GraphMemberOf => "graph.memberOf",
            Endpoint::GraphBatch => "graph.batch",
            Endpoint::GraphNumberAssignments => "graph.numberAssignments",
            Endpoint::GraphAssignNumber => "graph.assignNumber",
            Endpoint::GraphUnassignNumber => "graph.unassignNumber",
            Endpoint::GraphOperations => "graph.operations",
            Endpoint::GraphUserConfigurations => "graph.userConfigurations",
            Endpoint::GraphUserConfigurationList => "graph.userConfigurationList",
            Endpoint::GraphGetPolicyId => "graph.getPolicyId",
            Endpoint::GraphAssignPolicy => "graph.assignPolicy",
            Endpoint::GraphUnassignPolicy => "graph.unassignPolicy",
            Endpoint::DialpadUsers => "dialpad.users",
            Endpoint::DialpadUser => "dialpad.user",
            Endpoint::DialpadNumbers => "dialpad.numbers",
            Endpoint::DialpadCompany => "dialpad.company",
            Endpoint::DialpadOffices => "dialpad.offices",
            Endpoint::DialpadWebsocketCreate => "dialpad.websocketCreate",
            Endpoint::DialpadWebsockets => "dialpad.websockets",
            Endpoint::DialpadChangelogSubscriptions => "dialpad.changelogSubscriptions",
        }
    }

    /// The endpoint's own limit per minute, where the sandbox enforces one besides its
    /// upstream's: vendor/dialpad-openapi.json's "Rate limit" lines for `websockets.create` (250
    /// per minute) and the other websocket and change-log subscription operations (1200).
    pub fn per_minute_limit(self) -> Option<u32> {
        match self {
            Endpoint::DialpadWebsocketCreate => Some(250),
            // `users.get`: "Rate limit: 1200 per minute".
            Endpoint::DialpadWebsockets | Endpoint::DialpadChangelogSubscriptions | Endpoint::DialpadUser => {
                Some(1200)
            }
            _ => None,
        }
    }

    /// Which upstream answers it.
    pub fn upstream(self) -> Upstream {
        match self {
            Endpoint::EntraToken | Endpoint::EntraMetadata => Upstream::Entra,
            Endpoint::DialpadUsers
            | Endpoint::DialpadUser
            | Endpoint::DialpadNumbers
            | Endpoint::DialpadCompany
            | Endpoint::DialpadOffices
            | Endpoint::DialpadWebsocketCreate
            | Endpoint::DialpadWebsockets
            | Endpoint::DialpadChangelogSubscriptions => Upstream::Dialpad,
            _ => Upstream::Graph,
        }
    }

    /// Names the endpoint a request is for, from its path (`None` for unknown paths and the
    /// sandbox's own introspection routes).
    pub fn classify(method: &Method, path: &str) -> Option<Endpoint> {
        const NUMBERS: &str = "/v1.0/admin/teams/telephoneNumberManagement/";
        if path.starts_with("/api/v2/users/") {
            return Some(Endpoint::DialpadUser);
        }
        if path.starts_with("/api/v2/users") {
            return Some(Endpoint::DialpadUsers);
        }
        if path.starts_with("/api/v2/numbers") {
            return Some(Endpoint::DialpadNumbers);
        }
        if path == "/api/v2/company" {
            return Some(Endpoint::DialpadCompany);
        }
        if path.starts_with("/api/v2/offices") {
            return Some(Endpoint::DialpadOffices);
        }
        if path.trim_end_matches('/') == "/api/v2/websockets" && method == Method::POST {
            return Some(Endpoint::DialpadWebsocketCreate);
        }
        if path.starts_with("/api/v2/websockets") {
            return Some(Endpoint::DialpadWebsockets);
        }
        if path.starts_with("/api/v2/subscriptions/changelog") {
            return Some(Endpoint::DialpadChangelogSubscriptions);
        }
        if let Some(rest) = path.strip_prefix(NUMBERS) {
            return Some(if rest.starts_with("operations") {
                Endpoint::GraphOperations
            } else if rest.ends_with("assignNumber") && !rest.ends_with("unassignNumber") {
                Endpoint::GraphAssignNumber
            } else if rest.ends_with("unassignNumber") {
                Endpoint::GraphUnassignNumber
            } else {
                Endpoint::GraphNumberAssignments
            });
        }
        if path.trim_end_matches('/') == "/v1.0/admin/teams/userConfigurations" {
            return Some(Endpoint::GraphUserConfigurationList);
        }
        if path.starts_with("/v1.0/admin/teams/userConfigurations") {
            return Some(Endpoint::GraphUserConfigurations);
        }
        if let Some(rest) = path.strip_prefix("/v1.0/admin/teams/policy/") {
            return Some(if !rest.starts_with("userAssignments") {
                Endpoint::GraphGetPolicyId
            } else if rest.ends_with("unassign") {
                Endpoint::GraphUnassignPolicy
            } else {
                Endpoint::GraphAssignPolicy
            });
        }
        if path.starts_with("/v1.0/me/memberOf") || path.starts_with("/v1.0/me/transitiveMemberOf") {
            return Some(Endpoint::GraphMemberOf);
        }
        if path == "/v1.0/me" {
            return Some(Endpoint::GraphMe);
        }
        if let Some(function) = path.strip_prefix("/v1.0/users/")
            && matches!(
                function.trim_end_matches('/'),
                "delta" | "delta()" | "microsoft.graph.delta" | "microsoft.graph.delta()"
            )
        {
            return Some(Endpoint::GraphUsersDelta);
        }
        if path.starts_with("/v1.0/users") {
            return Some(Endpoint::GraphUsers);
        }
        if path == "/v1.0/$batch" {
            return Some(Endpoint::GraphBatch);
        }
        if path.ends_with("/oauth2/v2.0/token") && method == Method::POST {
            return Some(Endpoint::EntraToken);
        }
        if path.contains("/.well-known/") || path.starts_with("/common/") {
            return Some(Endpoint::EntraMetadata);
        }
        None
    }
}

/// The three simulated services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upstream {
    /// Microsoft identity platform.
    Entra,
    /// Microsoft Graph.
    Graph,
    /// Dialpad API v2.
    Dialpad,
}

/// Request counts per endpoint and method, and responses per status.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counters {
    /// `"graph.users GET" -> 12`.
    pub requests: BTreeMap<String, u64>,
    /// `"graph.users 429" -> 3`.
    pub responses: BTreeMap<String, u64>,
    /// The most requests that arrived within any one second, per upstream (`"graph" -> 180`):
    /// how fast the upstream was called, injected faults and refused requests included.
    pub peak_per_second: BTreeMap<String, u64>,
    /// Requests the upstream's own rate limit refused (429), per upstream; injected 429s are not
    /// counted here.
    pub rate_limited: BTreeMap<String, u64>,
    /// Faults injected, by kind: `error`, `throttle`, `reset`, `malformed`, `late`.
    pub injected: BTreeMap<String, u64>,
    /// Arrival times within the last second, per upstream, for `peak_per_second`.
    #[serde(skip)]
    recent: BTreeMap<&'static str, VecDeque<Instant>>,
}

impl Counters {
    /// Requests to `endpoint` with `method`.
    pub fn requests_to(&self, endpoint: Endpoint, method: &str) -> u64 {
        self.requests
            .get(&format!("{} {method}", endpoint.name()))
            .copied()
            .unwrap_or(0)
    }

    /// Responses from `endpoint` with `status`.
    pub fn responses_from(&self, endpoint: Endpoint, status: u16) -> u64 {
        self.responses
            .get(&format!("{} {status}", endpoint.name()))
            .copied()
            .unwrap_or(0)
    }

    /// Requests received but not answered yet (still being handled), over every upstream.
    pub fn unanswered(&self) -> u64 {
        let received: u64 = self.requests.values().sum();
        let answered: u64 = self.responses.values().sum();
        received.saturating_sub(answered)
    }

    /// The most requests `upstream` received within any one second.
    pub fn peak_per_second_of(&self, upstream: Upstream) -> u64 {
        self.peak_per_second.get(upstream.name()).copied().unwrap_or(0)
    }

    /// Requests to `upstream` its own rate limit refused.
    pub fn rate_limited_of(&self, upstream: Upstream) -> u64 {
        self.rate_limited.get(upstream.name()).copied().unwrap_or(0)
    }

    /// Counts a request to `upstream` arriving at `now` in the one-second window ending then.
    pub(crate) fn record_arrival(&mut self, upstream: Upstream, now: Instant) {
        let recent = self.recent.entry(upstream.name()).or_default();
        while recent
            .front()
            .is_some_and(|&arrived| now.duration_since(arrived) >= Duration::from_secs(1))
        {
            recent.pop_front();
        }
        recent.push_back(now);
        let peak = self
            .peak_per_second
            .entry(upstream.name().to_owned())
            .or_default();
        *peak = (*peak).max(recent.len() as u64);
    }

    /// Counts a request `upstream`'s own rate limit refused.
    pub(crate) fn record_rate_limited(&mut self, upstream: Upstream) {
        *self.rate_limited.entry(upstream.name().to_owned()).or_default() += 1;
    }

    /// Requests that could change state (POSTs to assign or unassign numbers and policies).
    pub fn write_requests(&self) -> u64 {
        self.requests_to(Endpoint::GraphAssignNumber, "POST")
            + self.requests_to(Endpoint::GraphUnassignNumber, "POST")
            + self.requests_to(Endpoint::GraphAssignPolicy, "POST")
            + self.requests_to(Endpoint::GraphUnassignPolicy, "POST")
    }
}

impl Upstream {
    /// The name used in counters: `entra`, `graph` or `dialpad`.
    pub fn name(self) -> &'static str {
        match self {
            Upstream::Entra => "entra",
            Upstream::Graph => "graph",
            Upstream::Dialpad => "dialpad",
        }
    }
}

/// Per-upstream rate limiters (one tenant, one company per sandbox), and per-endpoint ones
/// where [`Endpoint::per_minute_limit`] names a limit (shared by both Dialpad companies).
pub struct RateLimits {
    graph: DefaultDirectRateLimiter,
    dialpad: DefaultDirectRateLimiter,
    per_endpoint: HashMap<Endpoint, DefaultDirectRateLimiter>,
}

impl RateLimits {
    /// Limiters allowing `graph` and `dialpad` requests per second, with a burst of one second.
    pub fn new(graph: u32, dialpad: u32) -> Self {
        let quota =
            |per_second: u32| Quota::per_second(NonZeroU32::new(per_second.max(1)).expect("at least one"));
        let per_endpoint = Endpoint::ALL
            .iter()
            .filter_map(|&endpoint| {
                let per_minute = NonZeroU32::new(endpoint.per_minute_limit()?)?;
                Some((endpoint, RateLimiter::direct(Quota::per_minute(per_minute))))
            })
            .collect();
        Self {
            graph: RateLimiter::direct(quota(graph)),
            dialpad: RateLimiter::direct(quota(dialpad)),
            per_endpoint,
        }
    }

    /// `None` if a request to `endpoint` may pass its upstream's limit and its own, else how
    /// long until it would.
    fn check(&self, endpoint: Endpoint) -> Option<Duration> {
        let upstream = match endpoint.upstream() {
            Upstream::Graph => Some(&self.graph),
            Upstream::Dialpad => Some(&self.dialpad),
            Upstream::Entra => None,
        };
        let clock = governor::clock::DefaultClock::default();
        upstream
            .into_iter()
            .chain(self.per_endpoint.get(&endpoint))
            .find_map(|limiter| limiter.check().err())
            .map(|not_until| not_until.wait_time_from(governor::clock::Clock::now(&clock)))
    }
}

/// Decides, deterministically from the seed, which requests get which fault.
pub struct FaultInjector {
    rules: Vec<FaultFixture>,
    seen: HashMap<(usize, Endpoint), u32>,
    burst_left: HashMap<(usize, Endpoint), u32>,
}

/// The fault chosen for one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status.
    Error(u16),
    /// Answer 429 with this `Retry-After`.
    Throttle(f64),
    /// Drop the connection mid-response.
    Reset,
    /// Answer 200 with a truncated body.
    Malformed,
    /// Act on the request, then hold the answer back this long: a client that gives up sooner
    /// does not learn that the upstream acted.
    Late(Duration),
}

impl Fault {
    /// Its kind, as counted in [`Counters::injected`].
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Error(_) => "error",
            Fault::Throttle(_) => "throttle",
            Fault::Reset => "reset",
            Fault::Malformed => "malformed",
            Fault::Late(_) => "late",
        }
    }
}

impl FaultInjector {
    /// An injector for `rules`.
    pub fn new(rules: Vec<FaultFixture>) -> Self {
        Self {
            rules,
            seen: HashMap::new(),
            burst_left: HashMap::new(),
        }
    }

    /// Latency and fault for a request to `endpoint`; `draw` yields seeded numbers in `0..1`.
    pub fn decide(&mut self, endpoint: Endpoint, mut draw: impl FnMut() -> f64) -> (Duration, Option<Fault>) {
        let mut latency = Duration::ZERO;
        let mut fault = None;
        for (index, rule) in self.rules.iter().enumerate() {
            if !matches(&rule.endpoint, endpoint.name()) {
                continue;
            }
            latency += Duration::from_millis(rule.latency_ms);
            let key = (index, endpoint);
            let seen = self.seen.entry(key).or_default();
            *seen += 1;
            if fault.is_some() {
                continue;
            }
            // An injected 429 always carries the rule's Retry-After, like a real one.
            let error = if rule.error_status == 429 {
                Fault::Throttle(rule.retry_after_seconds)
            } else {
                Fault::Error(rule.error_status)
            };
            if *seen <= rule.fail_first {
                fault = Some(error);
                continue;
            }
            let burst = self.burst_left.entry(key).or_default();
            if *burst > 0 {
                *burst -= 1;
                fault = Some(Fault::Throttle(rule.retry_after_seconds));
                continue;
            }
            if rule.throttle_rate > 0.0 && draw() < rule.throttle_rate {
                *burst = rule.throttle_burst.saturating_sub(1);
                fault = Some(Fault::Throttle(rule.retry_after_seconds));
            } else if rule.error_rate > 0.0 && draw() < rule.error_rate {
                fault = Some(error);
            } else if rule.reset_rate > 0.0 && draw() < rule.reset_rate {
                fault = Some(Fault::Reset);
            } else if rule.malformed_rate > 0.0 && draw() < rule.malformed_rate {
                fault = Some(Fault::Malformed);
            } else if rule.late_rate > 0.0 && draw() < rule.late_rate {
                fault = Some(Fault::Late(Duration::from_millis(rule.late_ms)));
            }
        }
        (latency, fault)
    }

    /// Replaces the rules (and forgets what was seen), for tests that change faults mid-run.
    pub fn set_rules(&mut self, rules: Vec<FaultFixture>) {
        *self = Self::new(rules);
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The middleware: classify, count, limit, inject, then call the handler.
pub async fn traffic(State(state): State<Arc<SandboxState>>, request: Request, next: Next) -> Response {
    let Some(endpoint) = Endpoint::classify(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let method = request.method().as_str().to_owned();
    state.count_request(endpoint, &method, Instant::now());
    let response = shape(&state, endpoint, request, next).await;
    state.count_response(endpoint, response.status().as_u16());
    response
}

async fn shape(state: &Arc<SandboxState>, endpoint: Endpoint, request: Request, next: Next) -> Response {
    let upstream = endpoint.upstream();
    let (latency, fault) = {
        let mut faults = state.faults.lock().expect("fault injector lock");
        let mut world = state.world.lock().expect("world lock");
        faults.decide(endpoint, || world.random_unit())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(wait) = state.limits.check(endpoint) {
        state
            .counters
            .lock()
            .expect("counters lock")
            .record_rate_limited(upstream);
        let seconds = (wait.as_secs_f64() * 1000.0).ceil() / 1000.0;
        return throttled(upstream, seconds.max(0.001));
    }
    if let Some(fault) = &fault {
        let mut counters = state.counters.lock().expect("counters lock");
        *counters.injected.entry(fault.kind().to_owned()).or_default() += 1;
    }
    let mut response = match fault {
        Some(Fault::Error(status)) => injected_error(upstream, status),
        Some(Fault::Throttle(seconds)) => throttled(upstream, seconds),
        Some(Fault::Reset) => reset(),
        Some(Fault::Malformed) => malformed(),
        Some(Fault::Late(delay)) => {
            let response = next.run(request).await;
            tokio::time::sleep(delay).await;
            response
        }
        None => next.run(request).await,
    };
    if upstream == Upstream::Graph {
        let id = HeaderValue::from_str(&request_id()).expect("a GUID is a valid header value");
        response.headers_mut().insert("request-id", id.clone());
        response.headers_mut().insert("client-request-id", id);
    }
    response
}

fn throttled(upstream: Upstream, seconds: f64) -> Response {
    match upstream {
        Upstream::Dialpad => dialpad_throttled(seconds),
        Upstream::Graph => graph_throttled(seconds),
        Upstream::Entra => super::entra::throttled(seconds),
    }
}

fn injected_error(upstream: Upstream, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    match upstream {
        Upstream::Dialpad => dialpad_error(status, "The service is temporarily unavailable."),
        Upstream::Graph => graph_error(
            status,
            "serviceNotAvailable",
            "Service is unavailable. Please try again",
        ),
        Upstream::Entra => super::entra::temporarily_unavailable(status),
    }
}

/// Headers go out, then the body stream fails: the client sees the connection drop mid-response.
fn reset() -> Response {
    let failing = futures::stream::iter([
        Ok(bytes::Bytes::from_static(b"{\"value\":[")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        )),
    ]);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(failing))
        .expect("a static response is valid")
}

fn malformed() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from("{\"value\": [{\"id\": \"trunc"))
        .expect("a static response is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(endpoint: &str) -> FaultFixture {
        serde_yaml::from_str(&format!("endpoint: \"{endpoint}\"")).unwrap()
    }

    #[test]
    fn paths_are_named_as_their_endpoints() {
        let cases = [
            (
                Method::POST,
                "/contoso.com/oauth2/v2.0/token",
                Endpoint::EntraToken,
            ),
            (Method::GET, "/v1.0/users", Endpoint::GraphUsers),
            (Method::GET, "/v1.0/users/delta", Endpoint::GraphUsersDelta),
            (
                Method::GET,
                "/v1.0/users/microsoft.graph.delta()",
                Endpoint::GraphUsersDelta,
            ),
            (Method::GET, "/v1.0/users/0a1b", Endpoint::GraphUsers),
            (Method::GET, "/v1.0/me", Endpoint::GraphMe),
            (
                Method::GET,
                "/v1.0/me/memberOf/graph.directoryRole",
                Endpoint::GraphMemberOf,
            ),
            (
                Method::GET,
                "/v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole",
                Endpoint::GraphMemberOf,
            ),
            (
                Method::POST,
                "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/microsoft.graph.teamsAdministration.unassignNumber",
                Endpoint::GraphUnassignNumber,
            ),
            (
                Method::POST,
                "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber",
                Endpoint::GraphAssignNumber,
            ),
            (
                Method::GET,
                "/v1.0/admin/teams/userConfigurations",
                Endpoint::GraphUserConfigurationList,
            ),
            (
                Method::GET,
                "/v1.0/admin/teams/userConfigurations/0a1b",
                Endpoint::GraphUserConfigurations,
            ),
            (
                Method::GET,
                "/v1.0/admin/teams/policy/getPolicyId(type='TenantDialPlan',name='Berlin')",
                Endpoint::GraphGetPolicyId,
            ),
            (
                Method::POST,
                "/v1.0/admin/teams/policy/userAssignments/assign",
                Endpoint::GraphAssignPolicy,
            ),
            (
                Method::POST,
                "/v1.0/admin/teams/policy/userAssignments/microsoft.graph.teamsAdministration.unassign",
                Endpoint::GraphUnassignPolicy,
            ),
            (
                Method::GET,
                "/v1.0/admin/teams/telephoneNumberManagement/operations('x')",
                Endpoint::GraphOperations,
            ),
            (Method::GET, "/api/v2/users", Endpoint::DialpadUsers),
            (Method::GET, "/api/v2/company", Endpoint::DialpadCompany),
            (
                Method::POST,
                "/api/v2/websockets",
                Endpoint::DialpadWebsocketCreate,
            ),
            (Method::GET, "/api/v2/websockets", Endpoint::DialpadWebsockets),
            (
                Method::DELETE,
                "/api/v2/websockets/4000000000000001",
                Endpoint::DialpadWebsockets,
            ),
            (
                Method::PATCH,
                "/api/v2/subscriptions/changelog/4000000000000002",
                Endpoint::DialpadChangelogSubscriptions,
            ),
            (
                Method::GET,
                "/api/v2/offices/5012637248020480",
                Endpoint::DialpadOffices,
            ),
        ];
        for (method, path, expected) in cases {
            assert_eq!(Endpoint::classify(&method, path), Some(expected), "{path}");
        }
        assert_eq!(Endpoint::classify(&Method::GET, "/_sandbox/counters"), None);
    }

    #[test]
    fn fail_first_fails_exactly_that_many_requests() {
        let mut r = rule("graph.users");
        r.fail_first = 2;
        let mut injector = FaultInjector::new(vec![r]);
        let faults: Vec<_> = (0..4)
            .map(|_| injector.decide(Endpoint::GraphUsers, || 0.5).1)
            .collect();
        assert_eq!(
            faults,
            [Some(Fault::Error(503)), Some(Fault::Error(503)), None, None]
        );
    }

    #[test]
    fn a_throttle_starts_a_burst_of_the_configured_length() {
        let mut r = rule("graph.*");
        r.throttle_rate = 0.5;
        r.throttle_burst = 3;
        let mut injector = FaultInjector::new(vec![r]);
        let mut draws = [0.1, 0.9, 0.9, 0.9, 0.9].into_iter();
        let faults: Vec<_> = (0..4)
            .map(|_| injector.decide(Endpoint::GraphUsers, || draws.next().unwrap()).1)
            .collect();
        let throttle = Some(Fault::Throttle(1.0));
        assert_eq!(faults, [throttle.clone(), throttle.clone(), throttle, None]);
    }

    #[test]
    fn a_late_answer_is_drawn_after_the_other_faults_with_its_delay() {
        let mut r = rule("graph.assignNumber");
        r.late_rate = 0.5;
        r.late_ms = 1500;
        let mut injector = FaultInjector::new(vec![r]);
        assert_eq!(
            injector.decide(Endpoint::GraphAssignNumber, || 0.1).1,
            Some(Fault::Late(Duration::from_millis(1500)))
        );
        assert_eq!(injector.decide(Endpoint::GraphAssignNumber, || 0.9).1, None);
    }

    #[test]
    fn the_peak_counts_the_busiest_second_whenever_it_started() {
        let mut counters = Counters::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // Four in the first whole second, five between 0.9 s and 1.85 s: the busiest second
        // straddles a whole-second boundary.
        for ms in [0, 100, 200, 900, 1000, 1500, 1800, 1850] {
            counters.record_arrival(Upstream::Graph, at(ms));
        }
        counters.record_arrival(Upstream::Dialpad, at(0));
        assert_eq!(
            counters.peak_per_second_of(Upstream::Graph),
            5,
            "0.9 s to 1.85 s holds five"
        );
        assert_eq!(counters.peak_per_second_of(Upstream::Dialpad), 1);
        assert_eq!(counters.peak_per_second_of(Upstream::Entra), 0);
    }

    #[test]
    fn rules_only_touch_matching_endpoints() {
        let mut r = rule("dialpad.*");
        r.error_rate = 1.0;
        let mut injector = FaultInjector::new(vec![r]);
        assert_eq!(injector.decide(Endpoint::GraphUsers, || 0.0).1, None);
        assert_eq!(
            injector.decide(Endpoint::DialpadUsers, || 0.0).1,
            Some(Fault::Error(503))
        );
    }
}
