//! Pages of 100,000 items, which no upstream documents (Dialpad pages hold at most 100 users,
//! Graph at most 999) but a misbehaving proxy or a future API could send: each is read whole
//! without a panic, every item is handed on, and the figures (body size, time, peak memory) are
//! printed, never asserted. Each body (the largest about 60 MiB) is within the 64 MiB the clients
//! read of one answer (`ReadLimits`; a larger one is refused, `tests/bounded_reads.rs`). One test
//! in this binary, so that the peak memory is its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dialpad_teams_operator::dialpad::DialpadClient;
use dialpad_teams_operator::microsoft::directory::EmailIndex;
use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
use secrecy::SecretString;

mod common;
use common::raw_http::{RawServer, Seen, graph_client, response, token};

const ITEMS: usize = 100_000;
const PHONE_SYSTEM: &str = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7";

/// Builds `{"<key>": [item(0), ..., item(ITEMS - 1)]}` as text, without a JSON tree in between,
/// so that the test's own data stays small next to what the clients use.
fn page(key: &str, item: impl Fn(usize) -> String) -> Vec<u8> {
    let mut body = format!("{{\"{key}\": [");
    for i in 0..ITEMS {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&item(i));
    }
    body.push_str("]}");
    body.into_bytes()
}

fn dialpad_page() -> Vec<u8> {
    page("items", |i| {
        format!(
            r#"{{"id": "{}", "emails": ["user{i}@contoso.com"], "phone_numbers": ["+1415{i:07}"], "state": "active", "office_id": "6422934115149452", "first_name": "User", "last_name": "{i}", "date_added": "2021-06-20T19:18:00", "is_admin": false}}"#,
            5_000_000_000_000_000u64 + i as u64
        )
    })
}

fn graph_users_page() -> Vec<u8> {
    page("value", |i| {
        format!(
            r#"{{"id": "00000000-0000-4000-a000-{i:012}", "userPrincipalName": "user{i}@contoso.com", "mail": "user{i}@contoso.com", "proxyAddresses": ["SMTP:user{i}@contoso.com", "smtp:u{i}@contoso.onmicrosoft.com"], "accountEnabled": true, "usageLocation": "US", "assignedLicenses": [{{"skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "disabledPlans": []}}], "assignedPlans": [{{"servicePlanId": "{PHONE_SYSTEM}", "capabilityStatus": "Enabled", "service": "MicrosoftCommunicationsOnline"}}, {{"servicePlanId": "57ff2da0-773e-42df-b2af-ffb7a2317929", "capabilityStatus": "Enabled", "service": "TeamspaceAPI"}}]}}"#
        )
    })
}

fn graph_numbers_page() -> Vec<u8> {
    page("value", |i| {
        format!(
            r#"{{"telephoneNumber": "+1415{i:07}", "numberType": "directRouting", "assignmentStatus": "userAssigned", "activationState": "activated", "assignmentTargetId": "00000000-0000-4000-a000-{i:012}", "assignmentCategory": "primary"}}"#
        )
    })
}

/// Starts a new peak: Linux resets the peak resident memory (VmHWM) on writing 5 to clear_refs.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak and current resident memory of this process, in MiB (Linux).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn report(what: &str, bytes: usize, elapsed: Duration, before: f64) {
    let (peak, now) = memory();
    println!(
        "{what}: {ITEMS} items, {:.1} MiB body, read and handed on in {:.2} s; peak RSS {peak:.0} MiB during it ({:+.0} MiB over the {before:.0} MiB before), {now:.0} MiB after",
        bytes as f64 / 1_048_576.0,
        elapsed.as_secs_f64(),
        peak - before,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_100000_items_are_read_whole_without_a_panic() {
    let dialpad_body = Arc::new(dialpad_page());
    let users_body = Arc::new(graph_users_page());
    let numbers_body = Arc::new(graph_numbers_page());
    let (d, u, n) = (dialpad_body.clone(), users_body.clone(), numbers_body.clone());
    let server = RawServer::start(move |seen: &Seen| {
        let ok = |body: &[u8]| response(200, "application/json", body);
        match seen.path.as_str() {
            p if p.ends_with("/oauth2/v2.0/token") => token(),
            "/api/v2/users" => ok(&d),
            "/v1.0/users" => ok(&u),
            "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments" if seen.earlier == 0 => ok(&n),
            "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments" => ok(br#"{"value": []}"#),
            _ => response(404, "application/json", b"{}"),
        }
    })
    .await;
    let http = http_client(&[]).unwrap();

    let dialpad = DialpadClient::new(
        UpstreamClient::new(Service::Dialpad, http.clone(), None, RetryPolicy::default()),
        &server.base,
        SecretString::from("k".to_owned()),
    );
    reset_peak();
    let before = memory().1;
    let started = Instant::now();
    let mut seen = 0;
    let mut phones = 0;
    dialpad
        .list_users_by_page("all", &[], &mut |page| {
            seen += page.len();
            phones += page.iter().filter(|u| !u.phone_numbers.is_empty()).count();
        })
        .await
        .unwrap();
    report(
        "Dialpad GET /api/v2/users",
        dialpad_body.len(),
        started.elapsed(),
        before,
    );
    assert_eq!((seen, phones), (ITEMS, ITEMS));

    let graph = graph_client(&server.base);
    reset_peak();
    let before = memory().1;
    let started = Instant::now();
    let mut index = EmailIndex::default();
    let mut position = 0;
    let mut licensed = 0;
    graph
        .list_users_by_page(&mut |page| {
            for user in page {
                licensed += usize::from(!user.assigned_plans.is_empty());
                index.insert(position, &user);
                position += 1;
            }
        })
        .await
        .unwrap();
    report(
        "Graph GET /v1.0/users (indexed)",
        users_body.len(),
        started.elapsed(),
        before,
    );
    assert_eq!((position, licensed), (ITEMS, ITEMS));
    assert_eq!(index.find("U99999@contoso.onmicrosoft.com"), [99_999]);

    reset_peak();
    let before = memory().1;
    let started = Instant::now();
    let numbers = graph.list_numbers().await.unwrap();
    report(
        "Graph GET numberAssignments",
        numbers_body.len(),
        started.elapsed(),
        before,
    );
    assert_eq!(numbers.len(), ITEMS);
    assert_eq!(
        server.requests(
            "GET",
            "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments"
        ),
        2,
        "a page of 1000 or more asks for the next one, which is empty"
    );
}
