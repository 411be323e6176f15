//! The sandbox's Dialpad API v2 (`/api/v2/users`, `/api/v2/numbers`) over real HTTP: keys,
//! cursor paging, filters, the soft-deprecated `limit`, encodings and the 20 requests/s limit.

mod common;

use std::collections::HashSet;

use common::vendor::{assert_dialpad_schema, dialpad_response_schema};
use dialpad_teams_sandbox::{OrgFixture, Sandbox, SandboxOptions};
use reqwest::{Client, StatusCode};
use serde_json::Value;

const KEY: &str = "dp-test-key";

fn yaml_fixture(dialpad_extra: &str, users: &str, rate: u32) -> OrgFixture {
    let yaml = format!(
        r#"
seed: 5
tenant:
  id: 9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34
  domains: [contoso.com]
dialpad:
  apiKey: {KEY}
  companyId: "4508591728425653"
{dialpad_extra}
  users:
{users}
  otherNumbers:
  - {{number: "+14155550000", status: office}}
  - {{number: "+14155550001", status: department}}
  - {{number: "+18005550002", status: available}}
behaviour: {{dialpadRequestsPerSecond: {rate}}}
"#
    );
    OrgFixture::from_yaml(&yaml, "sandbox_dialpad test").expect("the test fixture is valid")
}

/// A small company: users in every state, one without email, one with two emails.
fn small_company(dialpad_extra: &str) -> OrgFixture {
    let users = r#"
  - {id: "5835806903417901", emails: [ada@contoso.com], phoneNumbers: ["+14155551001"], firstName: Ada, lastName: Lovelace}
  - {id: "5835806903417902", emails: [Bob@Contoso.com, robert@old.example], phoneNumbers: ["+14155551002"]}
  - {id: "5835806903417903", emails: [carol@contoso.com], phoneNumbers: ["+14155551003"], state: suspended}
  - {id: "5835806903417904", emails: [dave@contoso.com], phoneNumbers: ["+14155551004"], state: deleted}
  - {id: "5835806903417905", emails: [erin@contoso.com], state: pending}
  - {id: "5835806903417906", phoneNumbers: ["+442071234567"]}
  - {id: "5835806903417907", emails: [gone@contoso.com], phoneNumbers: ["+14155551007"], state: cancelled}
"#;
    yaml_fixture(dialpad_extra, users, 1000)
}

fn many_users(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "  - {{emails: [user{i:03}@contoso.com], phoneNumbers: [\"+1206555{:04}\"]}}\n",
                1000 + i
            )
        })
        .collect()
}

struct Harness {
    sandbox: Sandbox,
    client: Client,
}

