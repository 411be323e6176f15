//! The Microsoft Graph client: users in bulk, the signed-in admin's roles, the Teams number
//! inventory, and number assignment with its long-running operation polled to completion. What
//! Graph returns is typed in `types`; how a number change ended is read in `operation`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::aadsts::SignInFailure;
use super::token::TokenClient;
use crate::upstream::{
    Answer, EndpointOrigin, Idempotency, Pages, Service, UpstreamClient, UpstreamError, read_json,
};

pub mod delta;
mod lookups;
mod operation;
mod policies;
mod types;

pub use lookups::{EXPRESSIONS_PER_FILTER, LookupError};
pub(crate) use operation::outcome_of_answer;
use operation::outcome_of_body;
pub use operation::{AssignmentFailure, OperationOutcome, Submitted};
pub use policies::{
    EffectivePolicyAssignment, PolicyAssignment, PolicyAssignmentEntry, PolicyIdentifier,
    TeamsUserConfiguration,
};
pub use types::{DirectoryRole, GraphUser, NumberAssignment};

/// The Graph budget a tenant starts from, in requests per second: Microsoft's documented limit
/// for "Other API calls for Microsoft Teams", 30 per second per app per tenant ("Microsoft Graph
/// service-specific throttling limits", section "Microsoft Teams service limits",
/// learn.microsoft.com/graph/throttling-limits). UNCONFIRMED that the telephone number APIs count
/// as such calls (the page lists none of them by name): `--graph-requests-per-second` changes it,
/// and Graph's own 429 answers still slow the client down further.
pub const REQUESTS_PER_SECOND: u32 = 30;

/// The user properties the sync reads (`$select`).
pub const USER_SELECT: &str =
    "id,userPrincipalName,mail,proxyAddresses,accountEnabled,usageLocation,assignedPlans,assignedLicenses";

const NUMBERS_PATH: &str = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";

/// Errors of Graph calls.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// No token could be had.
    #[error("{}", .0.message)]
    SignIn(SignInFailure),
    /// The call failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl GraphError {
    /// Whether a retry may fix it.
    pub fn is_transient(&self) -> bool {
        match self {
            GraphError::SignIn(failure) => failure.transient,
            GraphError::Upstream(error) => error.is_transient(),
        }
    }
}

/// Talks to Graph for one tenant.
#[derive(Clone)]
pub struct GraphClient {
    upstream: UpstreamClient,
    base: String,
    /// The origin of `base`: the only one `@odata.nextLink`s and operation URLs may point to.
    origin: EndpointOrigin,
    tokens: Arc<TokenClient>,
    /// How long to poll a number operation before reporting it as still running.
    pub operation_timeout: Duration,
}

/// One page of a Graph collection, as the clients read it (also by `crate::fuzzing`).
#[derive(Deserialize)]
pub(crate) struct Collection<T> {
    #[serde(default = "Vec::new")]
    pub(crate) value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    pub(crate) next_link: Option<String>,
}

impl GraphClient {
    /// A client for Graph at `base` (e.g. `https://graph.microsoft.com`), signing in with `tokens`.
    pub fn new(upstream: UpstreamClient, base: &str, tokens: Arc<TokenClient>) -> Self {
        Self {
            upstream,
            base: base.trim_end_matches('/').to_owned(),
            origin: EndpointOrigin::of(Service::Graph, base),
            tokens,
            operation_timeout: Duration::from_secs(60),
        }
    }

    /// Graph's base URL, e.g. `https://graph.microsoft.com`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The token client.
    pub fn tokens(&self) -> &Arc<TokenClient> {
        &self.tokens
    }

    /// Every user, in pages of 999, with the properties the sync needs.
    pub async fn list_users(&self) -> Result<Vec<GraphUser>, GraphError> {
        let mut all = Vec::new();
        self.list_users_by_page(&mut |page| all.extend(page)).await?;
        Ok(all)
    }

    /// [`list_users`](Self::list_users), handing each page to `on_page` as it arrives, so that a
    /// large directory need not be held whole before it is condensed.
    pub async fn list_users_by_page(
        &self,
        on_page: &mut (dyn FnMut(Vec<GraphUser>) + Send),
    ) -> Result<(), GraphError> {
        let first = format!("{}/v1.0/users?$select={USER_SELECT}&$top=999", self.base);
        self.follow_next_links("GET /v1.0/users", first, |request| request, on_page)
            .await
    }

