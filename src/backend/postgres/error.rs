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

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        let kind = kind_of(&err);
        let message = match err.as_db_error() {
            Some(db) => format!("postgres: {} ({})", db.message(), db.code().code()),
            None => format!("postgres: {err}"),
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
                Error::new(ErrorKind::Unavailable, format!("postgres: {inner}")).with_source(inner)
            }
            deadpool_postgres::PoolError::Backend(inner) => Error::from(inner),
            other => Error::new(ErrorKind::Unavailable, format!("postgres pool: {other}")),
        }
    }
}