impl Harness {
    async fn start(fixture: &OrgFixture) -> Harness {
        let sandbox = Sandbox::start(fixture, SandboxOptions::default())
            .await
            .expect("the sandbox starts");
        Harness {
            sandbox,
            client: Client::new(),
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let (status, body) = self.get_unchecked(path, query).await;
        if status == StatusCode::OK {
            assert_dialpad_schema(&dialpad_response_schema(path), &body);
        }
        (status, body)
    }

    /// `get` for a path that is not one of the spec's own (`/api/v2/offices/123`): the caller
    /// checks the body against its schema.
    async fn get_unchecked(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.sandbox.base_url()))
            .query(query)
            .bearer_auth(KEY)
            .send()
            .await
            .expect("answered");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Follows the cursor to the end; returns every page's items.
    async fn sweep(&self, path: &str, query: &[(&str, &str)]) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params: Vec<(&str, &str)> = query.to_vec();
            if let Some(cursor) = &cursor {
                params.push(("cursor", cursor));
            }
            let (status, body) = self.get(path, &params).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages.push(body["items"].as_array().expect("items").clone());
            match body
                .get("cursor")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
            {
                Some(next) => cursor = Some(next.to_owned()),
                None => return pages,
            }
            assert!(pages.len() < 10_000, "the sweep never ends");
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|u| u["id"].as_str().expect("a string id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_company_endpoint_names_the_company_of_the_key() {
    let fixture = small_company(
        "  companyName: Contoso\n  otherCompany: {apiKey: other-key, companyId: \"6120375840275968\", companyName: Fabrikam}",
    );
    let h = Harness::start(&fixture).await;
    assert_eq!(
        dialpad_response_schema("/api/v2/company"),
        "schemas.company.CompanyProto"
    );
    let (status, own) = h.get("/api/v2/company", &[]).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["id"], "4508591728425653");
    assert_eq!(own["name"], "Contoso");
    let url = format!("{}/api/v2/company", h.sandbox.base_url());
    let other = h
        .client
        .get(&url)
        .bearer_auth("other-key")
        .send()
        .await
        .expect("answered");
    assert_eq!(other.status(), StatusCode::OK);
    let other: Value = other.json().await.expect("JSON");
    assert_dialpad_schema("schemas.company.CompanyProto", &other);
    assert_eq!(
        (&other["id"], &other["name"]),
        (&Value::from("6120375840275968"), &Value::from("Fabrikam"))
    );
    for path in ["/api/v2/users", "/api/v2/numbers"] {
        let url = format!("{}{path}", h.sandbox.base_url());
        let page: Value = h
            .client
            .get(&url)
            .bearer_auth("other-key")
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            page["items"],
            serde_json::json!([]),
            "{path}: the other company has nothing"
        );
    }
    let wrong = h
        .client
        .get(&url)
        .bearer_auth("not-a-key")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_fixture_without_company_fields_names_the_default_company() {
    let h = Harness::start(&small_company("")).await;
    let (status, company) = h.get("/api/v2/company", &[]).await;
    assert_eq!(status, StatusCode::OK, "{company}");
    assert_eq!(company["name"], "Contoso");
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_and_the_apikey_parameter_also_works() {
    let h = Harness::start(&small_company("")).await;
    let url = format!("{}/api/v2/users", h.sandbox.base_url());
    let missing = h.client.get(&url).send().await.expect("answered");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body: Value = missing.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], 401, "{body}");
    let wrong = h
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let numbers = h
        .client
        .get(format!("{}/api/v2/numbers", h.sandbox.base_url()))
        .bearer_auth("nope")
        .send();
    assert_eq!(
        numbers.await.expect("answered").status(),
        StatusCode::UNAUTHORIZED
    );
    let by_parameter = h
        .client
        .get(&url)
        .query(&[("apikey", KEY)])
        .send()
        .await
        .expect("answered");
    assert_eq!(by_parameter.status(), StatusCode::OK);
}

#[tokio::test]
async fn paging_250_users_at_limit_100_returns_each_user_exactly_once() {
    let h = Harness::start(&yaml_fixture("", &many_users(250), 1000)).await;
    let pages = h
        .sweep("/api/v2/users", &[("limit", "100"), ("state", "active")])
        .await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let all: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 250, "each user exactly once");

    let default_pages = h.sweep("/api/v2/users", &[]).await;
    assert_eq!(
        default_pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [100, 100, 50],
        "pages of 100 without limit"
    );
    let small_pages = h.sweep("/api/v2/users", &[("limit", "40")]).await;
    assert_eq!(small_pages.len(), 7);
    assert_eq!(
        small_pages.iter().flat_map(|p| ids(p)).collect::<Vec<_>>(),
        all,
        "same order at any page size"
    );
}

#[tokio::test]
async fn a_user_removed_mid_sweep_does_not_shift_the_rest() {
    let h = Harness::start(&yaml_fixture("", &many_users(150), 1000)).await;
    let (_, first) = h.get("/api/v2/users", &[("limit", "50")]).await;
    let first_ids = ids(first["items"].as_array().expect("items"));
    let cursor = first["cursor"].as_str().expect("a cursor").to_owned();
    // Remove a user already returned: the next page must still start right after the cursor.
    let removed = first_ids[10].clone();
    h.sandbox
        .with_world(|w| w.dialpad.users.retain(|u| u.id != removed));
    let (_, second) = h
        .get("/api/v2/users", &[("limit", "50"), ("cursor", &cursor)])
        .await;
    let expected: Vec<String> = h
        .sandbox
        .with_world(|w| w.dialpad.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>())[49..99]
        .to_vec();
    assert_eq!(ids(second["items"].as_array().expect("items")), expected);
}

