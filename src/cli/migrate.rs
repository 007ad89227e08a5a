//! `synthlab-db migrate [up|down|history|status|new]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use synthlab_db::schema::{AppliedState, DownTarget, MigrationHistory};
use synthlab_db::{ConnectOptions, DatabaseConfig, Store};

use super::Format;

/// Apply, roll back, list and create migrations.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct MigrateArgs {
    /// What to do (default: `up`).
    #[command(subcommand)]
    action: Option<MigrateAction>,

    /// Options of `up` when no action is named.
    #[command(flatten)]
    up: UpArgs,
}

/// Options of `migrate up`.
#[derive(Debug, Args)]
struct UpArgs {
    /// Stop after this version (default: the newest this build knows).
    #[arg(long, value_name = "N")]
    to: Option<i64>,
}

/// Options of `migrate down`: exactly one of `--to` and `--steps`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how_far").required(true).args(["to", "steps"])))]
struct DownArgs {
    /// Roll back every migration above this version (0: all of them).
    #[arg(long, value_name = "N")]
    to: Option<i64>,

    /// Roll back this many of the newest applied migrations.
    #[arg(long, value_name = "K")]
    steps: Option<usize>,

    /// Roll back even when tables or columns holding data would be dropped or emptied (SQLite:
    /// a backup of the file is written first and its path printed). Without it such a down is
    /// refused, naming the tables and their row counts.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply pending migrations, each with its history row, in one transaction under a lock
    /// (a concurrent migrator waits, then finds nothing to do).
    Up(UpArgs),
    /// Roll back applied migrations through their down scripts (history rows go with them).
    Down(DownArgs),
    /// Applied migrations (version, name, applied at, checksum, state) and pending ones;
    /// exit 1 when the history does not match this build.
    History {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Current version, pending migrations and problems; exit 1 when the history does not
    /// match this build (a modified or unknown applied migration).
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Create the next-numbered up and down scripts of both dialects (no database needed).
    New {
        /// Name of the migration: lowercase letters, digits and underscores (e.g. add_tags).
        name: String,

        /// The folder holding `sqlite/` and `postgres/`.
        #[arg(long, value_name = "DIR", default_value = "migrations")]
        dir: PathBuf,
    },
}

/// Commands that need no database: handled before the configuration is resolved.
pub(crate) fn run_offline(args: &MigrateArgs) -> anyhow::Result<Option<ExitCode>> {
    let Some(MigrateAction::New { name, dir }) = &args.action else {
        return Ok(None);
    };
    let created = synthlab_db::schema::new_migration(dir, name)?;
    outln!("created V{}__{}:", created.version, created.name);
    for file in &created.files {
        outln!("  {}", file.display());
    }
    outln!("keep the two dialects equivalent; rebuild to embed them (cargo build)");
    Ok(Some(ExitCode::SUCCESS))
}

async fn connect(config: &DatabaseConfig) -> anyhow::Result<Store> {
    let options = ConnectOptions {
        migrate: false,
        ..ConnectOptions::default()
    };
    Ok(Store::connect_with(config, options).await?)
}

/// Runs a migrate command.
pub(crate) async fn run(args: MigrateArgs, config: &DatabaseConfig) -> anyhow::Result<ExitCode> {
    match args.action {
        None => up(config, args.up).await,
        Some(MigrateAction::Up(up_args)) => up(config, up_args).await,
        Some(MigrateAction::Down(down_args)) => {
            let target = match (down_args.to, down_args.steps) {
                (Some(to), _) => DownTarget::To(to),
                (None, Some(steps)) => DownTarget::Steps(steps),
                (None, None) => anyhow::bail!(synthlab_db::Error::invalid_input("give --to N or --steps K")),
            };
            let store = connect(config).await?;
            let report = store.migrator().down_with(target, down_args.force).await?;
            if let Some(backup) = &report.backup {
                outln!("backup written: {}", backup.display());
            }
            if report.reverted.is_empty() {
                outln!("{}: nothing to roll back", config.redacted_url());
            }
            for migration in &report.reverted {
                outln!("rolled back {}", migration.label());
            }
            for loss in &report.destroyed {
                outln!("destroyed (--force): {loss}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(MigrateAction::History { format }) => {
            let store = Store::connect_with(config, ConnectOptions::read_only_inspection()).await?;
            let history = store.migrator().history().await?;
            print_history(&history, format)?;
            Ok(exit_for(&history))
        }
        Some(MigrateAction::Status { format }) => {
            let store = Store::connect_with(config, ConnectOptions::read_only_inspection()).await?;
            let history = store.migrator().history().await?;
            print_status(&store, &history, format)?;
            Ok(exit_for(&history))
        }
        Some(MigrateAction::New { .. }) => Ok(ExitCode::SUCCESS),
    }
}

async fn up(config: &DatabaseConfig, args: UpArgs) -> anyhow::Result<ExitCode> {
    let store = connect(config).await?;
    let applied = store.migrator().up(args.to).await?;
    if applied.is_empty() {
        outln!("{}: schema is up to date", config.redacted_url());
    }
    for migration in applied {
        outln!("applied {}", migration.label());
    }
    Ok(ExitCode::SUCCESS)
}

fn exit_for(history: &MigrationHistory) -> ExitCode {
    if history.problems().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn state_text(state: &AppliedState) -> String {
    match state {
        AppliedState::Ok => "ok".to_owned(),
        AppliedState::Divergent { expected_checksum, .. } => {
            format!("MODIFIED (this build: {expected_checksum})")
        }
        AppliedState::Unknown => "UNKNOWN to this build".to_owned(),
    }
}

fn print_history(history: &MigrationHistory, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        let doc = serde_json::json!({
            "history": history,
            "problems": history.problems(),
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    outln!(
        "{:<8} {:<28} {:<32} {:<21} state",
        "version",
        "name",
        "applied at",
        "checksum"
    );
    for applied in &history.applied {
        let row = &applied.row;
        outln!(
            "{:<8} {:<28} {:<32} {:<21} {}",
            row.version,
            row.name,
            row.applied_on,
            row.checksum,
            state_text(&applied.state)
        );
    }
    for pending in &history.pending {
        outln!(
            "{:<8} {:<28} {:<32} {:<21} pending",
            pending.version,
            pending.name,
            "-",
            "-"
        );
    }
    for problem in history.problems() {
        outln!("problem: {problem}");
    }
    Ok(())
}

fn print_status(store: &Store, history: &MigrationHistory, format: Format) -> anyhow::Result<()> {
    let problems = history.problems();
    if format == Format::Json {
        let doc = serde_json::json!({
            "backend": store.backend().as_str(),
            "url": store.config().redacted_url(),
            "current_version": history.current_version,
            "latest_version": history.latest_version,
            "applied": history.applied.iter().map(|a| format!("V{}__{}", a.row.version, a.row.name)).collect::<Vec<_>>(),
            "pending": history.pending,
            "problems": problems,
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    outln!("backend:          {}", store.backend());
    outln!("url:              {}", store.config().redacted_url());
    outln!(
        "current version:  {} (this build: {})",
        history.current_version,
        history.latest_version
    );
    outln!(
        "applied:          {}",
        list(
            history
                .applied
                .iter()
                .map(|a| format!("V{}__{}", a.row.version, a.row.name))
                .collect()
        )
    );
    outln!(
        "pending:          {}",
        list(history.pending.iter().map(|m| m.label()).collect())
    );
    outln!("problems:         {}", if problems.is_empty() { "none" } else { "" });
    for problem in problems {
        outln!("  - {problem}");
    }
    Ok(())
}
