//! `synthlab-db status`.

use synthlab_db::Store;

use super::Format;

/// Prints backend, redacted URL, schema version, pending migrations and row counts.
pub(crate) async fn print(store: &Store, origin: &str, format: Format) -> anyhow::Result<()> {
    let schema = store.schema_status().await?;
    // Counting needs the tables: a database without schema has none to count.
    let counts = if schema.current_version > 0 {
        store.table_counts().await?
    } else {
        Vec::new()
    };
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "backend": store.backend().as_str(),
                "url": store.config().redacted_url(),
                "url_from": origin,
                "schema_version": schema.current_version,
                "latest_version": synthlab_db::schema::latest_version(),
                "pending_migrations": schema.pending,
                "tables": counts.iter().map(|(t, n)| serde_json::json!({"table": t, "rows": n})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            println!("backend:         {}", store.backend());
            println!("url:             {} (from {origin})", store.config().redacted_url());
            println!(
                "schema version:  {} (this build: {})",
                schema.current_version,
                synthlab_db::schema::latest_version()
            );
            if schema.pending.is_empty() {
                println!("pending:         none");
            } else {
                let names: Vec<String> = schema
                    .pending
                    .iter()
                    .map(|m| format!("V{}__{}", m.version, m.name))
                    .collect();
                println!("pending:         {}", names.join(", "));
            }
            if schema.current_version == 0 {
                println!("\nno schema yet: run `synthlab-db migrate`");
                return Ok(());
            }
            println!("\n{:<24} {:>10}", "table", "rows");
            for (table, rows) in &counts {
                println!("{table:<24} {rows:>10}");
            }
        }
    }
    Ok(())
}
