//! What a sync finds wrong before any call: a national cloud's endpoint (see
//! [`crate::microsoft::clouds`]), an endpoint no credential may go to (see
//! [`crate::upstream::allowed`]), Secrets or keys missing, no ServiceAccount token to be had. Each
//! problem carries its reason and names the field or Secret and the fix; they are reported by the
//! side they block (`AdminConnected` for signing in, `SourceConnected` for the source).

use crate::api::{DEFAULT_DIALPAD_URL, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, Reason, TeamsTenantSyncSpec};
use crate::microsoft::clouds;
use crate::upstream::allowed::{AllowedEndpoints, EndpointField};

/// What was found wrong before any call: an endpoint no credential may go to, Secrets or keys
/// missing, no ServiceAccount token to be had. Every problem is listed, not only the first, each
/// naming the field or Secret and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupFailure {
    /// The most pressing reason of either side (see [`SetupProblem::reason`]).
    pub reason: Reason,
    /// Every problem, for a command line: [`SetupFailure::sign_in`] then [`SetupFailure::source`].
    pub message: String,
    /// What signing in to Microsoft lacks (the `AdminConnected` side), if anything.
    pub sign_in: Option<SetupProblem>,
    /// What reading the source lacks (the `SourceConnected` side), if anything.
    pub source: Option<SetupProblem>,
}

/// The problems of one side of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupProblem {
    /// The first of [`SETUP_REASONS`] among its problems (`EndpointNotAllowed` if an endpoint is
    /// refused, ...), or the reason of its only problem (a tenant that cannot be looked up).
    pub reason: Reason,
    /// Every problem of the side, joined.
    pub message: String,
}

/// The reasons of problems found before any call, most pressing first.
pub const SETUP_REASONS: &[Reason] = &[
    Reason::CloudNotSupported,
    Reason::EndpointNotAllowed,
    Reason::FederatedTokenUnavailable,
    Reason::SecretInvalid,
];

impl SetupProblem {
    fn of(problems: &[(Reason, String)]) -> Option<Self> {
        let (first, _) = problems.first()?;
        let reason = SETUP_REASONS
            .iter()
            .copied()
            .find(|reason| problems.iter().any(|(r, _)| r == reason))
            .unwrap_or(*first);
        let messages: Vec<&str> = problems.iter().map(|(_, message)| message.as_str()).collect();
        Some(Self {
            reason,
            message: messages.join("; "),
        })
    }
}

impl SetupFailure {
    /// A failure of the sign-in side alone, such as a tenant whose ID cannot be looked up.
    pub fn on_sign_in(reason: Reason, message: String) -> Self {
        Self::of(&[(reason, message)], &[])
    }

    /// A failure from the problems of each side.
    pub(super) fn of(sign_in: &[(Reason, String)], source: &[(Reason, String)]) -> Self {
        let (sign_in, source) = (SetupProblem::of(sign_in), SetupProblem::of(source));
        let sides = [sign_in.as_ref(), source.as_ref()];
        let message = sides
            .iter()
            .flatten()
            .map(|side| side.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let reason = SETUP_REASONS
            .iter()
            .copied()
            .find(|reason| sides.iter().flatten().any(|side| side.reason == *reason))
            .or_else(|| sides.iter().flatten().map(|side| side.reason).next())
            .unwrap_or(Reason::SecretInvalid);
        Self {
            reason,
            message,
            sign_in,
            source,
        }
    }
}

/// Problems found before any call, each with its reason.
pub(super) type Problems = Vec<(Reason, String)>;

/// Why no credential may go to `url` as `field`, if none may: a national cloud's endpoint
/// (`CloudNotSupported`, whatever is allowed), else one neither public nor allowed
/// (`EndpointNotAllowed`). The one rule for every request that carries a credential.
pub fn endpoint_refusal(
    field: EndpointField,
    url: &str,
    allowed: &AllowedEndpoints,
) -> Option<(Reason, String)> {
    if let Some(refusal) = clouds::national_cloud_refusal(field.path(), url) {
        return Some((Reason::CloudNotSupported, refusal));
    }
    allowed
        .check(field, url)
        .err()
        .map(|message| (Reason::EndpointNotAllowed, message))
}

/// The endpoints of `spec` that no credential may go to, by side: sign-in and Graph, and Dialpad
/// when it is the source.
pub(super) fn endpoint_problems(
    spec: &TeamsTenantSyncSpec,
    allowed: &AllowedEndpoints,
) -> (Problems, Problems) {
    let endpoints = spec.endpoints.clone().unwrap_or_default();
    let refused = |field: EndpointField, url: &str, default: &str| {
        endpoint_refusal(field, non_empty(url, default), allowed)
    };
    let sign_in = [
        refused(EndpointField::Login, &endpoints.login, DEFAULT_LOGIN_URL),
        refused(EndpointField::Graph, &endpoints.graph, DEFAULT_GRAPH_URL),
    ];
    let source = spec
        .source
        .dialpad
        .as_ref()
        .and_then(|_| refused(EndpointField::Dialpad, &endpoints.dialpad, DEFAULT_DIALPAD_URL));
    (
        sign_in.into_iter().flatten().collect(),
        source.into_iter().collect(),
    )
}

/// `value`, or `default` when it is blank.
pub(super) fn non_empty<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.trim().is_empty() { default } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_national_cloud_is_refused_even_when_allowed_and_an_unknown_endpoint_is_not_allowed() {
        let allowed = AllowedEndpoints::parse(&["https://graph.microsoft.us"]).unwrap();
        let (reason, message) =
            endpoint_refusal(EndpointField::Graph, "https://graph.microsoft.us", &allowed).unwrap();
        assert_eq!(reason, Reason::CloudNotSupported);
        assert!(message.contains("spec.endpoints.graph"), "{message}");
        let (reason, _) = endpoint_refusal(EndpointField::Login, "https://login.example", &allowed).unwrap();
        assert_eq!(reason, Reason::EndpointNotAllowed);
        assert_eq!(
            endpoint_refusal(
                EndpointField::Login,
                "https://login.microsoftonline.com",
                &allowed
            ),
            None
        );
    }
}
