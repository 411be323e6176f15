//! A tiny HTTP/1.1 server on loopback that answers every request with the exact bytes a test
//! scripts: what no well-behaved server sends (an HTML page with status 200, an empty or cut JSON
//! body, a `Content-Length` longer than the body, a body that never ends), so the clients can be
//! driven into them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the script sees it.
pub struct Seen {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// How many requests to this method and path came before this one.
    pub earlier: usize,
}

/// What the server writes in answer to one request.
pub enum Reply {
    /// These bytes, then the connection closes.
    Whole(Vec<u8>),
    /// `head`, then `chunk` again and again until the client hangs up.
    Endless {
        /// The status line and headers, ending in the blank line.
        head: Vec<u8>,
        /// What is written over and over.
        chunk: Vec<u8>,
    },
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

/// The running server; it stops when dropped.
pub struct RawServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Starts a server answering with `script`.
    pub async fn start(script: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> Self {
        Self::start_replying(move |seen: &Seen| Reply::Whole(script(seen))).await
    }

    /// Starts a server answering with `script`, which may also write without end.
    pub async fn start_replying(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let task_counts = counts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let script = script.clone();
                let counts = task_counts.clone();
                tokio::spawn(async move {
                    let Some((method, path)) = read_request(&mut stream).await else {
                        return;
                    };
                    let earlier = {
                        let mut counts = counts.lock().unwrap();
                        let count = counts.entry(format!("{method} {path}")).or_default();
                        *count += 1;
                        *count - 1
                    };
                    let reply = script(&Seen {
                        method,
                        path,
                        earlier,
                    });
                    match reply {
                        Reply::Whole(answer) => {
                            let _ = stream.write_all(&answer).await;
                        }
                        Reply::Endless { head, chunk } => {
                            let _ = stream.write_all(&head).await;
                            while stream.write_all(&chunk).await.is_ok() {}
                        }
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { base, counts, task }
    }

    /// How many requests `method path` (path without query) received.
    pub fn requests(&self, method: &str, path: &str) -> usize {
        self.counts
            .lock()
            .unwrap()
            .get(&format!("{method} {path}"))
            .copied()
            .unwrap_or(0)
    }

    /// How many requests the server received in all, whatever their method and path.
    pub fn all_requests(&self) -> usize {
        self.counts.lock().unwrap().values().sum()
    }
}

/// Reads one request (its head and any `Content-Length` body); the method and the path.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let mut words = head.lines().next()?.split_whitespace();
    let method = words.next()?.to_owned();
    let target = words.next()?;
    let path = target.split('?').next().unwrap_or(target).to_owned();
    Some((method, path))
}

/// A whole response: `status`, `content_type` (none if empty) and `body` with its true length.
pub fn response(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    response_declaring(status, content_type, body, body.len())
}

/// A response whose `Content-Length` says `declared` whatever the body's length: larger than
/// the body, the connection closes before the body is whole.
pub fn response_declaring(status: u16, content_type: &str, body: &[u8], declared: usize) -> Vec<u8> {
    let mut head =
        format!("HTTP/1.1 {status} Whatever\r\nContent-Length: {declared}\r\nConnection: close\r\n");
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A JSON response with status 200.
pub fn json(body: &serde_json::Value) -> Vec<u8> {
    response(200, "application/json", &serde_json::to_vec(body).unwrap())
}

/// The answer of Entra's token endpoint to any sign-in (an opaque token: no claims).
pub fn token() -> Vec<u8> {
    json(
        &serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "opaque-test-token"}),
    )
}

/// The Dialpad source the operator builds, reading the Dialpad API at `base` with default retries.
pub fn dialpad_source(base: &str) -> dialpad_teams_operator::connect::adapters::DialpadSource {
    dialpad_teams_operator::connect::adapters::DialpadSource {
        client: dialpad_client_reading(base, Default::default()),
        office_ids: Vec::new(),
        company_id: None,
        office_names: false,
    }
}

/// A Dialpad client for the API at `base` with a placeholder key and default retries, reading at
/// most `limits`.
pub fn dialpad_client_reading(
    base: &str,
    limits: dialpad_teams_operator::upstream::ReadLimits,
) -> dialpad_teams_operator::dialpad::DialpadClient {
    use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
    let upstream = UpstreamClient::new(
        Service::Dialpad,
        http_client(&[]).unwrap(),
        None,
        RetryPolicy::default(),
    )
    .with_limits(limits);
    dialpad_teams_operator::dialpad::DialpadClient::new(
        upstream,
        base,
        secrecy::SecretString::from("k".to_owned()),
    )
}

/// A Graph client for the tenant at `base`, signing in there as an app with a placeholder secret.
pub fn graph_client(base: &str) -> dialpad_teams_operator::microsoft::graph::GraphClient {
    graph_client_reading(base, base, Default::default())
}

/// A Graph client for the tenant at `graph`, signing in at `login` as an app with a placeholder
/// secret, its Graph client reading at most `limits`.
pub fn graph_client_reading(
    login: &str,
    graph: &str,
    limits: dialpad_teams_operator::upstream::ReadLimits,
) -> dialpad_teams_operator::microsoft::graph::GraphClient {
    use dialpad_teams_operator::microsoft::graph::GraphClient;
    use dialpad_teams_operator::microsoft::token::{Credentials, TokenClient};
    use dialpad_teams_operator::upstream::{RetryPolicy, Service, UpstreamClient, http_client};
    let http = http_client(&[]).unwrap();
    let tokens = TokenClient::new(
        UpstreamClient::new(Service::Entra, http.clone(), None, RetryPolicy::default()),
        login,
        "contoso.com",
        graph,
        Credentials::ClientSecret {
            client_id: "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f".into(),
            secret: secrecy::SecretString::from("s".to_owned()),
        },
    );
    GraphClient::new(
        UpstreamClient::new(Service::Graph, http, None, RetryPolicy::default()).with_limits(limits),
        graph,
        std::sync::Arc::new(tokens),
    )
}
