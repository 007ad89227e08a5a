//! Classifies tokio-postgres and pool errors by SQLSTATE (never by message text).

use tokio_postgres::error::SqlState;

use crate::{Error, ErrorKind};

fn kind_of(err: &tokio_postgres::Error) -> ErrorKind {
    let Some(code) = err.code() else {
        // No SQLSTATE: a client-side failure. Lost connections are Unavailable; conversion
        // and protocol errors are Other.
        return if err.is_closed() || std::error::Error::source(err).is_some_and(|s| s.is::<std::io::Error>()) {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Other
        };
    };
    let class = &code.code()[..2];
    if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::EXCLUSION_VIOLATION {
        ErrorKind::Conflict
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        ErrorKind::ForeignKey
    } else if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
        ErrorKind::Check
    } else if class == "22" {
        ErrorKind::InvalidInput
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        ErrorKind::Retryable
    } else if class == "08" || class == "57" || class == "53" {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Other
    }
}

/// The driver's message followed by its causes (tokio-postgres keeps the cause, such as the
/// TLS handshake's reason, out of its own Display).
fn describe(err: &tokio_postgres::Error) -> String {
    let mut message = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(inner) = cause {
        let text = inner.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = inner.source();
    }
    message
}

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        let kind = kind_of(&err);
        let (message, constraint) = match err.as_db_error() {
            Some(db) => (
                format!("{} ({})", db.message(), db.code().code()),
                match (db.constraint(), db.table(), db.column()) {
                    (Some(name), _, _) => Some(name.to_owned()),
                    // NOT NULL has no constraint name before PostgreSQL 18; use 18's.
                    (None, Some(table), Some(column)) if *db.code() == SqlState::NOT_NULL_VIOLATION => {
                        Some(format!("{table}_{column}_not_null"))
                    }
                    _ => None,
                },
            ),
            None => (describe(&err), None),
        };
        let error = Error::new(kind, message);
        let error = match constraint {
            Some(name) if matches!(kind, ErrorKind::Conflict | ErrorKind::ForeignKey | ErrorKind::Check) => {
                error.with_constraint(name)
            }
            _ => error,
        };
        error.with_source(err)
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            // Errors while the pool opens a connection: without a SQLSTATE (refused, timed out,
            // TLS) the server is unreachable; with one (bad password, unknown database) keep it.
            deadpool_postgres::PoolError::Backend(inner) if inner.code().is_none() => {
                Error::new(ErrorKind::Unavailable, describe(&inner)).with_source(inner)
            }
            deadpool_postgres::PoolError::Backend(inner) => Error::from(inner),
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => Error::new(
                ErrorKind::Unavailable,
                "no pooled connection became free within pool_timeout (all in use)",
            ),
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Create) => Error::new(
                ErrorKind::Unavailable,
                "the server did not complete the connection within connect_timeout (pool_create_timeout)",
            ),
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Recycle) => Error::new(
                ErrorKind::Unavailable,
                "checking an idle pooled connection timed out (pool_recycle_timeout)",
            ),
            other => Error::new(ErrorKind::Unavailable, format!("connection pool: {other}")),
        }
    }
}

#[cfg(all(test, feature = "parity"))]
mod tests {
    use std::time::Duration;

    use crate::{Error, ErrorKind};

    async fn connect(url: &str) -> tokio_postgres::Client {
        crate::pg::connect_url(url)
            .await
            .expect("the parity server (PARITY_DATABASE_URL) answers")
    }

    /// Deadlocks and serialization failures are lost races: Retryable, not Unavailable.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deadlocks_and_serialization_failures_are_retryable() {
        let url = std::env::var("PARITY_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let schema = format!("hardening_retry_{}", std::process::id());
        let setup = connect(&url).await;
        setup
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
                 CREATE TABLE {schema}.t (id int PRIMARY KEY, v int); INSERT INTO {schema}.t VALUES (1, 0), (2, 0);"
            ))
            .await
            .expect("setup");
        let (a, b) = (connect(&url).await, connect(&url).await);

        // Serialization failure: a repeatable-read snapshot updates a row changed since.
        a.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM {schema}.t"
        ))
        .await
        .expect("snapshot");
        b.batch_execute(&format!("UPDATE {schema}.t SET v = 1 WHERE id = 1"))
            .await
            .expect("other writer");
        let err = Error::from(
            a.batch_execute(&format!("UPDATE {schema}.t SET v = 2 WHERE id = 1"))
                .await
                .expect_err("serialization failure"),
        );
        assert_eq!(err.kind(), ErrorKind::Retryable, "{err}");
        assert!(!err.to_string().contains("postgres:"), "{err}");
        a.batch_execute("ROLLBACK").await.expect("rollback");

        // Deadlock: each holds one row and waits for the other's.
        for (client, id) in [(&a, 1), (&b, 2)] {
            client
                .batch_execute(&format!("BEGIN; UPDATE {schema}.t SET v = 3 WHERE id = {id}"))
                .await
                .expect("lock one row");
        }
        let (a_waits, b_waits) = (
            format!("UPDATE {schema}.t SET v = 4 WHERE id = 2"),
            format!("UPDATE {schema}.t SET v = 4 WHERE id = 1"),
        );
        let (first, second) = tokio::join!(a.batch_execute(&a_waits), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            b.batch_execute(&b_waits).await
        });
        let err = Error::from(first.err().or(second.err()).expect("one side is the deadlock victim"));
        assert_eq!(err.kind(), ErrorKind::Retryable, "{err}");
        let _ = a.batch_execute("ROLLBACK").await;
        let _ = b.batch_execute("ROLLBACK").await;
        setup
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("cleanup");
    }
}
