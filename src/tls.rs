//! TLS set-up shared by every HTTPS client and server in the process.

/// Installs rustls's `ring` crypto provider as the process default, once. Every reqwest client
/// and the sandbox's HTTPS listener need it; calling it again is harmless.
pub fn ensure_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
