//! How fast the sandbox serves a full paged listing of a large org: Graph users (`$top=999`),
//! Dialpad users (`limit=100`) and Teams numbers (`$top=1000`), over real HTTP on loopback.
//!
//! `cargo bench --bench sandbox_listing` lists 100,000 users and prints the figures. Under
//! `cargo test` (no `--bench` argument) it runs the same code on 2,000 users as a smoke test.

use std::time::Instant;

use dialpad_teams_sandbox::generator::{self, GeneratorSpec};
use dialpad_teams_sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

const SECRET: &str = "bench-client-secret";
const API_KEY: &str = "bench-api-key";

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let users = if full { 100_000 } else { 2_000 };
    let started = Instant::now();
    let mut org = generator::generate(&GeneratorSpec::with_every_case(users, 1), "pw", SECRET, API_KEY);
    // Measure serving, not the documented rate limits.
    org.fixture.behaviour.graph_requests_per_second = 1_000_000;
    org.fixture.behaviour.dialpad_requests_per_second = 1_000_000;
    let teams_users = org.fixture.tenant.users.len();
    let sandbox = Sandbox::start(&org.fixture, SandboxOptions::default())
        .await
        .expect("sandbox starts");
    println!(
        "org of {users} Dialpad users / {teams_users} Teams users generated and loaded in {:.2?}",
        started.elapsed()
    );
    let client = reqwest::Client::new();
    let base = sandbox.base_url().to_owned();

    let token: Value = client
        .post(format!("{base}/{}/oauth2/v2.0/token", generator::TENANT_ID))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", generator::APPLICATION_CLIENT_ID),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token body");
    let token = token["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();

    let started = Instant::now();
    let mut url = format!(
        "{base}/v1.0/users?$select=id,mail,userPrincipalName,proxyAddresses,accountEnabled,assignedPlans,assignedLicenses&$top=999"
    );
    let (mut listed, mut pages) = (0usize, 0usize);
    loop {
        let page: Value = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed += page["value"].as_array().expect("a page").len();
        pages += 1;
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(listed, teams_users + org.fixture.tenant.admins.len());
    report("Graph users ($top=999)", listed, pages, started);

    let started = Instant::now();
    let (mut listed, mut pages, mut cursor) = (0usize, 0usize, None::<String>);
    loop {
        let mut request = client
            .get(format!("{base}/api/v2/users"))
            .bearer_auth(API_KEY)
            .query(&[("state", "all"), ("limit", "100")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        listed += page["items"].as_array().expect("a page").len();
        pages += 1;
        match page["cursor"].as_str().filter(|c| !c.is_empty()) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(listed, users);
    report("Dialpad users (limit=100)", listed, pages, started);

    let started = Instant::now();
    let (mut listed, mut pages) = (0usize, 0usize);
    loop {
        let url = format!(
            "{base}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments?$top=1000&$skip={listed}"
        );
        let page: Value = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let count = page["value"].as_array().expect("a page").len();
        listed += count;
        pages += 1;
        if count < 1000 {
            break;
        }
    }
    report("Teams numbers ($top=1000)", listed, pages, started);
    if let Some(rss) = resident_memory() {
        println!("sandbox process resident memory: {rss}");
    }
}

fn report(what: &str, listed: usize, pages: usize, started: Instant) {
    let elapsed = started.elapsed();
    println!(
        "{what:<28} {listed:>7} items in {pages:>5} pages: {elapsed:>9.2?} ({:.0} items/s)",
        listed as f64 / elapsed.as_secs_f64()
    );
}

fn resident_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .map(|l| l.trim_start_matches("VmRSS:").trim().to_owned())
}
