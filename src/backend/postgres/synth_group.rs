//! [`SynthGroupRepository`] over PostgreSQL.

use async_trait::async_trait;

use super::PgDb;
use crate::backend::driver::{Access, Driver};
use crate::backend::from_row::{group_detail, group_detail_row};
use crate::backend::row::FromRow;
use crate::model::{
    DEFAULT_SYNTH_GROUP_ID, NewSynthGroup, Page, PageRequest, SynthGroup, SynthGroupDetail, SynthGroupWithCount, now,
    refuse_default_group,
};
use crate::repo::SynthGroupRepository;
use crate::{Error, Result};

/// Synth groups in PostgreSQL.
pub(crate) struct PgSynthGroupRepository {
    db: PgDb,
}

impl PgSynthGroupRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthGroupRepository { db }
    }
}

#[async_trait]
impl SynthGroupRepository for PgSynthGroupRepository {
    async fn ensure_default(&self) -> Result<SynthGroup> {
        // The main query does not see the CTE's insert, hence the UNION with the existing row.
        let group = self
            .db
            .fetch_rows(
                Access::Write,
                "WITH inserted AS (
                     INSERT INTO synth_groups (id, name, description, created_at)
                     VALUES ($1, 'Default', 'Default group for synths without an explicit group', $2)
                     ON CONFLICT (id) DO NOTHING
                     RETURNING id, name, description, created_at
                 )
                 SELECT id, name, description, created_at FROM inserted
                 UNION ALL
                 SELECT id, name, description, created_at FROM synth_groups WHERE id = $1"
                    .into(),
                &[&DEFAULT_SYNTH_GROUP_ID, &now()],
                SynthGroup::from_row,
            )
            .await?
            .into_iter()
            .next();
        match group {
            Some(group) => Ok(group),
            // A concurrent transaction inserted it after this statement's snapshot: read it now.
            None => self
                .db
                .fetch_opt(
                    "SELECT id, name, description, created_at FROM synth_groups WHERE id = $1",
                    &[&DEFAULT_SYNTH_GROUP_ID],
                )
                .await?
                .ok_or_else(|| Error::other("the default synth group vanished after its insert")),
        }
    }

    async fn create(&self, new: &NewSynthGroup) -> Result<SynthGroup> {
        self.db
            .fetch_written(
                "INSERT INTO synth_groups (id, name, description, created_at) VALUES ($1, $2, $3, $4)
                 RETURNING id, name, description, created_at",
                &[
                    &new.id,
                    &new.name,
                    &new.description,
                    &new.created_at.unwrap_or_else(now),
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<SynthGroupWithCount>> {
        self.db
            .fetch_opt(
                "SELECT g.id, g.name, g.description, g.created_at,
                        (SELECT count(*) FROM synths s WHERE s.synth_group_id = g.id) AS synth_count
                 FROM synth_groups g WHERE g.id = $1",
                &[&id],
            )
            .await
    }

    async fn detail(&self, id: &str) -> Result<Option<SynthGroupDetail>> {
        // One statement (one snapshot): the group's columns on every row, then its synths.
        let rows = self
            .db
            .fetch_mapped(
                "SELECT g.id AS group_id, g.name AS group_name, g.description AS group_description,
                        g.created_at AS group_created_at,
                        s.id, s.synth_group_id, s.nome, s.descricao, s.link_photo, s.avatar_path, s.created_at,
                        s.version, s.data
                 FROM synth_groups g LEFT JOIN synths s ON s.synth_group_id = g.id
                 WHERE g.id = $1
                 ORDER BY s.created_at DESC, s.id ASC",
                &[&id],
                group_detail_row,
            )
            .await?;
        Ok(group_detail(rows))
    }

    async fn list(&self, page: PageRequest) -> Result<Page<SynthGroupWithCount>> {
        self.db
            .fetch_page(
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
                page,
            )
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        refuse_default_group(id)?;
        // synths.synth_group_id has no ON DELETE action: the foreign key refuses while synths
        // still belong to the group (23503 → ForeignKey).
        let deleted = self
            .db
            .execute_count("DELETE FROM synth_groups WHERE id = $1", &[&id])
            .await?;
        Ok(deleted > 0)
    }
}
