//! [`InterviewGuideRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::row::args;
use crate::Result;
use crate::backend::driver::Driver;
use crate::model::{InterviewGuide, InterviewGuideFields, now};
use crate::repo::InterviewGuideRepository;

/// Interview guides in the legacy SQLite store.
pub(crate) struct SqliteInterviewGuideRepository {
    db: SqliteDb,
}

impl SqliteInterviewGuideRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteInterviewGuideRepository { db }
    }
}

#[async_trait]
impl InterviewGuideRepository for SqliteInterviewGuideRepository {
    async fn create(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide> {
        self.db
            .fetch_written(
                "INSERT INTO interview_guide (experiment_id, context_definition, questions, context_examples, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 RETURNING experiment_id, context_definition, questions, context_examples, created_at, updated_at",
                args![
                    experiment_id,
                    fields.context_definition,
                    fields.questions,
                    fields.context_examples,
                    now()
                ],
            )
            .await
    }

    async fn get(&self, experiment_id: &str) -> Result<Option<InterviewGuide>> {
        self.db
            .fetch_opt(
                "SELECT experiment_id, context_definition, questions, context_examples, created_at, updated_at
                 FROM interview_guide WHERE experiment_id = ?1",
                args![experiment_id],
            )
            .await
    }

    async fn exists(&self, experiment_id: &str) -> Result<bool> {
        let found = self
            .db
            .fetch_value(
                "SELECT EXISTS (SELECT 1 FROM interview_guide WHERE experiment_id = ?1) AS value",
                args![experiment_id],
            )
            .await?;
        Ok(found.unwrap_or(false))
    }

    async fn update(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide> {
        self.db
            .fetch_updated(
                "UPDATE interview_guide
                 SET context_definition = coalesce(?2, context_definition), questions = coalesce(?3, questions),
                     context_examples = coalesce(?4, context_examples), updated_at = ?5
                 WHERE experiment_id = ?1
                 RETURNING experiment_id, context_definition, questions, context_examples, created_at, updated_at",
                args![
                    experiment_id,
                    fields.context_definition,
                    fields.questions,
                    fields.context_examples,
                    now()
                ],
                format!("interview guide of experiment {experiment_id}"),
            )
            .await
    }

    async fn delete(&self, experiment_id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count(
                "DELETE FROM interview_guide WHERE experiment_id = ?1",
                args![experiment_id],
            )
            .await?;
        Ok(deleted > 0)
    }
}
