//! [`SynthGroupRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::SqliteDb;
use super::row::{int, opt_string, string, timestamp, ts_param};
use super::synth::synth;
use crate::model::{
    DEFAULT_SYNTH_GROUP_ID, NewSynthGroup, Page, PageRequest, SynthGroup, SynthGroupDetail, SynthGroupWithCount, now,
    truncate,
};
use crate::repo::SynthGroupRepository;
use crate::{Error, Result};

const TABLE: &str = "synth_groups";

/// Synth groups in the legacy SQLite store.
pub(crate) struct SqliteSynthGroupRepository {
    db: SqliteDb,
}

impl SqliteSynthGroupRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthGroupRepository { db }
    }
}

fn group(row: &Row<'_>) -> Result<SynthGroup> {
    Ok(SynthGroup {
        id: string(row, TABLE, "id")?,
        name: string(row, TABLE, "name")?,
        description: opt_string(row, TABLE, "description")?,
        created_at: timestamp(row, TABLE, "created_at")?,
    })
}

fn group_with_count(row: &Row<'_>) -> Result<SynthGroupWithCount> {
    Ok(SynthGroupWithCount {
        group: group(row)?,
        synth_count: int(row, TABLE, "synth_count")?,
    })
}

#[async_trait]
impl SynthGroupRepository for SqliteSynthGroupRepository {
    async fn ensure_default(&self) -> Result<SynthGroup> {
        let created_at = now();
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO synth_groups (id, name, description, created_at)
                     VALUES (?1, 'Default', 'Default group for synths without an explicit group', ?2)
                     ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![DEFAULT_SYNTH_GROUP_ID, ts_param(&created_at)])?;
                let mut stmt =
                    conn.prepare_cached("SELECT id, name, description, created_at FROM synth_groups WHERE id = ?1")?;
                let mut rows = stmt.query([DEFAULT_SYNTH_GROUP_ID])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("the default synth group vanished after its insert"))?;
                group(row)
            })
            .await
    }

    async fn create(&self, new: &NewSynthGroup) -> Result<SynthGroup> {
        let new = new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO synth_groups (id, name, description, created_at) VALUES (?1, ?2, ?3, ?4)
                     RETURNING id, name, description, created_at",
                )?;
                let mut rows = stmt.query(params![new.id, new.name, new.description, ts_param(&created_at)])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                group(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SynthGroupWithCount>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT g.id, g.name, g.description, g.created_at,
                            (SELECT count(*) FROM synths s WHERE s.synth_group_id = g.id) AS synth_count
                     FROM synth_groups g WHERE g.id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(group_with_count).transpose()
            })
            .await
    }

    async fn detail(&self, id: &str) -> Result<Option<SynthGroupDetail>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                // One statement (one snapshot): the group's columns on every row, then its synths.
                let mut stmt = conn.prepare_cached(
                    "SELECT g.id AS group_id, g.name AS group_name, g.description AS group_description,
                            g.created_at AS group_created_at,
                            s.id, s.synth_group_id, s.nome, s.descricao, s.link_photo, s.avatar_path, s.created_at,
                            s.version, s.data
                     FROM synth_groups g LEFT JOIN synths s ON s.synth_group_id = g.id
                     WHERE g.id = ?1
                     ORDER BY julianday(s.created_at) DESC, s.created_at DESC, s.id ASC",
                )?;
                let mut rows = stmt.query([id])?;
                let mut detail: Option<SynthGroupDetail> = None;
                while let Some(row) = rows.next()? {
                    let detail = match &mut detail {
                        Some(detail) => detail,
                        None => detail.insert(SynthGroupDetail {
                            group: SynthGroup {
                                id: string(row, TABLE, "group_id")?,
                                name: string(row, TABLE, "group_name")?,
                                description: opt_string(row, TABLE, "group_description")?,
                                created_at: timestamp(row, TABLE, "group_created_at")?,
                            },
                            synths: Vec::new(),
                        }),
                    };
                    if opt_string(row, TABLE, "id")?.is_some() {
                        detail.synths.push(synth(row)?);
                    }
                }
                Ok(detail)
            })
            .await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<SynthGroupWithCount>> {
        self.db
            .read(move |conn| {
                // One statement, so the total and the page come from the same snapshot.
                let mut stmt = conn.prepare_cached(
                    "WITH total AS (SELECT count(*) AS n FROM synth_groups)
                     SELECT total.n AS total, p.* FROM total LEFT JOIN (
                         SELECT g.id, g.name, g.description, g.created_at,
                                (SELECT count(*) FROM synths s WHERE s.synth_group_id = g.id) AS synth_count
                         FROM synth_groups g
                         ORDER BY julianday(g.created_at) DESC, g.created_at DESC, g.id ASC
                         LIMIT ?1 OFFSET ?2
                     ) p ON 1
                     ORDER BY julianday(p.created_at) DESC, p.created_at DESC, p.id ASC",
                )?;
                let mut rows = stmt.query(params![page.limit, page.offset])?;
                let mut items = Vec::new();
                let mut total = 0;
                while let Some(row) = rows.next()? {
                    total = int(row, TABLE, "total")?;
                    if opt_string(row, TABLE, "id")?.is_none() {
                        continue;
                    }
                    items.push(group_with_count(row)?);
                }
                Ok(Page::new(items, total, page))
            })
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        if id == DEFAULT_SYNTH_GROUP_ID {
            return Err(Error::invalid_input(format!(
                "the default synth group {DEFAULT_SYNTH_GROUP_ID} cannot be deleted"
            )));
        }
        let id = id.to_owned();
        self.db
            .write(move |conn| {
                // synths.synth_group_id has no ON DELETE action: the foreign key refuses while
                // synths still belong to the group (SQLITE_CONSTRAINT_FOREIGNKEY → ForeignKey).
                let deleted = conn
                    .prepare_cached("DELETE FROM synth_groups WHERE id = ?1")?
                    .execute([id])?;
                Ok(deleted > 0)
            })
            .await
    }
}
