//! The scripted workload of the cutover example service: creates, updates, soft deletes,
//! deletes and reads across all fifteen repositories, through the repository traits only.
//!
//! Deterministic: ids and creation times come from the phase number and a counter, so each
//! phase writes its own rows; phases after the first also update and read rows of the
//! previous phase (rows that arrived in the other store by copy or by dual writes). Every
//! read is checked against what the workload wrote; a wrong answer is an error.
//!
//! Shared by `examples/cutover_service.rs` and the end-to-end test `tests/cutover.rs`.

#![allow(dead_code)]

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use synthlab_db::model::*;
use synthlab_db::{Error, Result, Store};

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Repository calls that write.
    pub writes: u64,
    /// Repository calls that read (each checked).
    pub reads: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} writes, {} checked reads", self.writes, self.reads)
    }
}

/// The id of the `n`-th row of `prefix` in `phase` (`prefix_` + 8 hex digits, which also
/// satisfies the exploration and node id checks).
pub fn id(prefix: &str, phase: u8, n: u32) -> String {
    format!("{prefix}_{phase:02x}{n:06x}")
}

fn at(phase: u8, second: i64) -> Timestamp {
    let base = Utc.with_ymd_and_hms(2025, 6, 1, 9, 0, 0).single().unwrap_or_default();
    base + Duration::days(i64::from(phase)) + Duration::seconds(second)
}

fn ensure(ok: bool, what: impl Into<String>) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::other(format!("workload check failed: {}", what.into())))
    }
}

struct Run<'a> {
    store: &'a Store,
    phase: u8,
    report: Report,
}

impl Run<'_> {
    fn w(&mut self) {
        self.report.writes += 1;
    }

    fn r(&mut self) {
        self.report.reads += 1;
    }
}

/// Runs phase `phase` (1..=255) of the workload on `store`.
///
/// # Errors
/// The first repository error, or a read that did not return what was written.
pub async fn run(store: &Store, phase: u8) -> Result<Report> {
    run_phase(store, phase, phase > 1).await
}

/// Runs phase `phase` without touching the previous phase's rows, so that phases can run
/// concurrently on one store (at most 49 of them: the phase checks that its synth group is in
/// the first page of 50 groups).
///
/// # Errors
/// As [`run`].
pub async fn run_alone(store: &Store, phase: u8) -> Result<Report> {
    run_phase(store, phase, false).await
}

async fn run_phase(store: &Store, phase: u8, previous: bool) -> Result<Report> {
    let mut run = Run {
        store,
        phase,
        report: Report::default(),
    };
    let synths = synths(&mut run).await?;
    let experiment = experiments(&mut run).await?;
    research(&mut run, &experiment, &synths).await?;
    let analysis = analyses(&mut run, &experiment, &synths).await?;
    explorations(&mut run, &experiment, &analysis).await?;
    documents(&mut run, &experiment).await?;
    legacy_simulations(&mut run, &experiment).await?;
    if previous {
        previous_phase(&mut run).await?;
    }
    Ok(run.report)
}

