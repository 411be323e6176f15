//! Certificates registered on an app registration: their thumbprints (how a client assertion's
//! header names one) and their RSA public key (what verifies the assertion's signature).

use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The OID of `rsaEncryption`, the only key type the sandbox verifies certificate assertions with
/// (Microsoft documents RS256/PS256 for them).
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// A certificate registered on an app, reduced to what assertion checks need.
#[derive(Clone, Debug)]
pub struct RegisteredCertificate {
    /// base64url SHA-256 of the DER (`x5t#S256`, beside PS256 on the certificate-credentials page).
    pub sha256_thumbprint: String,
    /// base64url SHA-1 of the DER (`x5t`, beside RS256 on the page's earlier version).
    pub sha1_thumbprint: String,
    /// The PKCS#1 `RSAPublicKey` DER of the subject's key.
    pub rsa_public_key_der: Vec<u8>,
}

/// Parses one PEM certificate; the error says what is wrong with it, without its content.
pub fn parse_certificate(pem: &str) -> Result<RegisteredCertificate, String> {
    let (_, parsed_pem) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes())
        .map_err(|e| format!("is not a PEM certificate ({e})"))?;
    if parsed_pem.label != "CERTIFICATE" {
        return Err(format!(
            "is a PEM {:?} block, not a CERTIFICATE",
            parsed_pem.label
        ));
    }
    let der = parsed_pem.contents;
    let (_, certificate) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("is not an X.509 certificate ({e})"))?;
    let key_info = &certificate.tbs_certificate.subject_pki;
    if key_info.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION {
        return Err("does not hold an RSA public key (client assertions use RS256 or PS256)".into());
    }
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Ok(RegisteredCertificate {
        sha256_thumbprint: encode(&Sha256::digest(&der)),
        sha1_thumbprint: encode(&Sha1::digest(&der)),
        rsa_public_key_der: key_info.subject_public_key.data.to_vec(),
    })
}

/// Checks that `pem` is a PEM certificate of any key type (a CA to trust).
pub fn parse_ca(pem: &str) -> Result<(), String> {
    let (_, parsed_pem) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes())
        .map_err(|e| format!("is not a PEM certificate ({e})"))?;
    x509_parser::parse_x509_certificate(&parsed_pem.contents)
        .map(|_| ())
        .map_err(|e| format!("is not an X.509 certificate ({e})"))
}

/// The certificate among `pems` that `x5t#S256` (preferred) or `x5t` names; unparsable entries
/// are skipped (the fixture check refuses them at load).
pub fn find_certificate(
    pems: &[String],
    x5t_s256: Option<&str>,
    x5t: Option<&str>,
) -> Option<RegisteredCertificate> {
    pems.iter()
        .filter_map(|pem| parse_certificate(pem).ok())
        .find(|certificate| match (x5t_s256, x5t) {
            (Some(wanted), _) => certificate.sha256_thumbprint == wanted,
            (None, Some(wanted)) => certificate.sha1_thumbprint == wanted,
            (None, None) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(parse_certificate("not a pem").is_err());
        assert!(parse_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
    }
}
