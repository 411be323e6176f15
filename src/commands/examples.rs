//! The bundled examples, compiled in so that `demo` and `sandbox` work from any directory.

/// The bundled example org, so `sandbox` and `demo` work from any directory.
pub const EXAMPLE_ORG: &str = include_str!("../../examples/sandbox-org.yaml");

/// The resource `demo` syncs: `examples/teamstenantsync-demo.yaml`.
pub const DEMO_RESOURCE: &str = include_str!("../../examples/teamstenantsync-demo.yaml");