async fn synths(run: &mut Run<'_>) -> Result<Vec<String>> {
    let (store, p) = (run.store, run.phase);
    store.synth_groups().ensure_default().await?;
    run.w();
    let group_id = id("grp", p, 1);
    let mut group = NewSynthGroup::new(format!("Panel {p}"));
    group.id = group_id.clone();
    group.description = Some("cutover workload".to_owned());
    group.created_at = Some(at(p, 1));
    store.synth_groups().create(&group).await?;
    run.w();
    let mut ids = Vec::new();
    for n in 1..=4u32 {
        let mut synth = NewSynth::new(format!("Persona {p}-{n}"));
        synth.id = id("synth", p, n);
        synth.synth_group_id = Some(group_id.clone());
        synth.data = Some(json!({"demografia": {"idade": 20 + n, "cidade": "Lisboa"}, "score": f64::from(n) / 3.0}));
        synth.created_at = Some(at(p, 10 + i64::from(n)));
        store.synths().create(&synth).await?;
        run.w();
        ids.push(synth.id);
    }
    let removed = ids.pop().unwrap_or_default();
    ensure(store.synths().delete(&removed).await?, "synth delete reports the row")?;
    run.w();
    let page = store.synths().list_by_group(&group_id, PageRequest::first(10)?).await?;
    run.r();
    ensure(
        page.total == 3,
        format!("group {group_id} has 3 synths, got {}", page.total),
    )?;
    let search = SynthSearch {
        name_contains: Some(format!("persona {p}-")),
        ..SynthSearch::default()
    };
    let found = store.synths().search(&search, PageRequest::first(10)?).await?;
    run.r();
    ensure(found.total == 3, "search finds the phase's synths")?;
    let detail = store.synth_groups().detail(&group_id).await?;
    run.r();
    ensure(
        detail.is_some_and(|d| d.synths.len() == 3),
        "group detail lists its synths",
    )?;
    let groups = store.synth_groups().list(PageRequest::first(50)?).await?;
    run.r();
    ensure(groups.items.iter().any(|g| g.group.id == group_id), "group listed")?;
    ensure(store.synths().get(&ids[0]).await?.is_some(), "synth readable")?;
    run.r();
    Ok(ids)
}

async fn experiments(run: &mut Run<'_>) -> Result<String> {
    let (store, p) = (run.store, run.phase);
    let keep = id("exp", p, 1);
    let mut new = NewExperiment::new(format!("Checkout {p}"), "One click converts more");
    new.id = keep.clone();
    new.description = Some("kept".to_owned());
    new.created_at = Some(at(p, 20));
    store.experiments().create(&new).await?;
    run.w();
    let gone = id("exp", p, 2);
    let mut doomed = NewExperiment::new(format!("Abandoned {p}"), "Nobody reads banners");
    doomed.id = gone.clone();
    doomed.created_at = Some(at(p, 21));
    store.experiments().create(&doomed).await?;
    run.w();
    let changes = ExperimentChanges {
        name: Some(format!("Checkout {p} (revised)")),
        ..ExperimentChanges::default()
    };
    store.experiments().update(&keep, &changes).await?;
    run.w();
    store
        .experiments()
        .update_scorecard(&keep, &json!({"feature": "one-click", "weights": [0.5, 0.25, 0.25]}))
        .await?;
    run.w();
    store.experiments().soft_delete(&gone).await?;
    run.w();
    let got = store.experiments().get(&keep).await?;
    run.r();
    ensure(
        got.is_some_and(|e| e.name.ends_with("(revised)") && e.scorecard_data.is_some() && e.updated_at.is_some()),
        "experiment updated",
    )?;
    ensure(
        store.experiments().get(&gone).await?.is_none(),
        "soft-deleted experiment invisible",
    )?;
    run.r();
    let fields = InterviewGuideFields {
        context_definition: Some("Shoppers on mobile".to_owned()),
        questions: Some("What stops you from paying?".to_owned()),
        context_examples: None,
    };
    store.interview_guides().create(&keep, &fields).await?;
    run.w();
    let fields = InterviewGuideFields {
        context_examples: Some("Abandoned carts".to_owned()),
        ..fields
    };
    store.interview_guides().update(&keep, &fields).await?;
    run.w();
    ensure(store.interview_guides().exists(&keep).await?, "guide exists")?;
    run.r();
    let guide = store.interview_guides().get(&keep).await?;
    run.r();
    ensure(guide.is_some_and(|g| g.context_examples.is_some()), "guide updated")?;
    let page = store.experiments().list(PageRequest::first(200)?).await?;
    run.r();
    let row = page.items.iter().find(|e| e.id == keep);
    ensure(
        row.is_some_and(|e| e.has_interview_guide && e.has_scorecard),
        "listing shows the guide",
    )?;
    ensure(
        page.items.iter().all(|e| e.id != gone),
        "listing hides the deleted experiment",
    )?;
    Ok(keep)
}

