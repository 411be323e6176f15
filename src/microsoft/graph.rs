//! The Microsoft Graph client: users in bulk, the signed-in admin's roles, the Teams number
//! inventory, and number assignment with its long-running operation polled to completion.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::aadsts::SignInFailure;
use super::licences::{AssignedLicense, AssignedPlan};
use super::nullable_vec;
use super::token::TokenClient;
use crate::upstream::{
    Answer, BodyProblem, EndpointOrigin, Idempotency, Pages, Service, UpstreamClient, UpstreamError,
    read_json,
};

/// The user properties the sync reads (`$select`).
pub const USER_SELECT: &str =
    "id,userPrincipalName,mail,proxyAddresses,accountEnabled,usageLocation,assignedPlans,assignedLicenses";

const NUMBERS_PATH: &str = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";

/// A directory user, as far as the sync cares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    /// Object id.
    pub id: String,
    /// Sign-in name.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Primary SMTP address.
    #[serde(default)]
    pub mail: Option<String>,
    /// Addresses with their type as prefix: `SMTP:` the primary email address, `smtp:` the
    /// others, and other types (`SIP:`, `X500:`, ...) that are not email addresses.
    #[serde(default, deserialize_with = "super::nullable_strings")]
    pub proxy_addresses: Vec<String>,
    /// Whether the account is enabled (`None` if Graph did not say).
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// Usage location.
    #[serde(default)]
    pub usage_location: Option<String>,
    /// Service plans: only those the licence classifier looks at (see
    /// [`telephony_plans_only`](crate::microsoft::licences::telephony_plans_only)).
    #[serde(
        default,
        deserialize_with = "crate::microsoft::licences::telephony_plans_only"
    )]
    pub assigned_plans: Vec<AssignedPlan>,
    /// Licences.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub assigned_licenses: Vec<AssignedLicense>,
}

/// A directory role of the signed-in user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRole {
    /// The role's template id (compare this, never `id`).
    #[serde(default)]
    pub role_template_id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A Teams telephone number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberAssignment {
    /// The number, with a leading `+`.
    #[serde(default)]
    pub telephone_number: String,
    /// `directRouting`, `callingPlan`, `operatorConnect`.
    #[serde(default)]
    pub number_type: Option<String>,
    /// `userAssigned`, `unassigned`, `voiceApplicationAssigned`, ...
    #[serde(default)]
    pub assignment_status: Option<String>,
    /// `activated`, `assignmentPending`, `assignmentFailed`, ...
    #[serde(default)]
    pub activation_state: Option<String>,
    /// The holder's object id.
    #[serde(default)]
    pub assignment_target_id: Option<String>,
    /// `primary`, `private`, `alternate`.
    #[serde(default)]
    pub assignment_category: Option<String>,
}

/// Why Teams refused an assignment, from the operation's `statusDetail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignmentFailure {
    /// The user lacks the licence for this number type.
    Licence(String),
    /// The number is held by someone else.
    Conflict(String),
    /// The user does not exist (or is not yet provisioned in Teams).
    UserNotFound(String),
    /// Teams does not know the number for this number type in the tenant (a Calling Plan or
    /// Operator Connect number outside the tenant's inventory, or the wrong `numberType`).
    NumberNotInTenant(String),
    /// Anything else.
    Other(String),
}

impl AssignmentFailure {
    /// Classifies a `statusDetail` text (the wording of Teams' PowerShell errors, which Graph
    /// presumably shares; `docs/microsoft-graph-teams.md` section 5.8).
    pub fn from_detail(detail: &str) -> Self {
        let lower = detail.to_lowercase();
        if lower.contains("lacks appropriate licenses")
            || lower.contains("restricted for the user service plan")
        {
            AssignmentFailure::Licence(detail.to_owned())
        } else if lower.contains("already been assigned") || lower.contains("already assigned") {
            AssignmentFailure::Conflict(detail.to_owned())
        } else if lower.contains("is not found from tenant") {
            // "Telephone Number '…' is not found from tenant '…'": the number, not the user
            // (MicrosoftDocs/office-docs-powershell#8905: seen with the OperatorConnect type, and
            // on removing a number with a type it was not assigned as).
            AssignmentFailure::NumberNotInTenant(detail.to_owned())
        } else if lower.contains("notfound") || lower.contains("not found") {
            AssignmentFailure::UserNotFound(detail.to_owned())
        } else {
            AssignmentFailure::Other(detail.to_owned())
        }
    }

