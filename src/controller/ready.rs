//! When a reflector's store holds a complete list: what readiness and a reconcile that reads a
//! cache wait for.

use kube::runtime::reflector::Store;

/// Resolves `true` once `store` holds a complete list, `false` if its writer is gone.
///
/// `Store::wait_until_ready` wakes only the waiter that polled it last (it keeps one waker), and
/// the Controller itself waits on its store: so every waiter here polls again at short intervals
/// instead of trusting the wake-up.
pub async fn store_ready<K>(store: &Store<K>) -> bool
where
    K: kube::runtime::reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    loop {
        match tokio::time::timeout(READY_POLL, store.wait_until_ready()).await {
            Ok(result) => return result.is_ok(),
            Err(_) => continue,
        }
    }
}

/// How often [`store_ready`] looks again.
const READY_POLL: std::time::Duration = std::time::Duration::from_millis(100);