async fn research(run: &mut Run<'_>, experiment: &str, synths: &[String]) -> Result<()> {
    let (store, p) = (run.store, run.phase);
    let exec_id = id("exec", p, 1);
    let mut new = NewResearchExecution::new(format!("Payment friction {p}"), synths.len() as i64);
    new.exec_id = exec_id.clone();
    new.experiment_id = Some(experiment.to_owned());
    new.started_at = Some(at(p, 30));
    new.additional_context = Some("mobile only".to_owned());
    store.research().create_execution(&new).await?;
    run.w();
    for (n, synth) in synths.iter().enumerate() {
        let mut transcript = NewTranscript::new(&exec_id, synth, format!("Persona {p}-{}", n + 1));
        transcript.id = id("trn", p, n as u32 + 1);
        transcript.status = "completed".to_owned();
        transcript.turn_count = Some(3 + n as i64);
        transcript.timestamp = Some(at(p, 31 + n as i64));
        transcript.messages =
            Some(json!([{"role": "interviewer", "text": "Why?"}, {"role": "synth", "text": "Too many steps"}]));
        store.research().upsert_transcript(&transcript).await?;
        run.w();
    }
    let changes = ExecutionChanges {
        status: Some(ExecutionStatus::Completed),
        successful_count: Some(synths.len() as i64),
        failed_count: Some(0),
        completed_at: Some(at(p, 40)),
    };
    store.research().update_execution(&exec_id, &changes).await?;
    run.w();
    let transcripts = store.research().list_transcripts(&exec_id).await?;
    run.r();
    ensure(transcripts.len() == synths.len(), "one transcript per synth")?;
    let detail = store.research().get_execution_detail(&exec_id).await?;
    run.r();
    ensure(
        detail.is_some_and(|d| d.transcript_count == synths.len() as i64 && d.total_turns == 12),
        "execution detail counts transcripts and turns",
    )?;
    let filter = ExecutionFilter {
        experiment_id: Some(experiment.to_owned()),
        ..ExecutionFilter::default()
    };
    let page = store
        .research()
        .list_executions(&filter, PageRequest::first(10)?)
        .await?;
    run.r();
    ensure(page.total == 1, "one execution for the experiment")?;
    let ids = [exec_id.clone(), "exec_missing".to_owned()];
    let turns = store.research().total_turns(&ids).await?;
    run.r();
    ensure(turns.get(&exec_id) == Some(&12), "total turns")?;
    let contexts = store.research().additional_contexts(&ids).await?;
    run.r();
    ensure(contexts.len() == 1, "additional contexts of existing executions")?;
    ensure(
        store.research().auto_interview(experiment).await?.is_some(),
        "auto interview",
    )?;
    run.r();
    Ok(())
}

