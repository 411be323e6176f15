use std::collections::BTreeMap;

use base64::Engine;
use http::{Request, Response, StatusCode};
use kube::client::Body;
use kube::runtime::reflector;
use kube::runtime::reflector::store::Writer;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::*;

fn listed(name: &str, version: &str) -> ListedSecret {
    ListedSecret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("telephony".into()),
            resource_version: Some(version.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A Secret as the apiserver returns it on GET.
fn secret(name: &str, version: &str, password: &str) -> Value {
    let encoded = base64::engine::general_purpose::STANDARD.encode(password);
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": "telephony", "resourceVersion": version},
        "data": {"password": encoded},
    })
}

/// An apiserver that answers GETs from `objects` (by path, 404 otherwise) and records each path.
struct FakeApiServer {
    objects: Arc<Mutex<BTreeMap<String, Value>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeApiServer {
    fn start() -> (Client, Self) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let objects: Arc<Mutex<BTreeMap<String, Value>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (served, seen) = (objects.clone(), requests.clone());
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let path = request.uri().path().to_owned();
                seen.lock().unwrap().push(format!("{} {path}", request.method()));
                let found = served.lock().unwrap().get(&path).cloned();
                let (status, body) = match found {
                    Some(object) => (StatusCode::OK, object),
                    None => (
                        StatusCode::NOT_FOUND,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}),
                    ),
                };
                let body = Body::from(serde_json::to_vec(&body).unwrap());
                send.send_response(Response::builder().status(status).body(body).unwrap());
            }
        });
        (Client::new(service, "default"), Self { objects, requests })
    }

    fn put(&self, name: &str, object: Value) {
        let path = format!("/api/v1/namespaces/telephony/secrets/{name}");
        self.objects.lock().unwrap().insert(path, object);
    }

    /// The requests since the last call.
    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// A cache whose watch has listed `secrets`, and the writer that stands for the watch.
