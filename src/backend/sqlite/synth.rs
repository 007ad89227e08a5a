//! [`SynthRepository`] over SQLite.

use super::SqliteDb;

/// Synth rows in the legacy SQLite store.
pub(crate) struct SqliteSynthRepository {
    #[allow(dead_code)]
    db: SqliteDb,
}

impl SqliteSynthRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthRepository { db }
    }
}
