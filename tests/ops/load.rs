//! Load: 1000 concurrent tasks of mixed create / read / update / delete on one store (a pool
//! of 16 on PostgreSQL; one writer and four readers on SQLite): no error, no deadlock, and the
//! final state is exactly what the operations imply.

use std::time::Duration;

use anyhow::{Context, ensure};
use synthlab_db::model::{ExperimentChanges, NewExperiment, PageRequest};

const PER_KIND: usize = 250;
const KEEP: usize = 100;
const UPDATE: usize = 100;

fn experiment(id: String) -> NewExperiment {
    NewExperiment {
        id,
        ..NewExperiment::new("load", "concurrent tasks keep counts exact")
    }
}

parity!(thousand_mixed_tasks_leave_exact_counts, |db| {
    if let Some(pool) = db.store.pool_state() {
        ensure!(pool.max_size == 16, "the default pool has 16 connections, got {pool:?}");
    }
    let repo = db.store.experiments();
    for i in 0..KEEP {
        repo.create(&experiment(format!("exp_keep_{i}"))).await?;
    }
    for i in 0..UPDATE {
        repo.create(&experiment(format!("exp_upd_{i}"))).await?;
    }
    for i in 0..PER_KIND {
        repo.create(&experiment(format!("exp_del_{i}"))).await?;
    }

    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..4 * PER_KIND {
        let store = db.store.clone();
        let n = task / 4;
        tasks.spawn(async move {
            let repo = store.experiments();
            let outcome: synthlab_db::Result<()> = match task % 4 {
                0 => repo.create(&experiment(format!("exp_new_{n}"))).await.map(drop),
                1 => match repo.get(&format!("exp_keep_{}", n % KEEP)).await {
                    Ok(Some(_)) => Ok(()),
                    Ok(None) => Err(synthlab_db::Error::other(format!("exp_keep_{} vanished", n % KEEP))),
                    Err(err) => Err(err),
                },
                2 => {
                    let changes = ExperimentChanges {
                        name: Some(format!("updated {task}")),
                        ..Default::default()
                    };
                    repo.update(&format!("exp_upd_{}", n % UPDATE), &changes)
                        .await
                        .map(drop)
                }
                _ => repo.soft_delete(&format!("exp_del_{n}")).await,
            };
            (task, outcome)
        });
    }
    let mut errors = Vec::new();
    let joined = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((_, Ok(()))) => {}
                Ok((task, Err(err))) => errors.push(format!("task {task}: {err}")),
                Err(join) => errors.push(format!("task panicked: {join}")),
            }
        }
    })
    .await;
    ensure!(joined.is_ok(), "deadlock: 1000 tasks did not finish within 120 s");
    ensure!(
        errors.is_empty(),
        "{} of 1000 tasks failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );

    let page = repo.list(PageRequest::first(200)?).await?;
    ensure!(
        page.total == (KEEP + UPDATE + PER_KIND) as i64,
        "active experiments: {} (expected {})",
        page.total,
        KEEP + UPDATE + PER_KIND
    );
    for n in 0..PER_KIND {
        ensure!(
            repo.get(&format!("exp_new_{n}")).await?.is_some(),
            "exp_new_{n} missing"
        );
        ensure!(
            repo.get(&format!("exp_del_{n}")).await?.is_none(),
            "exp_del_{n} still visible"
        );
    }
    for n in 0..UPDATE {
        let row = repo
            .get(&format!("exp_upd_{n}"))
            .await?
            .context("updated row missing")?;
        ensure!(
            row.name.starts_with("updated "),
            "exp_upd_{n} not updated: {}",
            row.name
        );
        ensure!(row.updated_at.is_some(), "exp_upd_{n} has no updated_at");
    }
    if let Some(pool) = db.store.pool_state() {
        ensure!(pool.open <= 16 && pool.waiting == 0, "pool after the load: {pool:?}");
    }
    Ok(())
});