    /// Teams' own words.
    pub fn detail(&self) -> &str {
        match self {
            AssignmentFailure::Licence(detail)
            | AssignmentFailure::Conflict(detail)
            | AssignmentFailure::UserNotFound(detail)
            | AssignmentFailure::NumberNotInTenant(detail)
            | AssignmentFailure::Other(detail) => detail,
        }
    }
}

/// How an assign or unassign ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationOutcome {
    /// Teams applied it.
    Succeeded,
    /// Teams refused it.
    Failed(AssignmentFailure),
    /// Still running when polling stopped; the next sync sees the result.
    StillRunning,
}

/// What Teams answered to a change request, before its verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Submitted {
    /// Teams answered with its verdict at once.
    Done(OperationOutcome),
    /// Teams runs it as a long-running operation, to be looked at on `url`.
    Running {
        /// The operation's URL (the `Location` header).
        url: String,
        /// How long Teams asked the client to wait before looking (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
}

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

#[derive(Deserialize)]
struct OperationBody {
    status: String,
    #[serde(default, deserialize_with = "nullable_vec")]
    numbers: Vec<OperationNumber>,
}

/// The statuses of a telephoneNumberLongRunningOperation: `notStarted` and `running` before the
/// verdict, then `succeeded`, `failed` or `skipped` (`unknownFutureValue` is Graph's evolvable-enum
/// sentinel). Source: https://learn.microsoft.com/en-us/graph/api/resources/teamsAdministration-telephoneNumberLongRunningOperation?view=graph-rest-1.0
const OPERATION_PENDING: [&str; 2] = ["notStarted", "running"];
const OPERATION_DONE: [&str; 3] = ["succeeded", "failed", "skipped"];

/// The operation in a `GET operations/{id}` body: the example of Graph's "Get
/// telephoneNumberLongRunningOperation" page wraps the entity in `{"value": {...}}`, an entity
/// read normally comes bare, so both are read
/// (https://learn.microsoft.com/en-us/graph/api/teamsadministration-telephonenumberlongrunningoperation-get).
/// Anything else, or a status outside the documented ones, is an error naming what came, so that
/// polling never waits on a body it cannot read. A status this client does not know is
/// [`BodyProblem::UnknownValue`]: not a verdict, so the change counts as still running and the
/// next sync reads the number's state from the listing.
fn operation_of(body: &serde_json::Value) -> Result<OperationBody, (BodyProblem, String)> {
    let entity = match body.get("value") {
        Some(inner) if inner.is_object() && body.get("status").is_none() => inner,
        _ => body,
    };
    let operation: OperationBody = serde_json::from_value(entity.clone()).map_err(|_| {
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        (
            BodyProblem::UnexpectedShape,
            quoted(&format!(
                "an operation body without a status (top-level keys: {keys:?})"
            )),
        )
    })?;
    let known = OPERATION_PENDING.contains(&operation.status.as_str())
        || OPERATION_DONE.contains(&operation.status.as_str());
    if !known {
        return Err((
            BodyProblem::UnknownValue,
            quoted(&format!(
                "an operation status this client does not know: {:?}",
                operation.status
            )),
        ));
    }
    Ok(operation)
}

/// The verdict an operation answer carries (`None` while it runs); the fuzz targets' entry
/// (`crate::fuzzing`). [`GraphClient::operation_outcome`] reads the body with [`read_json`] first.
pub(crate) fn outcome_of_answer(
    answer: &Answer,
    endpoint: &str,
) -> Result<Option<OperationOutcome>, UpstreamError> {
    let body: serde_json::Value = answer.json(Service::Graph, endpoint)?;
    outcome_of_body(&body, endpoint, answer.request_id.clone())
}