    /// The signed-in admin's directory roles (delegated tokens only), including those held
    /// through a role-assignable group: `transitiveMemberOf`, because `memberOf` lists direct
    /// memberships only. Microsoft documents the OData cast on it as an advanced query, which
    /// needs `ConsistencyLevel: eventual` and `$count=true`
    /// (https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof).
    pub async fn my_roles(&self) -> Result<Vec<DirectoryRole>, GraphError> {
        let endpoint = "GET /v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole";
        let first = format!(
            "{}/v1.0/me/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,displayName,roleTemplateId&$count=true",
            self.base
        );
        let mut all = Vec::new();
        let eventual = |request: reqwest::RequestBuilder| request.header("ConsistencyLevel", "eventual");
        self.follow_next_links(endpoint, first, eventual, &mut |page| all.extend(page))
            .await?;
        Ok(all)
    }

    /// Every Teams telephone number, in pages of 1000 (`$top` + `$skip`).
    pub async fn list_numbers(&self) -> Result<Vec<NumberAssignment>, GraphError> {
        let mut all = Vec::new();
        self.list_numbers_by_page(&mut |page| all.extend(page)).await?;
        Ok(all)
    }

    /// [`list_numbers`](Self::list_numbers), handing each page to `on_page` as it arrives.
    pub async fn list_numbers_by_page(
        &self,
        on_page: &mut (dyn FnMut(Vec<NumberAssignment>) + Send),
    ) -> Result<(), GraphError> {
        let endpoint = format!("GET {NUMBERS_PATH}");
        let mut pages = Pages::new(Service::Graph, &endpoint, self.upstream.limits().max_pages);
        let mut skip = 0;
        loop {
            let url = format!("{}{NUMBERS_PATH}?$top=1000&$skip={skip}", self.base);
            pages.follow(&url, "page", None)?;
            let (at, url) = (endpoint.as_str(), &url);
            let fetch = move || self.send(at, Idempotency::Idempotent, move |http| http.get(url));
            let (page, _): (Collection<NumberAssignment>, _) = read_json(Service::Graph, at, fetch).await?;
            let count = page.value.len();
            skip += count;
            on_page(page.value);
            if count < 1000 {
                return Ok(());
            }
        }
    }

