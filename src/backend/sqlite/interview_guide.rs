//! [`InterviewGuideRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{flag, opt_string, opt_timestamp, string, timestamp, ts_param};
use crate::model::{InterviewGuide, InterviewGuideFields, now};
use crate::repo::InterviewGuideRepository;
use crate::{Error, Result};

const TABLE: &str = "interview_guide";

/// Interview guides in the legacy SQLite store.
pub(crate) struct SqliteInterviewGuideRepository {
    db: SqliteDb,
}

impl SqliteInterviewGuideRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteInterviewGuideRepository { db }
    }
}

fn guide(row: &Row<'_>) -> Result<InterviewGuide> {
    Ok(InterviewGuide {
        experiment_id: string(row, TABLE, "experiment_id")?,
        context_definition: opt_string(row, TABLE, "context_definition")?,
        questions: opt_string(row, TABLE, "questions")?,
        context_examples: opt_string(row, TABLE, "context_examples")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        updated_at: opt_timestamp(row, TABLE, "updated_at")?,
    })
}

#[async_trait]
impl InterviewGuideRepository for SqliteInterviewGuideRepository {
    async fn create(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide> {
        let fields = &fields.clone();
        let (experiment_id, fields, created_at) = (experiment_id.to_owned(), fields.clone(), now());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO interview_guide (experiment_id, context_definition, questions, context_examples, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     RETURNING experiment_id, context_definition, questions, context_examples, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![
                    experiment_id,
                    fields.context_definition,
                    fields.questions,
                    fields.context_examples,
                    ts_param(&created_at)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                guide(row)
            })
            .await
    }

    async fn get(&self, experiment_id: &str) -> Result<Option<InterviewGuide>> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT experiment_id, context_definition, questions, context_examples, created_at, updated_at
                     FROM interview_guide WHERE experiment_id = ?1",
                )?;
                let mut rows = stmt.query([experiment_id])?;
                rows.next()?.map(guide).transpose()
            })
            .await
    }

    async fn exists(&self, experiment_id: &str) -> Result<bool> {
        let experiment_id = experiment_id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM interview_guide WHERE experiment_id = ?1) AS found",
                )?;
                let mut rows = stmt.query([experiment_id])?;
                let row = rows.next()?.ok_or_else(|| Error::other("EXISTS gave no row"))?;
                flag(row, TABLE, "found")
            })
            .await
    }

    async fn update(&self, experiment_id: &str, fields: &InterviewGuideFields) -> Result<InterviewGuide> {
        let fields = &fields.clone();
        let (experiment_id, fields, updated_at) = (experiment_id.to_owned(), fields.clone(), now());
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE interview_guide
                     SET context_definition = coalesce(?2, context_definition), questions = coalesce(?3, questions),
                         context_examples = coalesce(?4, context_examples), updated_at = ?5
                     WHERE experiment_id = ?1
                     RETURNING experiment_id, context_definition, questions, context_examples, created_at, updated_at",
                )?;
                let mut rows = stmt.query(params![
                    experiment_id,
                    fields.context_definition,
                    fields.questions,
                    fields.context_examples,
                    ts_param(&updated_at)
                ])?;
                rows.next()?
                    .map(guide)
                    .transpose()?
                    .ok_or_else(|| Error::not_found(format!("interview guide of experiment {experiment_id}")))
            })
            .await
    }

    async fn delete(&self, experiment_id: &str) -> Result<bool> {
        let experiment_id = experiment_id.to_owned();
        let deleted = self
            .db
            .execute("DELETE FROM interview_guide WHERE experiment_id = ?1", [experiment_id])
            .await?;
        Ok(deleted > 0)
    }
}
