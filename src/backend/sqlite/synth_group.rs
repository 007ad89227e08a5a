//! [`SynthGroupRepository`] over SQLite.

use super::SqliteDb;

/// SynthGroup rows in the legacy SQLite store.
pub(crate) struct SqliteSynthGroupRepository {
    #[allow(dead_code)]
    db: SqliteDb,
}

impl SqliteSynthGroupRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthGroupRepository { db }
    }
}
