//! The example org of `demo` set up for signing in without a stored password: an app with a
//! certificate registered (the throw-away one of `tests/fixtures/certificates/`) and an app whose
//! federated credential trusts one ServiceAccount of one issuer.

use dialpad_teams_operator::commands::examples::EXAMPLE_ORG;
use dialpad_teams_sandbox::OrgFixture;
use dialpad_teams_sandbox::fixture::{ApplicationFixture, FederatedCredentialFixture, OidcIssuerFixture};

/// The app that signs in with `tests/fixtures/certificates/app.crt`.
pub const CERTIFICATE_APP: &str = "3f6c1a2b-7d8e-4f90-a1b2-c3d4e5f60718";
/// The app with a federated credential.
pub const FEDERATED_APP: &str = "4a7d2b3c-8e9f-4a01-b2c3-d4e5f6071829";
/// The audience Entra expects of a federated token.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";
/// What the operator needs of an app (as the example org's client-secret app has).
pub const PERMISSIONS: [&str; 3] = [
    "User.Read.All",
    "TeamsUserConfiguration.Read.All",
    "TeamsTelephoneNumber.ReadWrite.All",
];

/// A file of `tests/fixtures/certificates/`.
pub fn certificate_file(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/certificates/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An app registration with the operator's permissions and nothing to sign in with yet.
pub fn app(client_id: &str) -> ApplicationFixture {
    ApplicationFixture {
        client_id: client_id.into(),
        permissions: PERMISSIONS.map(String::from).to_vec(),
        ..Default::default()
    }
}

/// The example org, operations and activation immediate, with [`CERTIFICATE_APP`] and
/// [`FEDERATED_APP`] trusting each of `subjects` of `route.issuer` (a federated credential each),
/// which the sandbox reaches by `route`.
pub fn example_org_with_apps(subjects: &[&str], route: OidcIssuerFixture) -> OrgFixture {
    let mut org =
        OrgFixture::from_yaml(EXAMPLE_ORG, "examples/sandbox-org.yaml").expect("the example org parses");
    org.behaviour.activation_delay_ms = 0;
    org.behaviour.operation_delay_ms = 0;
    org.tenant.applications.push(ApplicationFixture {
        certificates: vec![certificate_file("app.crt")],
        ..app(CERTIFICATE_APP)
    });
    let trusted = subjects
        .iter()
        .enumerate()
        .map(|(index, subject)| FederatedCredentialFixture {
            name: format!("kubernetes-{index}"),
            issuer: route.issuer.clone(),
            subject: (*subject).into(),
            audiences: vec![AUDIENCE.into()],
        });
    org.tenant.applications.push(ApplicationFixture {
        federated_credentials: trusted.collect(),
        ..app(FEDERATED_APP)
    });
    org.behaviour.oidc_issuers.push(route);
    org
}
