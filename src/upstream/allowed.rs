//! Where credentials may go. Every request to an upstream carries one (a password, a client
//! secret or assertion, a ServiceAccount token, an access token, the Dialpad API key), and the
//! URLs come from `spec.endpoints`, which anyone who may write a TeamsTenantSync sets. So a
//! resource may only name the vendors' public endpoints ([`EndpointField::public`]) or an endpoint
//! a platform admin allowed when starting the operator (`--allowed-endpoint`); anything else is
//! refused before a single request is sent.

use std::fmt;

use reqwest::Url;

use crate::microsoft::clouds;

/// The command-line flag that allows an endpoint, for messages.
pub const ALLOWED_ENDPOINT_FLAG: &str = "--allowed-endpoint";

/// A field of `spec.endpoints`, with the public endpoints it may name on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointField {
    /// `spec.endpoints.login`: Microsoft sign-in.
    Login,
    /// `spec.endpoints.graph`: Microsoft Graph.
    Graph,
    /// `spec.endpoints.dialpad`: the Dialpad API.
    Dialpad,
}

impl EndpointField {
    /// The field's path in the resource.
    pub fn path(self) -> &'static str {
        match self {
            EndpointField::Login => "spec.endpoints.login",
            EndpointField::Graph => "spec.endpoints.graph",
            EndpointField::Dialpad => "spec.endpoints.dialpad",
        }
    }

    /// The vendor's public endpoints for this field.
    pub fn public(self) -> &'static [&'static str] {
        match self {
            EndpointField::Login => clouds::LOGIN_ENDPOINTS,
            EndpointField::Graph => clouds::GRAPH_ENDPOINTS,
            EndpointField::Dialpad => crate::dialpad::API_ENDPOINTS,
        }
    }

    fn service(self) -> &'static str {
        match self {
            EndpointField::Login => "a Microsoft sign-in",
            EndpointField::Graph => "a Microsoft Graph",
            EndpointField::Dialpad => "a Dialpad API",
        }
    }
}

/// An endpoint a platform admin allows: an `https://` URL allows its origin and every path below
/// its own; an `http://` URL allows exactly itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedEndpoint(Url);

impl AllowedEndpoint {
    /// Reads one `--allowed-endpoint` value: an absolute `http(s)://` URL without user name,
    /// password, query or fragment.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim()).map_err(|error| {
            format!("'{text}' is not an absolute URL such as https://graph.example.com: {error}")
        })?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(format!("'{text}' is not an http:// or https:// URL with a host"));
        }
        if has_user_info(&url) || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "'{text}' has a user name, password, query or fragment; give the base URL only"
            ));
        }
        Ok(Self(url))
    }

    fn covers(&self, wanted: &Url) -> bool {
        let entry = &self.0;
        let same_origin = entry.scheme() == wanted.scheme()
            && entry.host_str() == wanted.host_str()
            && entry.port_or_known_default() == wanted.port_or_known_default();
        if !same_origin {
            return false;
        }
        let (allowed, path) = (trimmed_path(entry), trimmed_path(wanted));
        if entry.scheme() == "http" {
            // Plain HTTP exposes the credential on the wire: only the exact URL named.
            return path == allowed;
        }
        allowed.is_empty() || path == allowed || path.starts_with(&format!("{allowed}/"))
    }
}

impl fmt::Display for AllowedEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

fn has_user_info(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

fn trimmed_path(url: &Url) -> String {
    url.path().trim_end_matches('/').to_owned()
}

/// The endpoints credentials may be sent to: the vendors' public ones and those a platform admin
/// allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedEndpoints {
    extra: Vec<AllowedEndpoint>,
}

impl AllowedEndpoints {
    /// The public endpoints and `extra`.
    pub fn new(extra: Vec<AllowedEndpoint>) -> Self {
        Self { extra }
    }

