//! Patterns and schema pieces shared by the spec types, so that admission (the apiserver), the
//! `plan` command and the tests all enforce the same formats.

use schemars::{Schema, SchemaGenerator, json_schema};

/// An Entra object or application ID.
pub const GUID: &str = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// A fully qualified DNS name such as `contoso.com` (at least two labels, letters-only top level).
pub const DNS_NAME: &str = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$";

/// A Kubernetes object name such as a ServiceAccount's: an RFC 1123 subdomain (lower-case letters,
/// digits, `-` and `.`, starting and ending with a letter or digit).
pub const DNS_SUBDOMAIN: &str = r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$";

/// An Entra tenant ID (GUID) or a verified domain.
pub const GUID_OR_DNS_NAME: &str = r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$";

/// A plausible email address: one `@`, no spaces, a dot in the domain part.
pub const EMAIL: &str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";

/// An E.164 number (`+`, 2 to 15 digits, no leading zero in the country code), optionally with a
/// Direct Routing extension `;ext=digits`.
pub const E164: &str = r"^\+[1-9][0-9]{1,14}(?:;ext=[0-9]{1,10})?$";

/// An absolute `http` or `https` URL without query or fragment.
pub const HTTP_URL: &str = r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$";

/// A non-negative Go duration (`metav1.Duration` syntax) such as `90s`, `15m` or `1h30m`.
pub const GO_DURATION: &str = r"^(?:0|(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+)$";

/// A percentage from `0%` to `100%`.
pub const PERCENT: &str = r"^(?:100|[1-9]?[0-9])%$";

/// Schema of a count-or-percentage field (`IntOrString`, as a Deployment's `maxUnavailable`): an
/// integer of 0 or more, or a string [`PERCENT`]. `minimum` applies to integers only and `pattern`
/// to strings only. `nullable: false` is written out: kube's schema rewriter makes every optional
/// int-or-string nullable otherwise, and a `null` would make the resource unreadable.
pub fn count_or_percent(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "x-kubernetes-int-or-string": true,
        "nullable": false,
        "minimum": 0,
        "pattern": PERCENT,
    })
}

/// Schema of a duration field: a string in Go syntax. It deliberately has no `format: duration`,
/// so CEL rules see a string and can convert it with `duration(self)`.
pub fn go_duration(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": GO_DURATION,
    })
}
