//! [`InterviewGuideRepository`] over PostgreSQL.

use super::PgDb;

/// InterviewGuide rows in PostgreSQL.
pub(crate) struct PgInterviewGuideRepository {
    #[allow(dead_code)]
    db: PgDb,
}

impl PgInterviewGuideRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgInterviewGuideRepository { db }
    }
}
