//! Classifies rusqlite errors by SQLite extended result codes (never by message text).

use rusqlite::ffi;

use crate::{Error, ErrorKind};

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        let kind = match &err {
            rusqlite::Error::SqliteFailure(native, _) => match native.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::Conflict,
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKey,
                ffi::SQLITE_CONSTRAINT_CHECK | ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::Check,
                _ => match native.code {
                    rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::DiskFull => ErrorKind::Unavailable,
                    rusqlite::ErrorCode::TooBig => ErrorKind::InvalidInput,
                    _ => ErrorKind::Other,
                },
            },
            rusqlite::Error::QueryReturnedNoRows => ErrorKind::NotFound,
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => ErrorKind::Other,
            _ => ErrorKind::Other,
        };
        Error::new(kind, format!("sqlite: {err}")).with_source(err)
    }
}
