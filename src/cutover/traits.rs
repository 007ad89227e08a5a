//! `impl <Trait> for Routed<dyn Trait>` for every repository trait, generated from one
//! method list per trait in which each method is classified `read` or `write`.
//!
//! A `write` method goes through [`Routed::write`] (dual write), a `read` method through
//! [`Routed::read`] (primary, plus the shadow comparison in shadow mode). Nothing else is
//! per method. A required trait method missing from a list is a compile error; the provided
//! (default) methods of `AnalysisCacheRepository` are listed too, so that counters and logs
//! name them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use async_trait::async_trait;
use serde_json::Value;

use super::routed::{Routed, short_key};
use crate::Result;
use crate::model::*;
use crate::repo::*;

/// `routed! { Trait { read|write method(arg: Type, …) -> Output; … } … }`
macro_rules! routed {
    ($($trait:ident { $($kind:ident $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)+ })+) => {$(
        #[async_trait]
        impl $trait for Routed<dyn $trait> {
            $(
                async fn $method(&self, $($arg: $ty),*) -> Result<$ret> {
                    self.$kind(
                        stringify!($method),
                        || short_key(&[$(&$arg as &dyn Debug),*]),
                        self.primary.$method($($arg),*),
                        self.secondary.$method($($arg),*),
                    )
                    .await
                }
            )+
        }
    )+};
}

