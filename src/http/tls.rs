//! Airlock's own TLS listener for custom domains: rustls, with the certificate picked by SNI among the
//! active domains that have certificate files. The table is re-read every cache period, so a domain
//! verified on any node is served here soon after.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::listener::{self, ConnectionLimits};
use super::{AppState, app};

/// Certificates by host name, as SNI asks for them.
#[derive(Debug, Default)]
struct CertificatesByHost {
    certificates: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl ResolvesServerCert for CertificatesByHost {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?.to_ascii_lowercase();
        self.certificates.read().ok()?.get(&name).cloned()
    }
}

fn load_certified_key(cert_file: &str, key_file: &str) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| format!("{cert_file}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{cert_file}: {e}"))?;
    if chain.is_empty() {
        return Err(format!("{cert_file}: no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| format!("{key_file}: {e}"))?;
    let signing_key =
        ring::sign::any_supported_type(&key).map_err(|e| format!("{key_file}: {e}"))?;
    Ok(CertifiedKey::new(chain, signing_key))
}

async fn refresh(state: &AppState, table: &CertificatesByHost) {
    let domains = match state.domains().with_tls().await {
        Ok(domains) => domains,
        Err(error) => {
            tracing::warn!(%error, "could not read TLS domains");
            return;
        }
    };
    let mut loaded = HashMap::new();
    for domain in domains {
        let (Some(cert), Some(key)) = (&domain.tls_cert_file, &domain.tls_key_file) else {
            continue;
        };
        match load_certified_key(cert, key) {
            Ok(certified) => {
                loaded.insert(domain.host.clone(), Arc::new(certified));
            }
            Err(error) => tracing::warn!(host = %domain.host, %error, "unusable TLS files"),
        }
    }
    if let Ok(mut certificates) = table.certificates.write() {
        *certificates = loaded;
    }
}

/// Serves the application over TLS on `listener` until the process stops.
pub async fn serve_tls(state: AppState, listener: TcpListener) -> std::io::Result<()> {
    let table = Arc::new(CertificatesByHost::default());
    refresh(&state, &table).await;
    {
        let (state, table) = (state.clone(), table.clone());
        let period = Duration::from_secs(state.config.cache_seconds.max(1) as u64);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                refresh(&state, &table).await;
            }
        });
    }
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(table);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let limits = ConnectionLimits::of(&state.config);
    listener::serve(listener, app(state), limits, Some(acceptor)).await;
    Ok(())
}