#[tokio::test]
async fn state_defaults_to_active_and_filters_each_state() {
    let h = Harness::start(&small_company("")).await;
    let (_, default) = h.get("/api/v2/users", &[]).await;
    let active = ["5835806903417901", "5835806903417902", "5835806903417906"];
    assert_eq!(ids(default["items"].as_array().expect("items")), active);
    assert!(
        default.get("cursor").is_none(),
        "a single page has no cursor: {default}"
    );
    let cases: [(&str, &[&str]); 5] = [
        ("active", &active),
        ("suspended", &["5835806903417903"]),
        ("deleted", &["5835806903417904"]),
        ("pending", &["5835806903417905"]),
        ("cancelled", &["5835806903417907"]),
    ];
    for (state, expected) in cases {
        let (status, body) = h.get("/api/v2/users", &[("state", state)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            ids(body["items"].as_array().expect("items")),
            expected,
            "state={state}"
        );
        for user in body["items"].as_array().expect("items") {
            assert_eq!(user["state"], state);
        }
    }
    let (_, all) = h.get("/api/v2/users", &[("state", "all")]).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 7);
    let (status, body) = h.get("/api/v2/users", &[("state", "retired")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], 400);
    let (_, admins) = h.get("/api/v2/users", &[("company_admin", "true")]).await;
    assert_eq!(
        admins["items"],
        serde_json::json!([]),
        "no company admins are modelled"
    );
}

#[tokio::test]
async fn email_and_number_filters_match_any_of_a_users_values() {
    let h = Harness::start(&small_company("")).await;
    for email in ["bob@contoso.com", "BOB@CONTOSO.COM", "robert@old.example"] {
        let (_, body) = h.get("/api/v2/users", &[("email", email)]).await;
        assert_eq!(
            ids(body["items"].as_array().expect("items")),
            ["5835806903417902"],
            "email={email}"
        );
    }
    let (_, nobody) = h.get("/api/v2/users", &[("email", "bob@contoso")]).await;
    assert_eq!(nobody["items"], serde_json::json!([]), "exact match only");
    let (_, suspended) = h
        .get(
            "/api/v2/users",
            &[("email", "carol@contoso.com"), ("state", "all")],
        )
        .await;
    assert_eq!(
        ids(suspended["items"].as_array().expect("items")),
        ["5835806903417903"]
    );
    let (_, by_number) = h.get("/api/v2/users", &[("number", "+14155551001")]).await;
    assert_eq!(
        ids(by_number["items"].as_array().expect("items")),
        ["5835806903417901"]
    );
}

#[tokio::test]
async fn user_fields_follow_the_spec_and_omit_what_is_unset() {
    let h = Harness::start(&small_company("")).await;
    let (_, body) = h.get("/api/v2/users", &[("state", "all")]).await;
    let items = body["items"].as_array().expect("items");
    let ada = &items[0];
    assert_eq!(ada["emails"], serde_json::json!(["ada@contoso.com"]));
    assert_eq!(ada["phone_numbers"], serde_json::json!(["+14155551001"]));
    assert_eq!(ada["display_name"], "Ada Lovelace");
    assert_eq!(ada["company_id"], "4508591728425653");
    assert!(
        ada["office_id"]
            .as_str()
            .is_some_and(|o| o.bytes().all(|b| b.is_ascii_digit()))
    );
    assert_eq!(ada["license"], "talk");
    assert_eq!(ada["is_admin"], false);
    let no_email = items
        .iter()
        .find(|u| u["id"] == "5835806903417906")
        .expect("the user without email");
    assert!(
        no_email.get("emails").is_none(),
        "a user without emails has no emails key: {no_email}"
    );
    let pending = items
        .iter()
        .find(|u| u["id"] == "5835806903417905")
        .expect("the pending user");
    assert!(pending.get("phone_numbers").is_none(), "{pending}");
    assert!(
        pending.get("date_active").is_none(),
        "a pending user never activated: {pending}"
    );
}

