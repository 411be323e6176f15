use std::time::{Duration, SystemTime};

use jsonwebtoken::{DecodingKey, Validation};
use secrecy::ExposeSecret;

use super::*;

const APP_CRT: &str = include_str!("../../tests/fixtures/certificates/app.crt");
const APP_KEY: &str = include_str!("../../tests/fixtures/certificates/app.key");
const APP_PKCS1_KEY: &str = include_str!("../../tests/fixtures/certificates/app-pkcs1.key");
const OTHER_KEY: &str = include_str!("../../tests/fixtures/certificates/other.key");
const EC_CRT: &str = include_str!("../../tests/fixtures/certificates/ec.crt");
const EC_KEY: &str = include_str!("../../tests/fixtures/certificates/ec.key");

/// The fixture certificate's thumbprints as `openssl x509 -noout -fingerprint -sha1` / `-sha256`
/// print them (colons removed), and the SHA-1 one base64url-encoded (`x5t`).
const APP_SHA1_HEX: &str = "4A64ACE95CE2CC65494C6E3193D62EF3364A9707";
const APP_SHA256_HEX: &str = "43158003FB8AFFC751B91AD922086543A5E3F4C37745C9FDC58A020D7280332F";
const APP_X5T: &str = "SmSs6VzizGVJTG4xk9Yu8zZKlwc";

const CLIENT: &str = "6a7b8c9d-0000-4000-8000-000000000001";
const TOKEN_URL: &str = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token";

fn app_public_key() -> DecodingKey {
    let (_, pem) = parse_x509_pem(APP_CRT.as_bytes()).unwrap();
    let certificate = pem.parse_x509().unwrap();
    DecodingKey::from_rsa_der(&certificate.public_key().subject_public_key.data)
}

fn decode(token: &str, algorithm: Algorithm) -> (jsonwebtoken::Header, AssertionClaims) {
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[TOKEN_URL]);
    validation.set_issuer(&[CLIENT]);
    let data = jsonwebtoken::decode::<AssertionClaims>(token, &app_public_key(), &validation)
        .expect("the certificate's public key verifies the assertion");
    (data.header, data.claims)
}

#[test]
fn an_assertion_carries_what_entra_checks_and_verifies_with_the_certificate() {
    for (algorithm, expected) in [
        (AssertionAlgorithm::RS256, Algorithm::RS256),
        (AssertionAlgorithm::PS256, Algorithm::PS256),
    ] {
        let now = SystemTime::now();
        let signer = CertificateSigner::from_pem(APP_CRT, APP_KEY, algorithm, now).unwrap();
        let token = signer.sign(CLIENT, TOKEN_URL, now).unwrap();
        let (header, claims) = decode(token.expose_secret(), expected);
        assert_eq!(header.alg, expected);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!((claims.iss.as_str(), claims.sub.as_str()), (CLIENT, CLIENT));
        assert_eq!(claims.aud, TOKEN_URL);
        assert_eq!(claims.exp - claims.nbf, ASSERTION_LIFETIME.as_secs());
        assert_eq!(claims.iat, claims.nbf);
    }
}

#[test]
fn the_default_assertion_is_ps256_with_the_sha256_thumbprint() {
    let now = SystemTime::now();
    let signer = CertificateSigner::from_pem(APP_CRT, APP_KEY, AssertionAlgorithm::default(), now).unwrap();
    let (header, _) = decode(
        signer.sign(CLIENT, TOKEN_URL, now).unwrap().expose_secret(),
        Algorithm::PS256,
    );
    assert_eq!(header.alg, Algorithm::PS256);
    let (_, pem) = parse_x509_pem(APP_CRT.as_bytes()).unwrap();
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&pem.contents));
    assert_eq!(header.x5t_s256.as_deref(), Some(thumbprint.as_str()));
    assert_eq!(header.x5t, None);
}

#[test]
fn an_rs256_assertion_carries_the_sha1_thumbprint_in_x5t() {
    let now = SystemTime::now();
    let signer = CertificateSigner::from_pem(APP_CRT, APP_KEY, AssertionAlgorithm::RS256, now).unwrap();
    let (header, _) = decode(
        signer.sign(CLIENT, TOKEN_URL, now).unwrap().expose_secret(),
        Algorithm::RS256,
    );
    assert_eq!(header.x5t.as_deref(), Some(APP_X5T));
    assert_eq!(header.x5t_s256, None);
}