    /// The public endpoints and `urls`, each read as [`AllowedEndpoint::parse`] reads it.
    pub fn parse<S: AsRef<str>>(urls: &[S]) -> Result<Self, String> {
        let extra = urls
            .iter()
            .map(|url| AllowedEndpoint::parse(url.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self::new(extra))
    }

    /// The endpoints a platform admin added.
    pub fn extra(&self) -> &[AllowedEndpoint] {
        &self.extra
    }

    /// Whether `field` may name `url`; if not, a message naming the field, the URL and the flag.
    pub fn check(&self, field: EndpointField, url: &str) -> Result<(), String> {
        let refused = |note: &str| {
            Err(format!(
                "{} is {url}{note}, which is neither {} endpoint ({}) nor one the operator allows, so nothing was sent there; remove the field, or have a platform admin start the operator with {ALLOWED_ENDPOINT_FLAG} {url} (chart value allowedEndpoints)",
                field.path(),
                field.service(),
                field.public().join(", "),
            ))
        };
        let wanted = match Url::parse(url.trim()) {
            Ok(wanted) => wanted,
            Err(_) => return refused(" (not an absolute URL)"),
        };
        if has_user_info(&wanted) {
            return refused(" (with a user name or password)");
        }
        let public = field
            .public()
            .iter()
            .filter_map(|p| AllowedEndpoint::parse(p).ok());
        if public
            .chain(self.extra.iter().cloned())
            .any(|allowed| allowed.covers(&wanted))
        {
            return Ok(());
        }
        if wanted.scheme() == "http" {
            return refused(" (plain http://, allowed only when named exactly)");
        }
        refused("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowing(urls: &[&str]) -> AllowedEndpoints {
        AllowedEndpoints::parse(urls).expect("valid URLs")
    }

    #[test]
    fn each_field_accepts_its_vendors_public_endpoints_and_only_those() {
        let none = AllowedEndpoints::default();
        assert!(
            none.check(EndpointField::Login, "https://login.microsoftonline.com/")
                .is_ok()
        );
        assert!(
            none.check(EndpointField::Graph, "https://graph.microsoft.com")
                .is_ok()
        );
        assert!(
            none.check(EndpointField::Graph, "https://dod-graph.microsoft.us")
                .is_err(),
            "a national cloud is not a public endpoint of the operator's"
        );
        assert!(
            none.check(EndpointField::Dialpad, "https://sandbox.dialpad.com")
                .is_ok()
        );
        let crossed = none
            .check(EndpointField::Login, "https://graph.microsoft.com")
            .unwrap_err();
        assert!(
            crossed.starts_with("spec.endpoints.login is https://graph.microsoft.com"),
            "{crossed}"
        );
    }

    #[test]
    fn an_unknown_endpoint_is_refused_naming_the_field_the_url_and_the_flag() {
        let message = AllowedEndpoints::default()
            .check(EndpointField::Graph, "https://graph.attacker.example")
            .unwrap_err();
        assert!(
            message.contains("spec.endpoints.graph is https://graph.attacker.example"),
            "{message}"
        );
        assert!(message.contains("nothing was sent there"), "{message}");
        assert!(
            message.contains("--allowed-endpoint https://graph.attacker.example"),
            "{message}"
        );
    }

    #[test]
    fn a_look_alike_host_port_or_scheme_is_not_the_public_endpoint() {
        let none = AllowedEndpoints::default();
        for url in [
            "https://graph.microsoft.com.attacker.example",
            "https://graph.microsoft.com:8443",
            "http://graph.microsoft.com",
            "https://user:pass@graph.microsoft.com",
        ] {
            assert!(none.check(EndpointField::Graph, url).is_err(), "{url}");
        }
    }

    #[test]
    fn an_allowed_https_endpoint_covers_its_paths_and_http_only_the_exact_url() {
        let allowed = allowing(&["https://proxy.corp.example/graph", "http://127.0.0.1:8080"]);
        assert!(
            allowed
                .check(EndpointField::Graph, "https://proxy.corp.example/graph/")
                .is_ok()
        );
        assert!(
            allowed
                .check(EndpointField::Graph, "https://proxy.corp.example/graph/v1")
                .is_ok()
        );
        assert!(
            allowed
                .check(EndpointField::Graph, "https://proxy.corp.example/graphs")
                .is_err()
        );
        assert!(
            allowed
                .check(EndpointField::Graph, "https://proxy.corp.example")
                .is_err()
        );
        assert!(
            allowed
                .check(EndpointField::Dialpad, "http://127.0.0.1:8080/")
                .is_ok()
        );
        let message = allowed
            .check(EndpointField::Dialpad, "http://127.0.0.1:8080/other")
            .unwrap_err();
        assert!(message.contains("plain http://"), "{message}");
        assert!(
            allowed
                .check(EndpointField::Login, "http://127.0.0.1:9090")
                .is_err()
        );
        assert!(
            allowing(&["https://127.0.0.1:8443"])
                .check(EndpointField::Login, "http://127.0.0.1:8443")
                .is_err(),
            "an https entry never allows http"
        );
    }

    #[test]
    fn an_allowed_endpoint_must_be_a_base_url() {
        for bad in [
            "graph.example.com",
            "ftp://graph.example.com",
            "https://a:b@graph.example.com",
            "https://graph.example.com/?x=1",
            "https://graph.example.com/#f",
        ] {
            assert!(AllowedEndpoint::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            AllowedEndpoint::parse("https://Graph.Example.com/")
                .unwrap()
                .to_string(),
            "https://graph.example.com"
        );
    }
}