#[tokio::test]
async fn ids_are_strings_and_timestamps_have_no_zone_by_default() {
    let h = Harness::start(&small_company("")).await;
    let (_, users) = h.get("/api/v2/users", &[]).await;
    let ada = &users["items"][0];
    assert_eq!(ada["id"], "5835806903417901");
    let added = ada["date_added"].as_str().expect("date_added");
    assert_eq!(added.len(), "2021-06-20T19:18:00".len(), "{added}");
    assert!(!added.ends_with('Z') && !added.contains('+'), "{added}");
    let (_, numbers) = h.get("/api/v2/numbers", &[]).await;
    assert!(numbers["items"][0]["company_id"].is_string(), "{numbers}");
}

#[tokio::test]
async fn ids_are_numbers_and_timestamps_carry_a_zone_when_the_fixture_says_so() {
    let h = Harness::start(&small_company("  idEncoding: number\n  timestampsWithZone: true")).await;
    let (_, users) = h.get("/api/v2/users", &[]).await;
    let ada = &users["items"][0];
    assert_eq!(ada["id"], 5835806903417901u64);
    assert_eq!(ada["company_id"], 4508591728425653u64);
    assert!(ada["office_id"].is_u64(), "{ada}");
    assert!(
        ada["date_added"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{ada}"
    );
    let (_, numbers) = h.get("/api/v2/numbers", &[("status", "user")]).await;
    assert!(numbers["items"][0]["target_id"].is_u64(), "{numbers}");
}

#[tokio::test]
async fn limit_over_100_returns_100_users_and_sometimes_400() {
    let h = Harness::start(&yaml_fixture("", &many_users(150), 1000)).await;
    let mut failures = 0;
    for _ in 0..50 {
        let (status, body) = h.get("/api/v2/users", &[("limit", "500")]).await;
        match status {
            StatusCode::OK => assert_eq!(body["items"].as_array().expect("items").len(), 100),
            StatusCode::BAD_REQUEST => failures += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(
        (3..=20).contains(&failures),
        "about one call in five fails, got {failures} of 50"
    );
    let (status, _) = h.get("/api/v2/users", &[("limit", "zero")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_invalid_cursor_is_400() {
    let h = Harness::start(&small_company("")).await;
    for cursor in ["not base64!", "bm9wZQ"] {
        let (status, body) = h.get("/api/v2/users", &[("cursor", cursor)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cursor}: {body}");
    }
    let (_, first) = h.get("/api/v2/numbers", &[("limit", "2")]).await;
    let numbers_cursor = first["cursor"].as_str().expect("a cursor");
    let (status, _) = h.get("/api/v2/users", &[("cursor", numbers_cursor)]).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a numbers cursor is not a users cursor"
    );
}

#[tokio::test]
async fn the_numbers_inventory_pages_and_filters_by_status() {
    let h = Harness::start(&yaml_fixture("", &many_users(230), 1000)).await;
    let pages = h.sweep("/api/v2/numbers", &[]).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 33]);
    let listed: Vec<String> = pages
        .iter()
        .flatten()
        .map(|n| n["number"].as_str().expect("a number").to_owned())
        .collect();
    let inventory: Vec<String> = h.sandbox.with_world(|w| {
        w.dialpad
            .inventory()
            .into_iter()
            .map(|n| n.number)
            .collect::<Vec<_>>()
    });
    assert_eq!(listed, inventory);

    let user_numbers: Vec<Value> = h.sweep("/api/v2/numbers", &[("status", "user")]).await.concat();
    assert_eq!(user_numbers.len(), 230);
    let first = &user_numbers[0];
    assert_eq!(first["status"], "user");
    assert_eq!(first["target_type"], "user");
    assert_eq!(first["area_code"], "206");
    assert_eq!(first["type"], "local");
    assert_eq!(first["deleted"], false);
    let owner = first["target_id"].as_str().expect("a target id");
    let (_, owner_page) = h
        .get("/api/v2/users", &[("number", first["number"].as_str().unwrap())])
        .await;
    assert_eq!(owner_page["items"][0]["id"], owner);

    let (_, offices) = h.get("/api/v2/numbers", &[("status", "office")]).await;
    let office = offices["items"].as_array().expect("items");
    assert_eq!(office.len(), 1);
    assert_eq!(office[0]["number"], "+14155550000");
    assert_eq!(office[0]["target_type"], "office");
    let (_, available) = h.get("/api/v2/numbers", &[("status", "available")]).await;
    assert_eq!(available["items"][0]["type"], "tollfree");
    assert!(available["items"][0].get("target_id").is_none());
}

#[tokio::test]
async fn more_than_20_requests_a_second_get_429_with_retry_after() {
    let h = Harness::start(&yaml_fixture("", &many_users(5), 20)).await;
    let url = format!("{}/api/v2/users", h.sandbox.base_url());
    let requests = (0..60).map(|_| h.client.get(&url).bearer_auth(KEY).send());
    let responses = futures::future::join_all(requests).await;
    let mut ok = 0;
    let mut throttled = 0;
    for response in responses {
        let response = response.expect("answered");
        match response.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                throttled += 1;
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .expect("429 carries Retry-After");
                let seconds: u64 = retry_after
                    .to_str()
                    .expect("ASCII")
                    .parse()
                    .expect("whole seconds");
                assert!(seconds >= 1, "{seconds}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!((1..=25).contains(&ok), "about 20 pass, got {ok}");
    assert!(throttled >= 30, "the rest are throttled, got {throttled}");
}

#[tokio::test]
async fn offices_list_the_main_office_with_its_numbers_and_the_fixtures_offices() {
    let fixture = small_company(
        "  companyName: Contoso\n  offices:\n  - {id: \"5012637248020480\", name: Berlin}\n  - {id: \"5012637248020481\", name: Old Paris, state: deleted}",
    );
    let h = Harness::start(&fixture).await;
    assert_eq!(
        dialpad_response_schema("/api/v2/offices"),
        "schemas.office.OfficeCollection"
    );
    let (status, body) = h.get("/api/v2/offices", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let offices = body["items"].as_array().expect("items");
    assert_eq!(offices.len(), 3, "{body}");
    assert_eq!(offices[0]["name"], "Contoso");
    assert_eq!(offices[0]["is_primary_office"], true);
    assert_eq!(offices[0]["phone_numbers"], serde_json::json!(["+14155550000"]));
    assert_eq!(offices[1]["name"], "Berlin");
    assert_eq!(offices[1]["id"], "5012637248020480");
    assert!(offices[1].get("phone_numbers").is_none(), "{body}");
    assert!(body.get("cursor").is_none(), "one page: {body}");

    let (_, active) = h.get("/api/v2/offices", &[("active_only", "true")]).await;
    assert_eq!(active["items"].as_array().map(Vec::len), Some(2), "{active}");
    let (status, _) = h.get("/api/v2/offices", &[("cursor", "anything")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, berlin) = h.get("/api/v2/offices/{id}", &[]).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a literal {{id}} is no office: {berlin}"
    );
    let (status, berlin) = h.get_unchecked("/api/v2/offices/5012637248020480", &[]).await;
    assert_eq!(status, StatusCode::OK, "{berlin}");
    assert_dialpad_schema("schemas.office.OfficeProto", &berlin);
    assert_eq!(berlin["name"], "Berlin");
    assert_eq!(berlin["is_primary_office"], false);

    let (_, company) = h.get("/api/v2/company", &[]).await;
    assert_eq!(company["office_count"], "3", "{company}");
}

#[tokio::test]
async fn one_user_is_read_by_id_in_any_state_and_an_unknown_id_is_404() {
    let h = Harness::start(&small_company(
        "  otherCompany: {apiKey: other-key, companyId: \"6120375840275968\", companyName: Fabrikam}",
    ))
    .await;
    let (_, listed) = h.get("/api/v2/users", &[("state", "all")]).await;
    let items = listed["items"].as_array().expect("items");
    let schema = dialpad_response_schema("/api/v2/users/{id}");
    for item in items {
        let id = item["id"].as_str().expect("an id");
        let (status, one) = h.get_unchecked(&format!("/api/v2/users/{id}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_dialpad_schema(&schema, &one);
        assert_eq!(&one, item, "the same user as the listing shows");
    }
    let (status, body) = h.get_unchecked("/api/v2/users/1", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], 404);
    // The other company's key sees none of the org's users.
    let id = items[0]["id"].as_str().expect("an id");
    let response = h
        .client
        .get(format!("{}/api/v2/users/{id}", h.sandbox.base_url()))
        .bearer_auth("other-key")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