fn cache_listing(secrets: &[ListedSecret]) -> (SecretCache, Writer<ListedSecret>) {
    let (store, mut writer) = reflector::store::<ListedSecret>();
    writer.apply_watcher_event(&watcher::Event::Init);
    for secret in secrets {
        writer.apply_watcher_event(&watcher::Event::InitApply(secret.clone()));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    (SecretCache::new(store), writer)
}

/// What the watch does with `event`: the store takes it in, and the cache observes it.
fn watch_sees(cache: &SecretCache, writer: &mut Writer<ListedSecret>, event: watcher::Event<ListedSecret>) {
    cache.observe(&event);
    writer.apply_watcher_event(&event);
}

async fn password(cache: &SecretCache, client: &Client, name: &str) -> Result<String, String> {
    let names = [name.to_owned()];
    let secrets = cache
        .read(client, "telephony", &names)
        .await
        .expect("the read succeeds");
    secrets
        .get(name, "password")
        .map(|v| v.expose_secret().to_owned())
}

#[test]
fn a_secret_is_read_only_when_the_version_held_is_not_the_one_listed() {
    assert_eq!(lookup(None, None), Lookup::Missing);
    assert_eq!(
        lookup(None, Some("7")),
        Lookup::Missing,
        "deleted since it was read"
    );
    assert_eq!(lookup(Some("7"), None), Lookup::Read);
    assert_eq!(lookup(Some("7"), Some("7")), Lookup::Held);
    assert_eq!(lookup(Some("8"), Some("7")), Lookup::Read);
}

#[test]
fn a_change_or_a_deletion_drops_the_data_and_a_relist_of_the_same_version_keeps_it() {
    let seven = listed("creds", "7");
    assert!(evicts(&watcher::Event::Apply(listed("creds", "8")), "7"));
    assert!(evicts(&watcher::Event::InitApply(listed("creds", "8")), "7"));
    assert!(evicts(&watcher::Event::Delete(seven.clone()), "7"));
    assert!(!evicts(&watcher::Event::Apply(seven.clone()), "7"));
    assert!(!evicts(&watcher::Event::InitApply(seven), "7"));
    assert!(!evicts(&watcher::Event::Init, "7"));
}

#[test]
fn a_listed_secret_keeps_its_name_namespace_and_version_and_nothing_else() {
    let mut secret = listed("creds", "7");
    let applied = r#"{"apiVersion":"v1","data":{"password":"czNjcmV0"},"kind":"Secret"}"#;
    secret.metadata.annotations = Some(
        [(
            "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
            applied.to_owned(),
        )]
        .into(),
    );
    secret.metadata.labels = Some([("app".to_owned(), "x".to_owned())].into());
    secret.metadata.uid = Some("uid-1".into());
    secret.metadata.managed_fields = Some(vec![Default::default()]);
    strip(&mut secret);
    assert_eq!(secret.metadata, listed("creds", "7").metadata);
    assert!(secret.types.is_none());
}

#[test]
fn the_secrets_in_use_are_those_resources_reference_in_their_own_namespace() {
    let resource = |namespace: &str, dialpad: &str| {
        let yaml = crate::commands::examples::DEMO_RESOURCE
            .replace("namespace: telephony", &format!("namespace: {namespace}"))
            .replace("name: dialpad", &format!("name: {dialpad}"));
        Arc::new(crate::commands::parse_resource(&yaml, "test").unwrap())
    };
    let used = in_use(&[
        resource("telephony", "dialpad"),
        resource("sales", "dialpad-sales"),
    ]);
    let key = |ns: &str, name: &str| (ns.to_owned(), name.to_owned());
    assert_eq!(
        used,
        [
            key("sales", "dialpad-sales"),
            key("sales", "teams-admin"),
            key("telephony", "dialpad"),
            key("telephony", "teams-admin"),
        ]
        .into()
    );
}

#[tokio::test]
async fn an_unchanged_secret_is_read_once_and_a_rotated_one_once_more() {
    let (client, apiserver) = FakeApiServer::start();
    let (cache, mut writer) = cache_listing(&[listed("creds", "7")]);
    apiserver.put("creds", secret("creds", "7", "first"));
    let get = vec!["GET /api/v1/namespaces/telephony/secrets/creds".to_owned()];

    assert_eq!(password(&cache, &client, "creds").await.as_deref(), Ok("first"));
    assert_eq!(apiserver.take_requests(), get);
    for _ in 0..3 {
        assert_eq!(password(&cache, &client, "creds").await.as_deref(), Ok("first"));
    }
    assert_eq!(
        apiserver.take_requests(),
        Vec::<String>::new(),
        "held, not read again"
    );

    apiserver.put("creds", secret("creds", "8", "second"));
    watch_sees(&cache, &mut writer, watcher::Event::Apply(listed("creds", "8")));
    assert_eq!(password(&cache, &client, "creds").await.as_deref(), Ok("second"));
    assert_eq!(password(&cache, &client, "creds").await.as_deref(), Ok("second"));
    assert_eq!(apiserver.take_requests(), get, "the rotated version, read once");
}

#[tokio::test]
async fn a_secret_the_watch_does_not_list_is_missing_without_a_request() {
    let (client, apiserver) = FakeApiServer::start();
    let (cache, mut writer) = cache_listing(&[listed("creds", "7")]);
    apiserver.put("creds", secret("creds", "7", "first"));
    assert!(password(&cache, &client, "creds").await.is_ok());
    apiserver.take_requests();

    let missing = password(&cache, &client, "absent").await.unwrap_err();
    assert!(missing.contains("Secret 'absent' does not exist"), "{missing}");
    watch_sees(&cache, &mut writer, watcher::Event::Delete(listed("creds", "9")));
    let gone = password(&cache, &client, "creds").await.unwrap_err();
    assert!(gone.contains("Secret 'creds' does not exist"), "{gone}");
    assert_eq!(apiserver.take_requests(), Vec::<String>::new());
    assert!(
        cache.held.lock().unwrap().is_empty(),
        "the deleted Secret's data is gone"
    );
}

#[tokio::test]
async fn a_listed_secret_deleted_before_the_read_is_missing() {
    let (client, _apiserver) = FakeApiServer::start();
    let (cache, _writer) = cache_listing(&[listed("creds", "7")]);
    let gone = password(&cache, &client, "creds").await.unwrap_err();
    assert!(gone.contains("Secret 'creds' does not exist"), "{gone}");
}

#[tokio::test]
async fn the_data_of_a_secret_no_resource_uses_any_more_is_dropped() {
    let (client, apiserver) = FakeApiServer::start();
    let (cache, _writer) = cache_listing(&[listed("creds", "7"), listed("other", "3")]);
    apiserver.put("creds", secret("creds", "7", "first"));
    apiserver.put("other", secret("other", "3", "third"));
    let names = ["creds".to_owned(), "other".to_owned()];
    cache.read(&client, "telephony", &names).await.unwrap();
    assert_eq!(cache.held.lock().unwrap().len(), 2);

    cache.retain(&[("telephony".to_owned(), "other".to_owned())].into());
    let held: Vec<Key> = cache.held.lock().unwrap().keys().cloned().collect();
    assert_eq!(held, vec![("telephony".to_owned(), "other".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn a_secret_watch_that_never_lists_fails_the_reconcile_after_a_bounded_wait() {
    let (service, _apiserver) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    // The writer stays alive but never sees a complete list (listing Secrets is forbidden).
    let (store, _writer) = reflector::store::<ListedSecret>();
    let cache = SecretCache::new(store);
    let started = tokio::time::Instant::now();
    let resource = crate::commands::demo::demo_resource();
    let error = cache
        .referenced_by(&Client::new(service, "telephony"), "telephony", &resource)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&error, ReconcileError::SecretCacheNotSynced { namespace } if namespace == "telephony"),
        "{error}"
    );
    assert!(
        error.to_string().contains("needs list and watch on secrets"),
        "{error}"
    );
    assert_eq!(started.elapsed(), LISTED_WAIT);
}
