//! TLS for PostgreSQL connections (rustls with the `ring` provider) and the pool's connector.
//!
//! `sslmode` is spelled and meant as libpq does; tokio-postgres itself knows only disable /
//! prefer / require, so the checks beyond "encrypted" live in [`PgCertVerifier`]:
//!
//! | sslmode | encrypted | chain checked against `sslrootcert` | host name checked |
//! |---|---|---|---|
//! | disable | no | – | – |
//! | prefer | if the server offers it | only when `sslrootcert` is given | no |
//! | require | yes | only when `sslrootcert` is given (libpq: then as verify-ca) | no |
//! | verify-ca | yes | yes | no |
//! | verify-full | yes | yes | yes |
//!
//! `prefer` falls back to plain where libpq does: when the server declines TLS, when the TLS
//! handshake fails, and when the server refuses the connection after TLS was set up (for
//! example a `hostnossl` line in `pg_hba.conf`). It is retried once, without TLS (the retry
//! lives in `connect.rs`, the one place connections are opened).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientConfig, WebPkiServerVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::TlsConfig;
use crate::{Error, Result};

/// Builds the rustls client configuration for `tls` (reads the PEM files).
///
/// # Errors
/// Config when a file cannot be read or holds no usable certificate / key.
pub(super) fn client_config(tls: &TlsConfig) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match (&tls.root_cert, tls.verifies_chain()) {
        (Some(path), true) => {
            let mut roots = RootCertStore::empty();
            let certs = read_certs(path, "sslrootcert")?;
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::config(format!(
                    "sslrootcert {}: no usable CA certificate in the file",
                    path.display()
                )));
            }
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::config(format!("sslrootcert {}: {e}", path.display())))?;
            Arc::new(PgCertVerifier::Chain {
                webpki,
                check_host: tls.verifies_host(),
            })
        }
        _ => Arc::new(PgCertVerifier::EncryptOnly {
            algorithms: provider.signature_verification_algorithms,
        }),
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, "sslcert")?;
            // The key's content never reaches a message: only its path does.
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                Error::config(format!(
                    "sslkey {}: cannot read a PEM private key ({})",
                    key.display(),
                    pem_error_kind(&e)
                ))
            })?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| Error::config(format!("sslcert/sslkey: the key does not fit the certificate ({e})")))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

fn pem_error_kind(err: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error as E;
    match err {
        E::Io(_) => "cannot open the file",
        E::NoItemsFound => "no key in the file",
        _ => "malformed PEM",
    }
}

fn read_certs(path: &std::path::Path, option: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::config(format!(
                "{option} {}: cannot read PEM certificates ({})",
                path.display(),
                pem_error_kind(&e)
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "{option} {}: no certificate in the file",
            path.display()
        )));
    }
    Ok(certs)
}

/// Checks the server certificate as `sslmode` asks.
#[derive(Debug)]
enum PgCertVerifier {
    /// prefer / require without `sslrootcert`: encrypt, accept any certificate (libpq does the
    /// same), but still check that the server holds the key of the certificate it sent.
    EncryptOnly { algorithms: WebPkiSupportedAlgorithms },
    /// Chain to `sslrootcert`; the host name only when `check_host` (verify-full).
    Chain {
        webpki: Arc<WebPkiServerVerifier>,
        check_host: bool,
    },
}

impl ServerCertVerifier for PgCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self {
            PgCertVerifier::EncryptOnly { .. } => Ok(ServerCertVerified::assertion()),
            PgCertVerifier::Chain { webpki, check_host } => {
                match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
                    // webpki checks the chain first and the name last: a name mismatch means
                    // the chain was good, which is all verify-ca asks.
                    Err(rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                    )) if !check_host => Ok(ServerCertVerified::assertion()),
                    other => other,
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        match self {
            PgCertVerifier::EncryptOnly { algorithms } => {
                rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
            }
            PgCertVerifier::Chain { webpki, .. } => webpki.verify_tls12_signature(message, cert, dss),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        match self {
            PgCertVerifier::EncryptOnly { algorithms } => {
                rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
            }
            PgCertVerifier::Chain { webpki, .. } => webpki.verify_tls13_signature(message, cert, dss),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match self {
            PgCertVerifier::EncryptOnly { algorithms } => algorithms.supported_schemes(),
            PgCertVerifier::Chain { webpki, .. } => webpki.supported_verify_schemes(),
        }
    }
}

/// The rustls connector, noting whether a TLS handshake was started (the server said yes to
/// TLS), which decides `prefer`'s fallback.
#[derive(Clone)]
pub(super) struct TrackedTls {
    inner: MakeRustlsConnect,
    attempted: Arc<AtomicBool>,
}

impl TrackedTls {
    /// Wraps `inner`; `attempted` turns true when a handshake starts.
    pub(super) fn new(inner: MakeRustlsConnect, attempted: Arc<AtomicBool>) -> Self {
        TrackedTls { inner, attempted }
    }
}

pub(super) struct TrackedConnect<T> {
    inner: T,
    attempted: Arc<AtomicBool>,
}

impl<S> MakeTlsConnect<S> for TrackedTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = <MakeRustlsConnect as MakeTlsConnect<S>>::Stream;
    type TlsConnect = TrackedConnect<<MakeRustlsConnect as MakeTlsConnect<S>>::TlsConnect>;
    type Error = <MakeRustlsConnect as MakeTlsConnect<S>>::Error;

    fn make_tls_connect(&mut self, domain: &str) -> std::result::Result<Self::TlsConnect, Self::Error> {
        Ok(TrackedConnect {
            inner: MakeTlsConnect::<S>::make_tls_connect(&mut self.inner, domain)?,
            attempted: self.attempted.clone(),
        })
    }
}

impl<S, T> TlsConnect<S> for TrackedConnect<T>
where
    T: TlsConnect<S>,
{
    type Stream = T::Stream;
    type Error = T::Error;
    type Future = T::Future;

    fn connect(self, stream: S) -> Self::Future {
        self.attempted.store(true, Ordering::Release);
        self.inner.connect(stream)
    }
}
