//! Resources as a user writes them, for tests of what admission and the operator make of them.

use serde_json::{Value, json};

/// A valid TeamsTenantSync with a static source, as JSON, for tests that break one field of it.
pub fn valid_static_resource() -> Value {
    json!({
        "apiVersion": "teamssync.io/v1alpha1",
        "kind": "TeamsTenantSync",
        "metadata": {"name": "contoso", "namespace": "telephony"},
        "spec": {
            "tenant": {"tenantId": "9b5e2f1c-4d3a-4b8e-9f61-2c7d8e0a1b34", "domain": "contoso.com"},
            "credentials": {
                "adminAccount": {
                    "secretRef": {"name": "teams-admin"},
                    "clientId": "0d1f8a7e-3c2b-4e5f-8a9b-1c2d3e4f5a6b"
                }
            },
            "source": {"static": {"users": [{"email": "a@contoso.com", "phoneNumber": "+14155550100"}]}},
            "syncInterval": "15m"
        }
    })
}
