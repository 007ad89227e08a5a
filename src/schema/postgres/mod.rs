//! PostgreSQL: migrations up and down in one transaction under a transaction-scoped advisory
//! lock, history, drift check against a scratch schema.
//!
//! refinery runs on [`InTransaction`], our transaction: its batches become savepoints, so the
//! history read, the scripts and the history rows commit together. The advisory lock
//! (`pg_advisory_xact_lock`, keyed by the current schema) makes a second migrator wait; it is
//! released by COMMIT, ROLLBACK or the death of the connection, so a killed migrator leaves
//! neither a lock nor a half-applied migration behind.
//!
//! Every statement is unnamed (`query_typed`, or the simple protocol), so all of this works
//! behind a transaction pooler (`pgbouncer=true`), even one whose server connections other
//! clients left named statements on.

pub(crate) mod introspect;

use std::collections::HashMap;

use refinery::Migration;
use refinery_core::traits::r#async::{AsyncQuery, AsyncTransaction};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Transaction};

use super::data_loss::{self, TableData, TableShape};
use super::history::{DownTarget, HISTORY_TABLE, HistoryRow, MigrationHistory, check_up_target};
use super::model::{SchemaDiff, SchemaModel};
use super::set::MigrationSet;
use super::{DownReport, MigrationInfo};
use crate::config::{PostgresConfig, SslMode};
use crate::{BackendKind, Error, Result};

/// First key of the advisory lock held while migrating ("synt" in ASCII); the second is a
/// hash of the schema, so migrators of different schemas of one database do not wait on
/// each other.
const LOCK_CLASS: i32 = 0x7379_6e74;

/// A transaction handed to refinery: its batches run as savepoints.
pub(crate) struct InTransaction<'t, 'c>(pub(crate) &'t Transaction<'c>);

impl AsyncTransaction for InTransaction<'_, '_> {
    type Error = tokio_postgres::Error;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(&mut self, queries: T) -> Result<usize, Self::Error> {
        self.0.batch_execute("SAVEPOINT refinery_batch").await?;
        let mut count = 0;
        for query in queries {
            if let Err(err) = self.0.batch_execute(query).await {
                let _ = self
                    .0
                    .batch_execute("ROLLBACK TO SAVEPOINT refinery_batch; RELEASE SAVEPOINT refinery_batch")
                    .await;
                return Err(err);
            }
            count += 1;
        }
        self.0.batch_execute("RELEASE SAVEPOINT refinery_batch").await?;
        Ok(count)
    }
}

impl AsyncQuery<Vec<Migration>> for InTransaction<'_, '_> {
    async fn query(&mut self, query: &str) -> Result<Vec<Migration>, <Self as AsyncTransaction>::Error> {
        let rows = self.0.query_typed(query, &[]).await?;
        let mut applied = Vec::new();
        for row in rows {
            let applied_on: String = row.try_get(2)?;
            let checksum: String = row.try_get(3)?;
            // refinery itself panics on these; a history row it cannot read is reported as
            // unreadable instead (the consistency check has already named it).
            let (Ok(applied_on), Ok(checksum)) = (super::parse_applied_on(&applied_on), checksum.parse::<u64>()) else {
                tracing::warn!("unreadable row in {HISTORY_TABLE}; treating it as absent");
                continue;
            };
            applied.push(Migration::applied(
                row.try_get(0)?,
                row.try_get(1)?,
                applied_on,
                checksum,
            ));
        }
        Ok(applied)
    }
}

impl refinery::AsyncMigrate for InTransaction<'_, '_> {}

/// Takes the migration lock of the current schema for the rest of the transaction.
async fn lock(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))",
        &[(&LOCK_CLASS, Type::INT4)],
    )
    .await?;
    Ok(())
}

