//! `synthlab-db schema check`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use synthlab_db::{ConnectOptions, DatabaseConfig, Store};

use super::Format;

/// Inspect the live schema.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// What to do.
    #[command(subcommand)]
    action: SchemaAction,
}

#[derive(Debug, Subcommand)]
enum SchemaAction {
    /// Compare the live schema (tables, columns, types, nullability, defaults, keys with their
    /// ON DELETE actions, CHECKs, indexes) with the one the migrations define at the live
    /// version; exit 0 when equal, 1 with the differences when not.
    Check {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs a schema command.
pub(crate) async fn run(args: SchemaArgs, config: &DatabaseConfig) -> anyhow::Result<ExitCode> {
    match args.action {
        SchemaAction::Check { format } => {
            let store = Store::connect_with(config, ConnectOptions::read_only_inspection()).await?;
            let (version, diff) = store.migrator().check().await?;
            match format {
                Format::Json => {
                    let doc = serde_json::json!({
                        "url": config.redacted_url(),
                        "version": version,
                        "equal": diff.is_empty(),
                        "differences": diff.differences,
                    });
                    outln!("{}", serde_json::to_string_pretty(&doc)?);
                }
                Format::Text if diff.is_empty() => {
                    outln!(
                        "{}: the schema matches the migrations at version {version}",
                        config.redacted_url()
                    );
                }
                Format::Text => {
                    outln!(
                        "{}: the schema differs from the migrations at version {version}:",
                        config.redacted_url()
                    );
                    for line in &diff.differences {
                        outln!("  - {line}");
                    }
                }
            }
            Ok(if diff.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
