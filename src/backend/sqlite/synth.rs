//! [`SynthRepository`] over SQLite.

use async_trait::async_trait;
use rusqlite::{Row, params, params_from_iter};

use super::SqliteDb;
use super::row::{Params, int, opt_json, opt_json_param, opt_string, string, timestamp, ts_param};
use crate::model::Comparison;
use crate::model::{
    NewSynth, Page, PageRequest, SortDirection, Synth, SynthSearch, SynthSort, SynthSortColumn, now, truncate,
};
use crate::repo::SynthRepository;
use crate::{Error, Result};

const TABLE: &str = "synths";

/// Synths in the legacy SQLite store.
pub(crate) struct SqliteSynthRepository {
    db: SqliteDb,
}

impl SqliteSynthRepository {
    pub(crate) fn new(db: SqliteDb) -> Self {
        SqliteSynthRepository { db }
    }
}

/// Maps a row holding the synth columns under their own names.
pub(super) fn synth(row: &Row<'_>) -> Result<Synth> {
    Ok(Synth {
        id: string(row, TABLE, "id")?,
        synth_group_id: opt_string(row, TABLE, "synth_group_id")?,
        nome: string(row, TABLE, "nome")?,
        descricao: opt_string(row, TABLE, "descricao")?,
        link_photo: opt_string(row, TABLE, "link_photo")?,
        avatar_path: opt_string(row, TABLE, "avatar_path")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        version: opt_string(row, TABLE, "version")?,
        data: opt_json(row, TABLE, "data")?,
    })
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
fn where_clause(search: &SynthSearch, params: &mut Params) -> Result<String> {
    let mut conditions = Vec::new();
    if let Some(group_id) = &search.group_id {
        conditions.push(format!("synth_group_id = {}", params.push(group_id.clone())));
    }
    if let Some(needle) = &search.name_contains {
        // lower() and the needle are ASCII-only, like the legacy LIKE; no wildcard characters.
        let needle = params.push(needle.to_ascii_lowercase());
        conditions.push(format!("instr(lower(nome), {needle}) > 0"));
    }
    for filter in &search.data {
        let path = params.push(filter.path.to_sqlite_path());
        let is_number = format!("json_type(data, {path}) IN ('integer', 'real')");
        let number = format!("CAST(json_extract(data, {path}) AS REAL)");
        let condition = match filter.condition.comparison()? {
            Comparison::Text(text) => {
                let text = params.push(text.to_owned());
                format!("(json_type(data, {path}) = 'text' AND json_extract(data, {path}) = {text})")
            }
            Comparison::Bool(true) => format!("json_type(data, {path}) = 'true'"),
            Comparison::Bool(false) => format!("json_type(data, {path}) = 'false'"),
            Comparison::Null => format!("json_type(data, {path}) = 'null'"),
            Comparison::Number(op, bound) => {
                let bound = params.push(bound);
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

impl SqliteSynthRepository {
    /// One page of the synths matching `search`, total and page in one statement.
    async fn page(&self, search: &SynthSearch, page: PageRequest) -> Result<Page<Synth>> {
        let mut params = Params::default();
        let filter = where_clause(search, &mut params)?;
        let order = order_by(search.sort);
        let (limit, offset) = (params.push(page.limit), params.push(page.offset));
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
        let cache = search.data.is_empty();
        self.db
            .read(move |conn| {
                let (mut cached, mut plain);
                let stmt: &mut rusqlite::Statement<'_> = if cache {
                    cached = conn.prepare_cached(&sql)?;
                    &mut cached
                } else {
                    plain = conn.prepare(&sql)?;
                    &mut plain
                };
                let mut rows = stmt.query(params_from_iter(params.iter()))?;
                let mut items = Vec::new();
                let mut total = 0;
                while let Some(row) = rows.next()? {
                    total = int(row, TABLE, "total")?;
                    if opt_string(row, TABLE, "id")?.is_none() {
                        continue;
                    }
                    items.push(synth(row)?);
                }
                Ok(Page::new(items, total, page))
            })
            .await
    }
}

#[async_trait]
impl SynthRepository for SqliteSynthRepository {
    async fn create(&self, new: &NewSynth) -> Result<Synth> {
        let new = new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        self.db
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "INSERT INTO synths (id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, '2.0.0'), ?9)
                     RETURNING id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data",
                )?;
                let mut rows = stmt.query(params![
                    new.id,
                    new.synth_group_id,
                    new.nome,
                    new.descricao,
                    new.link_photo,
                    new.avatar_path,
                    ts_param(&created_at),
                    new.version,
                    opt_json_param(&new.data)
                ])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| Error::other("INSERT … RETURNING gave no row"))?;
                synth(row)
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Synth>> {
        let id = id.to_owned();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data
                     FROM synths WHERE id = ?1",
                )?;
                let mut rows = stmt.query([id])?;
                rows.next()?.map(synth).transpose()
            })
            .await
    }

    async fn list(&self, sort: SynthSort, page: PageRequest) -> Result<Page<Synth>> {
        let search = SynthSearch {
            sort,
            ..SynthSearch::default()
        };
        self.page(&search, page).await
    }

    async fn list_by_group(&self, group_id: &str, page: PageRequest) -> Result<Page<Synth>> {
        let search = SynthSearch {
            group_id: Some(group_id.to_owned()),
            ..SynthSearch::default()
        };
        self.page(&search, page).await
    }

    async fn search(&self, search: &SynthSearch, page: PageRequest) -> Result<Page<Synth>> {
        self.page(search, page).await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.db
            .write(move |conn| {
                let deleted = conn.prepare_cached("DELETE FROM synths WHERE id = ?1")?.execute([id])?;
                Ok(deleted > 0)
            })
            .await
    }
}