routed! {
    ExperimentRepository {
        write create(new: &NewExperiment) -> Experiment;
        read get(id: &str) -> Option<Experiment>;
        read list(page: PageRequest) -> Page<ExperimentSummary>;
        write update(id: &str, changes: &ExperimentChanges) -> Experiment;
        write update_scorecard(id: &str, scorecard: &Value) -> Experiment;
        write soft_delete(id: &str) -> ();
    }

    InterviewGuideRepository {
        write create(experiment_id: &str, fields: &InterviewGuideFields) -> InterviewGuide;
        read get(experiment_id: &str) -> Option<InterviewGuide>;
        read exists(experiment_id: &str) -> bool;
        write update(experiment_id: &str, fields: &InterviewGuideFields) -> InterviewGuide;
        write delete(experiment_id: &str) -> bool;
    }

    SynthGroupRepository {
        write ensure_default() -> SynthGroup;
        write create(new: &NewSynthGroup) -> SynthGroup;
        read get(id: &str) -> Option<SynthGroupWithCount>;
        read detail(id: &str) -> Option<SynthGroupDetail>;
        read list(page: PageRequest) -> Page<SynthGroupWithCount>;
        write delete(id: &str) -> bool;
    }

    SynthRepository {
        write create(new: &NewSynth) -> Synth;
        read get(id: &str) -> Option<Synth>;
        read list(sort: SynthSort, page: PageRequest) -> Page<Synth>;
        read list_by_group(group_id: &str, page: PageRequest) -> Page<Synth>;
        read search(search: &SynthSearch, page: PageRequest) -> Page<Synth>;
        write delete(id: &str) -> bool;
    }

    ResearchRepository {
        read list_executions(filter: &ExecutionFilter, page: PageRequest) -> Page<ResearchExecution>;
        read get_execution(exec_id: &str) -> Option<ResearchExecution>;
        read get_execution_detail(exec_id: &str) -> Option<ExecutionDetail>;
        write create_execution(new: &NewResearchExecution) -> ResearchExecution;
        write update_execution(exec_id: &str, changes: &ExecutionChanges) -> ResearchExecution;
        read executions_by_experiment(experiment_id: &str) -> Vec<ResearchExecution>;
        read auto_interview(experiment_id: &str) -> Option<ResearchExecution>;
        read list_transcripts(exec_id: &str) -> Vec<Transcript>;
        read get_transcript(exec_id: &str, synth_id: &str) -> Option<Transcript>;
        read get_transcript_by_id(id: &str) -> Option<Transcript>;
        write upsert_transcript(new: &NewTranscript) -> Transcript;
        read with_summary(exec_ids: &[String]) -> BTreeSet<String>;
        read with_prfaq(exec_ids: &[String]) -> BTreeSet<String>;
        read with_additional_context(exec_ids: &[String]) -> BTreeSet<String>;
        read additional_contexts(exec_ids: &[String]) -> BTreeMap<String, Option<String>>;
        read total_turns(exec_ids: &[String]) -> BTreeMap<String, i64>;
    }

    ExplorationRepository {
        write create(new: &NewExploration) -> Exploration;
        read get(id: &str) -> Option<Exploration>;
        write update(id: &str, changes: &ExplorationChanges) -> Exploration;
        read list_by_experiment(experiment_id: &str) -> Vec<Exploration>;
        write create_node(new: &NewScenarioNode) -> ScenarioNode;
        read get_node(id: &str) -> Option<ScenarioNode>;
        write update_node(id: &str, changes: &ScenarioNodeChanges) -> ScenarioNode;
        write update_node_status(id: &str, status: NodeStatus) -> ScenarioNode;
        write update_node_results(id: &str, results: &Value, execution_time_seconds: f64) -> ScenarioNode;
        read nodes(exploration_id: &str) -> Vec<ScenarioNode>;
        read frontier(exploration_id: &str) -> Vec<ScenarioNode>;
        read root(exploration_id: &str) -> Option<ScenarioNode>;
        read winner(exploration_id: &str) -> Option<ScenarioNode>;
        read path(node_id: &str) -> Vec<ScenarioNode>;
        read children(node_id: &str) -> Vec<ScenarioNode>;
        read count_by_status(exploration_id: &str) -> Vec<(NodeStatus, i64)>;
        read best_node(exploration_id: &str) -> Option<ScenarioNode>;
    }

    ScorecardRepository {
        write create(new: &NewScorecard) -> FeatureScorecard;
        read get(id: &str) -> Option<FeatureScorecard>;
        read list(page: PageRequest) -> Page<FeatureScorecard>;
        read list_by_experiment(experiment_id: &str, page: PageRequest) -> Page<FeatureScorecard>;
        write update_data(id: &str, data: &Value) -> FeatureScorecard;
        write delete(id: &str) -> bool;
    }

    SimulationRepository {
        write create(new: &NewSimulation) -> SimulationRun;
        read get(id: &str) -> Option<SimulationRun>;
        read list_by_scorecard(scorecard_id: &str) -> Vec<SimulationRun>;
        read list(page: PageRequest) -> Page<SimulationRun>;
        write update_status(id: &str, update: &SimulationStatusUpdate) -> SimulationRun;
        write delete(id: &str) -> bool;
        read summary(id: &str) -> Option<SimulationSummary>;
    }

    RegionRepository {
        write save(new: &NewRegionAnalysis) -> RegionAnalysis;
        write save_many(new: &[NewRegionAnalysis]) -> Vec<RegionAnalysis>;
        read get(id: &str) -> Option<RegionAnalysis>;
        read list_by_simulation(simulation_id: &str) -> Vec<RegionAnalysis>;
        write delete_by_simulation(simulation_id: &str) -> u64;
    }

    SensitivityRepository {
        write save(new: &NewSensitivityResult) -> SensitivityResult;
        read get(id: &str) -> Option<SensitivityResult>;
        read list_by_simulation(simulation_id: &str) -> Vec<SensitivityResult>;
        read latest_by_simulation(simulation_id: &str) -> Option<SensitivityResult>;
        write delete_by_simulation(simulation_id: &str) -> u64;
    }

    AnalysisRepository {
        write create(new: &NewAnalysisRun) -> AnalysisRun;
        read get(id: &str) -> Option<AnalysisRun>;
        read get_by_experiment(experiment_id: &str) -> Option<AnalysisRun>;
        write update_status(id: &str, update: &AnalysisStatusUpdate) -> AnalysisRun;
        write delete(id: &str) -> bool;
        write delete_by_experiment(experiment_id: &str) -> bool;
        read latest_completed_id(experiment_id: &str) -> Option<String>;
    }

    SynthOutcomeRepository {
        write create(new: &NewSynthOutcome) -> SynthOutcome;
        write create_batch(outcomes: &[NewSynthOutcome]) -> u64;
        read get(id: &str) -> Option<SynthOutcome>;
        read list_by_analysis(analysis_id: &str, page: PageRequest) -> Page<SynthOutcome>;
        read count_by_analysis(analysis_id: &str) -> i64;
        write delete_by_analysis(analysis_id: &str) -> u64;
        read get_by_synth(analysis_id: &str, synth_id: &str) -> Option<SynthOutcome>;
        read latest_for_synth(synth_id: &str) -> Option<SynthOutcome>;
        read statistics(analysis_id: &str) -> OutcomeStatistics;
    }

    AnalysisCacheRepository {
        read get(analysis_id: &str, cache_key: &str) -> Option<AnalysisCacheEntry>;
        read list(analysis_id: &str) -> Vec<AnalysisCacheEntry>;
        write save(entry: &NewCacheEntry) -> AnalysisCacheEntry;
        write save_many(entries: &[NewCacheEntry]) -> u64;
        write delete(analysis_id: &str, cache_key: &str) -> bool;
        write delete_all(analysis_id: &str) -> u64;
        write save_executive_summary(analysis_id: &str, summary: &Value) -> AnalysisCacheEntry;
        read get_executive_summary(analysis_id: &str) -> Option<Value>;
        write save_chart_insight(analysis_id: &str, chart_type: &str, insight: &Value) -> AnalysisCacheEntry;
        read get_chart_insight(analysis_id: &str, chart_type: &str) -> Option<Value>;
        read list_chart_insights(analysis_id: &str) -> Vec<(String, Value)>;
    }

    ChartInsightRepository {
        read get(simulation_id: &str, insight_type: &str) -> Option<ChartInsight>;
        read list_by_simulation(simulation_id: &str) -> Vec<ChartInsight>;
        write save(new: &NewChartInsight) -> ChartInsight;
        write delete(simulation_id: &str, insight_type: &str) -> bool;
        write delete_by_simulation(simulation_id: &str) -> u64;
    }

    ExperimentDocumentRepository {
        read get(id: &str) -> Option<ExperimentDocument>;
        read get_by_type(experiment_id: &str, document_type: DocumentType) -> Option<ExperimentDocument>;
        read list_summaries(experiment_id: &str) -> Vec<DocumentSummary>;
        read get_markdown(experiment_id: &str, document_type: DocumentType) -> Option<String>;
        write save(new: &NewExperimentDocument) -> ExperimentDocument;
        write create_pending(experiment_id: &str, document_type: DocumentType, model: Option<&str>) -> ExperimentDocument;
        write update_status(experiment_id: &str, document_type: DocumentType, update: &DocumentStatusUpdate) -> ExperimentDocument;
        write delete(experiment_id: &str, document_type: DocumentType) -> bool;
        read existing_types(experiment_id: &str) -> Vec<DocumentType>;
        read status(experiment_id: &str, document_type: DocumentType) -> Option<DocumentStatus>;
    }
}
