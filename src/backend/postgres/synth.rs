//! [`SynthRepository`] over PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::types::ToSql;

use super::{Param, PgDb};
use crate::Result;
use crate::backend::driver::{Driver, Sql};
use crate::model::{
    Comparison, NewSynth, Page, PageRequest, SortDirection, Synth, SynthSearch, SynthSort, SynthSortColumn, now,
};
use crate::repo::SynthRepository;

/// Synths in PostgreSQL.
pub(crate) struct PgSynthRepository {
    db: PgDb,
}

impl PgSynthRepository {
    pub(crate) fn new(db: PgDb) -> Self {
        PgSynthRepository { db }
    }
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

#[async_trait]
impl SynthRepository for PgSynthRepository {
    async fn create(&self, new: &NewSynth) -> Result<Synth> {
        self.db
            .fetch_written(
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
                    &new.created_at.unwrap_or_else(now),
                    &new.version,
                    &new.data,
                ],
            )
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Synth>> {
        self.db
            .fetch_opt(
                "SELECT id, synth_group_id, nome, descricao, link_photo, avatar_path, created_at, version, data
                 FROM synths WHERE id = $1",
                &[&id],
            )
            .await
    }

    async fn search(&self, search: &SynthSearch, page: PageRequest) -> Result<Page<Synth>> {
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
        // Data filters make the statement text open-ended: keep those out of the cache.
        let sql = match search.data.is_empty() {
            true => Sql::from(sql),
            false => Sql::uncached(sql),
        };
        self.db.fetch_page(sql, &params.refs(), page).await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        let deleted = self
            .db
            .execute_count("DELETE FROM synths WHERE id = $1", &[&id])
            .await?;
        Ok(deleted > 0)
    }
}
