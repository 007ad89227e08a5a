//! The one way this crate opens a PostgreSQL connection: the pool's connections, the copy and
//! verify connections, and the raw connections of tools and tests ([`crate::pg::connect`]).
//!
//! Every connection gets the same treatment: TLS as `sslmode` asks, through rustls
//! (`tls.rs`), with libpq's fallback for `prefer`; the whole open (TCP, TLS, startup) bounded
//! by `connect_timeout`; TCP keepalives and `application_name` as the configuration says
//! (their defaults are set when the URL is parsed, in `config.rs`). `tests/layering.rs` fails
//! when a connection is opened anywhere else.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use deadpool_postgres::{Connect, Manager, ManagerConfig, RecyclingMethod};
use tokio::task::JoinHandle;
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls::{TrackedTls, client_config};
use crate::config::{PostgresConfig, SslMode, TlsConfig};
use crate::{DatabaseConfig, Error, ErrorKind, Result};

/// Opens connections: TLS as `sslmode` asks, with libpq's fallback for `prefer`.
pub(crate) struct PgConnector {
    mode: SslMode,
    tls: Option<MakeRustlsConnect>,
}

impl PgConnector {
    /// A connector for `tls` (reads its PEM files unless `sslmode=disable`).
    ///
    /// # Errors
    /// Config when a certificate or key file is unusable.
    pub(crate) fn new(tls: &TlsConfig) -> Result<Self> {
        let connector = match tls.mode {
            SslMode::Disable => None,
            _ => Some(MakeRustlsConnect::new(client_config(tls)?)),
        };
        Ok(PgConnector {
            mode: tls.mode,
            tls: connector,
        })
    }

    /// Opens one connection and spawns its driver task.
    pub(crate) async fn open(
        &self,
        config: &tokio_postgres::Config,
    ) -> std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
        let Some(tls) = &self.tls else {
            return plain(config).await;
        };
        let attempted = Arc::new(AtomicBool::new(false));
        let tracked = TrackedTls::new(tls.clone(), attempted.clone());
        match config.connect(tracked).await {
            Ok((client, connection)) => Ok((client, spawn_connection(connection))),
            // libpq's prefer: retry once without TLS when the TLS attempt itself failed or the
            // server refused us over TLS. Not when TLS was never tried (server said no, or the
            // server is unreachable): plain would fail the same way.
            Err(err) if self.mode == SslMode::Prefer && attempted.load(Ordering::Acquire) => {
                tracing::debug!(error = %err, "sslmode=prefer: TLS attempt failed, retrying without TLS");
                let mut config = config.clone();
                config.ssl_mode(DriverSslMode::Disable);
                plain(&config).await
            }
            Err(err) => Err(err),
        }
    }
}

async fn plain(
    config: &tokio_postgres::Config,
) -> std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    Ok((client, spawn_connection(connection)))
}

fn spawn_connection<F>(connection: F) -> JoinHandle<()>
where
    F: Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "postgres connection ended with an error");
        }
    })
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Connect for PgConnector {
    fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> BoxFuture<'_, std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        let pg_config = pg_config.clone();
        Box::pin(async move { self.open(&pg_config).await })
    }
}

/// The pool's connection manager: every pooled connection is opened by [`PgConnector`].
///
/// # Errors
/// Config when a certificate or key file is unusable.
pub(crate) fn pool_manager(config: &PostgresConfig, recycling_method: RecyclingMethod) -> Result<Manager> {
    let connector = PgConnector::new(&config.tls)?;
    Ok(Manager::from_connect(
        config.driver.clone(),
        connector,
        ManagerConfig { recycling_method },
    ))
}

/// The error of a connection that could not be opened: Unavailable, naming the redacted URL
/// and the reason (refused, timed out, TLS, the server's refusal such as an unknown database).
pub(crate) fn cannot_connect(config: &PostgresConfig, reason: &str) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!("cannot connect to {}: {reason}", config.redacted_url()),
    )
}

/// Opens one connection as `config` says (see the module documentation). Its driver task runs
/// on the current tokio runtime and ends when the client is dropped or the server closes.
///
/// # Errors
/// Config when a TLS file is unusable; Unavailable when the connection cannot be opened (server
/// unreachable, TLS refused, no answer within `connect_timeout`, or the server's refusal such
/// as an unknown database or role). Messages carry the redacted URL only.
pub async fn connect(config: &PostgresConfig) -> Result<Client> {
    let connector = PgConnector::new(&config.tls)?;
    let open = connector.open(&config.driver);
    let opened = match config.driver.get_connect_timeout().filter(|limit| !limit.is_zero()) {
        Some(limit) => tokio::time::timeout(*limit, open).await.map_err(|_| {
            cannot_connect(
                config,
                "postgres: the server did not complete the connection within connect_timeout",
            )
        })?,
        None => open.await,
    };
    // The driver task is detached: it ends with the client.
    opened
        .map(|(client, _driver)| client)
        .map_err(|err| cannot_connect(config, Error::from(err).message()))
}

/// Parses `url` (a `postgres://` URL; settings it leaves out come from the environment) and
/// opens one connection (see [`connect`]).
///
/// # Errors
/// Config for a malformed or non-PostgreSQL URL; otherwise as [`connect`].
pub async fn connect_url(url: &str) -> Result<Client> {
    match url.parse::<DatabaseConfig>()? {
        DatabaseConfig::Postgres(config) => connect(&config).await,
        DatabaseConfig::Sqlite(_) => Err(Error::config(format!(
            "a PostgreSQL connection needs a postgres:// URL, not {}",
            crate::config::redact_url(url)
        ))),
    }
}
