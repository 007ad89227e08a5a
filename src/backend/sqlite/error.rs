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
                ffi::SQLITE_BUSY_SNAPSHOT => ErrorKind::Retryable,
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
        Error::new(kind, err.to_string()).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::{Error, ErrorKind};

    /// A reader whose snapshot another writer outdated cannot write: SQLITE_BUSY_SNAPSHOT is a
    /// lost race (retry the transaction), not an unavailable database.
    #[test]
    fn an_outdated_snapshot_is_retryable() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("snap.db");
        let a = Connection::open(&path).expect("a");
        a.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .expect("setup");
        let b = Connection::open(&path).expect("b");
        a.execute_batch("BEGIN; SELECT count(*) FROM t;")
            .expect("read snapshot");
        b.execute_batch("INSERT INTO t VALUES (2)").expect("other writer");
        let err = Error::from(
            a.execute_batch("INSERT INTO t VALUES (3)")
                .expect_err("snapshot is stale"),
        );
        assert_eq!(err.kind(), ErrorKind::Retryable, "{err}");
        assert!(!err.to_string().contains("sqlite:"), "{err}");
    }
}
