//! Through a real PgBouncer in transaction mode (`pgbouncer=true`): 200 concurrent tasks over
//! all fifteen repositories that together call every method of every repository trait — the
//! list is read from the trait definitions in `src/repo/`, so a new method fails this test
//! until the load calls it — with 0 errors, every read checked, and server connections really
//! shared (at most 4 per pool for up to 16 client connections per store).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use serde_json::json;
use synthlab_db::model::*;
use synthlab_db::{DatabaseConfig, Store};
use tracing_subscriber::layer::SubscriberExt;

use crate::harness::{self, PARITY_DATABASE, pgbouncer};
use crate::observability::Capture;

#[path = "../../examples/support/cutover_workload.rs"]
mod workload;

use workload::id;

/// Stores (schemas) the tasks are spread over: a workload phase checks that its synth group is
/// in the first page of 50, so one schema holds at most 49 phases.
const STORES: usize = 5;
/// Concurrent tasks; each runs one workload phase and the calls the workload does not make.
const TASKS: usize = 200;

/// Every `(trait, method)` of the repository traits, read from `src/repo/*.rs`.
fn trait_methods() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/repo");
    let mut methods = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("src/repo").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("read a repository trait");
        let mut current: Option<String> = None;
        for line in text.lines() {
            let line = line.trim_start();
            if let Some(rest) = line.strip_prefix("pub trait ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                current = name.ends_with("Repository").then_some(name);
            } else if let (Some(name), Some(rest)) = (&current, line.strip_prefix("async fn ")) {
                let method: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                methods.insert((name.clone(), method));
            }
        }
    }
    assert!(
        methods.len() > 100,
        "the repository traits have more methods than {methods:?}"
    );
    methods
}

