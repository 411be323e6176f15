//! The Dialpad API v2 client: the company an API key belongs to, the desired state (users with
//! their emails and numbers) and the company's number inventory (which numbers are Dialpad's).

pub mod events;
pub mod model;

use secrecy::{ExposeSecret, SecretString};

use model::Page;
pub use model::{DialpadCompany, DialpadNumber, DialpadOffice, DialpadUser, Standing};

use crate::upstream::{Idempotency, Pages, Service, UpstreamClient, UpstreamError, read_json};

/// Dialpad's API hosts: production and the developer sandbox (the `servers` of Dialpad's own
/// OpenAPI description, vendor/dialpad-openapi.json). A Dialpad API key may be sent to these
/// without a platform admin naming them (see [`crate::upstream::allowed`]).
pub const API_ENDPOINTS: &[&str] = &["https://dialpad.com", "https://sandbox.dialpad.com"];

/// Dialpad documents 20 requests per second per company.
pub const REQUESTS_PER_SECOND: u32 = 20;

/// Page size: `limit` is soft-deprecated and values over 100 are refused at random, so never more.
pub const PAGE_SIZE: u32 = 100;

/// Reads one Dialpad company.
#[derive(Clone)]
pub struct DialpadClient {
    upstream: UpstreamClient,
    base: String,
    api_key: SecretString,
}

impl DialpadClient {
    /// A client for the company whose API key is `api_key`, at `base` (e.g. `https://dialpad.com`).
    pub fn new(upstream: UpstreamClient, base: &str, api_key: SecretString) -> Self {
        Self {
            upstream,
            base: base.trim_end_matches('/').to_owned(),
            api_key,
        }
    }

    /// The API's base URL, e.g. `https://dialpad.com`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The company the API key belongs to. Dialpad's OpenAPI description
    /// (vendor/dialpad-openapi.json, path `/api/v2/company`, operationId `company.get`) answers
    /// with `schemas.company.CompanyProto` (its `id` and `name` are what is read here) and says it
    /// "Requires a company admin API key", as `GET /api/v2/numbers` does.
    pub async fn company(&self) -> Result<DialpadCompany, UpstreamError> {
        self.read("GET /api/v2/company", "/api/v2/company").await
    }

    /// One user by id (`GET /api/v2/users/{id}`, operationId `users.get` in
    /// vendor/dialpad-openapi.json: a `schemas.user.UserProto`, "Rate limit: 1200 per minute"),
    /// whatever its state; `None` when Dialpad answers 404 (the user is gone). `id` must be a
    /// Dialpad id (digits): anything else is `None` without a request, as no user has it.
    pub async fn user(&self, id: &str) -> Result<Option<DialpadUser>, UpstreamError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        match self
            .read("GET /api/v2/users/{id}", &format!("/api/v2/users/{id}"))
            .await
        {
            Ok(user) => Ok(Some(user)),
            Err(error) if error.status() == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// One GET of `path` (retried as reads are), read as JSON.
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        path: &str,
    ) -> Result<T, UpstreamError> {
        let url = format!("{}{path}", self.base);
        let url = url.as_str();
        let fetch = move || async move {
            self.upstream
                .call(endpoint, Idempotency::Idempotent, |http| {
                    self.authorised(http.get(url))
                })
                .await?
                .success(Service::Dialpad, endpoint)
        };
        let (value, _) = read_json(Service::Dialpad, endpoint, fetch).await?;
        Ok(value)
    }

    /// Sends one write (never repeated unless Dialpad provably did not act) and returns its
    /// successful answer.
    async fn write(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<crate::upstream::Answer, UpstreamError> {
        let url = format!("{}{path}", self.base);
        self.upstream
            .call(endpoint, Idempotency::NotIdempotent, |http| {
                let request = self.authorised(http.request(method.clone(), &url));
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?
            .success(Service::Dialpad, endpoint)
    }

    /// `request` with the API key as a Bearer token, marked sensitive so it is never shown.
    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut header =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.api_key.expose_secret()))
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Bearer invalid"));
        header.set_sensitive(true);
        request.header(reqwest::header::AUTHORIZATION, header)
    }

