//! Bounds on what one upstream may make the operator read: the size of one answer's body and the
//! pages of one listing. Without them a server that streams forever, or hands out a next page
//! forever, grows the process until it runs out of memory, and every tenant's sync stops with it.

use std::collections::HashSet;

use bytes::{Bytes, BytesMut};

use super::memory::{self, MemoryUse};
use super::{Service, UpstreamError};

/// The most bytes of one response body the clients read, by default: 64 MiB.
///
/// Sized from the largest answers the operator asks for. A Graph users page holds up to 999 users
/// (`$top=999`), each with its `assignedPlans`: one plan is about 150 bytes of JSON, and a
/// Microsoft 365 E5 user carries 86 of them, so such a page is about 13 MB (the sandbox's, which
/// serves exactly that: 1.3 GB per 100,000 users, `docs/performance.md`). Graph keeps the plans
/// of removed licences too, with `capabilityStatus` `Deleted`
/// (https://learn.microsoft.com/en-us/graph/api/resources/assignedplan), so users with a licence
/// history carry more: 64 MiB holds 999 users of 67 KB, some 440 plans each. Everything else is
/// far smaller: a `numberAssignments` page of 1,000 numbers is about 300 KB, a Dialpad page of
/// 100 users (37 properties each in Dialpad's OpenAPI description, `vendor/dialpad-openapi.json`)
/// about 200 KB, a token answer a few KB.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// The most pages one listing reads, by default: 5,000.
///
/// At the page sizes the clients ask for, that is 4,995,000 Graph users (999 a page), 5,000,000
/// Teams numbers (1,000 a page) and 500,000 Dialpad users or numbers (100 a page). Microsoft's
/// default directory quota is 300,000 objects per tenant with a verified domain, and more only
/// through Microsoft support
/// (https://learn.microsoft.com/en-us/entra/identity/users/directory-service-limits-restrictions),
/// so the largest tenants fit many times over.
pub const MAX_PAGES: u32 = 5_000;

/// What one client reads at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// The most bytes of one response body; a longer body fails with [`UpstreamError::TooLarge`].
    pub max_body_bytes: u64,
    /// The most pages of one listing; a longer listing fails with
    /// [`UpstreamError::TooManyPages`].
    pub max_pages: u32,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: MAX_BODY_BYTES,
            max_pages: MAX_PAGES,
        }
    }
}

/// Reads `response`'s body, at most `limit` bytes: one declaring a longer `Content-Length` is
/// refused before any of it is read, and one that runs past `limit` (as an endless stream does)
/// is dropped as soon as it does. `Err(None)` when the body is too large, `Err(Some(_))` when
/// reading it failed.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Bytes, Option<reqwest::Error>> {
    let declared = response.content_length();
    if declared.is_some_and(|length| length > limit) {
        return Err(None);
    }
    let capacity = usize::try_from(declared.unwrap_or(0)).unwrap_or(0);
    let mut body = BytesMut::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(Some)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// One listing's pages as they are read: how many, and which links were followed, so that a
/// listing stops at [`ReadLimits::max_pages`], at the first link that comes back a second time,
/// and once the process holds most of its memory limit (see [`super::memory`]).
#[derive(Debug)]
pub struct Pages {
    service: Service,
    endpoint: String,
    limit: u32,
    read: u32,
    followed: HashSet<String>,
    memory: fn() -> Option<MemoryUse>,
}

impl Pages {
    /// A listing of `endpoint` on `service`, of at most `limit` pages.
    pub fn new(service: Service, endpoint: &str, limit: u32) -> Self {
        Self {
            service,
            endpoint: endpoint.to_owned(),
            limit,
            read: 0,
            followed: HashSet::new(),
            memory: memory::current,
        }
    }

    /// The same listing, reading the process's memory use with `memory` (for tests).
    pub fn with_memory(self, memory: fn() -> Option<MemoryUse>) -> Self {
        Self { memory, ..self }
    }

