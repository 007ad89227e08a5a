//! ExplorationRepository parity cases.

use serde_json::{Value, json};
use synthlab_db::ErrorKind;
use synthlab_db::model::{
    ExplorationChanges, ExplorationStatus, NewExploration, NewScenarioNode, NodeStatus, ScenarioNode,
    ScenarioNodeChanges,
};

use crate::harness::TestDb;
use crate::support::{experiment, ts};

const EXPL: &str = "expl_0000000a";

/// Experiments exp_1 / exp_2 with analyses ana_1 / ana_2, and the exploration EXPL of exp_1.
async fn seed(db: &TestDb) -> anyhow::Result<()> {
    db.experiments()
        .create(&experiment("exp_1", "One", "2025-01-01 00:00:00"))
        .await?;
    db.experiments()
        .create(&experiment("exp_2", "Two", "2025-01-01 00:00:00"))
        .await?;
    db.raw(
        "INSERT INTO analysis_runs (id, experiment_id, config, started_at) VALUES
           ('ana_1', 'exp_1', '{}', '2025-01-01T00:00:00.000000+00:00'),
           ('ana_2', 'exp_2', '{}', '2025-01-01T00:00:00.000000+00:00');",
        "INSERT INTO analysis_runs (id, experiment_id, config, started_at) VALUES
           ('ana_1', 'exp_1', '{}', '2025-01-01T00:00:00Z'),
           ('ana_2', 'exp_2', '{}', '2025-01-01T00:00:00Z');",
    )
    .await?;
    db.explorations()
        .create(&exploration(EXPL, "exp_1", "2025-02-01 00:00:00"))
        .await?;
    Ok(())
}

fn exploration(id: &str, experiment_id: &str, started_at: &str) -> NewExploration {
    let analysis = if experiment_id == "exp_2" { "ana_2" } else { "ana_1" };
    let mut new = NewExploration::new(experiment_id, analysis, json!({"target": 0.8}), json!({"beam": 3}));
    new.id = id.to_owned();
    new.started_at = Some(ts(started_at));
    new
}

/// `node_` + the 8-digit hex of `n`.
fn nid(n: u32) -> String {
    format!("node_{n:08x}")
}

fn node(n: u32, parent: Option<u32>, depth: i64, created_at: &str) -> NewScenarioNode {
    let mut new = NewScenarioNode::new(EXPL, parent.map(nid), depth, json!({"price": n}));
    new.id = nid(n);
    new.created_at = Some(ts(created_at));
    new
}

fn node_ids(nodes: &[ScenarioNode]) -> Vec<String> {
    nodes.iter().map(|n| n.id.clone()).collect()
}

fn expect_ids(list: &[u32]) -> Vec<String> {
    list.iter().map(|n| nid(*n)).collect()
}

async fn add(db: &TestDb, new: NewScenarioNode) -> anyhow::Result<ScenarioNode> {
    Ok(db.explorations().create_node(&new).await?)
}

