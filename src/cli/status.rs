//! `synthlab-db status`.

use synthlab_db::Store;

use super::Format;

/// Schema version and row counts of a store (no counts without a schema).
async fn inspect(store: &Store) -> anyhow::Result<(synthlab_db::schema::SchemaStatus, Vec<(String, i64)>)> {
    let schema = store.schema_status().await?;
    // Counting needs the tables: a database without schema has none to count.
    let counts = if schema.current_version > 0 {
        store.table_counts().await?
    } else {
        Vec::new()
    };
    Ok((schema, counts))
}

/// Prints backend, redacted URL, schema version, pending migrations, row counts and the
/// routing table (with the second store's version and counts when repositories are routed).
pub(crate) async fn print(store: &Store, origin: &str, format: Format) -> anyhow::Result<()> {
    let (schema, counts) = inspect(store).await?;
    let routing = store.routing_table();
    let second = match routing.stores.iter().find(|s| !s.default) {
        Some(row) => match store.backend_store(row.backend) {
            Some(other) => Some((row.clone(), inspect(&other).await?)),
            None => None,
        },
        None => None,
    };
    match format {
        Format::Json => {
            let second_doc = second.as_ref().map(|(row, (schema, counts))| {
                serde_json::json!({
                    "backend": row.backend.as_str(),
                    "url": row.url,
                    "schema_version": schema.current_version,
                    "tables": counts.iter().map(|(t, n)| serde_json::json!({"table": t, "rows": n})).collect::<Vec<_>>(),
                })
            });
            let doc = serde_json::json!({
                "backend": store.backend().as_str(),
                "url": store.config().redacted_url(),
                "url_from": origin,
                "schema_version": schema.current_version,
                "latest_version": synthlab_db::schema::latest_version(),
                "pending_migrations": schema.pending,
                "tables": counts.iter().map(|(t, n)| serde_json::json!({"table": t, "rows": n})).collect::<Vec<_>>(),
                "routing": routing,
                "second_store": second_doc,
            });
            outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            outln!("backend:         {}", store.backend());
            outln!("url:             {} (from {origin})", store.config().redacted_url());
            outln!(
                "schema version:  {} (this build: {})",
                schema.current_version,
                synthlab_db::schema::latest_version()
            );
            if schema.pending.is_empty() {
                outln!("pending:         none");
            } else {
                let names: Vec<String> = schema
                    .pending
                    .iter()
                    .map(|m| format!("V{}__{}", m.version, m.name))
                    .collect();
                outln!("pending:         {}", names.join(", "));
            }
            if schema.current_version == 0 {
                outln!("\nno schema yet: run `synthlab-db migrate`");
                outln!("\nrouting (DATABASE_URL, SYNTHLAB_ROUTE_*):\n{routing}");
                return Ok(());
            }
            match &second {
                None => {
                    outln!("\n{:<24} {:>10}", "table", "rows");
                    for (table, rows) in &counts {
                        outln!("{table:<24} {rows:>10}");
                    }
                }
                Some((row, (other_schema, other_counts))) => {
                    outln!(
                        "{} store schema version: {} (this build: {})",
                        row.backend,
                        other_schema.current_version,
                        synthlab_db::schema::latest_version()
                    );
                    outln!(
                        "\n{:<24} {:>10} {:>10}",
                        "table",
                        store.backend().as_str(),
                        row.backend.as_str()
                    );
                    for (table, rows) in &counts {
                        let other = other_counts
                            .iter()
                            .find(|(t, _)| t == table)
                            .map_or_else(|| "-".to_owned(), |(_, n)| n.to_string());
                        outln!("{table:<24} {rows:>10} {other:>10}");
                    }
                }
            }
            outln!("\nrouting (DATABASE_URL, SYNTHLAB_ROUTE_*):\n{routing}");
        }
    }
    Ok(())
}