async fn analyses(run: &mut Run<'_>, experiment: &str, synths: &[String]) -> Result<String> {
    let (store, p) = (run.store, run.phase);
    let analysis_id = id("ana", p, 1);
    let mut new = NewAnalysisRun::new(experiment, json!({"n_synths": synths.len(), "seed": p}));
    new.id = analysis_id.clone();
    new.started_at = Some(at(p, 50));
    store.analyses().create(&new).await?;
    run.w();
    let outcomes: Vec<NewSynthOutcome> = synths
        .iter()
        .enumerate()
        .map(|(n, synth)| {
            let success = 0.5 + 0.1 * n as f64;
            let mut outcome = NewSynthOutcome::new(&analysis_id, synth, 0.1, 0.4 - 0.1 * n as f64, success);
            outcome.id = id("out", p, n as u32 + 1);
            outcome.synth_attributes = Some(json!({"idade": 21 + n}));
            outcome
        })
        .collect();
    ensure(
        store.synth_outcomes().create_batch(&outcomes).await? == outcomes.len() as u64,
        "outcome batch stored",
    )?;
    run.w();
    let update = AnalysisStatusUpdate {
        status: RunStatus::Completed,
        completed_at: Some(at(p, 55)),
        total_synths: Some(synths.len() as i64),
        aggregated_outcomes: Some(json!({"success_rate": 0.6})),
        execution_time_seconds: Some(1.25),
    };
    store.analyses().update_status(&analysis_id, &update).await?;
    run.w();
    let stats = store.synth_outcomes().statistics(&analysis_id).await?;
    run.r();
    ensure(stats.count == synths.len() as i64, "outcome statistics count")?;
    let page = store
        .synth_outcomes()
        .list_by_analysis(&analysis_id, PageRequest::first(50)?)
        .await?;
    run.r();
    ensure(page.total == synths.len() as i64, "outcomes listed")?;
    ensure(
        store.analyses().latest_completed_id(experiment).await?.as_deref() == Some(analysis_id.as_str()),
        "latest completed analysis",
    )?;
    run.r();
    store
        .analysis_cache()
        .save_executive_summary(&analysis_id, &json!({"headline": format!("phase {p}")}))
        .await?;
    run.w();
    let entries: Vec<NewCacheEntry> = ["histogram", "scatter", "heatmap"]
        .iter()
        .map(|chart| {
            let mut entry = NewCacheEntry::new(&analysis_id, *chart, json!({"bins": [1, 2, 3], "chart": chart}));
            entry.params = Some(json!({"phase": p}));
            entry
        })
        .collect();
    ensure(store.analysis_cache().save_many(&entries).await? == 3, "cache batch")?;
    run.w();
    store
        .analysis_cache()
        .save_chart_insight(&analysis_id, "histogram", &json!({"insight": "skewed"}))
        .await?;
    run.w();
    ensure(
        store.analysis_cache().delete(&analysis_id, "heatmap").await?,
        "cache delete",
    )?;
    run.w();
    let cached = store.analysis_cache().list(&analysis_id).await?;
    run.r();
    ensure(cached.len() == 4, format!("4 cache entries, got {}", cached.len()))?;
    ensure(
        store
            .analysis_cache()
            .get_executive_summary(&analysis_id)
            .await?
            .is_some(),
        "executive summary",
    )?;
    run.r();
    ensure(
        store.analysis_cache().list_chart_insights(&analysis_id).await?.len() == 1,
        "chart insights in the cache",
    )?;
    run.r();
    Ok(analysis_id)
}

async fn explorations(run: &mut Run<'_>, experiment: &str, analysis: &str) -> Result<()> {
    let (store, p) = (run.store, run.phase);
    let exploration_id = id("expl", p, 1);
    let mut new = NewExploration::new(experiment, analysis, json!({"target": 0.8}), json!({"beam": 2}));
    new.id = exploration_id.clone();
    new.started_at = Some(at(p, 60));
    store.explorations().create(&new).await?;
    run.w();
    let root_id = id("node", p, 1);
    let mut root = NewScenarioNode::new(&exploration_id, None, 0, json!({"price": 10}));
    root.id = root_id.clone();
    root.created_at = Some(at(p, 61));
    store.explorations().create_node(&root).await?;
    run.w();
    for n in 2..=3u32 {
        let mut child = NewScenarioNode::new(&exploration_id, Some(root_id.clone()), 1, json!({"price": 10 - n}));
        child.id = id("node", p, n);
        child.action_applied = Some(format!("lower price by {n}"));
        child.created_at = Some(at(p, 61 + i64::from(n)));
        store.explorations().create_node(&child).await?;
        run.w();
    }
    let winner = id("node", p, 3);
    store
        .explorations()
        .update_node_results(&winner, &json!({"success_rate": 0.82}), 2.5)
        .await?;
    run.w();
    store
        .explorations()
        .update_node_status(&winner, NodeStatus::Winner)
        .await?;
    run.w();
    let changes = ScenarioNodeChanges {
        rationale: Some("cheaper is better".to_owned()),
        simulation_results: Some(json!({"success_rate": 0.7})),
        ..ScenarioNodeChanges::default()
    };
    store.explorations().update_node(&id("node", p, 2), &changes).await?;
    run.w();
    let changes = ExplorationChanges {
        status: Some(ExplorationStatus::GoalAchieved),
        current_depth: Some(1),
        total_nodes: Some(3),
        total_llm_calls: Some(4),
        best_success_rate: Some(0.82),
        completed_at: Some(at(p, 70)),
    };
    store.explorations().update(&exploration_id, &changes).await?;
    run.w();
    ensure(
        store.explorations().nodes(&exploration_id).await?.len() == 3,
        "three nodes",
    )?;
    run.r();
    let best = store.explorations().best_node(&exploration_id).await?;
    run.r();
    ensure(best.is_some_and(|n| n.id == winner), "best node")?;
    ensure(
        store.explorations().path(&winner).await?.len() == 2,
        "path root → winner",
    )?;
    run.r();
    ensure(
        store.explorations().frontier(&exploration_id).await?.len() == 1,
        "frontier",
    )?;
    run.r();
    let counts = store.explorations().count_by_status(&exploration_id).await?;
    run.r();
    ensure(counts.iter().map(|(_, n)| n).sum::<i64>() == 3, "status counts")?;
    ensure(
        store.explorations().list_by_experiment(experiment).await?.len() == 1,
        "explorations",
    )?;
    run.r();
    Ok(())
}