parity!(exploration_create_then_get_round_trips, |db| {
    seed(db).await?;
    let goal = json!({"metric": "success_rate", "target": 0.85, "note": "ção 🚀", "big": 9007199254740993_i64});
    let config = json!({"beam_width": 3, "max_depth": 5, "weights": [1.5, -0.0001, null], "nested": {"a": {}}});
    let mut new = exploration("expl_0123abcd", "exp_1", "2025-12-01T10:00:00.123456+00:00");
    new.goal = goal.clone();
    new.config = config.clone();
    let created = db.explorations().create(&new).await?;
    assert_eq!(created.status, ExplorationStatus::Running);
    assert_eq!(
        (created.current_depth, created.total_nodes, created.total_llm_calls),
        (0, 0, 0)
    );
    assert_eq!((created.best_success_rate, created.completed_at), (None, None));
    assert_eq!((created.goal.clone(), created.config.clone()), (goal, config));
    assert_eq!(created.started_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(created.baseline_analysis_id, "ana_1");
    assert_eq!(db.explorations().get("expl_0123abcd").await?, Some(created));
    Ok(())
});

parity!(exploration_generated_ids_pass_the_checks, |db| {
    seed(db).await?;
    let before = synthlab_db::model::now();
    let created = db
        .explorations()
        .create(&NewExploration::new("exp_1", "ana_1", json!({}), json!({})))
        .await?;
    assert!(created.id.starts_with("expl_") && created.id.len() == 13);
    assert!(created.started_at >= before);
    let node = db
        .explorations()
        .create_node(&NewScenarioNode::new(&created.id, None, 0, json!({})))
        .await?;
    assert!(node.id.starts_with("node_") && node.id.len() == 13);
    assert_eq!(node.node_status, NodeStatus::Active);
    assert!(node.created_at >= before);
    assert_eq!(node.created_at.timestamp_subsec_nanos() % 1000, 0);
    Ok(())
});

parity!(exploration_duplicate_id_is_conflict, |db| {
    seed(db).await?;
    let err = db
        .explorations()
        .create(&exploration(EXPL, "exp_2", "2025-03-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    Ok(())
});

parity!(exploration_malformed_id_is_check, |db| {
    seed(db).await?;
    for id in [
        "expl_0000000A",
        "expl_0000000",
        "expl_000000000",
        "expl_0000000g",
        "xpl_00000000a",
        "EXPL_0000000a",
        "expl-0000000a",
    ] {
        let err = db
            .explorations()
            .create(&exploration(id, "exp_1", "2025-03-01 00:00:00"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Check, "{id}: {err}");
    }
    Ok(())
});

parity!(exploration_missing_parents_are_foreign_key, |db| {
    seed(db).await?;
    let mut no_experiment = exploration("expl_00000001", "exp_missing", "2025-03-01 00:00:00");
    no_experiment.baseline_analysis_id = "ana_1".into();
    let err = db.explorations().create(&no_experiment).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    let mut no_analysis = exploration("expl_00000002", "exp_1", "2025-03-01 00:00:00");
    no_analysis.baseline_analysis_id = "ana_missing".into();
    let err = db.explorations().create(&no_analysis).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.explorations().get("expl_00000002").await?.is_none());
    Ok(())
});

parity!(exploration_missing_rows_read_as_none_or_empty, |db| {
    let repo = db.explorations();
    assert!(repo.get("expl_ffffffff").await?.is_none());
    assert!(repo.get_node("node_ffffffff").await?.is_none());
    assert!(repo.list_by_experiment("exp_missing").await?.is_empty());
    assert!(repo.nodes("expl_ffffffff").await?.is_empty());
    assert!(repo.frontier("expl_ffffffff").await?.is_empty());
    assert!(repo.root("expl_ffffffff").await?.is_none());
    assert!(repo.winner("expl_ffffffff").await?.is_none());
    assert!(repo.best_node("expl_ffffffff").await?.is_none());
    assert!(repo.path("node_ffffffff").await?.is_empty());
    assert!(repo.children("node_ffffffff").await?.is_empty());
    Ok(())
});

parity!(exploration_update_sets_given_fields_only, |db| {
    seed(db).await?;
    let repo = db.explorations();
    let first = repo
        .update(
            EXPL,
            &ExplorationChanges {
                current_depth: Some(2),
                total_nodes: Some(7),
                best_success_rate: Some(0.625),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(first.status, ExplorationStatus::Running);
    assert_eq!(
        (first.current_depth, first.total_nodes, first.total_llm_calls),
        (2, 7, 0)
    );
    assert_eq!(first.best_success_rate, Some(0.625));
    let done = repo
        .update(
            EXPL,
            &ExplorationChanges {
                status: Some(ExplorationStatus::GoalAchieved),
                total_llm_calls: Some(9_000_000_000),
                completed_at: Some(ts("2025-02-02T03:04:05.678901+00:00")),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(done.status, ExplorationStatus::GoalAchieved);
    assert_eq!(
        (done.current_depth, done.total_nodes, done.total_llm_calls),
        (2, 7, 9_000_000_000)
    );
    assert_eq!(done.best_success_rate, Some(0.625));
    assert_eq!(done.completed_at, Some(ts("2025-02-02T03:04:05.678901+00:00")));
    assert_eq!(repo.get(EXPL).await?, Some(done));
    Ok(())
});

parity!(exploration_update_missing_is_not_found, |db| {
    let err = db
        .explorations()
        .update(
            "expl_ffffffff",
            &ExplorationChanges {
                total_nodes: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(exploration_update_negative_counters_are_check, |db| {
    seed(db).await?;
    let repo = db.explorations();
    let cases = [
        ExplorationChanges {
            current_depth: Some(-1),
            ..Default::default()
        },
        ExplorationChanges {
            total_nodes: Some(-1),
            ..Default::default()
        },
        ExplorationChanges {
            total_llm_calls: Some(-5),
            ..Default::default()
        },
    ];
    for changes in &cases {
        let err = repo.update(EXPL, changes).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Check, "{changes:?}: {err}");
    }
    let unchanged = repo.get(EXPL).await?.expect("exists");
    assert_eq!(
        (
            unchanged.current_depth,
            unchanged.total_nodes,
            unchanged.total_llm_calls
        ),
        (0, 0, 0)
    );
    Ok(())
});

parity!(exploration_best_success_rate_range_is_checked, |db| {
    seed(db).await?;
    let repo = db.explorations();
    for rate in [1.0000001, -0.01, 2.0] {
        let changes = ExplorationChanges {
            best_success_rate: Some(rate),
            ..Default::default()
        };
        assert_eq!(
            repo.update(EXPL, &changes).await.unwrap_err().kind(),
            ErrorKind::Check,
            "{rate}"
        );
    }
    for rate in [f64::NAN, f64::INFINITY] {
        let changes = ExplorationChanges {
            best_success_rate: Some(rate),
            ..Default::default()
        };
        assert_eq!(
            repo.update(EXPL, &changes).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{rate}"
        );
    }
    for rate in [0.0, 1.0, 0.1 + 0.2] {
        let changes = ExplorationChanges {
            best_success_rate: Some(rate),
            ..Default::default()
        };
        assert_eq!(repo.update(EXPL, &changes).await?.best_success_rate, Some(rate));
    }
    assert_eq!(
        repo.get(EXPL).await?.expect("exists").best_success_rate,
        Some(0.1 + 0.2)
    );
    Ok(())
});

parity!(exploration_list_by_experiment_newest_first_ties_by_id_desc, |db| {
    seed(db).await?;
    let repo = db.explorations();
    repo.create(&exploration("expl_0000000b", "exp_1", "2025-03-01 00:00:00"))
        .await?;
    repo.create(&exploration("expl_0000000c", "exp_1", "2025-03-01 00:00:00"))
        .await?;
    repo.create(&exploration("expl_0000000d", "exp_2", "2025-04-01 00:00:00"))
        .await?;
    db.raw(
        "INSERT INTO explorations (id, experiment_id, baseline_analysis_id, goal, config, started_at) VALUES
           ('expl_000000e1', 'exp_1', 'ana_1', '{}', '{}', '2025-02-15 12:00:00'),
           ('expl_000000e2', 'exp_1', 'ana_1', '{}', '{}', '2025-02-15T09:00:00.000000+00:00');",
        "INSERT INTO explorations (id, experiment_id, baseline_analysis_id, goal, config, started_at) VALUES
           ('expl_000000e1', 'exp_1', 'ana_1', '{}', '{}', '2025-02-15 12:00:00+00'),
           ('expl_000000e2', 'exp_1', 'ana_1', '{}', '{}', '2025-02-15T09:00:00+00');",
    )
    .await?;
    let listed: Vec<_> = repo
        .list_by_experiment("exp_1")
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        listed,
        ["expl_0000000c", "expl_0000000b", "expl_000000e1", "expl_000000e2", EXPL]
    );
    let planted = repo.get("expl_000000e1").await?.expect("exists");
    assert_eq!(planted.started_at, ts("2025-02-15T12:00:00Z"));
    assert_eq!(planted.status, ExplorationStatus::Running);
    Ok(())
});

parity!(exploration_deleting_exploration_cascades_to_nodes, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    add(db, node(2, Some(1), 1, "2025-02-01 00:00:01")).await?;
    add(db, node(3, Some(2), 2, "2025-02-01 00:00:02")).await?;
    db.explorations()
        .create(&exploration("expl_0000000b", "exp_1", "2025-03-01 00:00:00"))
        .await?;
    let mut other = node(9, None, 0, "2025-02-01 00:00:00");
    other.exploration_id = "expl_0000000b".into();
    add(db, other).await?;
    db.raw(
        &format!("DELETE FROM explorations WHERE id = '{EXPL}';"),
        &format!("DELETE FROM explorations WHERE id = '{EXPL}';"),
    )
    .await?;
    let repo = db.explorations();
    assert!(repo.get(EXPL).await?.is_none());
    assert!(repo.nodes(EXPL).await?.is_empty());
    assert!(repo.get_node(&nid(2)).await?.is_none());
    assert_eq!(repo.nodes("expl_0000000b").await?.len(), 1);
    Ok(())
});

parity!(exploration_node_create_then_get_round_trips, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    let mut new = node(2, Some(1), 1, "2025-02-01T10:00:00.654321+00:00");
    new.action_applied = Some("Reduzir preço em 10% — ção".into());
    new.action_category = Some("pricing".into());
    new.rationale = Some("Because 🚀".into());
    new.short_action = Some("-10% price".into());
    new.scorecard_params = json!({"price": 9.99, "features": ["a", "b"], "max": u64::MAX});
    new.simulation_results = Some(json!({"success_rate": 0.42, "by_segment": {"a": 1.5}}));
    new.execution_time_seconds = Some(12.25);
    new.node_status = NodeStatus::Dominated;
    let created = db.explorations().create_node(&new).await?;
    assert_eq!(created.parent_id.as_deref(), Some(nid(1).as_str()));
    assert_eq!(created.depth, 1);
    assert_eq!(created.action_applied, new.action_applied);
    assert_eq!(created.short_action, new.short_action);
    assert_eq!(created.scorecard_params, new.scorecard_params);
    assert_eq!(created.simulation_results, new.simulation_results);
    assert_eq!(created.execution_time_seconds, Some(12.25));
    assert_eq!(created.node_status, NodeStatus::Dominated);
    assert_eq!(created.created_at, ts("2025-02-01T10:00:00.654321+00:00"));
    assert_eq!(db.explorations().get_node(&nid(2)).await?, Some(created));
    let root = db.explorations().get_node(&nid(1)).await?.expect("exists");
    assert_eq!(
        (root.parent_id, root.simulation_results, root.execution_time_seconds),
        (None, None, None)
    );
    Ok(())
});

parity!(exploration_node_check_violations, |db| {
    seed(db).await?;
    let repo = db.explorations();
    for id in [
        "node_0000000A",
        "node_1234567",
        "node_123456789",
        "nod_12345678",
        "node_1234567z",
    ] {
        let mut bad = node(1, None, 0, "2025-02-01 00:00:00");
        bad.id = id.into();
        assert_eq!(
            repo.create_node(&bad).await.unwrap_err().kind(),
            ErrorKind::Check,
            "{id}"
        );
    }
    let mut negative_depth = node(1, None, -1, "2025-02-01 00:00:00");
    negative_depth.depth = -1;
    assert_eq!(
        repo.create_node(&negative_depth).await.unwrap_err().kind(),
        ErrorKind::Check
    );
    let mut negative_time = node(1, None, 0, "2025-02-01 00:00:00");
    negative_time.execution_time_seconds = Some(-0.5);
    assert_eq!(
        repo.create_node(&negative_time).await.unwrap_err().kind(),
        ErrorKind::Check
    );
    let mut nan_time = node(1, None, 0, "2025-02-01 00:00:00");
    nan_time.execution_time_seconds = Some(f64::NAN);
    assert_eq!(
        repo.create_node(&nan_time).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let mut zero_time = node(1, None, 0, "2025-02-01 00:00:00");
    zero_time.execution_time_seconds = Some(0.0);
    assert_eq!(repo.create_node(&zero_time).await?.execution_time_seconds, Some(0.0));
    assert_eq!(repo.nodes(EXPL).await?.len(), 1);
    Ok(())
});

parity!(exploration_node_foreign_keys_and_conflict, |db| {
    seed(db).await?;
    let repo = db.explorations();
    let mut orphan = node(1, None, 0, "2025-02-01 00:00:00");
    orphan.exploration_id = "expl_ffffffff".into();
    assert_eq!(
        repo.create_node(&orphan).await.unwrap_err().kind(),
        ErrorKind::ForeignKey
    );
    let missing_parent = node(2, Some(99), 1, "2025-02-01 00:00:00");
    assert_eq!(
        repo.create_node(&missing_parent).await.unwrap_err().kind(),
        ErrorKind::ForeignKey
    );
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    let err = repo
        .create_node(&node(1, None, 0, "2025-02-02 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(repo.nodes(EXPL).await?.len(), 1);
    Ok(())
});

parity!(exploration_update_node_sets_given_fields_only, |db| {
    seed(db).await?;
    let mut new = node(1, None, 0, "2025-02-01 00:00:00");
    new.rationale = Some("keep me".into());
    new.simulation_results = Some(json!({"success_rate": 0.1}));
    add(db, new).await?;
    let changes = ScenarioNodeChanges {
        action_applied: Some("Add onboarding".into()),
        short_action: Some("onboarding".into()),
        scorecard_params: Some(json!({"onboarding": true, "ratio": 0.5})),
        execution_time_seconds: Some(3.5),
        node_status: Some(NodeStatus::ExpansionFailed),
        ..Default::default()
    };
    let updated = db.explorations().update_node(&nid(1), &changes).await?;
    assert_eq!(updated.action_applied.as_deref(), Some("Add onboarding"));
    assert_eq!(updated.short_action.as_deref(), Some("onboarding"));
    assert_eq!(updated.rationale.as_deref(), Some("keep me"));
    assert_eq!(updated.action_category, None);
    assert_eq!(updated.scorecard_params, json!({"onboarding": true, "ratio": 0.5}));
    assert_eq!(updated.simulation_results, Some(json!({"success_rate": 0.1})));
    assert_eq!(updated.execution_time_seconds, Some(3.5));
    assert_eq!(updated.node_status, NodeStatus::ExpansionFailed);
    assert_eq!(db.explorations().get_node(&nid(1)).await?, Some(updated));
    Ok(())
});

parity!(exploration_update_node_errors, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    let repo = db.explorations();
    let negative = ScenarioNodeChanges {
        execution_time_seconds: Some(-1.0),
        ..Default::default()
    };
    assert_eq!(
        repo.update_node(&nid(1), &negative).await.unwrap_err().kind(),
        ErrorKind::Check
    );
    let infinite = ScenarioNodeChanges {
        execution_time_seconds: Some(f64::NEG_INFINITY),
        ..Default::default()
    };
    assert_eq!(
        repo.update_node(&nid(1), &infinite).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let fine = ScenarioNodeChanges {
        rationale: Some("r".into()),
        ..Default::default()
    };
    assert_eq!(
        repo.update_node(&nid(9), &fine).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        repo.get_node(&nid(1)).await?.expect("exists").execution_time_seconds,
        None
    );
    Ok(())
});

parity!(exploration_update_node_status, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    let repo = db.explorations();
    for status in NodeStatus::ALL {
        let updated = repo.update_node_status(&nid(1), *status).await?;
        assert_eq!(updated.node_status, *status);
        assert_eq!(repo.get_node(&nid(1)).await?.expect("exists").node_status, *status);
    }
    let err = repo.update_node_status(&nid(2), NodeStatus::Winner).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(exploration_update_node_results, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    let repo = db.explorations();
    let results = json!({"success_rate": 0.73, "did_not_try": 0.1, "failed": 0.17,
                         "segments": [{"name": "ção", "rate": 1.5}], "n": 9007199254740993_i64});
    let updated = repo.update_node_results(&nid(1), &results, 42.125).await?;
    assert_eq!(updated.simulation_results.as_ref(), Some(&results));
    assert_eq!(updated.execution_time_seconds, Some(42.125));
    assert_eq!(repo.get_node(&nid(1)).await?, Some(updated));
    assert_eq!(
        repo.update_node_results(&nid(1), &results, -0.001)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Check
    );
    assert_eq!(
        repo.update_node_results(&nid(1), &results, f64::NAN)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        repo.update_node_results(&nid(2), &results, 1.0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    Ok(())
});

parity!(exploration_nodes_in_tree_order_with_ties, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    add(db, node(0x20, Some(1), 1, "2025-02-01 00:00:05")).await?;
    add(db, node(0x10, Some(1), 1, "2025-02-01 00:00:05")).await?;
    add(db, node(0x05, Some(1), 1, "2025-02-01 00:00:09")).await?;
    add(db, node(0x04, Some(0x20), 2, "2025-02-01 00:00:01")).await?;
    add(db, node(0x03, Some(0x20), 1, "2025-02-01T00:00:05.000001+00:00")).await?;
    let ordered = node_ids(&db.explorations().nodes(EXPL).await?);
    assert_eq!(ordered, expect_ids(&[1, 0x10, 0x20, 0x03, 0x05, 0x04]));
    Ok(())
});

parity!(exploration_nodes_legacy_created_at_shapes_sort_by_instant, |db| {
    seed(db).await?;
    // Text order would put "2025-06-01 12:00:00" before "2025-06-01T09:00:00…".
    db.raw(
        "INSERT INTO scenario_nodes (id, exploration_id, depth, scorecard_params, created_at) VALUES
           ('node_000000a1', 'expl_0000000a', 1, '{}', '2025-06-01 12:00:00'),
           ('node_000000a2', 'expl_0000000a', 1, '{}', '2025-06-01T09:00:00.000000+00:00'),
           ('node_000000a3', 'expl_0000000a', 1, '{}', '2025-06-01T13:00:00+02:00'),
           ('node_000000a4', 'expl_0000000a', 0, '{}', '2025-06-02 00:00:00');",
        "INSERT INTO scenario_nodes (id, exploration_id, depth, scorecard_params, created_at) VALUES
           ('node_000000a1', 'expl_0000000a', 1, '{}', '2025-06-01 12:00:00+00'),
           ('node_000000a2', 'expl_0000000a', 1, '{}', '2025-06-01T09:00:00+00'),
           ('node_000000a3', 'expl_0000000a', 1, '{}', '2025-06-01T11:00:00+00'),
           ('node_000000a4', 'expl_0000000a', 0, '{}', '2025-06-02 00:00:00+00');",
    )
    .await?;
    let nodes = db.explorations().nodes(EXPL).await?;
    assert_eq!(node_ids(&nodes), expect_ids(&[0xa4, 0xa2, 0xa3, 0xa1]));
    assert_eq!(nodes[2].created_at, ts("2025-06-01T11:00:00Z"));
    assert_eq!(nodes[0].node_status, NodeStatus::Active);
    Ok(())
});

parity!(exploration_frontier_is_active_leaves, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    add(db, node(2, Some(1), 1, "2025-02-01 00:00:01")).await?;
    add(db, node(3, Some(1), 1, "2025-02-01 00:00:01")).await?;
    add(db, node(4, Some(1), 1, "2025-02-01 00:00:02")).await?;
    add(db, node(5, Some(2), 2, "2025-02-01 00:00:03")).await?;
    add(db, node(6, Some(3), 2, "2025-02-01 00:00:03")).await?;
    // 2 has an active child; 3's only child is dominated (still a child); 4 is an active leaf;
    // 5 is an active leaf; 6 is a dominated leaf.
    db.explorations()
        .update_node_status(&nid(6), NodeStatus::Dominated)
        .await?;
    let frontier = node_ids(&db.explorations().frontier(EXPL).await?);
    assert_eq!(frontier, expect_ids(&[4, 5]));
    db.explorations()
        .update_node_status(&nid(4), NodeStatus::ExpansionFailed)
        .await?;
    assert_eq!(node_ids(&db.explorations().frontier(EXPL).await?), expect_ids(&[5]));
    Ok(())
});

parity!(exploration_root_and_winner, |db| {
    seed(db).await?;
    let repo = db.explorations();
    assert!(repo.root(EXPL).await?.is_none());
    add(db, node(7, None, 0, "2025-02-01 00:00:00")).await?;
    add(db, node(2, Some(7), 1, "2025-02-01 00:00:01")).await?;
    add(db, node(3, Some(7), 1, "2025-02-01 00:00:01")).await?;
    assert_eq!(repo.root(EXPL).await?.map(|n| n.id), Some(nid(7)));
    assert!(repo.winner(EXPL).await?.is_none());
    repo.update_node_status(&nid(3), NodeStatus::Winner).await?;
    assert_eq!(repo.winner(EXPL).await?.map(|n| n.id), Some(nid(3)));
    repo.update_node_status(&nid(2), NodeStatus::Winner).await?;
    assert_eq!(
        repo.winner(EXPL).await?.map(|n| n.id),
        Some(nid(2)),
        "first in tree order"
    );
    Ok(())
});

parity!(exploration_path_walks_from_root_to_node, |db| {
    seed(db).await?;
    // A chain 1 → 2 → … → 7 (depth 0..6) with side branches that must not appear.
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    for n in 2..=7u32 {
        add(db, node(n, Some(n - 1), i64::from(n) - 1, "2025-02-01 00:00:00")).await?;
        add(
            db,
            node(0x100 + n, Some(n - 1), i64::from(n) - 1, "2025-01-01 00:00:00"),
        )
        .await?;
    }
    let path = db.explorations().path(&nid(7)).await?;
    assert_eq!(node_ids(&path), expect_ids(&[1, 2, 3, 4, 5, 6, 7]));
    let depths: Vec<_> = path.iter().map(|n| n.depth).collect();
    assert_eq!(depths, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(
        node_ids(&db.explorations().path(&nid(0x104)).await?),
        expect_ids(&[1, 2, 3, 0x104])
    );
    assert_eq!(node_ids(&db.explorations().path(&nid(1)).await?), expect_ids(&[1]));
    Ok(())
});

parity!(exploration_children_by_created_at_then_id, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    add(db, node(0x30, Some(1), 1, "2025-02-01 00:00:02")).await?;
    add(db, node(0x20, Some(1), 1, "2025-02-01 00:00:01")).await?;
    add(db, node(0x11, Some(1), 1, "2025-02-01 00:00:02")).await?;
    add(db, node(0x40, Some(0x20), 2, "2025-02-01 00:00:00")).await?;
    db.raw(
        "INSERT INTO scenario_nodes (id, exploration_id, parent_id, depth, scorecard_params, created_at)
         VALUES ('node_00000050', 'expl_0000000a', 'node_00000001', 1, '{}', '2025-02-01 00:00:01.5');",
        "INSERT INTO scenario_nodes (id, exploration_id, parent_id, depth, scorecard_params, created_at)
         VALUES ('node_00000050', 'expl_0000000a', 'node_00000001', 1, '{}', '2025-02-01 00:00:01.5+00');",
    )
    .await?;
    let children = node_ids(&db.explorations().children(&nid(1)).await?);
    assert_eq!(children, expect_ids(&[0x20, 0x50, 0x11, 0x30]));
    assert_eq!(
        node_ids(&db.explorations().children(&nid(0x20)).await?),
        expect_ids(&[0x40])
    );
    assert!(db.explorations().children(&nid(0x40)).await?.is_empty());
    Ok(())
});

parity!(exploration_count_by_status_includes_zeros, |db| {
    seed(db).await?;
    let repo = db.explorations();
    let zeros: Vec<_> = NodeStatus::ALL.iter().map(|s| (*s, 0)).collect();
    assert_eq!(repo.count_by_status(EXPL).await?, zeros);
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    for n in 2..=6u32 {
        add(db, node(n, Some(1), 1, "2025-02-01 00:00:01")).await?;
    }
    repo.update_node_status(&nid(2), NodeStatus::Dominated).await?;
    repo.update_node_status(&nid(3), NodeStatus::Dominated).await?;
    repo.update_node_status(&nid(4), NodeStatus::Winner).await?;
    let counts = repo.count_by_status(EXPL).await?;
    assert_eq!(
        counts,
        vec![
            (NodeStatus::Active, 3),
            (NodeStatus::Dominated, 2),
            (NodeStatus::Winner, 1),
            (NodeStatus::ExpansionFailed, 0)
        ]
    );
    Ok(())
});

parity!(exploration_best_node_reads_numeric_success_rate, |db| {
    seed(db).await?;
    let repo = db.explorations();
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    let results: [(u32, Value); 9] = [
        (2, json!({"success_rate": 0.5})),
        (3, json!({"success_rate": 0.9, "other": 1})),
        (4, json!({"success_rate": 0.9})),
        (5, json!({"success_rate": "0.99"})),
        (6, json!({"success_rate": true})),
        (7, json!({"success_rate": null})),
        (8, json!({"rate": 0.95, "nested": {"success_rate": 0.97}})),
        (9, json!([0.98])),
        (10, json!({"success_rate": [0.99]})),
    ];
    for (n, value) in &results {
        add(db, node(*n, Some(1), 1, "2025-02-01 00:00:01")).await?;
        repo.update_node_results(&nid(*n), value, 1.0).await?;
    }
    assert_eq!(
        repo.best_node(EXPL).await?.map(|n| n.id),
        Some(nid(3)),
        "tie by id ascending"
    );
    add(db, node(11, Some(1), 1, "2025-02-01 00:00:01")).await?;
    repo.update_node_results(&nid(11), &json!({"success_rate": 1}), 1.0)
        .await?;
    let best = repo.best_node(EXPL).await?.expect("exists");
    assert_eq!(best.id, nid(11), "integers are numbers too");
    assert_eq!(best.simulation_results, Some(json!({"success_rate": 1})));
    Ok(())
});

parity!(exploration_best_node_none_without_numeric_rates, |db| {
    seed(db).await?;
    add(db, node(1, None, 0, "2025-02-01 00:00:00")).await?;
    add(db, node(2, Some(1), 1, "2025-02-01 00:00:00")).await?;
    db.explorations()
        .update_node_results(&nid(2), &json!({"success_rate": "high"}), 0.0)
        .await?;
    assert!(db.explorations().best_node(EXPL).await?.is_none());
    Ok(())
});