#[test]
fn messages_name_both_thumbprints_sha1_as_the_admin_center_shows_it() {
    let now = SystemTime::now();
    let both = format!(
        "thumbprint SHA-1 {APP_SHA1_HEX} (as the Entra admin center shows it), SHA-256 {APP_SHA256_HEX}"
    );
    let mismatch = CertificateSigner::from_pem(APP_CRT, OTHER_KEY, AssertionAlgorithm::default(), now)
        .unwrap_err()
        .to_string();
    assert!(mismatch.contains(&both), "{mismatch}");
    let centuries_later = now + Duration::from_secs(200 * 365 * 24 * 3600);
    let expired =
        CertificateSigner::from_pem(APP_CRT, APP_KEY, AssertionAlgorithm::default(), centuries_later)
            .unwrap_err()
            .to_string();
    assert!(expired.contains(&both), "{expired}");
}

#[test]
fn every_assertion_has_its_own_jti() {
    let now = SystemTime::now();
    let signer = CertificateSigner::from_pem(APP_CRT, APP_KEY, AssertionAlgorithm::RS256, now).unwrap();
    let jti = |_| {
        decode(
            signer.sign(CLIENT, TOKEN_URL, now).unwrap().expose_secret(),
            Algorithm::RS256,
        )
        .1
        .jti
    };
    let ids: std::collections::BTreeSet<String> = (0..20).map(jti).collect();
    assert_eq!(ids.len(), 20);
    assert!(ids.iter().all(|id| id.len() == 36), "{ids:?}");
}

#[test]
fn a_pkcs1_key_signs_as_well_as_a_pkcs8_key() {
    let now = SystemTime::now();
    let signer = CertificateSigner::from_pem(APP_CRT, APP_PKCS1_KEY, AssertionAlgorithm::RS256, now).unwrap();
    decode(
        signer.sign(CLIENT, TOKEN_URL, now).unwrap().expose_secret(),
        Algorithm::RS256,
    );
}

#[test]
fn a_key_of_another_certificate_is_refused_naming_the_thumbprint() {
    let problem =
        CertificateSigner::from_pem(APP_CRT, OTHER_KEY, AssertionAlgorithm::RS256, SystemTime::now())
            .unwrap_err();
    let CertificateProblem::KeyMismatch { thumbprints } = &problem else {
        panic!("{problem}");
    };
    assert_eq!(thumbprints.sha1_hex, APP_SHA1_HEX);
    assert_eq!(thumbprints.sha256_hex, APP_SHA256_HEX);
    assert!(
        problem.to_string().contains("does not belong to the certificate"),
        "{problem}"
    );
}

#[test]
fn unreadable_expired_and_non_rsa_certificates_each_say_what_to_do() {
    let now = SystemTime::now();
    let problem = |crt: &str, key: &str, at: SystemTime| {
        CertificateSigner::from_pem(crt, key, AssertionAlgorithm::RS256, at)
            .unwrap_err()
            .to_string()
    };
    assert!(problem("not a certificate", APP_KEY, now).contains("not a PEM X.509 certificate"));
    assert!(problem(APP_KEY, APP_KEY, now).contains("not a PEM X.509 certificate"));
    assert!(problem(APP_CRT, "garbage", now).contains("not a PEM RSA private key"));
    assert!(problem(EC_CRT, EC_KEY, now).contains("not RSA"));
    let centuries_later = now + Duration::from_secs(200 * 365 * 24 * 3600);
    let expired = problem(APP_CRT, APP_KEY, centuries_later);
    assert!(expired.contains("expired at"), "{expired}");
}

#[test]
fn a_secret_value_read_as_a_certificate_never_appears_in_the_message() {
    let now = SystemTime::now();
    for value in [
        "-----BEGIN VAULT-TOKEN-7Qx-----\nczNjcjN0\n-----END VAULT-TOKEN-7Qx-----\n",
        "-----BEGIN CERTIFICATE-----\nnot*base64*7Qx\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nczNjcjN0LTdReA==\n-----END CERTIFICATE-----\n",
    ] {
        let message = CertificateSigner::from_pem(value, APP_KEY, AssertionAlgorithm::RS256, now)
            .unwrap_err()
            .to_string();
        assert!(message.contains("not a PEM X.509 certificate"), "{message}");
        assert!(
            !message.contains("7Qx") && !message.contains("VAULT"),
            "{message}"
        );
    }
}

#[test]
fn the_signer_never_prints_its_key() {
    let signer =
        CertificateSigner::from_pem(APP_CRT, APP_KEY, AssertionAlgorithm::RS256, SystemTime::now()).unwrap();
    let printed = format!("{signer:?}");
    assert!(printed.contains(&signer.thumbprints.sha256_hex));
    let key_body: String = APP_KEY.lines().nth(1).unwrap().chars().take(20).collect();
    assert!(!printed.contains(&key_body));
}
