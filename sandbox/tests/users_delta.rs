//! The sandbox's Microsoft Graph `GET /v1.0/users/delta` over real HTTP: the initial round pages
//! through every user, idle rounds are one request, the admin's changes come back as exactly the
//! users they changed, and state tokens are refused as Graph documents.

mod common;

use std::collections::HashSet;

use common::directory::{Directory, change, items, org};
use dialpad_teams_sandbox::Endpoint;
use serde_json::{Value, json};

const PLANS: &str =
    "id,userPrincipalName,mail,accountEnabled,usageLocation,assignedLicenses,assignedPlans,proxyAddresses";
/// Microsoft 365 Phone System (`MCOEV`), from Microsoft's licensing table in `vendor/`.
const MCOEV: &str = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7";

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

fn phone_system_status(user: &Value) -> Option<&str> {
    user["assignedPlans"]
        .as_array()?
        .iter()
        .find(|plan| plan["servicePlanId"] == MCOEV)
        .and_then(|plan| plan["capabilityStatus"].as_str())
}

#[tokio::test]
async fn the_initial_round_pages_through_every_user_as_users_renders_them_and_ends_with_a_delta_link() {
    let directory = Directory::start(&org(230, "")).await;
    let (pages, delta_link) = directory
        .round(&format!("/v1.0/users/delta?$select={PLANS}"), &[])
        .await;
    assert_eq!(pages.len(), 3, "232 users, 100 a page");
    assert!(
        pages[1]["@odata.nextLink"]
            .as_str()
            .is_some_and(|l| !l.contains("$select"))
    );
    assert!(delta_link.contains("/v1.0/users/delta?$deltatoken="));
    let delta_users = items(&pages);
    let (_, _, listed) = directory
        .get(&format!("/v1.0/users?$select={PLANS}&$top=999"), &[])
        .await;
    let listed = listed["value"].as_array().expect("users").clone();
    assert_eq!(delta_users.len(), listed.len());
    assert_eq!(ids(&delta_users), ids(&listed));
    for user in &delta_users {
        let same = listed.iter().find(|l| l["id"] == user["id"]).expect("listed");
        let mut expected = same.as_object().expect("an object").clone();
        // A property never set is left out of delta responses, where /users writes null.
        expected.retain(|_, value| !value.is_null());
        assert_eq!(
            user.as_object(),
            Some(&expected),
            "the same user, rendered the same way"
        );
    }
    let no_mail = delta_users
        .iter()
        .find(|u| u["userPrincipalName"] == "nomail@contoso.com")
        .expect("listed");
    assert!(no_mail.get("mail").is_none() && no_mail.get("usageLocation").is_none());
}

#[tokio::test]
async fn an_idle_round_is_one_request_with_no_users_and_a_new_delta_link() {
    let directory = Directory::start(&org(150, "")).await;
    let (_, delta_link) = directory
        .round("/v1.0/users/delta?$select=id,accountEnabled", &[])
        .await;
    directory.sandbox.reset_counters();
    let (pages, next_link) = directory.round(&delta_link, &[]).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["value"], json!([]));
    let counters = directory.sandbox.counters();
    assert_eq!(counters.requests_to(Endpoint::GraphUsersDelta, "GET"), 1);
    assert_eq!(counters.requests_to(Endpoint::GraphUsers, "GET"), 0);
    let (again, _) = directory.round(&next_link, &[]).await;
    assert_eq!(again[0]["value"], json!([]), "the new deltaLink works too");
}

#[tokio::test]
async fn after_an_admins_changes_the_next_round_returns_exactly_the_users_they_changed() {
    let directory = Directory::start(&org(120, "")).await;
    let (_, delta_link) = directory
        .round(&format!("/v1.0/users/delta?$select={PLANS}"), &[])
        .await;
    let added = directory
        .changed(json!({"change": "addUser", "userPrincipalName": "new.hire@contoso.com", "displayName": "New Hire"}))
        .await;
    let unlicensed = directory
        .changed(change("removeLicence", "user000001@contoso.com"))
        .await;
    let disabled = directory
        .changed(change("disableUser", "user000002@contoso.com"))
        .await;
    let deleted = directory
        .changed(change("deleteUser", "user000003@contoso.com"))
        .await;
    let (pages, next_link) = directory.round(&delta_link, &[]).await;
    let changed = items(&pages);
    assert_eq!(
        ids(&changed),
        HashSet::from([
            added.clone(),
            unlicensed.clone(),
            disabled.clone(),
            deleted.clone()
        ])
    );
    let by_id = |id: &str| changed.iter().find(|u| u["id"] == id).expect("reported");
    let new_hire = by_id(&added);
    assert_eq!(new_hire["userPrincipalName"], "new.hire@contoso.com");
    assert_eq!(new_hire["mail"], "new.hire@contoso.com");
    assert_eq!(new_hire["accountEnabled"], true);
    assert_eq!(new_hire["usageLocation"], "US");
    assert_eq!(phone_system_status(new_hire), Some("Enabled"));
    assert_eq!(phone_system_status(by_id(&unlicensed)), Some("Deleted"));
    assert!(
        by_id(&unlicensed)["assignedLicenses"][0]["disabledPlans"]
            .as_array()
            .is_some_and(|plans| plans.contains(&json!(MCOEV)))
    );
    assert_eq!(
        by_id(&unlicensed)["accountEnabled"],
        true,
        "every selected property, changed or not"
    );
    assert_eq!(by_id(&disabled)["accountEnabled"], false);
    assert_eq!(
        by_id(&deleted),
        &json!({"id": deleted, "@removed": {"reason": "changed"}})
    );
    let (idle, _) = directory.round(&next_link, &[]).await;
    assert_eq!(idle[0]["value"], json!([]), "reported once");
}

