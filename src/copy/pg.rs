//! The PostgreSQL side of the copy: one connection, schema preparation, and the two ways of
//! loading a table.
//!
//! - Bulk (the target table holds no rows, or only the rows the migrations seed): inside the
//!   run's transaction, drop the table's secondary indexes and foreign keys (their exact
//!   definitions are read from the catalog first), `COPY … FROM STDIN (FORMAT binary)`, then
//!   recreate them from those definitions — the end state is the migrated schema, and a kill at
//!   any point rolls all of it back.
//! - Merge (the table already has rows): per batch, COPY into a temporary stage table (dropped
//!   at the end of its transaction at the latest: nothing stays on the server session), report
//!   the rows whose key exists with different values (replaced only with `--overwrite`), and
//!   `INSERT … ON CONFLICT DO NOTHING` the rest, so rerunning never duplicates anything.

use futures_util::SinkExt;
use tokio::sync::mpsc;
use tokio_postgres::Client;

use super::read::Msg;
use super::spec::{ColType, SEED_ROWS, TableSpec};
use super::{BadRow, DifferenceKind, RowDifference};
use crate::config::PostgresConfig;
use crate::schema::MigrationInfo;
use crate::{Error, Result};

/// Rows per batch of the merge path.
pub(crate) const MERGE_BATCH_ROWS: u64 = 5000;
/// Differences kept per table in the report (all are counted).
pub(crate) const DIFFERENCES_KEPT: usize = 50;

/// An open connection to the target. Statements outside a transaction are unnamed
/// (`query_typed`), so the copy works behind a transaction pooler too.
pub(crate) struct Target {
    pub(crate) client: Client,
}

pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// How a target table stands before loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableState {
    /// No rows, or only rows the migrations seeded.
    Empty,
    /// Rows a previous copy or the application wrote.
    HasRows,
}

/// What loading one table did.
#[derive(Debug, Default)]
pub(crate) struct LoadStats {
    pub(crate) inserted: u64,
    pub(crate) already_present: u64,
    pub(crate) differing: u64,
    pub(crate) replaced: u64,
    pub(crate) differences: Vec<RowDifference>,
    pub(crate) bytes: u64,
    pub(crate) read_rows: u64,
}

/// What the loader calls back for.
pub(crate) trait LoadEvents {
    /// A bad row arrived; an error stops the load.
    fn bad(&mut self, row: BadRow) -> Result<()>;
    /// `rows` more rows went out.
    fn progress(&mut self, rows: u64);
}

/// The conjunction matching the seed rows of `spec` (FALSE when it has none).
fn seed_predicate(spec: &TableSpec) -> String {
    let rows: Vec<String> = SEED_ROWS
        .iter()
        .filter(|s| s.table == spec.name)
        .map(|seed| {
            let parts: Vec<String> = spec
                .columns
                .iter()
                .zip(seed.values)
                .map(|(c, v)| match (c.ty, v) {
                    (_, None) => format!("{} IS NULL", quote(c.name)),
                    (ColType::Timestamp, Some(v)) => format!("{} = {}::timestamptz", quote(c.name), literal(v)),
                    (_, Some(v)) => format!("{} = {}", quote(c.name), literal(v)),
                })
                .collect();
            format!("({})", parts.join(" AND "))
        })
        .collect();
    if rows.is_empty() {
        "FALSE".to_owned()
    } else {
        rows.join(" OR ")
    }
}

