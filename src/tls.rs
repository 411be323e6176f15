//! TLS set-up shared by every HTTPS client and server in the process.

/// Installs rustls's `ring` crypto provider as the process default, once. Every reqwest client
/// and the sandbox's HTTPS listener need it; calling it again is harmless.
pub fn ensure_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls client configuration that trusts the platform's roots (the OS store, as the HTTP
/// client does) and the CA certificates of `extra_roots` (PEM), for the event WebSocket.
pub fn client_config_with_roots(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::pem::PemObject;
    ensure_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for certificate in native.certs {
        let _ = roots.add(certificate);
    }
    for pem in extra_roots {
        for certificate in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|e| format!("cannot read a CA certificate: {e}"))?;
            roots
                .add(certificate)
                .map_err(|e| format!("cannot trust a CA certificate: {e}"))?;
        }
    }
    Ok(rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// [`client_config_with_roots`] with the platform's roots only.
pub fn platform_client_config() -> Result<rustls::ClientConfig, String> {
    client_config_with_roots(&[])
}
