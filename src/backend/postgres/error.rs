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
    } else if class == "08" || class == "57" || class == "53" || *code == SqlState::T_R_SERIALIZATION_FAILURE {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Other
    }
}

/// The driver's message followed by its causes (tokio-postgres keeps the cause, such as the
/// TLS handshake's reason, out of its own Display).
fn describe(err: &tokio_postgres::Error) -> String {
    let mut message = format!("postgres: {err}");
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
        let message = match err.as_db_error() {
            Some(db) => format!("postgres: {} ({})", db.message(), db.code().code()),
            None => describe(&err),
        };
        Error::new(kind, message).with_source(err)
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
                "postgres pool: no connection became free within pool_timeout (all in use)",
            ),
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Create) => Error::new(
                ErrorKind::Unavailable,
                "postgres: the server did not complete the connection within connect_timeout (pool_create_timeout)",
            ),
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Recycle) => Error::new(
                ErrorKind::Unavailable,
                "postgres pool: checking an idle connection timed out (pool_recycle_timeout)",
            ),
            other => Error::new(ErrorKind::Unavailable, format!("postgres pool: {other}")),
        }
    }
}
