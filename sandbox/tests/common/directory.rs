//! A sandbox with a directory to track, a client signed in as an app that may read users, and
//! the calls the `users/delta` tests make: delta rounds and the admin's directory changes.

use dialpad_teams_sandbox::fixture::TeamsUserFixture;
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::TENANT;
use super::vendor::assert_graph_schema;

/// An app with `User.Read.All`.
pub const READER_APP: &str = "5f1e6a2b-1111-4c3d-9e8f-0a1b2c3d4e5f";
/// An app with Teams number permissions only.
pub const NUMBERS_APP: &str = "5f1e6a2b-2222-4c3d-9e8f-0a1b2c3d4e5f";

/// The users' collection schema delta pages are checked against (its items admit `@removed`,
/// its body `@odata.deltaLink`, as instance annotations).
pub const USER_COLLECTION: &str = "microsoft.graph.userCollectionResponse";

/// An org with an admin, a user without mail, `users` [`licensed_users`] and `behaviour`.
pub fn org(users: usize, behaviour: &str) -> OrgFixture {
    let yaml = format!(
        r#"
seed: 3
tenant:
  id: {TENANT}
  domains: [contoso.com]
  applications:
  - {{clientId: {READER_APP}, clientSecret: reader-secret, permissions: [User.Read.All]}}
  - {{clientId: {NUMBERS_APP}, clientSecret: numbers-secret, permissions: [TeamsTelephoneNumber.ReadWrite.All]}}
  admins:
  - {{userPrincipalName: admin@contoso.com, password: p, roles: [TeamsAdministrator]}}
  users:
  - {{userPrincipalName: nomail@contoso.com}}
{behaviour}
"#
    );
    let mut fixture = OrgFixture::from_yaml(&yaml, "users_delta").expect("the fixture is valid");
    fixture.tenant.users.extend(licensed_users(users));
    fixture
}

/// `count` enabled users with an E5 licence: `user000000@contoso.com`, ... (mail and SMTP
/// address the same).
pub fn licensed_users(count: usize) -> impl Iterator<Item = TeamsUserFixture> {
    (0..count).map(|i| TeamsUserFixture {
        user_principal_name: format!("user{i:06}@contoso.com"),
        mail: Some(format!("user{i:06}@contoso.com")),
        proxy_addresses: vec![format!("SMTP:user{i:06}@contoso.com")],
        account_enabled: true,
        usage_location: Some("US".into()),
        licenses: vec!["SPE_E5".into()],
        ..Default::default()
    })
}

/// A running sandbox and a client signed in to it.
pub struct Directory {
    /// The sandbox.
    pub sandbox: Sandbox,
    client: reqwest::Client,
    token: String,
}

impl Directory {
    /// Serves `fixture`, signed in as [`READER_APP`].
    pub async fn start(fixture: &OrgFixture) -> Directory {
        let sandbox = Sandbox::start(fixture, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        Self::signed_in(sandbox, READER_APP, "reader-secret").await
    }

    /// A client of `sandbox` signed in as `app`.
    pub async fn signed_in(sandbox: Sandbox, app: &str, secret: &str) -> Directory {
        let client = reqwest::Client::new();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", app),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        let token = super::token_from(&client, &sandbox, &form).await;
        Directory {
            sandbox,
            client,
            token,
        }
    }

    /// `GET` a path or a whole URL with `headers`: status, `Location` and JSON body.
    pub async fn get(
        &self,
        path_or_url: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, Value) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.sandbox.base_url())
        };
        let mut request = self.client.get(url).bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, location, response.json().await.expect("a JSON body"))
    }

    /// Follows a delta round from `start` to its deltaLink: every page (each checked against the
    /// vendor schema, each with exactly one of nextLink and deltaLink) and the deltaLink.
    pub async fn round(&self, start: &str, headers: &[(&str, &str)]) -> (Vec<Value>, String) {
        let mut pages = Vec::new();
        let mut url = start.to_owned();
        loop {
            let (status, _, page) = self.get(&url, headers).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_graph_schema(USER_COLLECTION, &page);
            let next = page["@odata.nextLink"].as_str().map(str::to_owned);
            let delta = page["@odata.deltaLink"].as_str().map(str::to_owned);
            pages.push(page);
            match (next, delta) {
                (Some(next), None) => url = next,
                (None, Some(delta)) => return (pages, delta),
                _ => panic!("a page carries exactly one of nextLink and deltaLink: {pages:?}"),
            }
        }
    }

    /// `POST /_sandbox/directory/changes` with `change`: status and body text.
    pub async fn change(&self, change: Value) -> (StatusCode, String) {
        let response = self
            .client
            .post(format!("{}/_sandbox/directory/changes", self.sandbox.base_url()))
            .json(&change)
            .send()
            .await
            .expect("the sandbox answers");
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// Applies `change`, which must succeed; the changed user's id.
    pub async fn changed(&self, change: Value) -> String {
        let (status, body) = self.change(change.clone()).await;
        assert_eq!(status, StatusCode::OK, "{change}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON answer");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// The id of the user `upn`, from `/users`.
    pub async fn id_of(&self, upn: &str) -> String {
        let (status, _, user) = self.get(&format!("/v1.0/users/{upn}?$select=id"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        user["id"].as_str().expect("an id").to_owned()
    }
}

/// A change body for `upn`.
pub fn change(kind: &str, upn: &str) -> Value {
    json!({"change": kind, "userPrincipalName": upn})
}

/// Every item of every page.
pub fn items(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|page| page["value"].as_array().expect("a value array").clone())
        .collect()
}
