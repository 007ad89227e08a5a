//! [`SynthRepository`] over SQLite.

use async_trait::async_trait;

use super::SqliteDb;
use super::row::{SqliteArgs, args};
use crate::Result;
use crate::backend::driver::{Driver, Sql};
use crate::model::{
    Comparison, NewSynth, Page, PageRequest, SortDirection, Synth, SynthSearch, SynthSort, SynthSortColumn, now,
};
use crate::repo::SynthRepository;

/// Synths in the legacy SQLite store.
pub(crate) struct SqliteSynthRepository {
    db: SqliteDb,
}

impl SqliteSynthRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthRepository { db }
    }
}

/// The ORDER BY of a listing: the whitelisted column (its fixed name from the enum, never
/// caller text), NULLs first ascending and last descending, then `id ASC`. julianday()
/// orders legacy timestamp shapes by instant; the text breaks sub-millisecond ties.
fn order_by(sort: SynthSort) -> String {
    let (dir, nulls) = match sort.direction {
        SortDirection::Asc => ("ASC", "NULLS FIRST"),
        SortDirection::Desc => ("DESC", "NULLS LAST"),
    };
    match sort.column {
        SynthSortColumn::CreatedAt => format!("julianday(created_at) {dir}, created_at {dir}, id ASC"),
        SynthSortColumn::Id => format!("id {dir}"),
        column => format!("{} {dir} {nulls}, id ASC", column.as_str()),
    }
}

/// The WHERE of a search; every caller value is a bound parameter.
fn where_clause(search: &SynthSearch, args: &mut SqliteArgs) -> Result<String> {
    let mut conditions = Vec::new();
    if let Some(group_id) = &search.group_id {
        conditions.push(format!("synth_group_id = {}", args.push(group_id.as_str())));
    }
    if let Some(needle) = &search.name_contains {
        // lower() and the needle are ASCII-only, like the legacy LIKE; no wildcard characters.
        let needle = args.push(needle.to_ascii_lowercase());
        conditions.push(format!("instr(lower(nome), {needle}) > 0"));
    }
    for filter in &search.data {
        let path = args.push(filter.path.to_sqlite_path());
        let is_number = format!("json_type(data, {path}) IN ('integer', 'real')");
        let number = format!("CAST(json_extract(data, {path}) AS REAL)");
        let condition = match filter.condition.comparison()? {
            Comparison::Text(text) => {
                let text = args.push(text);
                format!("(json_type(data, {path}) = 'text' AND json_extract(data, {path}) = {text})")
            }
            Comparison::Bool(true) => format!("json_type(data, {path}) = 'true'"),
            Comparison::Bool(false) => format!("json_type(data, {path}) = 'false'"),
            Comparison::Null => format!("json_type(data, {path}) = 'null'"),
            Comparison::Number(op, bound) => {
                let bound = args.push(bound);
                format!("({is_number} AND {number} {op} {bound})")
            }
        };
        conditions.push(condition);
    }
    Ok(if conditions.is_empty() {
        "TRUE".to_owned()
    } else {
        conditions.join(" AND ")
    })
}

#[async_trait]
impl SynthRepository for SqliteSynthRepository {
    async fn create(&self, new: &NewSynth) -> Result<Synth> {
        self.db
            .fetch_written(
                "INSERT INTO synths (id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, '2.0.0'), ?9)
                 RETURNING id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data",
                args![
                    new.id,
                    new.synth_group_id,
                    new.nome,
                    new.descricao,
                    new.link_photo,
                    new.avatar_path,
                    new.created_at.unwrap_or_else(now),
                    new.version,
                    new.data
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Synth>> {
        self.db
            .fetch_opt(
                "SELECT id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data
                 FROM synths WHERE id = ?1",
                args![id],
            )
            .await
    }

    async fn search(&self, search: &SynthSearch, page: PageRequest) -> Result<Page<Synth>> {
        let mut args = SqliteArgs::default();
        let filter = where_clause(search, &mut args)?;
        let order = order_by(search.sort);
        let (limit, offset) = (args.push(page.limit), args.push(page.offset));
        // The outer ORDER BY names p's columns (total has only `n`), so the same clause applies.
        let sql = format!(
            "WITH total AS (SELECT count(*) AS n FROM synths WHERE {filter})
             SELECT total.n AS total, p.* FROM total LEFT JOIN (
                 SELECT id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data
                 FROM synths WHERE {filter}
                 ORDER BY {order}
                 LIMIT {limit} OFFSET {offset}
             ) p ON 1
             ORDER BY {order}"
        );
        // Data filters make the statement text open-ended: keep those out of the cache.
        let sql = match search.data.is_empty() {
            true => Sql::from(sql),
            false => Sql::uncached(sql),
        };
        self.db.fetch_page(sql, args, page).await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count("DELETE FROM synths WHERE id = ?1", args![id])
            .await?;
        Ok(deleted > 0)
    }
}