async fn documents(run: &mut Run<'_>, experiment: &str) -> Result<()> {
    let (store, p) = (run.store, run.phase);
    let mut summary = NewExperimentDocument::new(experiment, DocumentType::Summary, format!("# Summary {p}"));
    summary.id = id("doc", p, 1);
    summary.generated_at = Some(at(p, 80));
    summary.metadata = Some(json!({"tokens": 1200}));
    store.experiment_documents().save(&summary).await?;
    run.w();
    // The backend generates this document's id and time: dual writes must replay them.
    store
        .experiment_documents()
        .create_pending(experiment, DocumentType::Prfaq, Some("gpt-4o"))
        .await?;
    run.w();
    let update = DocumentStatusUpdate {
        markdown_content: Some(format!("# PR/FAQ {p}")),
        ..DocumentStatusUpdate::new(DocumentStatus::Completed)
    };
    store
        .experiment_documents()
        .update_status(experiment, DocumentType::Prfaq, &update)
        .await?;
    run.w();
    let summaries = store.experiment_documents().list_summaries(experiment).await?;
    run.r();
    ensure(summaries.len() == 2, "two documents")?;
    let markdown = store
        .experiment_documents()
        .get_markdown(experiment, DocumentType::Prfaq)
        .await?;
    run.r();
    ensure(markdown == Some(format!("# PR/FAQ {p}")), "prfaq text")?;
    let status = store
        .experiment_documents()
        .status(experiment, DocumentType::Prfaq)
        .await?;
    run.r();
    ensure(status == Some(DocumentStatus::Completed), "prfaq completed")?;
    Ok(())
}

