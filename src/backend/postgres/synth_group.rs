//! [`SynthGroupRepository`] over PostgreSQL.

use super::PgDb;

/// SynthGroup rows in PostgreSQL.
pub(crate) struct PgSynthGroupRepository {
    #[allow(dead_code)]
    db: PgDb,
}

impl PgSynthGroupRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthGroupRepository { db }
    }
}
