//! The sandbox's Teams user configuration list over real HTTP (pages, `$select`, `$filter`) and
//! `assignNumber`'s emergency locations, on the Teams policy tests' org (`common/teams.rs`).

mod common;

use std::time::Duration;

use common::teams::*;
use common::vendor::assert_graph_schema;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn user_configurations_are_listed_in_pages_through_next_links_with_select_and_filter() {
    let h = Harness::start("").await;
    let mut url =
        "/v1.0/admin/teams/userConfigurations?$top=2&$select=id,effectivePolicyAssignments".to_owned();
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = h.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_graph_schema(CONFIGURATIONS, &body);
        pages += 1;
        for item in body["value"].as_array().expect("a page") {
            assert!(
                item.get("userPrincipalName").is_none(),
                "$select keeps only what is asked: {item}"
            );
            seen.push(item["id"].as_str().expect("an id").to_owned());
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    // Ada, Bob and Carol hold Teams; Erin and the admins (no licences) do not.
    assert_eq!(seen, [ADA, BOB, CAROL]);
    assert_eq!(pages, 2);

    let filter = format!("/v1.0/admin/teams/userConfigurations?$filter=id in ('{ADA}','{CAROL}')");
    let (_, body) = h.get(&filter).await;
    assert_graph_schema(CONFIGURATIONS, &body);
    let ids: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(ids, [ADA, CAROL]);
    let (status, body) = h.get("/v1.0/admin/teams/userConfigurations?$top=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = h
        .get("/v1.0/admin/teams/userConfigurations?$skiptoken=garbage")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn assign_number_with_an_unknown_emergency_location_fails_the_operation() {
    let h = Harness::start("").await;
    let assign = |location: &str, number: &str| json!({"telephoneNumber": number, "assignmentTargetId": ADA, "numberType": "directRouting", "locationId": location});
    for (location, number, outcome) in [
        ("10c00000-0000-4000-a000-0000000000ff", "+4930123456701", "failed"),
        (BERLIN_LOCATION, "+4930123456702", "succeeded"),
    ] {
        let path = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber";
        let response = h.post_json(&h.token, path, &assign(location, number)).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let operation = response.headers()["location"]
            .to_str()
            .expect("a Location")
            .to_owned();
        let mut body = Value::Null;
        for _ in 0..50 {
            body = h.get(&operation).await.1;
            if body["status"] != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(body["status"], outcome, "{body}");
        if outcome == "failed" {
            let detail = body["numbers"][0]["statusDetail"].as_str().unwrap_or_default();
            assert!(detail.contains(location), "{body}");
        }
    }
}
