//! TLS: every `sslmode` against a throwaway cluster with `ssl=on` and a certificate for
//! `localhost` signed by a test CA.
//!
//! pg_hba.conf of that cluster:
//! - role `plainonly`: `hostnossl` only (TLS connections are rejected for it),
//! - role `certuser`: `hostssl … cert` (a client certificate signed by the test CA),
//! - everyone else: `hostssl` only (plain connections are refused).

use synthlab_db::{ErrorKind, Store};

use crate::cluster::Cluster;

const HBA: &str = "hostnossl all plainonly 127.0.0.1/32 trust\n\
                   hostssl all plainonly 127.0.0.1/32 reject\n\
                   hostssl all certuser 127.0.0.1/32 cert\n\
                   hostssl all all 127.0.0.1/32 trust";

/// Connects and answers whether our own backend uses TLS (from pg_stat_ssl) and its version.
async fn connect_and_read_ssl(url: &str) -> synthlab_db::Result<(bool, String)> {
    let store = Store::connect_url(url).await?;
    let report = synthlab_db::doctor::diagnose(store.config()).await;
    let tls = report
        .checks
        .iter()
        .find(|c| c.name == "tls")
        .map(|c| c.value.clone())
        .unwrap_or_default();
    // A repository call over the same pool proves the connection is usable, not just open.
    store.experiments().get("exp_none").await?;
    Ok((tls.starts_with("yes"), tls))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmodes_behave_as_libpq() {
    let cluster = Cluster::start(HBA, &["plainonly", "certuser"]);
    let ca = cluster.certs.ca.display().to_string();
    let other_ca = cluster.certs.other_ca.display().to_string();
    let client_cert = cluster.certs.client_cert.display().to_string();
    let client_key = cluster.certs.client_key.display().to_string();
    let mut failures: Vec<String> = Vec::new();

    // (case, user, host, params, expected: Ok(uses TLS) or Err(words the error must contain))
    type Expect = Result<bool, &'static [&'static str]>;
    let cases: Vec<(&str, &str, &str, String, Expect)> = vec![
        (
            "require encrypts",
            "postgres",
            "127.0.0.1",
            "sslmode=require".into(),
            Ok(true),
        ),
        (
            "prefer uses TLS when offered",
            "postgres",
            "127.0.0.1",
            "sslmode=prefer".into(),
            Ok(true),
        ),
        (
            "require does not check the certificate without sslrootcert",
            "postgres",
            "127.0.0.1",
            "sslmode=require".into(),
            Ok(true),
        ),
        (
            "verify-full with the right CA and host",
            "postgres",
            "localhost",
            format!("sslmode=verify-full&sslrootcert={ca}&hostaddr=127.0.0.1"),
            Ok(true),
        ),
        (
            "verify-full with the wrong CA is refused",
            "postgres",
            "localhost",
            format!("sslmode=verify-full&sslrootcert={other_ca}&hostaddr=127.0.0.1"),
            Err(&["certificate", "UnknownIssuer"]),
        ),
        (
            "verify-full with the wrong host name is refused",
            "postgres",
            "127.0.0.1",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            Err(&["certificate", "not valid for name"]),
        ),
        (
            "verify-ca checks the chain but not the host name",
            "postgres",
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={ca}"),
            Ok(true),
        ),
        (
            "verify-ca with the wrong CA is refused",
            "postgres",
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={other_ca}"),
            Err(&["certificate", "UnknownIssuer"]),
        ),
        (
            "require with sslrootcert checks the chain (libpq compatibility)",
            "postgres",
            "127.0.0.1",
            format!("sslmode=require&sslrootcert={other_ca}"),
            Err(&["certificate", "UnknownIssuer"]),
        ),
        (
            "disable against a hostssl-only server is refused and says why",
            "postgres",
            "127.0.0.1",
            "sslmode=disable".into(),
            Err(&["pg_hba.conf", "no encryption"]),
        ),
        (
            "prefer falls back to plain when the server refuses TLS for the role",
            "plainonly",
            "127.0.0.1",
            "sslmode=prefer".into(),
            Ok(false),
        ),
        (
            "require does not fall back",
            "plainonly",
            "127.0.0.1",
            "sslmode=require".into(),
            Err(&["pg_hba.conf"]),
        ),
        (
            "client certificate authentication",
            "certuser",
            "localhost",
            format!(
                "sslmode=verify-full&sslrootcert={ca}&hostaddr=127.0.0.1&sslcert={client_cert}&sslkey={client_key}"
            ),
            Ok(true),
        ),
        (
            "no client certificate where one is required is refused",
            "certuser",
            "localhost",
            format!("sslmode=verify-full&sslrootcert={ca}&hostaddr=127.0.0.1"),
            Err(&["certificate"]),
        ),
    ];

    for (case, user, host, params, expected) in cases {
        let url = cluster.url(user, host, &params);
        let outcome = connect_and_read_ssl(&url).await;
        match (&expected, outcome) {
            (Ok(want_tls), Ok((tls, detail))) if tls == *want_tls => {
                if *want_tls && !detail.contains("TLSv1.") {
                    failures.push(format!("{case}: pg_stat_ssl gave no TLS version: {detail}"));
                }
            }
            (Ok(want_tls), Ok((tls, detail))) => {
                failures.push(format!("{case}: TLS in use = {tls}, expected {want_tls} ({detail})"))
            }
            (Ok(_), Err(err)) => failures.push(format!("{case}: expected success, got {err}")),
            (Err(words), Ok((tls, _))) => failures.push(format!(
                "{case}: expected refusal mentioning {words:?}, but connected (tls {tls})"
            )),
            (Err(words), Err(err)) => {
                let text = err.to_string();
                if err.kind() != ErrorKind::Unavailable {
                    failures.push(format!("{case}: kind {:?}, expected Unavailable: {text}", err.kind()));
                }
                if let Some(word) = words.iter().find(|w| !text.contains(**w)) {
                    failures.push(format!("{case}: error does not mention '{word}': {text}"));
                }
            }
        }
    }

    // Configuration mistakes are caught before any connection is tried.
    for (case, params, words) in [
        (
            "verify-full needs a root certificate",
            "sslmode=verify-full",
            "needs sslrootcert",
        ),
        ("unknown sslmode", "sslmode=allow", "unsupported sslmode"),
        (
            "sslcert without sslkey",
            "sslmode=require&sslcert=/x.crt",
            "sslcert and sslkey",
        ),
    ] {
        match Store::connect_url(&cluster.url("postgres", "127.0.0.1", params)).await {
            Err(err) if err.kind() == ErrorKind::Config && err.to_string().contains(words) => {}
            Err(err) => failures.push(format!("{case}: unexpected error {err}")),
            Ok(_) => failures.push(format!("{case}: connected")),
        }
    }
    let missing = format!(
        "sslmode=verify-ca&sslrootcert={}/missing.crt",
        std::env::temp_dir().display()
    );
    match Store::connect_url(&cluster.url("postgres", "127.0.0.1", &missing)).await {
        Err(err) if err.kind() == ErrorKind::Config && err.to_string().contains("missing.crt") => {}
        other => failures.push(format!("missing sslrootcert file: {:?}", other.map(|_| ()))),
    }
    // The private key's content never reaches an error: a key that does not fit.
    let wrong_key = format!(
        "sslmode=require&sslcert={client_cert}&sslkey={}",
        cluster.certs.ca.with_extension("key").display()
    );
    match Store::connect_url(&cluster.url("certuser", "127.0.0.1", &wrong_key)).await {
        Err(err) => {
            let key_text = std::fs::read_to_string(cluster.certs.ca.with_extension("key")).unwrap_or_default();
            let body: String = key_text.lines().filter(|l| !l.starts_with("-----")).collect();
            if err.kind() != ErrorKind::Config || (!body.is_empty() && err.to_string().contains(&body[..20])) {
                failures.push(format!("mismatched client key: {err}"));
            }
        }
        Ok(_) => failures.push("mismatched client key: connected".into()),
    }

    assert!(
        failures.is_empty(),
        "TLS cases failed:\n  {}\n--- server log ---\n{}",
        failures.join("\n  "),
        cluster.log()
    );
}

