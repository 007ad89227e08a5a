//! [`SynthRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::row::{get, opt_json, timestamp};
use super::{Param, PgDb};
use crate::Result;
use crate::model::Comparison;
use crate::model::{
    NewSynth, Page, PageRequest, SortDirection, Synth, SynthSearch, SynthSort, SynthSortColumn, now, truncate,
};
use crate::repo::SynthRepository;

const TABLE: &str = "synths";

/// Synths in PostgreSQL.
pub(crate) struct PgSynthRepository {
    db: PgDb,
}

impl PgSynthRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthRepository { db }
    }
}

/// Maps a row holding the synth columns under their own names.
pub(super) fn synth(row: &Row) -> Result<Synth> {
    Ok(Synth {
        id: get(row, TABLE, "id")?,
        synth_group_id: get(row, TABLE, "synth_group_id")?,
        nome: get(row, TABLE, "nome")?,
        descricao: get(row, TABLE, "descricao")?,
        link_photo: get(row, TABLE, "link_photo")?,
        avatar_path: get(row, TABLE, "avatar_path")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        version: get(row, TABLE, "version")?,
        data: opt_json(row, TABLE, "data")?,
    })
}

/// A dynamically built parameter list (`$N` placeholders) for the search statement.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    /// Appends a parameter and returns its placeholder (`$N`).
    fn push(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    /// The parameters as the driver takes them.
    fn refs(&self) -> Vec<Param<'_>> {
        self.0.iter().map(|value| value.as_ref() as Param<'_>).collect()
    }
}

/// The ORDER BY of a listing: the whitelisted column (its fixed name from the enum, never
/// caller text), NULLs first ascending and last descending, then `id ASC`.
fn order_by(sort: SynthSort) -> String {
    let (dir, nulls) = match sort.direction {
        SortDirection::Asc => ("ASC", "NULLS FIRST"),
        SortDirection::Desc => ("DESC", "NULLS LAST"),
    };
    match sort.column {
        SynthSortColumn::CreatedAt => format!("created_at {dir}, id ASC"),
        SynthSortColumn::Id => format!("id {dir}"),
        column => format!("{} {dir} {nulls}, id ASC", column.as_str()),
    }
}

/// The WHERE of a search; every caller value is a bound parameter.
fn where_clause(search: &SynthSearch, params: &mut Params) -> Result<String> {
    let mut conditions = Vec::new();
    if let Some(group_id) = &search.group_id {
        conditions.push(format!("synth_group_id = {}::text", params.push(group_id.clone())));
    }
    if let Some(needle) = &search.name_contains {
        // lower() under the "C" collation and the needle are ASCII-only, like SQLite's;
        // strpos has no wildcard characters.
        let needle = params.push(needle.to_ascii_lowercase());
        conditions.push(format!("strpos(lower(nome COLLATE \"C\"), {needle}::text) > 0"));
    }
    for filter in &search.data {
        let path = params.push(filter.path.segments().to_vec());
        let value = format!("(data #> {path}::text[])");
        let condition = match filter.condition.comparison()? {
            Comparison::Text(text) => {
                let text = params.push(text.to_owned());
                format!("(jsonb_typeof({value}) = 'string' AND (data #>> {path}::text[]) = {text}::text COLLATE \"C\")")
            }
            Comparison::Bool(true) => format!("{value} = 'true'::jsonb"),
            Comparison::Bool(false) => format!("{value} = 'false'::jsonb"),
            Comparison::Null => format!("jsonb_typeof({value}) = 'null'"),
            // CASE guards the cast: a string, boolean or object there is no match, not an error.
            Comparison::Number(op, bound) => {
                let bound = params.push(bound);
                format!(
                    "(CASE WHEN jsonb_typeof({value}) = 'number' THEN {value}::float8 {op} {bound}::float8 ELSE false END)"
                )
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

impl PgSynthRepository {
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
                 LIMIT {limit}::bigint OFFSET {offset}::bigint
             ) p ON true
             ORDER BY {order}"
        );
        let rows = if search.data.is_empty() {
            self.db.query(&sql, &params.refs()).await?
        } else {
            // Data filters make the statement text open-ended: keep those out of the cache.
            self.db.query_uncached(&sql, &params.refs()).await?
        };
        let mut items = Vec::with_capacity(rows.len());
        let mut total = 0;
        for row in &rows {
            total = get(row, TABLE, "total")?;
            if get::<Option<&str>>(row, TABLE, "id")?.is_none() {
                continue;
            }
            items.push(synth(row)?);
        }
        Ok(Page::new(items, total, page))
    }
}

#[async_trait]
impl SynthRepository for PgSynthRepository {
    async fn create(&self, new: &NewSynth) -> Result<Synth> {
        let new = &new.clone();
        let created_at = new.created_at.map(truncate).unwrap_or_else(now);
        let row = self
            .db
            .query_one(
                "INSERT INTO synths (id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, '2.0.0'), $9)
                 RETURNING id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data",
                &[
                    &new.id,
                    &new.synth_group_id,
                    &new.nome,
                    &new.descricao,
                    &new.link_photo,
                    &new.avatar_path,
                    &created_at,
                    &new.version,
                    &new.data,
                ],
            )
            .await?;
        synth(&row)
    }

    async fn get(&self, id: &str) -> Result<Option<Synth>> {
        self.db
            .query_opt(
                "SELECT id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data
                 FROM synths WHERE id = $1",
                &[&id],
            )
            .await?
            .as_ref()
            .map(synth)
            .transpose()
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
        let deleted = self.db.execute("DELETE FROM synths WHERE id = $1", &[&id]).await?;
        Ok(deleted > 0)
    }
}
