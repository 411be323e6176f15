//! Microsoft's public endpoints, per cloud: where a credential for Microsoft may be sent without a
//! platform admin naming the endpoint (see [`crate::upstream::allowed`]).

/// Microsoft Entra's sign-in endpoints: the global service, US Government and 21Vianet
/// (learn.microsoft.com/entra/identity-platform/authentication-national-cloud, "Microsoft Entra
/// authentication endpoints"; learn.microsoft.com/graph/deployments, "App registration and token
/// service root endpoints", names login.chinacloudapi.cn for 21Vianet, as MSAL does).
pub const LOGIN_ENDPOINTS: &[&str] = &[
    "https://login.microsoftonline.com",
    "https://login.microsoftonline.us",
    "https://login.partner.microsoftonline.cn",
    "https://login.chinacloudapi.cn",
];

/// Microsoft Graph's service roots: the global service, US Government L4 (GCC High), L5 (DoD)
/// and 21Vianet (learn.microsoft.com/graph/deployments, "Microsoft Graph and Graph Explorer
/// service root endpoints").
pub const GRAPH_ENDPOINTS: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.microsoft.us",
    "https://dod-graph.microsoft.us",
    "https://microsoftgraph.chinacloudapi.cn",
];