    /// Assigns `number` to `user_id` and waits for the operation.
    pub async fn assign_number(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> Result<OperationOutcome, GraphError> {
        let submitted = self
            .submit_assign(number, user_id, number_type, location_id)
            .await?;
        self.verdict(submitted).await
    }

    /// Unassigns `number` and waits for the operation.
    pub async fn unassign_number(
        &self,
        number: &str,
        number_type: &str,
    ) -> Result<OperationOutcome, GraphError> {
        let submitted = self.submit_unassign(number, number_type).await?;
        self.verdict(submitted).await
    }

    /// Sends `assignNumber` without waiting for Teams' verdict.
    pub async fn submit_assign(
        &self,
        number: &str,
        user_id: &str,
        number_type: &str,
        location_id: Option<&str>,
    ) -> Result<Submitted, GraphError> {
        let mut body = serde_json::json!({
            "telephoneNumber": number,
            "assignmentTargetId": user_id,
            "numberType": number_type,
            "assignmentCategory": "primary",
        });
        if let Some(location) = location_id {
            body["locationId"] = location.into();
        }
        self.submit("assignNumber", body).await
    }

    /// Sends `unassignNumber` without waiting for Teams' verdict.
    pub async fn submit_unassign(&self, number: &str, number_type: &str) -> Result<Submitted, GraphError> {
        let body = serde_json::json!({"telephoneNumber": number, "numberType": number_type});
        self.submit("unassignNumber", body).await
    }

    /// The Graph budget this client keeps to (requests per second), if limited.
    pub fn requests_per_second(&self) -> Option<u32> {
        self.upstream.requests_per_second()
    }

    /// Teams' verdict on a submitted change, polling its operation until the operation timeout.
    async fn verdict(&self, submitted: Submitted) -> Result<OperationOutcome, GraphError> {
        match submitted {
            Submitted::Done(outcome) => Ok(outcome),
            Submitted::Running { url: Some(url), .. } => self.poll_operation(&url).await,
            // Nothing to look at: the caller reads the number's assignment later.
            Submitted::Running { url: None, .. } => Ok(OperationOutcome::StillRunning),
        }
    }

    async fn submit(&self, action: &str, body: serde_json::Value) -> Result<Submitted, GraphError> {
        let endpoint = format!("POST {NUMBERS_PATH}/{action}");
        let url = format!("{}{NUMBERS_PATH}/{action}", self.base);
        let answer = self
            .send(&endpoint, Idempotency::NotIdempotent, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        // Microsoft documents both actions as creating an asynchronous order whose status is read
        // on the operation named by the `Location` header of the answer
        // (learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber,
        // "Creates an asynchronous order"; .../teamsadministration-telephonenumberlongrunningoperation-get:
        // "This link is returned in the Location response header"). So no 2xx is a verdict: one
        // without a `Location` (the 204 Microsoft's generated OpenAPI declares for actions without
        // a return type, vendor/graph-teams-numbers-openapi.yaml) is still running, and reading the
        // number's assignment tells how it ended.
        let url = answer
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Submitted::Running {
            url,
            retry_after: crate::upstream::retry_after_of(&answer.headers),
        })
    }

    /// One look at a long-running operation: its verdict, or `None` while it runs. `url` (the
    /// `Location` Teams answered, now or in an earlier sync) is looked at only on the origin of
    /// the Graph endpoint this client was built with, where its token may go.
    pub async fn operation_outcome(&self, url: &str) -> Result<Option<OperationOutcome>, GraphError> {
        let endpoint = "GET /v1.0/admin/teams/telephoneNumberManagement/operations/{id}";
        self.origin.check(endpoint, "operation's Location", url)?;
        let fetch = move || self.send(endpoint, Idempotency::Idempotent, move |http| http.get(url));
        let (body, request_id): (serde_json::Value, _) = read_json(Service::Graph, endpoint, fetch).await?;
        Ok(outcome_of_body(&body, endpoint, request_id)?)
    }

    async fn poll_operation(&self, location: &str) -> Result<OperationOutcome, GraphError> {
        let deadline = Instant::now() + self.operation_timeout;
        let mut wait = Duration::from_millis(100);
        loop {
            if let Some(outcome) = self.operation_outcome(location).await? {
                return Ok(outcome);
            }
            if Instant::now() + wait > deadline {
                return Ok(OperationOutcome::StillRunning);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// Reads `first` and every `@odata.nextLink` after it, each request made by `decorate` from a
    /// GET, handing each page to `on_page`. A next link is followed only on the configured
    /// origin, never twice, and to at most [`ReadLimits::max_pages`](crate::upstream::ReadLimits)
    /// pages in all (https://learn.microsoft.com/en-us/graph/paging: the link is a URL to the
    /// next page, requested as it is).
    async fn follow_next_links<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        first: String,
        decorate: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder + Sync,
        on_page: &mut (dyn FnMut(Vec<T>) + Send),
    ) -> Result<(), GraphError> {
        let mut pages = Pages::new(Service::Graph, endpoint, self.upstream.limits().max_pages);
        let mut next = Some(first);
        let mut handed_by: Option<String> = None;
        while let Some(url) = next.take() {
            self.origin.check(endpoint, "@odata.nextLink", &url)?;
            pages.follow(&url, "@odata.nextLink", handed_by.as_deref())?;
            let (url, decorate) = (&url, &decorate);
            let fetch = move || {
                self.send(endpoint, Idempotency::Idempotent, move |http| {
                    decorate(http.get(url))
                })
            };
            let (page, request_id): (Collection<T>, _) = read_json(Service::Graph, endpoint, fetch).await?;
            handed_by = request_id;
            on_page(page.value);
            next = page.next_link;
        }
        Ok(())
    }

    /// Sends with a bearer token; a 401 invalidates the token and tries once more with a new one.
    async fn send(
        &self,
        endpoint: &str,
        idempotency: Idempotency,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer, GraphError> {
        let mut renewed = false;
        loop {
            let token = self.tokens.access_token().await.map_err(GraphError::SignIn)?;
            let mut header =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.secret.expose_secret()))
                    .map_err(|_| GraphError::SignIn(malformed_token()))?;
            header.set_sensitive(true);
            let answer = self
                .upstream
                .call(endpoint, idempotency, |http| {
                    build(http).header(reqwest::header::AUTHORIZATION, header.clone())
                })
                .await?;
            if answer.status == 401 && !renewed {
                renewed = true;
                self.tokens.invalidate().await;
                continue;
            }
            return Ok(answer.success(Service::Graph, endpoint)?);
        }
    }
}

fn malformed_token() -> SignInFailure {
    SignInFailure {
        reason: crate::api::Reason::UnknownError,
        message: "Microsoft sign-in returned an access token that cannot be sent in a header".into(),
        code: None,
        transient: false,
    }
}
