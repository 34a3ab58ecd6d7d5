//! TLS towards Hydra and Kratos: extra roots (`HERA_CA_FILE`) for every upstream, and the client
//! certificate (`HERA_CLIENT_CERT`/`HERA_CLIENT_KEY`) presented to the admin APIs only, against
//! a server that requires one (mutual TLS). The certificates are test-only
//! (`tests/support/tls/`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hera::ory::{AdminAccess, UpstreamSettings, Upstreams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/tls")
        .join(name)
}

/// An HTTPS server on 127.0.0.1 answering `200` to every request; with `mutual`, only to
/// clients presenting a certificate of the test CA. Returns its base URL.
async fn https_server(mutual: bool) -> String {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(tls_file("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(tls_file("server.key")).unwrap();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = if mutual {
        let mut roots = RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(tls_file("ca.pem")).unwrap() {
            roots.add(ca.unwrap()).unwrap();
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    }
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buffer = [0u8; 4096];
                let _ = tls.read(&mut buffer).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}/")
}

fn settings(hydra_admin: &str, kratos_public: &str, access: AdminAccess) -> UpstreamSettings {
    let url = |u: &str| u.parse().unwrap();
    UpstreamSettings {
        hydra_admin_url: url(hydra_admin),
        hydra_public_url: url(kratos_public),
        kratos_public_url: url(kratos_public),
        kratos_browser_url: url(kratos_public),
        kratos_admin_url: url(hydra_admin),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        tls: access.tls().unwrap(),
        admin: access,
    }
}

fn access(ca: bool, client_cert: bool) -> AdminAccess {
    AdminAccess {
        ca_file: ca.then(|| tls_file("ca.pem")),
        client_cert: client_cert.then(|| tls_file("client.pem")),
        client_key: client_cert.then(|| tls_file("client.key")),
        ..AdminAccess::default()
    }
}

#[tokio::test]
async fn the_admin_apis_get_the_client_certificate_and_the_public_apis_never_do() {
    let mutual = https_server(true).await;
    let upstreams = Upstreams::new(&settings(&mutual, &mutual, access(true, true)), None).unwrap();
    upstreams
        .hydra
        .is_ready()
        .await
        .expect("Hydra admin over mutual TLS");
    assert!(
        upstreams.kratos.is_ready().await.is_err(),
        "Kratos public got the client certificate"
    );

    let without_certificate =
        Upstreams::new(&settings(&mutual, &mutual, access(true, false)), None).unwrap();
    assert!(without_certificate.hydra.is_ready().await.is_err());
}

#[tokio::test]
async fn extra_roots_let_hera_trust_a_private_ca_and_nothing_else_does() {
    let server = https_server(false).await;
    let trusting = Upstreams::new(&settings(&server, &server, access(true, false)), None).unwrap();
    trusting.hydra.is_ready().await.expect("admin API trusted");
    trusting
        .kratos
        .is_ready()
        .await
        .expect("public API trusted");

    let default_roots =
        Upstreams::new(&settings(&server, &server, access(false, false)), None).unwrap();
    assert!(default_roots.hydra.is_ready().await.is_err());
    assert!(default_roots.kratos.is_ready().await.is_err());
}

#[test]
fn tls_files_that_cannot_be_used_are_refused_with_the_setting_named() {
    let error = |access: AdminAccess| access.tls().unwrap_err();
    let missing = error(AdminAccess {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..AdminAccess::default()
    });
    assert!(
        missing.starts_with("HERA_CA_FILE: cannot read /nonexistent/ca.pem"),
        "{missing}"
    );
    let not_pem = error(AdminAccess {
        ca_file: Some(tls_file("README.md")),
        ..AdminAccess::default()
    });
    assert!(not_pem.starts_with("HERA_CA_FILE:"), "{not_pem}");
    let half = error(AdminAccess {
        client_cert: Some(tls_file("client.pem")),
        ..AdminAccess::default()
    });
    assert!(
        half.contains("HERA_CLIENT_CERT and HERA_CLIENT_KEY go together"),
        "{half}"
    );
    let mismatched = error(AdminAccess {
        client_cert: Some(tls_file("client.pem")),
        client_key: Some(tls_file("ca.pem")),
        ..AdminAccess::default()
    });
    assert!(
        mismatched.starts_with("HERA_CLIENT_CERT/HERA_CLIENT_KEY:"),
        "{mismatched}"
    );
}
