//! Reads a PostgreSQL schema back from `pg_catalog`.

use std::collections::BTreeMap;

use tokio_postgres::Transaction;
use tokio_postgres::types::Type;

use crate::Result;
use crate::schema::history::HISTORY_TABLE;
use crate::schema::model::{ColumnModel, ForeignKeyModel, IndexModel, SchemaModel, TableModel, collapse_whitespace};

// Live sync's state table (`_synthlab_sync_state`) is ignored like refinery's history table.
const TABLES: &str = "
SELECT c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND c.relname NOT LIKE '\\_synthlab\\_sync\\_%'";

const COLUMNS: &str = "
SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), co.collname::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND c.relname NOT LIKE '\\_synthlab\\_sync\\_%' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum";

const CONSTRAINTS: &str = "
SELECT c.relname::text, con.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       rc.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
WHERE n.nspname = $1 AND c.relname <> $2 AND c.relname NOT LIKE '\\_synthlab\\_sync\\_%' AND con.contype IN ('p', 'u', 'f', 'c')";

const INDEXES: &str = "
SELECT c.relname::text, i.relname::text, ix.indisunique, pg_get_expr(ix.indpred, ix.indrelid),
       ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true)
                    || CASE WHEN (ix.indoption[k - 1] & 1) = 1 THEN ' DESC' ELSE '' END
             FROM generate_series(1, ix.indnkeyatts) k ORDER BY k)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND c.relname NOT LIKE '\\_synthlab\\_sync\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid AND con.contype IN ('p', 'u', 'x'))";

fn action(code: &str) -> String {
    match code {
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        "r" => "RESTRICT",
        _ => "NO ACTION",
    }
    .to_owned()
}

/// The body of `CHECK (…)` as PostgreSQL prints it, without the keyword and outer parentheses.
fn check_body(definition: &str) -> String {
    let body = definition.strip_prefix("CHECK ").unwrap_or(definition).trim();
    let body = body.strip_prefix('(').and_then(|b| b.strip_suffix(')')).unwrap_or(body);
    collapse_whitespace(body)
}

fn unquote(identifier: &str) -> String {
    identifier
        .strip_prefix('"')
        .and_then(|i| i.strip_suffix('"'))
        .unwrap_or(identifier)
        .to_owned()
}

/// The tables of `schema`, without the history table.
pub(crate) async fn introspect(tx: &Transaction<'_>, schema: &str) -> Result<SchemaModel> {
    let mut tables: BTreeMap<String, TableModel> = BTreeMap::new();
    for row in tx
        .query_typed(TABLES, &[(&schema, Type::TEXT), (&HISTORY_TABLE, Type::TEXT)])
        .await?
    {
        tables.insert(row.try_get(0)?, TableModel::default());
    }
    for row in tx
        .query_typed(COLUMNS, &[(&schema, Type::TEXT), (&HISTORY_TABLE, Type::TEXT)])
        .await?
    {
        let table: String = row.try_get(0)?;
        if let Some(model) = tables.get_mut(&table) {
            model.columns.push(ColumnModel {
                name: row.try_get(1)?,
                data_type: row.try_get(2)?,
                not_null: row.try_get(3)?,
                default: row.try_get::<_, Option<String>>(4)?.map(|d| collapse_whitespace(&d)),
                collation: row.try_get(5)?,
            });
        }
    }
    for row in tx
        .query_typed(CONSTRAINTS, &[(&schema, Type::TEXT), (&HISTORY_TABLE, Type::TEXT)])
        .await?
    {
        let table: String = row.try_get(0)?;
        let Some(model) = tables.get_mut(&table) else {
            continue;
        };
        let kind: String = row.try_get(1)?;
        let columns: Vec<String> = row.try_get(2)?;
        match kind.as_str() {
            "p" => model.primary_key = columns,
            "u" => {
                model.unique.insert(columns);
            }
            "f" => {
                model.foreign_keys.insert(ForeignKeyModel {
                    columns,
                    references: row.try_get::<_, Option<String>>(3)?.unwrap_or_default(),
                    referenced_columns: row.try_get(4)?,
                    on_delete: action(&row.try_get::<_, String>(5)?),
                    on_update: action(&row.try_get::<_, String>(6)?),
                });
            }
            _ => {
                model.checks.insert(check_body(&row.try_get::<_, String>(7)?));
            }
        }
    }
    for row in tx
        .query_typed(INDEXES, &[(&schema, Type::TEXT), (&HISTORY_TABLE, Type::TEXT)])
        .await?
    {
        let table: String = row.try_get(0)?;
        let Some(model) = tables.get_mut(&table) else {
            continue;
        };
        let columns: Vec<String> = row.try_get(4)?;
        model.indexes.insert(
            row.try_get(1)?,
            IndexModel {
                columns: columns
                    .iter()
                    .map(|c| match c.strip_suffix(" DESC") {
                        Some(name) => format!("{} DESC", unquote(name)),
                        None => unquote(c),
                    })
                    .collect(),
                unique: row.try_get(2)?,
                predicate: row.try_get::<_, Option<String>>(3)?.map(|p| collapse_whitespace(&p)),
            },
        );
    }
    Ok(SchemaModel { tables })
}
