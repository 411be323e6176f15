//! Where a credential may go: only to the origin (scheme, host and port) of the endpoint a client
//! was built with. URLs an upstream hands back (a next page, an operation to poll) are checked
//! against it before anything is sent, and a redirect is named by its target's origin alone, so
//! that no message shows a path or query an upstream chose.

use reqwest::Url;

use super::{Service, UpstreamError};

/// A URL's origin as messages show it: `https://host[:port]` (the port only when it is not the
/// scheme's default), or the scheme alone for URLs without an origin (`file:`, `data:`).
pub fn origin_text(url: &Url) -> String {
    let origin = url.origin();
    if origin.is_tuple() {
        origin.ascii_serialization()
    } else {
        format!("a {}: URL", url.scheme())
    }
}

/// Where a redirect points, as [`UpstreamError::Redirected`] shows it after "a redirect": `to`
/// the origin of its `Location` (resolved against the request's URL when relative), never its
/// path or query.
pub fn redirect_target(request: &Url, location: Option<&str>) -> String {
    match location {
        None => "without a Location header".to_owned(),
        Some(location) => match request.join(location) {
            Ok(target) => format!("to {}", origin_text(&target)),
            Err(_) => "to a Location that is not a URL".to_owned(),
        },
    }
}

/// The origin of the endpoint a client was built with, which every URL it is handed back must
/// share before it carries the client's credential.
#[derive(Clone, Debug)]
pub struct EndpointOrigin {
    service: Service,
    base: Option<Url>,
}

impl EndpointOrigin {
    /// The origin of `base` (e.g. `https://graph.microsoft.com`) for `service`'s links. A base
    /// that is not a URL admits no link (its own requests fail first).
    pub fn of(service: Service, base: &str) -> Self {
        Self {
            service,
            base: Url::parse(base).ok().filter(|url| url.origin().is_tuple()),
        }
    }

    /// `Ok` when `link` (the `what` of `endpoint`'s answer, e.g. `@odata.nextLink`) is an
    /// absolute URL on this origin; else [`UpstreamError::ForeignLink`] naming the link's origin,
    /// and the link must not be requested.
    pub fn check(&self, endpoint: &str, what: &'static str, link: &str) -> Result<(), UpstreamError> {
        let parsed = Url::parse(link);
        let same = match (&self.base, &parsed) {
            (Some(base), Ok(link)) => base.origin() == link.origin(),
            _ => false,
        };
        if same {
            return Ok(());
        }
        Err(UpstreamError::ForeignLink {
            service: self.service,
            endpoint: endpoint.to_owned(),
            link: what,
            origin: parsed.map_or_else(
                |_| "something that is not an absolute URL".to_owned(),
                |url| origin_text(&url),
            ),
            configured: self
                .base
                .as_ref()
                .map_or_else(|| "not a URL".to_owned(), origin_text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINT: &str = "GET /v1.0/users";

    fn graph() -> EndpointOrigin {
        EndpointOrigin::of(Service::Graph, "https://graph.microsoft.com")
    }

    #[test]
    fn a_link_on_the_configured_origin_is_followed_whatever_its_path() {
        let origin = graph();
        for link in [
            "https://graph.microsoft.com/v1.0/users?$skiptoken=X%2744537074",
            "https://GRAPH.microsoft.com:443/v1.0/admin/teams/telephoneNumberManagement/operations/1",
        ] {
            assert!(origin.check(ENDPOINT, "@odata.nextLink", link).is_ok(), "{link}");
        }
    }

    #[test]
    fn a_link_on_another_host_port_or_scheme_is_refused_naming_only_its_origin() {
        let origin = graph();
        for (link, shown) in [
            ("https://evil.example/v1.0/users?secret=1", "https://evil.example"),
            (
                "https://graph.microsoft.com:8443/v1.0/users",
                "https://graph.microsoft.com:8443",
            ),
            (
                "http://graph.microsoft.com/v1.0/users",
                "http://graph.microsoft.com",
            ),
            (
                "https://graph.microsoft.com.evil.example/v1.0",
                "https://graph.microsoft.com.evil.example",
            ),
            ("file:///etc/passwd", "a file: URL"),
            ("/v1.0/users?page=2", "something that is not an absolute URL"),
        ] {
            let error = origin.check(ENDPOINT, "@odata.nextLink", link).unwrap_err();
            let text = error.to_string();
            assert!(
                text.contains(&format!("the @odata.nextLink points to {shown}, not to the origin of spec.endpoints.graph (https://graph.microsoft.com)")),
                "{text}"
            );
            assert!(!text.contains("secret") && !text.contains("passwd"), "{text}");
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn a_redirect_is_named_by_its_targets_origin_alone() {
        let request = Url::parse("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token").unwrap();
        assert_eq!(
            redirect_target(&request, Some("https://login.evil.example:8443/steal?code=1")),
            "to https://login.evil.example:8443"
        );
        assert_eq!(
            redirect_target(&request, Some("/elsewhere?x=1")),
            "to https://login.microsoftonline.com"
        );
        assert_eq!(redirect_target(&request, None), "without a Location header");
    }
}