#[tokio::test]
async fn only_changes_to_selected_properties_report_a_user_and_minimal_answers_carry_only_them() {
    let directory = Directory::start(&org(10, "")).await;
    let (_, delta_link) = directory
        .round("/v1.0/users/delta?$select=id,displayName,accountEnabled", &[])
        .await;
    directory
        .changed(change("removeLicence", "user000001@contoso.com"))
        .await;
    let (pages, delta_link) = directory.round(&delta_link, &[]).await;
    assert_eq!(items(&pages), Vec::<Value>::new(), "assignedPlans is not tracked");
    let disabled = directory
        .changed(change("disableUser", "user000002@contoso.com"))
        .await;
    let (pages, _) = directory
        .round(&delta_link, &[("Prefer", "return=minimal")])
        .await;
    assert_eq!(
        items(&pages),
        vec![json!({"id": disabled, "accountEnabled": false})]
    );
    let (pages, _) = directory.round(&delta_link, &[]).await;
    let full = &items(&pages)[0];
    assert_eq!(
        full["displayName"], "User000002",
        "without minimal, every selected property"
    );
}

#[tokio::test]
async fn a_round_of_many_changes_pages_and_a_filter_tracks_only_the_named_users() {
    let directory = Directory::start(&org(5, "")).await;
    let watched = directory.id_of("user000004@contoso.com").await;
    let filter = format!("/v1.0/users/delta?$select=id,accountEnabled&$filter=id eq '{watched}'");
    let (filtered_pages, filtered_link) = directory.round(&filter, &[]).await;
    assert_eq!(ids(&items(&filtered_pages)), HashSet::from([watched.clone()]));
    let (_, delta_link) = directory.round("/v1.0/users/delta?$select=id", &[]).await;
    for i in 0..130 {
        directory
            .changed(json!({"change": "addUser", "userPrincipalName": format!("hire{i:03}@contoso.com")}))
            .await;
    }
    directory
        .changed(change("deleteUser", "user000004@contoso.com"))
        .await;
    let (pages, _) = directory.round(&delta_link, &[]).await;
    assert_eq!(pages.len(), 2);
    assert_eq!(items(&pages).len(), 131);
    let (pages, _) = directory.round(&filtered_link, &[]).await;
    assert_eq!(
        items(&pages),
        vec![json!({"id": watched, "@removed": {"reason": "changed"}})]
    );
}

#[tokio::test]
async fn latest_skips_the_initial_round_and_reports_later_changes() {
    let directory = Directory::start(&org(20, "")).await;
    let (pages, delta_link) = directory
        .round(
            "/v1.0/users/delta?$deltatoken=latest&$select=id,accountEnabled",
            &[],
        )
        .await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["value"], json!([]));
    let disabled = directory
        .changed(change("disableUser", "user000007@contoso.com"))
        .await;
    let (pages, _) = directory.round(&delta_link, &[]).await;
    assert_eq!(
        items(&pages),
        vec![json!({"id": disabled, "accountEnabled": false})]
    );
}

#[tokio::test]
async fn the_fully_qualified_and_function_call_spellings_answer_the_same_round() {
    let directory = Directory::start(&org(3, "")).await;
    for path in ["/v1.0/users/microsoft.graph.delta", "/v1.0/users/delta()"] {
        let (pages, _) = directory.round(&format!("{path}?$select=id"), &[]).await;
        assert_eq!(items(&pages).len(), 5, "{path}");
    }
    let counters = directory.sandbox.counters();
    assert_eq!(counters.requests_to(Endpoint::GraphUsersDelta, "GET"), 2);
}
