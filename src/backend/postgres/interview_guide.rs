//! [`InterviewGuideRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{get, opt_timestamp, timestamp};
use crate::model::{InterviewGuide, InterviewGuideFields, now};
use crate::repo::InterviewGuideRepository;
use crate::{Error, Result};

const TABLE: &str = "interview_guide";

/// Interview guides in PostgreSQL.
pub(crate) struct PgInterviewGuideRepository {
    db: PgDb,
}

impl PgInterviewGuideRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgInterviewGuideRepository { db }
    }
}

fn guide(row: &Row) -> Result<InterviewGuide> {
    Ok(InterviewGuide {
        experiment_id: get(row, TABLE, "experiment_id")?,
        context_definition: get(row, TABLE, "context_definition")?,
        questions: get(row, TABLE, "questions")?,
        context_examples: get(row, TABLE, "context_examples")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
    })
}

#[async_trait]
impl InterviewGuideRepository for PgInterviewGuideRepository {
    async fn create(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide> {
        let fields = &fields.clone();
        let row = self
            .db
            .query_one(
                "INSERT INTO interview_guide (experiment_id, context_definition, questions, context_examples, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING experiment_id, context_definition, questions, context_examples, created_at, updated_at",
                &[
                    &experiment_id,
                    &fields.context_definition,
                    &fields.questions,
                    &fields.context_examples,
                    &now(),
                ],
            )
            .await?;
        guide(&row)
    }

    async fn get(&self, experiment_id: &str) -> Result<Option<InterviewGuide>> {
        self.db
            .query_opt(
                "SELECT experiment_id, context_definition, questions, context_examples, created_at, updated_at
                 FROM interview_guide WHERE experiment_id = $1",
                &[&experiment_id],
            )
            .await?
            .as_ref()
            .map(guide)
            .transpose()
    }

    async fn exists(&self, experiment_id: &str) -> Result<bool> {
        let row = self
            .db
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM interview_guide WHERE experiment_id = $1) AS found",
                &[&experiment_id],
            )
            .await?;
        get(&row, TABLE, "found")
    }

    async fn update(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide> {
        let fields = &fields.clone();
        self.db
            .query_opt(
                "UPDATE interview_guide
                 SET context_definition = coalesce($2, context_definition), questions = coalesce($3, questions),
                     context_examples = coalesce($4, context_examples), updated_at = $5
                 WHERE experiment_id = $1
                 RETURNING experiment_id, context_definition, questions, context_examples, created_at, updated_at",
                &[
                    &experiment_id,
                    &fields.context_definition,
                    &fields.questions,
                    &fields.context_examples,
                    &now(),
                ],
            )
            .await?
            .as_ref()
            .map(guide)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("interview guide of experiment {experiment_id}")))
    }

    async fn delete(&self, experiment_id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute(
                "DELETE FROM interview_guide WHERE experiment_id = $1",
                &[&experiment_id],
            )
            .await?;
        Ok(deleted > 0)
    }
}
