//! The clap command tree and its dispatch; one file per command group.

/// `println!` for the commands' output: when standard output is closed early
/// (`synthlab-db status | head -1`) the process ends quietly with 141 (128 + SIGPIPE, what a
/// shell reports for a tool the signal ended) instead of panicking; work in flight is rolled
/// back as after any kill.
macro_rules! outln {
    () => {
        $crate::cli::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}

mod adopt;
#[cfg(feature = "sqlite")]
mod copy;
mod doctor;
mod migrate;
mod schema;
mod status;
#[cfg(feature = "sqlite")]
mod sync;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use synthlab_db::{ConnectOptions, DatabaseConfig, Store};

/// Data layer of the SynthLab research application: one schema on SQLite and PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "synthlab-db", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Database URL: sqlite://file.db, sqlite:///abs/file.db, sqlite::memory:, postgres://…
    /// (default: env DATABASE_URL, then env SYNTHLAB_DB_PATH, then ./.env, then sqlite://synthlab.db).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,

    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the backend, the redacted URL, the schema version, pending migrations and row counts.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Apply pending migrations (default), roll back, list history and status, create new ones.
    Migrate(migrate::MigrateArgs),
    /// Take a legacy SQLite file (tables present, no migration history) under management at V1.
    Adopt(adopt::AdoptArgs),
    /// Compare the live schema with the one the migrations define.
    Schema(schema::SchemaArgs),
    /// Create the database if needed, load the demo data set through the repositories, print the status.
    Demo,
    #[cfg(feature = "sqlite")]
    /// Copy a legacy SQLite file into PostgreSQL: streamed, resumable, bad rows reported, never silently lossy.
    Copy(copy::CopyArgs),
    #[cfg(feature = "sqlite")]
    /// Compare a legacy SQLite file with its PostgreSQL copy: row counts and content checksums per table.
    Verify(copy::VerifyArgs),
    #[cfg(feature = "sqlite")]
    /// Live sync: capture the legacy file's changes and keep PostgreSQL up to date while the
    /// legacy application writes (`sync status`, `sync uninstall`).
    Sync(sync::SyncArgs),
    #[cfg(feature = "sqlite")]
    /// Write a deterministic legacy SQLite file (any layout v10–v15, optionally with bad rows).
    Generate(copy::GenerateArgs),
    /// Check the database: connectivity, server version, TLS, pool, schema, collation (SQLite:
    /// file, journal mode, foreign keys, busy timeout, integrity). Exit 1 when anything is wrong.
    Doctor {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Sets up logging to stderr; `RUST_LOG` controls it (default: warnings only). With
/// `RUST_LOG=synthlab_db=debug` every repository call prints one line when it ends
/// (its span: backend, repository, method, rows, duration).
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
    warn_of_unknown_variables();
}

/// A `SYNTHLAB_*` variable nothing reads is most likely a typo of one that is: say so (by
/// name only — a value may be a secret) rather than ignore it silently.
fn warn_of_unknown_variables() {
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && name.split_once('_').is_some_and(|(project, _)| project == "SYNTHLAB")
            && synthlab_db::environment::find(name).is_none()
        {
            tracing::warn!(
                variable = name,
                "unknown environment variable {name}: ignored (see README's variable table or .env.example)"
            );
        }
    }
}

/// Resolves the database configuration from the flag, the environment and `.env`.
fn resolve(cli: &Cli) -> anyhow::Result<(DatabaseConfig, &'static str)> {
    Ok(DatabaseConfig::resolve(cli.database_url.as_deref())?)
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Migrate(args) = &cli.command
        && let Some(code) = migrate::run_offline(args)?
    {
        return Ok(code);
    }
    let (config, origin) = resolve(&cli)?;
    match cli.command {
        Command::Status { format } => {
            let store = Store::connect_with(&config, ConnectOptions::read_only_inspection()).await?;
            status::print(&store, origin, format).await?;
        }
        Command::Migrate(args) => return migrate::run(args, &config).await,
        Command::Adopt(args) => return adopt::run(args, &config).await,
        Command::Schema(args) => return schema::run(args, &config).await,
        Command::Demo => {
            let store = Store::connect(&config).await?;
            let data = synthlab_db::fixtures::DataSet::demo()?;
            let report = synthlab_db::fixtures::load(&store, &data).await?;
            outln!(
                "demo data: {} rows created, {} already present\n",
                report.created,
                report.already_present
            );
            status::print(&store, origin, Format::Text).await?;
        }
        #[cfg(feature = "sqlite")]
        Command::Copy(args) => return copy::copy(args, &config).await,
        #[cfg(feature = "sqlite")]
        Command::Verify(args) => return copy::verify(args, &config).await,
        #[cfg(feature = "sqlite")]
        Command::Generate(args) => return copy::generate(args).await,
        #[cfg(feature = "sqlite")]
        Command::Sync(args) => return sync::run(args, &config).await,
        Command::Doctor { format } => return doctor::run(&config, origin, format).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes one line of output (see [`outln!`]); ends the process when standard output is gone.
pub(crate) fn write_line(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: cannot write the output: {err}");
        std::process::exit(1);
    }
}