/// The calls of a phase that the cutover workload does not make, on that phase's rows.
async fn extras(store: &Store, p: u8) -> anyhow::Result<()> {
    let (experiment, exec, analysis) = (id("exp", p, 1), id("exec", p, 1), id("ana", p, 1));
    let (exploration, simulation, synth) = (id("expl", p, 1), id("sim", p, 1), id("synth", p, 1));

    let research = store.research();
    ensure!(research.get_execution(&exec).await?.is_some(), "get_execution");
    ensure!(
        research.executions_by_experiment(&experiment).await?.len() == 1,
        "executions_by_experiment"
    );
    ensure!(
        research.get_transcript(&exec, &synth).await?.is_some(),
        "get_transcript"
    );
    ensure!(
        research.get_transcript_by_id(&id("trn", p, 1)).await?.is_some(),
        "get_transcript_by_id"
    );
    let ids = vec![exec.clone(), "exec_missing".to_owned()];
    ensure!(research.with_summary(&ids).await?.contains(&exec), "with_summary");
    ensure!(research.with_prfaq(&ids).await?.contains(&exec), "with_prfaq");
    ensure!(
        research.with_additional_context(&ids).await?.contains(&exec),
        "with_additional_context"
    );

    ensure!(
        store
            .analyses()
            .get_by_experiment(&experiment)
            .await?
            .is_some_and(|a| a.id == analysis),
        "analyses.get_by_experiment"
    );
    let outcomes = store.synth_outcomes();
    ensure!(outcomes.count_by_analysis(&analysis).await? == 3, "count_by_analysis");
    ensure!(
        outcomes.get_by_synth(&analysis, &synth).await?.is_some(),
        "get_by_synth"
    );
    ensure!(outcomes.latest_for_synth(&synth).await?.is_some(), "latest_for_synth");
    ensure!(
        store
            .analysis_cache()
            .get_chart_insight(&analysis, "histogram")
            .await?
            .is_some(),
        "get_chart_insight"
    );

    let explorations = store.explorations();
    let root = id("node", p, 1);
    ensure!(explorations.get_node(&root).await?.is_some(), "get_node");
    ensure!(
        explorations.root(&exploration).await?.is_some_and(|n| n.id == root),
        "root"
    );
    ensure!(
        explorations
            .winner(&exploration)
            .await?
            .is_some_and(|n| n.id == id("node", p, 3)),
        "winner"
    );
    ensure!(explorations.children(&root).await?.len() == 2, "children");

    let documents = store.experiment_documents();
    ensure!(
        documents.existing_types(&experiment).await?.len() == 2,
        "existing_types"
    );
    ensure!(
        documents
            .get_by_type(&experiment, DocumentType::Summary)
            .await?
            .is_some(),
        "get_by_type"
    );

    // The single-row reads and writes the workload reaches only through listings.
    let cache = store.analysis_cache();
    cache
        .save(&NewCacheEntry::new(&analysis, "funnel", json!({"steps": [3, 2, 1]})))
        .await?;
    ensure!(cache.get(&analysis, "funnel").await?.is_some(), "analysis_cache.get");
    ensure!(store.analyses().get(&analysis).await?.is_some(), "analyses.get");
    ensure!(
        store.chart_insights().get(&simulation, "funnel").await?.is_some(),
        "chart_insights.get"
    );
    ensure!(
        documents.get(&id("doc", p, 1)).await?.is_some(),
        "experiment_documents.get"
    );
    ensure!(
        documents.delete(&experiment, DocumentType::Prfaq).await?,
        "experiment_documents.delete"
    );
    ensure!(explorations.get(&exploration).await?.is_some(), "explorations.get");
    ensure!(
        store.interview_guides().delete(&experiment).await?,
        "interview_guides.delete"
    );
    let mut region = NewRegionAnalysis::new(&simulation, json!({"age": [40, 50]}), "age 40-50");
    region.id = id("reg", p, 3);
    store.regions().save(&region).await?;
    ensure!(store.regions().get(&region.id).await?.is_some(), "regions.get");
    ensure!(
        store.sensitivity().get(&id("sens", p, 1)).await?.is_some(),
        "sensitivity.get"
    );
    ensure!(
        store.sensitivity().list_by_simulation(&simulation).await?.len() == 1,
        "sensitivity listed"
    );
    ensure!(
        store.scorecards().get(&id("sc", p, 1)).await?.is_some(),
        "scorecards.get"
    );
    ensure!(
        store.scorecards().list(PageRequest::first(10)?).await?.total >= 1,
        "scorecards.list"
    );
    ensure!(store.simulations().get(&simulation).await?.is_some(), "simulations.get");
    ensure!(
        store.simulations().list(PageRequest::first(10)?).await?.total >= 1,
        "simulations.list"
    );
    ensure!(
        store.synth_groups().get(&id("grp", p, 1)).await?.is_some(),
        "synth_groups.get"
    );
    ensure!(
        store
            .synths()
            .list(SynthSort::default(), PageRequest::first(10)?)
            .await?
            .total
            >= 3,
        "synths.list"
    );

    ensure!(
        store.chart_insights().delete_by_simulation(&simulation).await? == 1,
        "insights deleted"
    );
    ensure!(
        store.regions().delete_by_simulation(&simulation).await? == 3,
        "regions deleted"
    );
    ensure!(
        store.sensitivity().delete_by_simulation(&simulation).await? == 1,
        "sensitivity deleted"
    );
    ensure!(store.simulations().delete(&simulation).await?, "simulations.delete");
    ensure!(store.scorecards().delete(&id("sc", p, 1)).await?, "scorecards.delete");
    ensure!(cache.delete_all(&analysis).await? == 5, "cache deleted");
    ensure!(outcomes.delete_by_analysis(&analysis).await? == 3, "outcomes deleted");

    // A group without synths, and an analysis no exploration starts from, can be deleted.
    let mut group = NewSynthGroup::new(format!("Spare panel {p}"));
    group.id = id("grp", p, 2);
    store.synth_groups().create(&group).await?;
    ensure!(store.synth_groups().delete(&group.id).await?, "synth_groups.delete");
    let other = id("exp", p, 3);
    let mut new = NewExperiment::new(format!("Spare {p}"), "Deleted again");
    new.id = other.clone();
    store.experiments().create(&new).await?;
    for n in [2, 3] {
        let mut run = NewAnalysisRun::new(&other, json!({"spare": p}));
        run.id = id("ana", p, n);
        store.analyses().create(&run).await?;
        if n == 2 {
            let mut outcome = NewSynthOutcome::new(&run.id, &synth, 0.2, 0.3, 0.5);
            outcome.id = id("out", p, 9);
            outcomes.create(&outcome).await?;
            ensure!(outcomes.get(&outcome.id).await?.is_some(), "synth_outcomes.get");
            ensure!(store.analyses().delete(&run.id).await?, "analyses.delete");
        } else {
            ensure!(
                store.analyses().delete_by_experiment(&other).await?,
                "delete_by_experiment"
            );
        }
    }
    Ok(())
}