/// `copy` and `verify` open their connections through the connect path: with
/// `sslmode=require` and `verify-full` they use TLS (this cluster refuses plain connections for
/// `postgres`, so a copy that did not encrypt could not connect at all), and a wrong CA is
/// refused as it is for the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_and_verify_connect_with_tls() {
    use synthlab_db::config::PostgresConfig;
    use synthlab_db::copy::{CopyOptions, GenerateOptions, Silent, VerifyOptions};

    let cluster = Cluster::start(HBA, &["plainonly", "certuser"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("legacy.db");
    synthlab_db::copy::generate(
        &source,
        &GenerateOptions {
            scale: 0.01,
            ..GenerateOptions::default()
        },
    )
    .expect("legacy file");
    let ca = cluster.certs.ca.display().to_string();
    let other_ca = cluster.certs.other_ca.display().to_string();
    let target = |database: &str, host: &str, params: &str| -> PostgresConfig {
        let url = format!(
            "postgres://postgres@{host}:{}/{database}?connect_timeout=5&{params}",
            cluster.port
        );
        match url.parse() {
            Ok(synthlab_db::DatabaseConfig::Postgres(pg)) => pg,
            other => panic!("{url}: {other:?}"),
        }
    };
    for (database, host, params) in [
        ("copy_require", "127.0.0.1", "sslmode=require".to_owned()),
        (
            "copy_verify_full",
            "localhost",
            format!("sslmode=verify-full&sslrootcert={ca}&hostaddr=127.0.0.1"),
        ),
    ] {
        cluster.psql(&format!("CREATE DATABASE {database}"));
        let config = target(database, host, &params);
        let report = synthlab_db::copy::copy(&CopyOptions::new(&source, config.clone()), &Silent)
            .await
            .unwrap_or_else(|e| panic!("copy with {params}: {e}\n{}", cluster.log()));
        assert!(report.copied() > 0, "{params}: nothing copied");
        let verified = synthlab_db::copy::verify(&VerifyOptions::new(&source, config), &Silent)
            .await
            .unwrap_or_else(|e| panic!("verify with {params}: {e}"));
        assert!(verified.equal, "{params}: verify found differences: {verified:?}");
    }
    // Without TLS the server refuses the copy (pg_hba: hostssl only) …
    let plain = target("copy_require", "127.0.0.1", "sslmode=disable");
    let err = synthlab_db::copy::copy(&CopyOptions::new(&source, plain), &Silent)
        .await
        .expect_err("a plain copy connection is refused");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    // … and verify-full with a CA that did not sign the server certificate refuses the server.
    let wrong_ca = target(
        "copy_verify_full",
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other_ca}&hostaddr=127.0.0.1"),
    );
    let err = synthlab_db::copy::verify(&VerifyOptions::new(&source, wrong_ca), &Silent)
        .await
        .expect_err("verify refuses an unknown server certificate");
    assert!(err.to_string().contains("certificate"), "{err}");
}