/// The quoted column list of a table, in spec order.
pub(crate) fn column_list(spec: &TableSpec) -> String {
    spec.columns
        .iter()
        .map(|c| quote(c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Target {
    /// Connects through the crate's connect path (TLS as `sslmode` asks); one connection, as
    /// the copy needs COPY and one long transaction.
    pub(crate) async fn connect(config: &PostgresConfig) -> Result<Target> {
        Ok(Target {
            client: crate::pg::connect(config).await?,
        })
    }

    /// Refuses a target whose schema this build does not know, then applies pending migrations
    /// (only when `apply`). Returns the migrations applied (or, without `apply`, pending).
    pub(crate) async fn prepare_schema(&mut self, apply: bool) -> Result<Vec<MigrationInfo>> {
        let status = crate::schema::postgres::status(&mut self.client).await?;
        let latest = crate::schema::latest_version();
        if status.current_version > latest {
            return Err(Error::other(format!(
                "the target's schema is at version {}, newer than this build's {latest}: refusing to copy into it",
                status.current_version
            )));
        }
        if status.current_version == 0 {
            let foreign: bool = self
                .client
                .query_typed_one("SELECT to_regclass('experiments') IS NOT NULL", &[])
                .await?
                .try_get(0)?;
            if foreign {
                return Err(Error::other(
                    "the target has an experiments table but no migration history: refusing to copy into a schema \
                     this build did not create",
                ));
            }
        }
        if !apply {
            return Ok(status.pending);
        }
        crate::schema::postgres::migrate(&mut self.client).await
    }

    /// Runs SQL without results.
    pub(crate) async fn exec(&self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql).await?)
    }

    /// Whether the table holds rows other than migration seeds.
    pub(crate) async fn table_state(&self, spec: &TableSpec) -> Result<TableState> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE NOT ({}))",
            quote(spec.name),
            seed_predicate(spec)
        );
        let has_rows: bool = self.client.query_typed_one(&sql, &[]).await?.try_get(0)?;
        Ok(if has_rows {
            TableState::HasRows
        } else {
            TableState::Empty
        })
    }

    /// Bulk path (see the module doc). Must run inside a transaction.
    pub(crate) async fn bulk_load(
        &self,
        spec: &TableSpec,
        rx: &mut mpsc::Receiver<Msg>,
        events: &mut dyn LoadEvents,
    ) -> Result<LoadStats> {
        let (stats, foreign_keys) = self.bulk_load_deferring_constraints(spec, false, rx, events).await?;
        if !foreign_keys.is_empty() {
            self.exec(&foreign_keys).await?;
        }
        Ok(stats)
    }

    /// The bulk path with the table's foreign keys (and, with `unique`, its UNIQUE constraints
    /// other than the primary key) left dropped: returns the SQL that recreates them (live sync
    /// runs it once the replay has made the target consistent: rows read at different moments
    /// may collide on a unique value until then).
    pub(crate) async fn bulk_load_deferring_constraints(
        &self,
        spec: &TableSpec,
        unique: bool,
        rx: &mut mpsc::Receiver<Msg>,
        events: &mut dyn LoadEvents,
    ) -> Result<(LoadStats, String)> {
        let table = quote(spec.name);
        let name = literal(spec.name);
        self.exec(&format!(
            "SET LOCAL maintenance_work_mem = '256MB'; DELETE FROM {table} WHERE {}",
            seed_predicate(spec)
        ))
        .await?;
        let indexes = self
            .client
            .query_typed(
                &format!(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
                     WHERE i.indrelid = {name}::regclass AND NOT i.indisprimary \
                       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
                     ORDER BY 1"
                ),
                &[],
            )
            .await?;
        let foreign_keys = self
            .client
            .query_typed(
                &format!(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                     WHERE conrelid = {name}::regclass AND (contype = 'f' OR (contype = 'u' AND {unique})) \
                     ORDER BY contype DESC, 1"
                ),
                &[],
            )
            .await?;
        let mut drop_sql = String::new();
        let mut create_sql = String::new();
        let mut foreign_key_sql = String::new();
        for row in &indexes {
            let (index, definition): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            drop_sql.push_str(&format!("DROP INDEX {index};"));
            create_sql.push_str(&format!("{definition};"));
        }
        for row in &foreign_keys {
            let (constraint, definition): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            drop_sql.push_str(&format!("ALTER TABLE {table} DROP CONSTRAINT {};", quote(&constraint)));
            foreign_key_sql.push_str(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {definition};",
                quote(&constraint)
            ));
        }
        if !drop_sql.is_empty() {
            self.exec(&drop_sql).await?;
        }
        let mut stats = LoadStats::default();
        let copy = format!("COPY {table} ({}) FROM STDIN (FORMAT binary)", column_list(spec));
        let sink = self.client.copy_in::<_, bytes::Bytes>(&copy).await?;
        futures_util::pin_mut!(sink);
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Chunk(bytes, rows) => {
                    stats.bytes += bytes.len() as u64;
                    stats.read_rows += rows;
                    sink.send(bytes).await?;
                    events.progress(rows);
                }
                Msg::EndBatch => {}
                Msg::Bad(row) => events.bad(*row)?,
            }
        }
        stats.inserted = sink.as_mut().finish().await?;
        if !create_sql.is_empty() {
            self.exec(&create_sql).await?;
        }
        self.restore_seeds(spec).await?;
        Ok((stats, foreign_key_sql))
    }

    /// Puts back seed rows the source did not replace.
    async fn restore_seeds(&self, spec: &TableSpec) -> Result<()> {
        for seed in SEED_ROWS.iter().filter(|s| s.table == spec.name) {
            let values: Vec<String> = spec
                .columns
                .iter()
                .zip(seed.values)
                .map(|(c, v)| match (c.ty, v) {
                    (_, None) => "NULL".to_owned(),
                    (ColType::Timestamp, Some(v)) => format!("{}::timestamptz", literal(v)),
                    (_, Some(v)) => literal(v),
                })
                .collect();
            self.exec(&format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
                quote(spec.name),
                column_list(spec),
                values.join(", ")
            ))
            .await?;
        }
        Ok(())
    }

    /// Merge path (see the module doc). Must run inside a transaction.
    pub(crate) async fn merge_load(
        &self,
        spec: &TableSpec,
        overwrite: bool,
        rx: &mut mpsc::Receiver<Msg>,
        events: &mut dyn LoadEvents,
    ) -> Result<LoadStats> {
        let table = quote(spec.name);
        let stage = quote(&format!("_synthlab_copy_stage_{}", spec.name));
        let columns = column_list(spec);
        self.exec(&format!(
            "DROP TABLE IF EXISTS {stage}; CREATE TEMP TABLE {stage} (LIKE {table}) ON COMMIT DROP"
        ))
        .await?;
        let key_match: Vec<String> = spec.key.iter().map(|k| format!("t.{0} = s.{0}", quote(k))).collect();
        let key_match = key_match.join(" AND ");
        let distinct: Vec<(String, &str)> = spec
            .columns
            .iter()
            .map(|c| {
                let expr = match c.ty {
                    ColType::Float => format!("float8send(s.{0}) IS DISTINCT FROM float8send(t.{0})", quote(c.name)),
                    _ => format!("s.{0} IS DISTINCT FROM t.{0}", quote(c.name)),
                };
                (expr, c.name)
            })
            .collect();
        let any_distinct = distinct
            .iter()
            .map(|(e, _)| e.as_str())
            .collect::<Vec<_>>()
            .join(" OR ");
        let which: Vec<String> = distinct
            .iter()
            .map(|(e, n)| format!("CASE WHEN {e} THEN {} END", literal(n)))
            .collect();
        let key_array: Vec<String> = spec.key.iter().map(|k| format!("s.{}::text", quote(k))).collect();
        let key_array = format!("ARRAY[{}]::text[]", key_array.join(", "));
        let diff_sql = format!(
            "SELECT {key_array}, array_remove(ARRAY[{}]::text[], NULL) FROM {stage} s JOIN {table} t ON {key_match} \
             WHERE {any_distinct} ORDER BY 1",
            which.join(", ")
        );
        let existing_sql = format!("SELECT count(*) FROM {stage} s JOIN {table} t ON {key_match}");
        let insert_sql =
            format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT DO NOTHING");
        let conflict_sql = format!(
            "SELECT {key_array} FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match}) ORDER BY 1"
        );
        let assignments: Vec<String> = spec
            .columns
            .iter()
            .filter(|c| !spec.key.contains(&c.name))
            .map(|c| format!("{0} = s.{0}", quote(c.name)))
            .collect();
        let update_sql = format!(
            "UPDATE {table} t SET {} FROM {stage} s WHERE {key_match} AND ({any_distinct})",
            assignments.join(", ")
        );
        let copy_sql = format!("COPY {stage} ({columns}) FROM STDIN (FORMAT binary)");

        let mut stats = LoadStats::default();
        let mut batch_sink = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Chunk(bytes, rows) => {
                    if batch_sink.is_none() {
                        batch_sink = Some(Box::pin(self.client.copy_in::<_, bytes::Bytes>(&copy_sql).await?));
                    }
                    stats.bytes += bytes.len() as u64;
                    stats.read_rows += rows;
                    if let Some(sink) = batch_sink.as_mut() {
                        sink.send(bytes).await?;
                    }
                    events.progress(rows);
                }
                Msg::EndBatch => {
                    let Some(mut sink) = batch_sink.take() else { continue };
                    let staged = sink.as_mut().finish().await?;
                    let differing = self.client.query_typed(&diff_sql, &[]).await?;
                    let existing: i64 = self.client.query_typed_one(&existing_sql, &[]).await?.try_get(0)?;
                    let inserted = self.client.execute_typed(&insert_sql, &[]).await?;
                    let existing = existing as u64;
                    stats.inserted += inserted;
                    stats.differing += differing.len() as u64;
                    stats.already_present += existing.saturating_sub(differing.len() as u64);
                    if staged > inserted + existing {
                        for row in self.client.query_typed(&conflict_sql, &[]).await? {
                            let key: Vec<String> = row.try_get(0)?;
                            stats.differing += 1;
                            if stats.differences.len() < DIFFERENCES_KEPT {
                                stats.differences.push(RowDifference::new(
                                    spec,
                                    key,
                                    DifferenceKind::Conflict,
                                    Vec::new(),
                                ));
                            }
                        }
                    }
                    for row in &differing {
                        let key: Vec<String> = row.try_get(0)?;
                        let columns: Vec<String> = row.try_get(1)?;
                        if stats.differences.len() < DIFFERENCES_KEPT {
                            let mut difference = RowDifference::new(spec, key, DifferenceKind::Differs, columns);
                            difference.replaced = overwrite;
                            stats.differences.push(difference);
                        }
                    }
                    if overwrite && !differing.is_empty() {
                        stats.replaced += self.client.execute_typed(&update_sql, &[]).await?;
                    }
                    self.exec(&format!("TRUNCATE {stage}")).await?;
                }
                Msg::Bad(row) => events.bad(*row)?,
            }
        }
        self.exec(&format!("DROP TABLE IF EXISTS {stage}")).await?;
        Ok(stats)
    }
}