/// The verdict an operation's body carries (`None` while it runs).
fn outcome_of_body(
    body: &serde_json::Value,
    endpoint: &str,
    request_id: Option<String>,
) -> Result<Option<OperationOutcome>, UpstreamError> {
    let operation = operation_of(body).map_err(|(problem, detail)| UpstreamError::Malformed {
        service: Service::Graph,
        endpoint: endpoint.to_owned(),
        detail,
        request_id,
        problem,
    })?;
    Ok(match operation.status.as_str() {
        "succeeded" => Some(OperationOutcome::Succeeded),
        "failed" => {
            let detail = operation
                .numbers
                .iter()
                .find_map(|n| n.status_detail.as_deref().map(quoted))
                .unwrap_or_else(|| "the operation failed without a detail".into());
            Some(OperationOutcome::Failed(AssignmentFailure::from_detail(&detail)))
        }
        "skipped" => {
            let detail = "Teams skipped the operation, so the number was not changed";
            Some(OperationOutcome::Failed(AssignmentFailure::Other(detail.into())))
        }
        _ => None,
    })
}

/// Teams' own words as a message quotes them: cut to a bounded length.
fn quoted(text: &str) -> String {
    crate::upstream::error::bounded(text, crate::upstream::error::QUOTED_TEXT_CHARS)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationNumber {
    #[serde(default)]
    status_detail: Option<String>,
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
            Submitted::Running { url, .. } => self.poll_operation(&url).await,
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
        match answer
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
        {
            Some(url) => Ok(Submitted::Running {
                url,
                retry_after: crate::upstream::retry_after_of(&answer.headers),
            }),
            // 204: done synchronously (what Microsoft's generated description declares).
            None => Ok(Submitted::Done(OperationOutcome::Succeeded)),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_is_read_bare_or_wrapped_in_value() {
        let bare =
            serde_json::json!({"id": "1", "status": "failed", "numbers": [{"statusDetail": "no licence"}]});
        let wrapped = serde_json::json!({"value": bare.clone()});
        for body in [bare, wrapped] {
            let operation = operation_of(&body).unwrap();
            assert_eq!(operation.status, "failed");
            assert_eq!(operation.numbers[0].status_detail.as_deref(), Some("no licence"));
        }
        assert_eq!(
            operation_of(&serde_json::json!({"status": "running"}))
                .unwrap()
                .status,
            "running"
        );
    }

    #[test]
    fn an_operation_body_without_a_status_is_an_error_naming_its_shape() {
        let (problem, error) = operation_of(&serde_json::json!({"id": "1", "state": "done"}))
            .err()
            .unwrap();
        assert!(error.contains(r#"["id", "state"]"#), "{error}");
        assert_eq!(problem, BodyProblem::UnexpectedShape);
        let (problem, unknown) = operation_of(&serde_json::json!({"status": "paused"}))
            .err()
            .unwrap();
        assert!(unknown.contains("\"paused\""), "{unknown}");
        assert_eq!(
            problem,
            BodyProblem::UnknownValue,
            "an unknown status is no verdict: the change counts as still running"
        );
        assert!(operation_of(&serde_json::json!({"status": "skipped"})).is_ok());
    }

    #[test]
    fn status_details_are_classified() {
        let cases = [
            (
                "User 'x' lacks appropriate licenses to assign a 'DirectRouting' number.",
                "licence",
            ),
            (
                "Telephone Number '+1' has already been assigned to another user",
                "conflict",
            ),
            (
                "The server responded with a Request Error, Status: NotFound.",
                "not found",
            ),
            (
                "Telephone Number '+14155550100' is not found from tenant '9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34'",
                "number not in tenant",
            ),
            ("Internal error 0x80004005", "other"),
        ];
        for (detail, kind) in cases {
            let failure = AssignmentFailure::from_detail(detail);
            let got = match failure {
                AssignmentFailure::Licence(_) => "licence",
                AssignmentFailure::Conflict(_) => "conflict",
                AssignmentFailure::UserNotFound(_) => "not found",
                AssignmentFailure::NumberNotInTenant(_) => "number not in tenant",
                AssignmentFailure::Other(_) => "other",
            };
            assert_eq!(got, kind, "{detail}");
        }
    }
}
