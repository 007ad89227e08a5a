//! Every model type read from a row, written once for both backends.
//!
//! A model field is named as its column, so a mapping is the list of its fields: each is read
//! by name through [`Row`] (whose driver implementation deals with the dialect), typed by the
//! field. Composite results (a row plus counts computed in SQL) nest the row's type.

use super::row::{FromRow, Row};
use crate::Result;
use crate::model::{
    AnalysisCacheEntry, AnalysisRun, ChartInsight, DocumentSummary, ExecutionDetail, Experiment, ExperimentDocument,
    ExperimentSummary, Exploration, FeatureScorecard, InterviewGuide, NodeStatus, RegionAnalysis, ResearchExecution,
    ScenarioNode, SensitivityResult, SimulationRun, SimulationSummary, Synth, SynthGroup, SynthGroupDetail,
    SynthGroupWithCount, SynthOutcome, Transcript,
};

/// `Type in "table" by key (nested: Type, …) { field, … }`: [`FromRow`] reading each field
/// from the column of its name (and each nested type from the same row). `key` is a column
/// never NULL in a row of the type.
macro_rules! from_row {
    ($(
        $ty:ident in $table:literal by $key:ident $(($($nested:ident: $nested_ty:ident),+))? {
            $($field:ident),+ $(,)?
        }
    )+) => {$(
        impl FromRow for $ty {
            const TABLE: &'static str = $table;
            const KEY: &'static str = stringify!($key);

            fn from_row(row: &dyn Row) -> Result<Self> {
                let columns = row.of(Self::TABLE);
                Ok($ty {
                    $($($nested: $nested_ty::from_row(row)?,)+)?
                    $($field: columns.get(stringify!($field))?,)+
                })
            }
        }
    )+};
}

from_row! {
    Experiment in "experiments" by id {
        id, name, hypothesis, description, scorecard_data, status, created_at, updated_at
    }
    ExperimentSummary in "experiments" by id {
        id, name, hypothesis, description, created_at, updated_at,
        has_scorecard, has_analysis, has_interview_guide, interview_count,
    }
    InterviewGuide in "interview_guide" by experiment_id {
        experiment_id, context_definition, questions, context_examples, created_at, updated_at
    }
    SynthGroup in "synth_groups" by id {
        id, name, description, created_at
    }
    SynthGroupWithCount in "synth_groups" by id (group: SynthGroup) {
        synth_count
    }
    Synth in "synths" by id {
        id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data
    }
    ResearchExecution in "research_executions" by exec_id {
        exec_id, experiment_id, topic_name, status, synth_count, successful_count, failed_count, model,
        max_turns, started_at, completed_at, additional_context,
    }
    ExecutionDetail in "research_executions" by exec_id (execution: ResearchExecution) {
        transcript_count, total_turns, has_summary, has_prfaq
    }
    Transcript in "transcripts" by id {
        id, exec_id, synth_id, synth_name, status, turn_count, timestamp, messages
    }
    Exploration in "explorations" by id {
        id, experiment_id, baseline_analysis_id, goal, config, status, current_depth, total_nodes,
        total_llm_calls, best_success_rate, started_at, completed_at,
    }
    ScenarioNode in "scenario_nodes" by id {
        id, exploration_id, parent_id, depth, action_applied, action_category, rationale, short_action,
        scorecard_params, simulation_results, execution_time_seconds, node_status, created_at,
    }
    FeatureScorecard in "feature_scorecards" by id {
        id, experiment_id, data, created_at, updated_at
    }
    SimulationRun in "simulation_runs" by id {
        id, scorecard_id, scenario_id, config, status, started_at, completed_at, total_synths,
        aggregated_outcomes, execution_time_seconds,
    }
    SimulationSummary in "simulation_runs" by id (simulation: SimulationRun) {
        region_count, sensitivity_count
    }
    RegionAnalysis in "region_analyses" by id {
        id, simulation_id, rules, rule_text, synth_count, synth_percentage, did_not_try_rate, failed_rate,
        success_rate, failure_delta,
    }
    SensitivityResult in "sensitivity_results" by id {
        id, simulation_id, analyzed_at, deltas_used, baseline_success, most_sensitive_dimension, dimensions,
        created_at,
    }
    AnalysisRun in "analysis_runs" by id {
        id, experiment_id, scenario_id, config, status, started_at, completed_at, total_synths,
        aggregated_outcomes, execution_time_seconds,
    }
    SynthOutcome in "synth_outcomes" by id {
        id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, synth_attributes
    }
    AnalysisCacheEntry in "analysis_cache" by cache_key {
        analysis_id, cache_key, data, params, computed_at
    }
    ChartInsight in "chart_insights" by id {
        id, simulation_id, insight_type, response_json, created_at, updated_at
    }
    ExperimentDocument in "experiment_documents" by id {
        id, experiment_id, document_type, markdown_content, metadata, generated_at, model, status, error_message
    }
    DocumentSummary in "experiment_documents" by id {
        id, experiment_id, document_type, metadata, generated_at, model, status, error_message
    }
}

/// One row of a group's detail statement: the group's columns (as `group_id`, `group_name`,
/// `group_description`, `group_created_at`) and one of its synths (NULL columns when the
/// group has none: `synth_groups LEFT JOIN synths`).
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn group_detail_row(row: &dyn Row) -> Result<(SynthGroup, Option<Synth>)> {
    let columns = row.of(SynthGroup::TABLE);
    let group = SynthGroup {
        id: columns.get("group_id")?,
        name: columns.get("group_name")?,
        description: columns.get("group_description")?,
        created_at: columns.get("group_created_at")?,
    };
    let synth = match columns.is_null(Synth::KEY)? {
        true => None,
        false => Some(Synth::from_row(row)?),
    };
    Ok((group, synth))
}

/// The detail of a group from the rows [`group_detail_row`] read (`None`: no such group).
pub(crate) fn group_detail(rows: Vec<(SynthGroup, Option<Synth>)>) -> Option<SynthGroupDetail> {
    let mut rows = rows.into_iter();
    let (group, first) = rows.next()?;
    let synths = first.into_iter().chain(rows.filter_map(|(_, synth)| synth)).collect();
    Some(SynthGroupDetail { group, synths })
}

/// The three rates of one outcome, `[did_not_try_rate, failed_rate, success_rate]` (the input of
/// `model::outcome_statistics`).
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn rates_row(row: &dyn Row) -> Result<[f64; 3]> {
    let columns = row.of(SynthOutcome::TABLE);
    Ok([
        columns.get("did_not_try_rate")?,
        columns.get("failed_rate")?,
        columns.get("success_rate")?,
    ])
}

/// The `exec_id` of a row (the batch lookups of executions).
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn exec_id_row(row: &dyn Row) -> Result<String> {
    row.of(ResearchExecution::TABLE).get("exec_id")
}

/// `(exec_id, additional_context)` of a row.
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn additional_context_row(row: &dyn Row) -> Result<(String, Option<String>)> {
    let columns = row.of(ResearchExecution::TABLE);
    Ok((columns.get("exec_id")?, columns.get("additional_context")?))
}

/// `(exec_id, total_turns)` of a row.
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn total_turns_row(row: &dyn Row) -> Result<(String, i64)> {
    let columns = row.of(ResearchExecution::TABLE);
    Ok((columns.get("exec_id")?, columns.get("total_turns")?))
}

/// `(node_status, n)` of a count of scenario nodes by status.
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn status_count_row(row: &dyn Row) -> Result<(NodeStatus, i64)> {
    let columns = row.of(ScenarioNode::TABLE);
    Ok((columns.get("node_status")?, columns.get("n")?))
}
