//! `synthlab-db adopt`.

use std::process::ExitCode;

use clap::Args;
use synthlab_db::DatabaseConfig;
use synthlab_db::schema::AdoptOutcome;

use super::Format;

/// Take a legacy SQLite file (its tables, no migration history) under management at V1.
#[derive(Debug, Args)]
pub(crate) struct AdoptArgs {
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Adopts the configured SQLite file and prints the report.
pub(crate) async fn run(args: AdoptArgs, config: &DatabaseConfig) -> anyhow::Result<ExitCode> {
    let outcome = synthlab_db::schema::adopt(config).await?;
    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&outcome)?),
        Format::Text => match &outcome {
            AdoptOutcome::Adopted(report) => outln!("{report}"),
            AdoptOutcome::AlreadyManaged { current_version } => outln!(
                "{}: already under management (schema version {current_version}); nothing to do",
                config.redacted_url()
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}