async fn legacy_simulations(run: &mut Run<'_>, experiment: &str) -> Result<()> {
    let (store, p) = (run.store, run.phase);
    let scorecard_id = id("sc", p, 1);
    let mut scorecard = NewScorecard::new(json!({"feature": "one-click", "complexity": 0.3}));
    scorecard.id = scorecard_id.clone();
    scorecard.experiment_id = Some(experiment.to_owned());
    scorecard.created_at = Some(at(p, 90));
    store.scorecards().create(&scorecard).await?;
    run.w();
    store
        .scorecards()
        .update_data(&scorecard_id, &json!({"feature": "one-click", "complexity": 0.35}))
        .await?;
    run.w();
    let simulation_id = id("sim", p, 1);
    let mut simulation = NewSimulation::new(&scorecard_id, "baseline", json!({"n": 3}));
    simulation.id = simulation_id.clone();
    simulation.started_at = Some(at(p, 91));
    store.simulations().create(&simulation).await?;
    run.w();
    let update = SimulationStatusUpdate {
        status: RunStatus::Completed,
        completed_at: Some(at(p, 95)),
        total_synths: Some(3),
        aggregated_outcomes: Some(json!({"success_rate": 0.55})),
        execution_time_seconds: Some(0.75),
    };
    store.simulations().update_status(&simulation_id, &update).await?;
    run.w();
    let regions: Vec<NewRegionAnalysis> = (1..=2u32)
        .map(|n| {
            let mut region =
                NewRegionAnalysis::new(&simulation_id, json!({"age": [20 + n, 30 + n]}), format!("age {n}"));
            region.id = id("reg", p, n);
            region.synth_count = i64::from(n);
            region.success_rate = 0.5;
            region
        })
        .collect();
    store.regions().save_many(&regions).await?;
    run.w();
    let mut sensitivity = NewSensitivityResult::new(
        &simulation_id,
        json!([0.05, 0.1]),
        0.55,
        "complexity",
        json!({"complexity": -0.2}),
    );
    sensitivity.id = id("sens", p, 1);
    sensitivity.analyzed_at = at(p, 96);
    sensitivity.created_at = Some(at(p, 96));
    store.sensitivity().save(&sensitivity).await?;
    run.w();
    for (n, kind) in ["funnel", "regions"].iter().enumerate() {
        let mut insight = NewChartInsight::new(&simulation_id, *kind, json!({"text": format!("{kind} insight")}));
        insight.id = id("ins", p, n as u32 + 1);
        store.chart_insights().save(&insight).await?;
        run.w();
    }
    ensure(
        store.chart_insights().delete(&simulation_id, "regions").await?,
        "insight delete",
    )?;
    run.w();
    let summary = store.simulations().summary(&simulation_id).await?;
    run.r();
    ensure(
        summary.is_some_and(|s| s.region_count == 2 && s.sensitivity_count == 1),
        "simulation summary",
    )?;
    ensure(
        store.regions().list_by_simulation(&simulation_id).await?.len() == 2,
        "regions",
    )?;
    run.r();
    ensure(
        store
            .sensitivity()
            .latest_by_simulation(&simulation_id)
            .await?
            .is_some(),
        "sensitivity",
    )?;
    run.r();
    ensure(
        store.chart_insights().list_by_simulation(&simulation_id).await?.len() == 1,
        "insights",
    )?;
    run.r();
    let page = store
        .scorecards()
        .list_by_experiment(experiment, PageRequest::first(10)?)
        .await?;
    run.r();
    ensure(page.total == 1, "scorecard of the experiment")?;
    ensure(
        store.simulations().list_by_scorecard(&scorecard_id).await?.len() == 1,
        "simulations",
    )?;
    run.r();
    Ok(())
}

/// Updates and reads rows the previous phase wrote (they reached the other store by copy or
/// by dual writes; updating them proves both stores hold them).
async fn previous_phase(run: &mut Run<'_>) -> Result<()> {
    let (store, p) = (run.store, run.phase - 1);
    let experiment = id("exp", p, 1);
    let changes = ExperimentChanges {
        description: Some(Some(format!("touched again in phase {}", run.phase))),
        ..ExperimentChanges::default()
    };
    store.experiments().update(&experiment, &changes).await?;
    run.w();
    let exec_id = id("exec", p, 1);
    let changes = ExecutionChanges {
        failed_count: Some(1),
        ..ExecutionChanges::default()
    };
    store.research().update_execution(&exec_id, &changes).await?;
    run.w();
    store
        .analysis_cache()
        .save_chart_insight(&id("ana", p, 1), "scatter", &json!({"insight": "linear"}))
        .await?;
    run.w();
    store
        .explorations()
        .update_node_status(&id("node", p, 2), NodeStatus::Dominated)
        .await?;
    run.w();
    ensure(
        store.synths().delete(&id("synth", p, 3)).await?,
        "previous synth deleted",
    )?;
    run.w();
    let got = store.experiments().get(&experiment).await?;
    run.r();
    ensure(
        got.is_some_and(|e| e.description.is_some_and(|d| d.contains("phase"))),
        "previous experiment",
    )?;
    let detail = store.research().get_execution_detail(&exec_id).await?;
    run.r();
    ensure(
        detail.is_some_and(|d| d.execution.failed_count == Some(1)),
        "previous execution",
    )?;
    let frontier = store.explorations().frontier(&id("expl", p, 1)).await?;
    run.r();
    ensure(frontier.is_empty(), "previous frontier empty")?;
    Ok(())
}