    /// Every user in `state` (`active`, `all`, ...), optionally only those of `office_ids`
    /// (Dialpad has no office filter on this endpoint, so it is applied here).
    pub async fn list_users(
        &self,
        state: &str,
        office_ids: &[String],
    ) -> Result<Vec<DialpadUser>, UpstreamError> {
        let mut users = Vec::new();
        self.list_users_by_page(state, office_ids, &mut |page| users.extend(page))
            .await?;
        Ok(users)
    }

    /// [`list_users`](Self::list_users) without keeping the listing: each page's users (after
    /// the office filter) go to `on_page` as they arrive, so that work can start before the
    /// listing ends and a large company need not be held whole. `Ok` means every page was seen.
    pub async fn list_users_by_page(
        &self,
        state: &str,
        office_ids: &[String],
        on_page: &mut (dyn FnMut(Vec<DialpadUser>) + Send),
    ) -> Result<(), UpstreamError> {
        let in_offices = |user: &DialpadUser| user.in_offices(office_ids);
        self.list("/api/v2/users", &[("state", state)], &mut |page: Vec<
            DialpadUser,
        >| {
            on_page(page.into_iter().filter(in_offices).collect());
        })
        .await
    }

    /// The company's whole number inventory.
    pub async fn list_numbers(&self) -> Result<Vec<DialpadNumber>, UpstreamError> {
        let mut numbers = Vec::new();
        self.list_numbers_by_page(&mut |page| numbers.extend(page))
            .await?;
        Ok(numbers)
    }

    /// [`list_numbers`](Self::list_numbers) without keeping the listing: each page goes to
    /// `on_page` as it arrives.
    pub async fn list_numbers_by_page(
        &self,
        on_page: &mut (dyn FnMut(Vec<DialpadNumber>) + Send),
    ) -> Result<(), UpstreamError> {
        self.list("/api/v2/numbers", &[], on_page).await
    }

    /// The company's offices (`GET /api/v2/offices`, operationId `offices.list` in
    /// vendor/dialpad-openapi.json: a cursor-paged collection of `schemas.office.OfficeProto`,
    /// whose `id` and `name` are read here).
    pub async fn list_offices(&self) -> Result<Vec<DialpadOffice>, UpstreamError> {
        let mut offices = Vec::new();
        self.list("/api/v2/offices", &[], &mut |page| offices.extend(page))
            .await?;
        Ok(offices)
    }

    /// Reads every page of `path`, handing each page's items to `on_page` in order. The cursor is
    /// the only thing Dialpad hands back (`cursor` in its collections, `vendor/dialpad-openapi.json`),
    /// sent as a query parameter to the configured endpoint; a cursor that comes back a second
    /// time, or a listing longer than [`ReadLimits::max_pages`](crate::upstream::ReadLimits), stops.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        on_page: &mut (dyn FnMut(Vec<T>) + Send),
    ) -> Result<(), UpstreamError> {
        let endpoint = format!("GET {path}");
        let url = format!("{}{path}", self.base);
        let limit = PAGE_SIZE.to_string();
        let mut cursor: Option<String> = None;
        let mut pages = Pages::new(Service::Dialpad, &endpoint, self.upstream.limits().max_pages);
        let mut handed_by: Option<String> = None;
        loop {
            pages.follow(
                cursor.as_deref().unwrap_or_default(),
                "cursor",
                handed_by.as_deref(),
            )?;
            let (at, url, limit, cursor_now) = (endpoint.as_str(), &url, &limit, cursor.as_deref());
            let fetch = move || async move {
                self.upstream
                    .call(at, Idempotency::Idempotent, |http| {
                        let mut request = http.get(url).query(query).query(&[("limit", limit.as_str())]);
                        if let Some(cursor) = cursor_now {
                            request = request.query(&[("cursor", cursor)]);
                        }
                        self.authorised(request)
                    })
                    .await?
                    .success(Service::Dialpad, at)
            };
            let (page, request_id): (Page<T>, _) = read_json(Service::Dialpad, &endpoint, fetch).await?;
            handed_by = request_id;
            on_page(page.items);
            match page.cursor.filter(|c| !c.is_empty()) {
                None => return Ok(()),
                Some(next) => cursor = Some(next),
            }
        }
    }
}
