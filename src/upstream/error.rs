//! Errors of upstream calls, classified as transient (a retry may fix it) or permanent, and
//! carrying what support needs (status, error code, request id) but never a secret.

use std::fmt;
use std::time::Duration;

/// Which upstream a call went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Dialpad API v2.
    Dialpad,
    /// The Microsoft identity platform (sign-in).
    Entra,
    /// Microsoft Graph.
    Graph,
}

impl Service {
    /// The spec field that names this upstream's URL, for messages that ask to change it.
    pub fn endpoint_field(self) -> &'static str {
        match self {
            Service::Dialpad => "spec.endpoints.dialpad",
            Service::Entra => "spec.endpoints.login",
            Service::Graph => "spec.endpoints.graph",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Dialpad => "Dialpad",
            Service::Entra => "Microsoft sign-in",
            Service::Graph => "Microsoft Graph",
        })
    }
}

/// An upstream call that did not succeed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    /// No usable HTTP answer: connection refused or reset, timeout, TLS failure.
    #[error("{service} {endpoint}: no answer after {attempts} attempt(s): {detail}")]
    Transport {
        /// The upstream.
        service: Service,
        /// The endpoint, e.g. `GET /v1.0/users`.
        endpoint: String,
        /// What went wrong (reqwest's description, which never includes headers or bodies).
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// An HTTP error status.
    #[error("{service} {endpoint}: HTTP {status}{}{}: {message}", code_text(.code), request_id_text(.request_id))]
    Status {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The upstream's error code (`TooManyRequests`, `Authorization_RequestDenied`, ...).
        code: Option<String>,
        /// The upstream's message.
        message: String,
        /// The upstream request id, for support.
        request_id: Option<String>,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// Attempts made.
        attempts: u32,
    },
    /// A success status with a body that is not the expected JSON.
    #[error("{service} {endpoint}: unexpected response body{}: {detail}", request_id_text(.request_id))]
    Malformed {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// What is wrong with it (position and expectation, never the body).
        detail: String,
        /// The upstream request id.
        request_id: Option<String>,
        /// Which kind of problem it is, which decides whether asking again may help.
        problem: BodyProblem,
    },
    /// An answer with a redirect status. The HTTP client follows none (every upstream request
    /// carries a credential, which must not go where the redirect points).
    #[error(
        "{service} {endpoint}: answered HTTP {status} with a redirect {to}; the operator does not follow redirects on requests that carry credentials; set {} to the final URL",
        .service.endpoint_field()
    )]
    Redirected {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// The HTTP status (3xx).
        status: u16,
        /// Where `Location` points, as "to" and its origin only (scheme, host and port), never
        /// its path or query; or a phrase saying there is no usable one.
        to: String,
    },
    /// A response body larger than the client reads of one answer.
    #[error(
        "{service} {endpoint}: the response body is larger than {}, the most the operator reads of one answer, so it was not read further; check {} and any proxy between the operator and {service}",
        byte_size(*.limit),
        .service.endpoint_field()
    )]
    TooLarge {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// The bound, in bytes.
        limit: u64,
    },
    /// A listing that had not ended after the most pages a listing may have.
    #[error(
        "{service} {endpoint}: the listing did not end after {limit} pages, the most the operator reads of one listing, so it stopped there"
    )]
    TooManyPages {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// The bound, in pages.
        limit: u32,
    },
    /// A listing stopped because the process holds most of its memory limit: another page could
    /// get it killed, and every tenant's sync with it.
    #[error(
        "{service} {endpoint}: stopped the listing after {pages} pages: the operator holds {} of its {} memory limit; give it more memory (chart value resources.limits.memory) if this directory is that large",
        byte_size(*.resident - *.resident % (1024 * 1024)),
        byte_size(*.limit - *.limit % (1024 * 1024))
    )]
    MemoryBudget {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// Pages read before it stopped.
        pages: u32,
        /// Resident memory, in bytes.
        resident: u64,
        /// The memory limit, in bytes.
        limit: u64,
    },
    /// A URL the upstream handed back (a next page, an operation to poll) on another origin than
    /// the configured endpoint's: not followed, so the credential never leaves that origin.
    #[error(
        "{service} {endpoint}: the {link} points to {origin}, not to the origin of {} ({configured}); the operator sends credentials to no other origin, so it did not follow it",
        .service.endpoint_field()
    )]
    ForeignLink {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// What the URL is, e.g. `@odata.nextLink`.
        link: &'static str,
        /// The URL's origin (scheme, host and port), never its path or query.
        origin: String,
        /// The configured endpoint's origin.
        configured: String,
    },
    /// The client's retry budget is spent: the upstream has been failing for many calls.
    #[error(
        "{service} {endpoint}: not retried, the retry budget is exhausted after repeated failures: {last}"
    )]
    BudgetExhausted {
        /// The upstream.
        service: Service,
        /// The endpoint.
        endpoint: String,
        /// The last failure.
        last: String,
    },
}