/// The stored history rows of the current schema, or `None` without a history table.
async fn history_rows(tx: &Transaction<'_>) -> Result<Option<Vec<HistoryRow>>> {
    let exists: bool = tx
        .query_typed_one(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1)",
            &[(&HISTORY_TABLE, Type::TEXT)],
        )
        .await?
        .try_get(0)?;
    if !exists {
        return Ok(None);
    }
    let rows = tx
        .query_typed(
            &format!("SELECT version::bigint, name, applied_on, checksum FROM {HISTORY_TABLE} ORDER BY version"),
            &[],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|row| {
            Ok(HistoryRow {
                version: row.try_get(0)?,
                name: row.try_get::<_, Option<String>>(1)?.unwrap_or_default(),
                applied_on: row.try_get::<_, Option<String>>(2)?.unwrap_or_default(),
                checksum: row.try_get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(rows))
}

/// The history compared with `set`.
pub(crate) async fn history(client: &mut Client, set: &MigrationSet) -> Result<MigrationHistory> {
    let tx = client.transaction().await?;
    let history = MigrationHistory::compare(history_rows(&tx).await?, set);
    tx.commit().await?;
    Ok(history)
}

/// Applies pending migrations inside `tx` (the caller holds the lock or owns the schema).
async fn up_in(tx: &Transaction<'_>, set: &MigrationSet, target: Option<i64>) -> Result<Vec<MigrationInfo>> {
    let history = MigrationHistory::compare(history_rows(tx).await?, set);
    history.ensure_consistent()?;
    check_up_target(&history, set, target)?;
    let runner = set.runner().set_grouped(true).set_target(match target {
        Some(version) => refinery::Target::Version(super::schema_version(version)?),
        None => refinery::Target::Latest,
    });
    let report = runner
        .run_async(&mut InTransaction(tx))
        .await
        .map_err(super::migration_error)?;
    Ok(super::applied_names(&report))
}

/// Where the database stands against this build's embedded migrations (used by the copy).
#[cfg(feature = "sqlite")]
pub(crate) async fn status(client: &mut Client) -> Result<super::SchemaStatus> {
    let set = MigrationSet::embedded(BackendKind::Postgres);
    Ok(super::SchemaStatus::from(&history(client, &set).await?))
}

/// Applies pending migrations of `set` up to `target` (all when `None`) in one transaction
/// under the migration lock; returns those applied.
pub(crate) async fn up(client: &mut Client, set: &MigrationSet, target: Option<i64>) -> Result<Vec<MigrationInfo>> {
    let tx = client.transaction().await?;
    lock(&tx).await?;
    let applied = up_in(&tx, set, target).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies every pending embedded migration (the path of `Store::connect`).
pub(crate) async fn migrate(client: &mut Client) -> Result<Vec<MigrationInfo>> {
    up(client, &MigrationSet::embedded(BackendKind::Postgres), None).await
}

/// Rolls back migrations through their down scripts in one transaction under the migration
/// lock, removing their history rows with them; returns those rolled back, newest first. When
/// the scripts would destroy data (see [`super::data_loss`]) the transaction is rolled back and
/// the down refused, naming the `pg_dump` command that keeps the data, unless `force`.
pub(crate) async fn down(
    client: &mut Client,
    set: &MigrationSet,
    target: DownTarget,
    force: bool,
    config: &PostgresConfig,
) -> Result<DownReport> {
    let schema = current_schema(client).await?;
    let tx = client.transaction().await?;
    lock(&tx).await?;
    let history = MigrationHistory::compare(history_rows(&tx).await?, set);
    history.ensure_consistent()?;
    let versions = history.versions_to_revert(target)?;
    let scripts = super::down_scripts(set, &versions)?;
    let seeds = seed_keys(&tx, set, history.current_version).await?;
    let before = table_data(&tx, &schema, &seeds).await?;
    for script in &scripts {
        tx.batch_execute(script.down_sql().unwrap_or_default())
            .await
            .map_err(|e| {
                Error::from(e).context(format!(
                    "down script of {} failed; nothing was rolled back",
                    script.label()
                ))
            })?;
        let version = i64::from(super::schema_version(script.version())?);
        tx.execute_typed(
            &format!("DELETE FROM {HISTORY_TABLE} WHERE version = $1"),
            &[(&version, Type::INT8)],
        )
        .await?;
    }
    let after = table_shapes(&tx, &schema).await?;
    let destroyed = data_loss::losses(&before, &after);
    if !destroyed.is_empty() && !force {
        // Dropping `tx` rolls everything back.
        return Err(data_loss::refusal(
            &destroyed,
            &format!(
                "keep the data first (the password comes from PGPASSWORD or ~/.pgpass):\n  {}\n\
                 then run again with --force to roll back anyway",
                dump_command(config, &schema)
            ),
        ));
    }
    tx.commit().await?;
    Ok(DownReport {
        reverted: scripts
            .iter()
            .map(|s| MigrationInfo {
                version: s.version(),
                name: s.name().to_owned(),
            })
            .collect(),
        destroyed,
        backup: None,
    })
}

/// Quotes a word for a POSIX shell.
fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\"'\"'"))
}

/// The `pg_dump` command that saves `schema` of the configured database, TLS settings
/// included; never the password.
pub(crate) fn dump_command(config: &PostgresConfig, schema: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    if config.tls.mode != SslMode::Prefer {
        words.push(format!("PGSSLMODE={}", config.tls.mode.as_str()));
    }
    for (variable, path) in [
        ("PGSSLROOTCERT", &config.tls.root_cert),
        ("PGSSLCERT", &config.tls.client_cert),
        ("PGSSLKEY", &config.tls.client_key),
    ] {
        if let Some(path) = path {
            words.push(format!("{variable}={}", shell_quote(&path.to_string_lossy())));
        }
    }
    words.push("pg_dump".to_owned());
    let (host, port) = config.host_port();
    words.push(format!("--host={}", shell_quote(&host)));
    words.push(format!("--port={port}"));
    if let Some(user) = config.user() {
        words.push(format!("--username={}", shell_quote(user)));
    }
    words.push(format!("--dbname={}", shell_quote(config.dbname())));
    words.push(format!("--schema={}", shell_quote(schema)));
    words.push("--format=custom".to_owned());
    let file = format!("{}-{schema}-before-down.dump", config.dbname());
    words.push(format!("--file={}", shell_quote(&file)));
    words.join(" ")
}