/// `SHOW POOLS` of PgBouncer's admin console for the `load_*` databases: (client connections,
/// server connections).
async fn pool_usage(bouncer: &pgbouncer::PgBouncer) -> anyhow::Result<(i64, i64)> {
    let admin = synthlab_db::pg::connect_url(&bouncer.url("pgbouncer", "")).await?;
    let (mut clients, mut servers) = (0, 0);
    for message in admin.simple_query("SHOW POOLS").await? {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = message
            && row.get("database").is_some_and(|d| d.starts_with("load_"))
        {
            let number = |column: &str| row.get(column).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            clients += number("cl_active") + number("cl_waiting");
            servers += ["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"]
                .iter()
                .map(|c| number(c))
                .sum::<i64>();
        }
    }
    Ok((clients, servers))
}

#[test]
fn two_hundred_tasks_call_every_repository_method_through_pgbouncer() {
    // The spans are captured by this thread's subscriber: the runtime runs on this thread.
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(capture.clone())
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = harness::parity_server();
    let schemas: Vec<String> = (0..STORES)
        .map(|_| runtime.block_on(harness::new_schema(&server)))
        .collect();
    let aliases: Vec<(String, String)> = schemas
        .iter()
        .enumerate()
        .map(|(i, schema)| {
            (
                format!("load_{i}"),
                format!("dbname={PARITY_DATABASE} connect_query='SET search_path TO {schema}'"),
            )
        })
        .collect();
    let bouncer = pgbouncer::PgBouncer::start(&pgbouncer::Upstream::parity(), &aliases);

    let outcome: anyhow::Result<()> = runtime.block_on(async {
        let mut stores = Vec::new();
        for (alias, _) in &aliases {
            let config: DatabaseConfig = bouncer.url(alias, "pgbouncer=true").parse()?;
            stores.push(Store::connect(&config).await.context("store through PgBouncer")?);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..TASKS {
            let store = stores[task % STORES].clone();
            let phase = u8::try_from(task / STORES + 1)?;
            tasks.spawn(async move {
                let done = async {
                    workload::run_alone(&store, phase).await?;
                    extras(&store, phase).await
                };
                (task, done.await)
            });
        }
        let mut errors = Vec::new();
        let (mut clients, mut servers) = (0, 0);
        let joined = tokio::time::timeout(Duration::from_secs(600), async {
            while let Some(done) = tasks.join_next().await {
                if tasks.len() == TASKS / 2 {
                    (clients, servers) = pool_usage(&bouncer).await?;
                }
                match done {
                    Ok((_, Ok(()))) => {}
                    Ok((task, Err(err))) => errors.push(format!("task {task}: {err:#}")),
                    Err(join) => errors.push(format!("task panicked: {join}")),
                }
            }
            anyhow::Ok(())
        })
        .await;
        ensure!(joined.is_ok(), "{TASKS} tasks did not finish within 600 s");
        joined??;
        ensure!(
            errors.is_empty(),
            "{} of {TASKS} tasks failed through PgBouncer: {:?}",
            errors.len(),
            &errors[..errors.len().min(5)]
        );
        // Mid-load: many client connections, at most POOL_SIZE server connections per pool.
        ensure!(
            servers <= (STORES as i64) * i64::from(pgbouncer::POOL_SIZE) && clients > servers,
            "mid-load PgBouncer pools: {clients} client connections, {servers} server connections"
        );
        Ok(())
    });
    if let Err(err) = outcome {
        panic!("{err:#}\nPgBouncer log (tail):\n{}", tail(&bouncer.log()));
    }

    let spans = capture.spans.lock().expect("spans");
    let calls: Vec<_> = spans.iter().filter(|s| s.name == "repository_call").collect();
    let failed: Vec<_> = calls
        .iter()
        .filter(|s| s.fields.get("error").is_some_and(|e| !e.is_empty()))
        .map(|s| format!("{:?}", s.fields))
        .collect();
    assert!(
        failed.is_empty(),
        "failed repository calls: {:?}",
        &failed[..failed.len().min(5)]
    );
    let called: BTreeSet<(String, String)> = calls
        .iter()
        .filter(|s| s.fields.get("backend").map(String::as_str) == Some("postgres"))
        .map(|s| (s.fields["repository"].clone(), s.fields["method"].clone()))
        .collect();
    let missing: Vec<_> = trait_methods().difference(&called).cloned().collect();
    assert!(
        missing.is_empty(),
        "repository methods the load never called: {missing:?}"
    );
    drop(spans);

    runtime.block_on(async {
        let admin = synthlab_db::pg::connect(&server.with_dbname(PARITY_DATABASE))
            .await
            .expect("admin connection");
        for schema in &schemas {
            let _ = admin
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await;
        }
    });
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