    /// Records that the next page is read from `link` (a URL, or a cursor): an error if the
    /// listing already has its most pages, or if `link` was followed before (`what` names it in
    /// the message, e.g. `@odata.nextLink`; `handed_by` is the request id of the answer that
    /// handed it out, for support).
    pub fn follow(&mut self, link: &str, what: &str, handed_by: Option<&str>) -> Result<(), UpstreamError> {
        if self.read >= self.limit {
            return Err(UpstreamError::TooManyPages {
                service: self.service,
                endpoint: self.endpoint.clone(),
                limit: self.limit,
            });
        }
        if let Some(used) = (self.memory)().filter(MemoryUse::over_listing_budget) {
            return Err(UpstreamError::MemoryBudget {
                service: self.service,
                endpoint: self.endpoint.clone(),
                pages: self.read,
                resident: used.resident,
                limit: used.limit,
            });
        }
        if !self.followed.insert(link.to_owned()) {
            return Err(UpstreamError::Malformed {
                service: self.service,
                endpoint: self.endpoint.clone(),
                detail: format!(
                    "the same {what} came back after {} pages; stopping to avoid an endless listing",
                    self.read
                ),
                request_id: handed_by.map(str::to_owned),
                problem: super::BodyProblem::UnexpectedShape,
            });
        }
        self.read += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_stops_after_its_most_pages() {
        let mut pages = Pages::new(Service::Graph, "GET /v1.0/users", 3);
        for page in 0..3 {
            let link = format!("https://graph.microsoft.com/v1.0/users?page={page}");
            pages.follow(&link, "link", None).unwrap();
        }
        let error = pages
            .follow("https://graph.microsoft.com/v1.0/users?page=3", "link", None)
            .unwrap_err();
        assert_eq!(
            error,
            UpstreamError::TooManyPages {
                service: Service::Graph,
                endpoint: "GET /v1.0/users".into(),
                limit: 3
            }
        );
        assert!(!error.is_transient(), "the next sync meets the same listing");
        assert!(error.to_string().contains("after 3 pages"), "{error}");
    }

    #[test]
    fn a_listing_stops_when_the_process_holds_most_of_its_memory_limit() {
        let nearly_full = || {
            Some(MemoryUse {
                resident: 230 << 20,
                limit: 256 << 20,
            })
        };
        let mut pages = Pages::new(Service::Graph, "GET /v1.0/users", 5_000).with_memory(nearly_full);
        let error = pages
            .follow("https://graph.microsoft.com/v1.0/users", "link", None)
            .unwrap_err();
        assert!(
            matches!(error, UpstreamError::MemoryBudget { pages: 0, .. }),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("holds 230 MiB of its 256 MiB memory limit")
                && text.contains("resources.limits.memory"),
            "{text}"
        );
        assert!(
            error.is_transient(),
            "other syncs may have let go of theirs by the next attempt"
        );
        let roomy = || {
            Some(MemoryUse {
                resident: 100 << 20,
                limit: 256 << 20,
            })
        };
        let mut pages = Pages::new(Service::Graph, "GET /v1.0/users", 5_000).with_memory(roomy);
        assert!(
            pages
                .follow("https://graph.microsoft.com/v1.0/users", "link", None)
                .is_ok()
        );
    }

    #[test]
    fn a_link_followed_before_stops_the_listing_at_once() {
        let mut pages = Pages::new(Service::Dialpad, "GET /api/v2/users", 10);
        pages.follow("c1", "cursor", None).unwrap();
        pages.follow("c2", "cursor", Some("r2")).unwrap();
        let error = pages.follow("c1", "cursor", Some("r3")).unwrap_err();
        assert_eq!(error.request_id(), Some("r3"));
        let text = error.to_string();
        assert!(text.contains("the same cursor came back after 2 pages"), "{text}");
        assert!(!error.is_transient());
    }
}
