//! [`InterviewGuideRepository`] over SQLite.

use super::SqliteDb;

/// InterviewGuide rows in the legacy SQLite store.
pub(crate) struct SqliteInterviewGuideRepository {
    #[allow(dead_code)]
    db: SqliteDb,
}

impl SqliteInterviewGuideRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteInterviewGuideRepository { db }
    }
}
