//! TLS for `https://` targets: the client configuration (Web PKI roots plus `--ca-cert`, ALPN
//! h2 and http/1.1), the certificate check, and what a failed handshake means in words.
//!
//! The check is webpki's, with two additions users meet every day:
//! - a certificate given with `--ca-cert` is accepted *as the server's own certificate* when
//!   the server presents exactly it for a name it is valid for — what curl does with the
//!   self-signed certificate of `openssl req -x509 …`, which webpki refuses as a CA used as an
//!   end-entity certificate; every other certificate is checked in full;
//! - `--insecure` skips the certificate check (the handshake's signatures are still checked);
//!   the result set records it and the report shows it.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::model::FailureCause;

/// How an `https://` target's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verification {
    /// Web PKI roots and `--ca-cert`, in full.
    #[default]
    Verify,
    /// Not at all (`--insecure`).
    Skip,
}

#[derive(Clone)]
pub struct TlsSettings {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: ServerName<'static>,
}

impl TlsSettings {
    /// Web PKI roots plus any extra CA certificates (PEM bytes), checked as `verification`
    /// says; ALPN offers h2 and http/1.1.
    pub(crate) fn new(
        host: &str,
        extra_roots_pem: Option<&[u8]>,
        verification: Verification,
    ) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let given = match extra_roots_pem {
            Some(pem) => pem_certificates(pem)?,
            None => Vec::new(),
        };
        for cert in &given {
            roots.add(cert.clone())?;
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()?;
        let verifier = Arc::new(CertificateCheck {
            webpki,
            given,
            verification,
        });
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let server_name = ServerName::try_from(host.to_string())?;
        Ok(TlsSettings {
            config: Arc::new(config),
            server_name,
        })
    }
}

impl TlsSettings {
    /// This configuration with ALPN limited to http/1.1 (held SSE and WebSocket streams).
    pub(super) fn http1_only(&self) -> Arc<rustls::ClientConfig> {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

fn pem_certificates(pem: &[u8]) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("reading CA certificates: {e}"))
}

/// webpki's check, a certificate given explicitly accepted as itself, or no check.
#[derive(Debug)]
struct CertificateCheck {
    webpki: Arc<WebPkiServerVerifier>,
    /// The certificates of `--ca-cert`.
    given: Vec<CertificateDer<'static>>,
    verification: Verification,
}

impl ServerCertVerifier for CertificateCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.verification == Verification::Skip {
            return Ok(ServerCertVerified::assertion());
        }
        let refused = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refused) => refused,
        };
        let given_as_is = self.given.iter().any(|c| c.as_ref() == end_entity.as_ref());
        if given_as_is && valid_for_name(end_entity, server_name) {
            return Ok(ServerCertVerified::assertion());
        }
        Err(refused)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Whether `cert` names `server_name` (a DNS name or IP address in its subject alternative
/// names).
fn valid_for_name(cert: &CertificateDer<'_>, server_name: &ServerName<'_>) -> bool {
    webpki::EndEntityCert::try_from(cert)
        .and_then(|cert| cert.verify_is_valid_for_subject_name(server_name))
        .is_ok()
}

/// What a failed TLS handshake says about the certificate or the peer.
pub(super) fn tls_cause(error: &std::io::Error) -> FailureCause {
    let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return match error.kind() {
            std::io::ErrorKind::ConnectionReset => FailureCause::Reset,
            std::io::ErrorKind::UnexpectedEof => FailureCause::ClosedEarly,
            _ => FailureCause::TlsOther,
        };
    };
    match tls {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => FailureCause::TlsUnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                FailureCause::TlsWrongName
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => FailureCause::TlsExpired,
            CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => FailureCause::TlsSelfSigned,
                _ => FailureCause::TlsOther,
            },
            _ => FailureCause::TlsOther,
        },
        rustls::Error::AlertReceived(_) => FailureCause::TlsAlert,
        _ => FailureCause::TlsOther,
    }
}
