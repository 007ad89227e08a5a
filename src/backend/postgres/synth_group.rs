//! [`SynthGroupRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgDb;
use super::row::{get, timestamp};
use super::synth::synth;
use crate::model::{
    DEFAULT_SYNTH_GROUP_ID, NewSynthGroup, Page, PageRequest, SynthGroup, SynthGroupDetail, SynthGroupWithCount, now,
    truncate,
};
use crate::repo::SynthGroupRepository;
use crate::{Error, Result};

const TABLE: &str = "synth_groups";

/// Synth groups in PostgreSQL.
pub(crate) struct PgSynthGroupRepository {
    db: PgDb,
}

impl PgSynthGroupRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthGroupRepository { db }
    }
}

fn group(row: &Row) -> Result<SynthGroup> {
    Ok(SynthGroup {
        id: get(row, TABLE, "id")?,
        name: get(row, TABLE, "name")?,
        description: get(row, TABLE, "description")?,
        created_at: timestamp(row, TABLE, "created_at")?,
    })
}

fn group_with_count(row: &Row) -> Result<SynthGroupWithCount> {
    Ok(SynthGroupWithCount {
        group: group(row)?,
        synth_count: get(row, TABLE, "synth_count")?,
    })
}

#[async_trait]
impl SynthGroupRepository for PgSynthGroupRepository {
    async fn ensure_default(&self) -> Result<SynthGroup> {
        // The main query does not see the CTE's insert, hence the UNION with the existing row.
        let row = self
            .db
            .query_opt(
                "WITH inserted AS (
                     INSERT INTO synth_groups (id, name, description, created_at)
                     VALUES ($1, 'Default', 'Default group for synths without an explicit group', $2)
                     ON CONFLICT (id) DO NOTHING
                     RETURNING id, name, description, created_at
                 )
                 SELECT id, name, description, created_at FROM inserted
                 UNION ALL
                 SELECT id, name, description, created_at FROM synth_groups WHERE id = $1",
                &[&DEFAULT_SYNTH_GROUP_ID, &now()],
            )
            .await?;
        match row {
            Some(row) => group(&row),
            // A concurrent transaction inserted it after this statement's snapshot: read it now.
            None => self
                .db
                .query_opt(
                    "SELECT id, name, description, created_at FROM synth_groups WHERE id = $1",
                    &[&DEFAULT_SYNTH_GROUP_ID],
                )
                .await?
                .as_ref()
                .map(group)
                .transpose()?
                .ok_or_else(|| Error::other("the default synth group vanished after its insert")),
        }
    }

    async fn create(&self, new: &NewSynthGroup) -> Result<SynthGroup> {
        let new = &new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO synth_groups (id, name, description, created_at) VALUES ($1, $2, $3, $4)
                 RETURNING id, name, description, created_at",
                &[&new.id, &new.name, &new.description, &created_at],
            )
            .await?;
        group(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<SynthGroupWithCount>> {
        self.db
            .query_opt(
                "SELECT g.id, g.name, g.description, g.created_at,
                        (SELECT count(*) FROM synths s WHERE s.synth_group_id = g.id) AS synth_count
                 FROM synth_groups g WHERE g.id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(group_with_count)
            .transpose()
    }

    async fn detail(&self, id: &str) -> Result<Option<SynthGroupDetail>> {
        // One statement (one snapshot): the group's columns on every row, then its synths.
        let rows = self
            .db
            .query(
                "SELECT g.id AS group_id, g.name AS group_name, g.description AS group_description,
                        g.created_at AS group_created_at,
                        s.id, s.synth_group_id, s.nome, s.descricao, s.link_photo, s.avatar_path, s.created_at,
                        s.version, s.data
                 FROM synth_groups g LEFT JOIN synths s ON s.synth_group_id = g.id
                 WHERE g.id = $1
                 ORDER BY s.created_at DESC, s.id ASC",
                &[&id],
            )
            .await?;
        let mut detail: Option<SynthGroupDetail> = None;
        for row in &rows {
            let detail = match &mut detail {
                Some(detail) => detail,
                None => detail.insert(SynthGroupDetail {
                    group: SynthGroup {
                        id: get(row, TABLE, "group_id")?,
                        name: get(row, TABLE, "group_name")?,
                        description: get(row, TABLE, "group_description")?,
                        created_at: timestamp(row, TABLE, "group_created_at")?,
                    },
                    synths: Vec::new(),
                }),
            };
            if get::<Option<&str>>(row, TABLE, "id")?.is_some() {
                detail.synths.push(synth(row)?);
            }
        }
        Ok(detail)
    }

    async fn list(&self, page: PageRequest) -> Result<Page<SynthGroupWithCount>> {
        // One statement, so the total and the page come from the same snapshot.
        let rows = self
            .db
            .query(
                "WITH total AS (SELECT count(*) AS n FROM synth_groups)
                 SELECT total.n AS total, p.* FROM total LEFT JOIN (
                     SELECT g.id, g.name, g.description, g.created_at,
                            (SELECT count(*) FROM synths s WHERE s.synth_group_id = g.id) AS synth_count
                     FROM synth_groups g
                     ORDER BY g.created_at DESC, g.id ASC
                     LIMIT $1 OFFSET $2
                 ) p ON true
                 ORDER BY p.created_at DESC, p.id ASC",
                &[&page.limit, &page.offset],
            )
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, TABLE, "total")?;
            if get::<Option<&str>>(row, TABLE, "id")?.is_none() {
                continue;
            }
            items.push(group_with_count(row)?);
        }
        Ok(Page::new(items, total, page))
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        if id == DEFAULT_SYNTH_GROUP_ID {
            return Err(Error::invalid_input(format!(
                "the default synth group {DEFAULT_SYNTH_GROUP_ID} cannot be deleted"
            )));
        }
        // synths.synth_group_id has no ON DELETE action: the foreign key refuses while synths
        // still belong to the group (23503 → ForeignKey).
        let deleted = self
            .db
            .execute("DELETE FROM synth_groups WHERE id = $1", &[&id])
            .await?;
        Ok(deleted > 0)
    }
}
