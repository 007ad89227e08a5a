//! [`ResearchRepository`]: interview batches (`research_executions`) and their transcripts.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use crate::Result;
use crate::model::{
    ExecutionChanges, ExecutionDetail, ExecutionFilter, NewResearchExecution, NewTranscript, Page, PageRequest,
    ResearchExecution, Transcript,
};

/// Interview batches (`research_executions`) and transcripts (`transcripts`).
///
/// Executions are listed newest first: `started_at` descending (by instant, whatever the
/// stored shape), ties by `exec_id` descending. Transcripts of an execution are listed by
/// `synth_name` then `id`, both ascending in byte order.
///
/// The batch lookups take a list of execution ids and run one statement each; ids that match
/// no execution are simply absent from the answer, and duplicates count once. "Has a summary"
/// / "has a prfaq" means: the execution's experiment has an `experiment_documents` row of that
/// type (whatever its document status); an execution without experiment has neither.
#[super::repository]
#[async_trait]
pub trait ResearchRepository: Send + Sync {
    /// Executions matching `filter`, newest first (ties by `exec_id`, descending).
    ///
    /// # Errors
    /// InvalidInput for a page outside 1..=200 rows or a negative offset.
    #[read]
    async fn list_executions(&self, filter: &ExecutionFilter, page: PageRequest) -> Result<Page<ResearchExecution>>;

    /// The execution with this id, or `None`.
    #[read]
    async fn get_execution(&self, exec_id: &str) -> Result<Option<ResearchExecution>>;

    /// The execution with its transcript count, total turns and whether its experiment has a
    /// summary / prfaq document, or `None`.
    #[read]
    async fn get_execution_detail(&self, exec_id: &str) -> Result<Option<ExecutionDetail>>;

    /// Creates an execution (`successful_count` and `failed_count` 0, `completed_at` unset).
    ///
    /// # Errors
    /// Conflict when the id exists; ForeignKey when the experiment does not exist.
    #[write]
    async fn create_execution(&self, new: &NewResearchExecution) -> Result<ResearchExecution>;

    /// Sets status, counters and/or completion time (fields given as `Some`).
    ///
    /// # Errors
    /// NotFound when no execution has this id.
    #[write]
    async fn update_execution(&self, exec_id: &str, changes: &ExecutionChanges) -> Result<ResearchExecution>;

    /// Executions of an experiment, newest first (ties by `exec_id`, descending).
    #[read]
    async fn executions_by_experiment(&self, experiment_id: &str) -> Result<Vec<ResearchExecution>>;

    /// The auto-interview of an experiment: its most recent execution (first of
    /// [`ResearchRepository::executions_by_experiment`]), or `None`.
    #[read]
    async fn auto_interview(&self, experiment_id: &str) -> Result<Option<ResearchExecution>>;

    /// Transcripts of an execution, by `synth_name` then `id` (byte order); empty when the
    /// execution has none or does not exist.
    #[read]
    async fn list_transcripts(&self, exec_id: &str) -> Result<Vec<Transcript>>;

    /// The transcript of one synth in one execution, or `None`.
    #[read]
    async fn get_transcript(&self, exec_id: &str, synth_id: &str) -> Result<Option<Transcript>>;

    /// The transcript with this id, or `None`.
    #[read]
    async fn get_transcript_by_id(&self, id: &str) -> Result<Option<Transcript>>;

    /// Creates the transcript of (`exec_id`, `synth_id`), or replaces every other field of the
    /// existing one (which keeps its id).
    ///
    /// # Errors
    /// ForeignKey when the execution does not exist; Conflict when `id` belongs to the
    /// transcript of another (execution, synth).
    #[write]
    async fn upsert_transcript(&self, new: &NewTranscript) -> Result<Transcript>;

    /// Which of these executions have a `summary` document for their experiment.
    #[read]
    async fn with_summary(&self, exec_ids: &[String]) -> Result<BTreeSet<String>>;

    /// Which of these executions have a `prfaq` document for their experiment.
    #[read]
    async fn with_prfaq(&self, exec_ids: &[String]) -> Result<BTreeSet<String>>;

    /// Which of these executions have a non-empty `additional_context`.
    #[read]
    async fn with_additional_context(&self, exec_ids: &[String]) -> Result<BTreeSet<String>>;

    /// `additional_context` of each of these executions that exists.
    #[read]
    async fn additional_contexts(&self, exec_ids: &[String]) -> Result<BTreeMap<String, Option<String>>>;

    /// Sum of `turn_count` over the transcripts of each of these executions that exists
    /// (0 for an execution without transcripts; NULL turn counts count as 0).
    #[read]
    async fn total_turns(&self, exec_ids: &[String]) -> Result<BTreeMap<String, i64>>;
}
