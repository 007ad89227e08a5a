//! [`SynthRepository`] over PostgreSQL.

use super::PgDb;

/// Synth rows in PostgreSQL.
pub(crate) struct PgSynthRepository {
    #[allow(dead_code)]
    db: PgDb,
}

impl PgSynthRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthRepository { db }
    }
}
