//! The bundled examples, compiled in so that `demo` and `sandbox` work from any directory.

/// The bundled example org, so `sandbox` and `demo` work from any directory.
pub const EXAMPLE_ORG: &str = include_str!("../../examples/sandbox-org.yaml");

/// The example resource the README applies to a cluster and the tests start from:
/// `examples/teamstenantsync-demo.yaml` (numbers only).
pub const DEMO_RESOURCE: &str = include_str!("../../examples/teamstenantsync-demo.yaml");

/// The resource `demo` syncs: `examples/teamstenantsync-offices.yaml`, the demo resource with
/// voice routing policies and emergency locations per Dialpad office.
pub const OFFICES_RESOURCE: &str = include_str!("../../examples/teamstenantsync-offices.yaml");