/// What is wrong with the body of a success answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyProblem {
    /// The body ends before its JSON does, or is empty: a connection or proxy cut it short, and
    /// asking again may get it whole.
    Truncated,
    /// The body is not JSON at all: an HTML or text page, as a proxy, a captive portal or a wrong
    /// endpoint URL sends. Asking again gets the same page.
    NotJson,
    /// The body is JSON, but not of the shape the endpoint documents: the upstream changed, or the
    /// URL is another service's.
    UnexpectedShape,
    /// The body holds a value this client does not know (such as a new operation status): not a
    /// verdict, so the next look may say more.
    UnknownValue,
}

impl BodyProblem {
    /// The problem a JSON parse error shows.
    pub fn of(error: &serde_json::Error) -> Self {
        match error.classify() {
            serde_json::error::Category::Eof | serde_json::error::Category::Io => BodyProblem::Truncated,
            serde_json::error::Category::Syntax => BodyProblem::NotJson,
            serde_json::error::Category::Data => BodyProblem::UnexpectedShape,
        }
    }
}

fn byte_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The most characters of an upstream's own words (an error message or description, a
/// transport failure's detail) that a message quotes: enough for any message Microsoft or Dialpad
/// documents, and a bound on what a condition can grow to whatever an upstream sends.
pub const QUOTED_TEXT_CHARS: usize = 300;

/// The most characters of an upstream's short values that a message quotes: an error code, a
/// request or trace id (a GUID is 36).
pub const QUOTED_CODE_CHARS: usize = 100;

/// `text` as a message quotes it: at most `max` characters, cut on a character boundary and
/// ending in an ellipsis when it was longer.
pub fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let kept: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{kept}…")
        }
    }
}

fn code_text(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
}

fn request_id_text(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

impl UpstreamError {
    /// Whether a later retry may succeed: transport failures, 408, 429, 5xx, truncated bodies,
    /// values not known yet and an exhausted retry budget. A body that is not JSON, or JSON of
    /// another shape, is not: the same URL answers the same way until someone changes something.
    /// Nor are a redirect, a body over the size bound, a listing over the page bound or a link to
    /// another origin: asking again meets them again. A listing stopped for memory is: other
    /// syncs may have let go of theirs by the next attempt.
    pub fn is_transient(&self) -> bool {
        match self {
            UpstreamError::Transport { .. }
            | UpstreamError::BudgetExhausted { .. }
            | UpstreamError::MemoryBudget { .. } => true,
            UpstreamError::Redirected { .. }
            | UpstreamError::TooLarge { .. }
            | UpstreamError::TooManyPages { .. }
            | UpstreamError::ForeignLink { .. } => false,
            UpstreamError::Malformed { problem, .. } => {
                matches!(problem, BodyProblem::Truncated | BodyProblem::UnknownValue)
            }
            UpstreamError::Status { status, .. } => is_transient_status(*status),
        }
    }

    /// Whether this is a success answer whose body was cut short.
    pub fn is_truncated_body(&self) -> bool {
        matches!(
            self,
            UpstreamError::Malformed {
                problem: BodyProblem::Truncated,
                ..
            }
        )
    }

    /// The HTTP status, if the upstream answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            UpstreamError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The upstream's error code, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            UpstreamError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The upstream request id, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            UpstreamError::Status { request_id, .. } | UpstreamError::Malformed { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }
}

/// Statuses worth retrying.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_cut_on_a_character_boundary_with_an_ellipsis() {
        assert_eq!(bounded("short", 10), "short");
        assert_eq!(bounded("exactly10!", 10), "exactly10!");
        assert_eq!(bounded("eleven chars", 10), "eleven ch…");
        let cut = bounded(&"é".repeat(1000), QUOTED_TEXT_CHARS);
        assert_eq!(cut.chars().count(), QUOTED_TEXT_CHARS);
        assert!(cut.ends_with("é…"), "{cut}");
    }

    #[test]
    fn a_redirect_names_the_spec_field_of_its_service() {
        let error = UpstreamError::Redirected {
            service: Service::Entra,
            endpoint: "POST /oauth2/v2.0/token".into(),
            status: 302,
            to: "to https://login.example".into(),
        };
        assert!(
            error
                .to_string()
                .contains("set spec.endpoints.login to the final URL"),
            "{error}"
        );
        assert!(!error.is_transient());
    }
}