/// The tables of `schema` (not the history) with their columns in order.
async fn tables(tx: &Transaction<'_>, schema: &str) -> Result<Vec<(String, Vec<String>)>> {
    let rows = tx
        .query(
            "SELECT c.relname::text, array_agg(a.attname::text ORDER BY a.attnum)
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2
             GROUP BY c.relname ORDER BY c.relname",
            &[&schema, &HISTORY_TABLE],
        )
        .await?;
    rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
}

fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", data_loss::quote_ident(schema), data_loss::quote_ident(table))
}

/// The rows the migrations of `set` up to `version` insert themselves, per table, as row keys
/// (`to_jsonb` text): migrated into a scratch schema inside a savepoint that is rolled back.
async fn seed_keys(tx: &Transaction<'_>, set: &MigrationSet, version: i64) -> Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    if version <= 0 {
        return Ok(out);
    }
    let scratch = format!("synthlab_seeds_{}", std::process::id());
    tx.batch_execute(&format!(
        "SAVEPOINT synthlab_seeds; CREATE SCHEMA {scratch}; SET LOCAL search_path TO {scratch}"
    ))
    .await?;
    let found = async {
        up_in(tx, &set.up_to(version), None).await?;
        for (table, _) in tables(tx, &scratch).await? {
            let sql = format!("SELECT to_jsonb(t)::text FROM {} AS t", qualified(&scratch, &table));
            let keys: Vec<String> = tx
                .query(&sql, &[])
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            if !keys.is_empty() {
                out.insert(table, keys);
            }
        }
        Ok::<_, Error>(())
    }
    .await;
    // Undoes the scratch schema and the search_path change.
    tx.batch_execute("ROLLBACK TO SAVEPOINT synthlab_seeds; RELEASE SAVEPOINT synthlab_seeds")
        .await?;
    found?;
    Ok(out)
}

/// Every table of `schema` with its rows, data rows (not seed rows) and non-NULL values per
/// column.
async fn table_data(
    tx: &Transaction<'_>,
    schema: &str,
    seeds: &HashMap<String, Vec<String>>,
) -> Result<Vec<TableData>> {
    let mut out = Vec::new();
    for (name, columns) in tables(tx, schema).await? {
        let keys = seeds.get(&name).cloned().unwrap_or_default();
        let seed = if keys.is_empty() {
            "false"
        } else {
            "to_jsonb(t)::text = ANY($1)"
        };
        let sql = data_loss::count_sql(&format!("{} AS t", qualified(schema, &name)), &columns, seed);
        let row = if keys.is_empty() {
            tx.query_one(&sql, &[]).await?
        } else {
            tx.query_one(&sql, &[&keys]).await?
        };
        out.push(TableData::from_counts(name, columns, |i| row.try_get::<_, i64>(i))?);
    }
    Ok(out)
}

/// Every table of `schema` with its rows and columns.
async fn table_shapes(tx: &Transaction<'_>, schema: &str) -> Result<Vec<TableShape>> {
    let mut out = Vec::new();
    for (name, columns) in tables(tx, schema).await? {
        let rows: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", qualified(schema, &name)), &[])
            .await?
            .try_get(0)?;
        out.push(TableShape {
            name,
            rows: rows.max(0) as u64,
            columns,
        });
    }
    Ok(out)
}

/// The schema the migrations of `set` define at `version`: migrated into a scratch schema of
/// the same database inside a transaction that is rolled back (nothing is left behind, even
/// if the process dies), and read back.
pub(crate) async fn expected(client: &mut Client, set: &MigrationSet, version: i64) -> Result<SchemaModel> {
    let scratch = crate::backend::postgres::unique_name("synthlab_check");
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("CREATE SCHEMA {scratch}; SET LOCAL search_path TO {scratch}"))
        .await?;
    if version > 0 {
        up_in(&tx, &set.up_to(version), None).await?;
    }
    let model = introspect::introspect(&tx, &scratch).await?;
    tx.rollback().await?;
    Ok(model)
}

/// The name of the current schema (an unnamed statement: it runs outside a transaction, so a
/// named one would not survive a transaction pooler).
async fn current_schema(client: &Client) -> Result<String> {
    let schema: Option<String> = client
        .query_typed_one("SELECT current_schema()::text", &[])
        .await?
        .try_get(0)?;
    schema.ok_or_else(|| Error::config("no schema of the search_path exists in this database"))
}

/// Compares the live schema with the one the migrations define at the live version.
pub(crate) async fn check(client: &mut Client, set: &MigrationSet) -> Result<(i64, SchemaDiff)> {
    let schema = current_schema(client).await?;
    let history = history(client, set).await?;
    history.ensure_consistent()?;
    let tx = client.transaction().await?;
    let live = introspect::introspect(&tx, &schema).await?;
    tx.commit().await?;
    let expected = expected(client, set, history.current_version).await?;
    Ok((history.current_version, expected.diff(&live)))
}

/// The live schema (the current schema of the connection).
pub(crate) async fn introspect_live(client: &mut Client) -> Result<SchemaModel> {
    let schema = current_schema(client).await?;
    let tx = client.transaction().await?;
    let model = introspect::introspect(&tx, &schema).await?;
    tx.commit().await?;
    Ok(model)
}
