//! Microsoft's clouds: the global service, the only one the operator works with, whose endpoints a
//! credential may go to without a platform admin naming them (see [`crate::upstream::allowed`]),
//! and the national clouds, which are refused with their reason.
//!
//! Teams' telephone-number APIs are offered in the global service only: the national cloud table
//! of every page the operator relies on ("numberAssignment: assignNumber", "unassignNumber",
//! "List numberAssignments", "Get telephoneNumberLongRunningOperation",
//! learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber and its
//! siblings) marks US Government L4, US Government L5 (DOD) and China operated by 21Vianet as not
//! available. A resource pointed at a national cloud could sign in and read users, then fail on
//! every number; it is refused before any call instead.

/// Microsoft Entra's sign-in endpoint of the global service
/// (learn.microsoft.com/entra/identity-platform/authentication-national-cloud, "Microsoft Entra
/// authentication endpoints").
pub const LOGIN_ENDPOINTS: &[&str] = &["https://login.microsoftonline.com"];

/// Microsoft Graph's service root of the global service (learn.microsoft.com/graph/deployments,
/// "Microsoft Graph and Graph Explorer service root endpoints").
pub const GRAPH_ENDPOINTS: &[&str] = &["https://graph.microsoft.com"];

/// The national clouds' sign-in endpoints and Graph service roots, with the cloud's name: US
/// Government and 21Vianet sign-in (the authentication page above; learn.microsoft.com/graph/
/// deployments names login.chinacloudapi.cn for 21Vianet, as MSAL does), Graph for US
/// Government L4, L5 (DOD) and 21Vianet (the deployments page).
const NATIONAL_CLOUD_ENDPOINTS: &[(&str, &str)] = &[
    ("login.microsoftonline.us", "US Government"),
    ("login.partner.microsoftonline.cn", "China, operated by 21Vianet"),
    ("login.chinacloudapi.cn", "China, operated by 21Vianet"),
    ("graph.microsoft.us", "US Government L4"),
    ("dod-graph.microsoft.us", "US Government L5 (DOD)"),
    ("microsoftgraph.chinacloudapi.cn", "China, operated by 21Vianet"),
];

/// The national cloud whose endpoint `url` is, if it is one (by host, any scheme or path).
pub fn national_cloud_of(url: &str) -> Option<&'static str> {
    let host = reqwest::Url::parse(url.trim())
        .ok()?
        .host_str()?
        .to_ascii_lowercase();
    NATIONAL_CLOUD_ENDPOINTS
        .iter()
        .find(|(endpoint, _)| host == *endpoint)
        .map(|(_, cloud)| *cloud)
}

/// Why `field` (a `spec.endpoints` path) set to `url` cannot work, if `url` is a national cloud's.
pub fn national_cloud_refusal(field: &str, url: &str) -> Option<String> {
    national_cloud_of(url).map(|cloud| {
        format!(
            "{field} is {url}, Microsoft's {cloud} cloud; Teams' telephone number APIs are offered in Microsoft's global service only (not in US Government or China), so the operator cannot assign numbers there; remove {field} to use the global service"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_cloud_endpoints_are_named_and_the_global_service_is_not() {
        assert_eq!(
            national_cloud_of("https://graph.microsoft.us/"),
            Some("US Government L4")
        );
        assert_eq!(
            national_cloud_of("https://LOGIN.chinacloudapi.cn"),
            Some("China, operated by 21Vianet")
        );
        assert_eq!(national_cloud_of("https://graph.microsoft.com"), None);
        assert_eq!(national_cloud_of("not a url"), None);
        let refusal =
            national_cloud_refusal("spec.endpoints.graph", "https://dod-graph.microsoft.us").unwrap();
        assert!(
            refusal.contains("US Government L5 (DOD)") && refusal.contains("remove spec.endpoints.graph"),
            "{refusal}"
        );
    }
}
