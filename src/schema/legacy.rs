//! Legacy SQLite files as the legacy application left them: the layouts of its schema
//! versions v10–v15 (`legacy/*.sql`, embedded here) and a builder that creates such files with
//! data, for tests, demos and benchmarks.
//!
//! A layout is the version a file was **created** at plus the version it was **upgraded in
//! place** to: the legacy application upgraded with `ALTER TABLE … ADD COLUMN` (the new column
//! sits LAST, without the CHECK a new file gets) and `CREATE TABLE IF NOT EXISTS`. A file
//! created before v10 (`v09.sql`, the base of those upgrades) and upgraded to v15 therefore has
//! `experiments.status` last without CHECK and maybe without `idx_experiments_status`,
//! `analysis_runs.scenario_id` last, and `scenario_nodes.short_action` last.
//!
//! ```no_run
//! use synthlab_db::legacy::{LegacyLayout, LegacyVersion, build_legacy_file, sample_rows};
//! let layout = LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V15);
//! let rows = sample_rows(&layout)?;
//! build_legacy_file(std::path::Path::new("legacy.db"), &layout, &rows)?;
//! # Ok::<(), synthlab_db::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub use super::legacy_value::LegacyValue;
use crate::backend::sqlite::legacy_writer::{LegacyWriter, layout_columns};
use crate::{Error, ErrorKind, Result};

/// A schema version of the legacy application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LegacyVersion {
    /// Before v10 (no `experiments.status`): only a starting point of in-place upgrades.
    V9,
    /// `experiments.status` added.
    V10,
    /// `analysis_runs.scenario_id` added.
    V11,
    /// No table change.
    V12,
    /// `explorations` and `scenario_nodes` added.
    V13,
    /// `scenario_nodes.short_action` added.
    V14,
    /// `experiment_documents` added (the layout of `legacy_v15.sql`).
    V15,
}

impl LegacyVersion {
    /// Every version, oldest first.
    pub const ALL: [LegacyVersion; 7] = [
        LegacyVersion::V9,
        LegacyVersion::V10,
        LegacyVersion::V11,
        LegacyVersion::V12,
        LegacyVersion::V13,
        LegacyVersion::V14,
        LegacyVersion::V15,
    ];

    /// The version number.
    pub fn number(self) -> u32 {
        match self {
            LegacyVersion::V9 => 9,
            LegacyVersion::V10 => 10,
            LegacyVersion::V11 => 11,
            LegacyVersion::V12 => 12,
            LegacyVersion::V13 => 13,
            LegacyVersion::V14 => 14,
            LegacyVersion::V15 => 15,
        }
    }

    /// The tables of a file created new at this version (`legacy/vNN.sql`).
    pub fn create_sql(self) -> &'static str {
        match self {
            LegacyVersion::V9 => include_str!("../../legacy/v09.sql"),
            LegacyVersion::V10 => include_str!("../../legacy/v10.sql"),
            LegacyVersion::V11 => include_str!("../../legacy/v11.sql"),
            LegacyVersion::V12 => include_str!("../../legacy/v12.sql"),
            LegacyVersion::V13 => include_str!("../../legacy/v13.sql"),
            LegacyVersion::V14 => include_str!("../../legacy/v14.sql"),
            LegacyVersion::V15 => include_str!("../../legacy/v15.sql"),
        }
    }

    /// The in-place upgrade from the previous version to this one (`legacy/upgrade/`).
    pub fn upgrade_sql(self) -> Option<&'static str> {
        match self {
            LegacyVersion::V9 => None,
            LegacyVersion::V10 => Some(include_str!("../../legacy/upgrade/v09_to_v10.sql")),
            LegacyVersion::V11 => Some(include_str!("../../legacy/upgrade/v10_to_v11.sql")),
            LegacyVersion::V12 => Some(include_str!("../../legacy/upgrade/v11_to_v12.sql")),
            LegacyVersion::V13 => Some(include_str!("../../legacy/upgrade/v12_to_v13.sql")),
            LegacyVersion::V14 => Some(include_str!("../../legacy/upgrade/v13_to_v14.sql")),
            LegacyVersion::V15 => Some(include_str!("../../legacy/upgrade/v14_to_v15.sql")),
        }
    }
}

impl fmt::Display for LegacyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.number())
    }
}

/// The layout of a legacy file: created at one version, upgraded in place to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegacyLayout {
    /// The version the file was created at.
    pub created: LegacyVersion,
    /// The version it was upgraded to (equal to `created` for a file never upgraded).
    pub current: LegacyVersion,
    /// Whether the in-place upgrade to v10 also created `idx_experiments_status` (the legacy
    /// application did not always); ignored unless the file was upgraded across v10.
    pub status_index: bool,
}

impl LegacyLayout {
    /// A file created at `version` and never upgraded.
    pub fn fresh(version: LegacyVersion) -> LegacyLayout {
        LegacyLayout {
            created: version,
            current: version,
            status_index: true,
        }
    }

    /// A file created at `created` and upgraded in place to `current` (without
    /// `idx_experiments_status` when the upgrade crosses v10; see [`Self::with_status_index`]).
    pub fn upgraded(created: LegacyVersion, current: LegacyVersion) -> LegacyLayout {
        LegacyLayout {
            created,
            current,
            status_index: false,
        }
    }

    /// The same layout, with or without `idx_experiments_status` created by the v10 upgrade.
    pub fn with_status_index(self, status_index: bool) -> LegacyLayout {
        LegacyLayout { status_index, ..self }
    }

    /// The layouts the test suite adopts: every version created new (v10–v15), and files
    /// created before v10 upgraded in place to each of them, plus a few mixed histories.
    pub fn catalogue() -> Vec<LegacyLayout> {
        use LegacyVersion::*;
        let mut layouts: Vec<LegacyLayout> = [V10, V11, V12, V13, V14, V15].into_iter().map(Self::fresh).collect();
        layouts.extend(
            [V10, V11, V12, V13, V14, V15]
                .into_iter()
                .map(|v| Self::upgraded(V9, v)),
        );
        layouts.push(Self::upgraded(V9, V15).with_status_index(true));
        layouts.push(Self::upgraded(V10, V15));
        layouts.push(Self::upgraded(V12, V15));
        layouts.push(Self::upgraded(V13, V14));
        layouts
    }

    /// The SQL that creates an empty file of this layout.
    ///
    /// # Errors
    /// InvalidInput when `created` is newer than `current`.
    pub fn sql(&self) -> Result<String> {
        if self.created > self.current {
            return Err(Error::invalid_input(format!(
                "a file cannot be created at {} and upgraded to the older {}",
                self.created, self.current
            )));
        }
        let mut sql = self.created.create_sql().to_owned();
        for version in LegacyVersion::ALL
            .into_iter()
            .filter(|v| *v > self.created && *v <= self.current)
        {
            sql.push('\n');
            sql.push_str(version.upgrade_sql().unwrap_or_default());
            if version == LegacyVersion::V10 && self.status_index {
                sql.push_str("CREATE INDEX idx_experiments_status ON experiments (status);\n");
            }
        }
        Ok(sql)
    }

    /// The tables of this layout with their columns in physical order.
    ///
    /// # Errors
    /// InvalidInput when `created` is newer than `current`.
    pub fn columns(&self) -> Result<BTreeMap<String, Vec<String>>> {
        layout_columns(&self.sql()?)
    }
}

impl fmt::Display for LegacyLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created == self.current {
            write!(f, "{} (created new)", self.current)
        } else {
            write!(
                f,
                "{} (created at {}, upgraded in place{})",
                self.current,
                self.created,
                if self.created < LegacyVersion::V10 && self.current >= LegacyVersion::V10 && !self.status_index {
                    ", without idx_experiments_status"
                } else {
                    ""
                }
            )
        }
    }
}

/// One row to insert, its columns named.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyRow {
    /// Table.
    pub table: String,
    /// Column values by name (columns left out get the layout's default).
    pub values: Vec<(String, LegacyValue)>,
}

impl LegacyRow {
    /// An empty row of `table`.
    pub fn new(table: &str) -> LegacyRow {
        LegacyRow {
            table: table.to_owned(),
            values: Vec::new(),
        }
    }

    /// Sets `column` (builder style).
    pub fn set(mut self, column: &str, value: impl Into<LegacyValue>) -> LegacyRow {
        self.values.push((column.to_owned(), value.into()));
        self
    }

    /// The value of `column`, if set.
    pub fn get(&self, column: &str) -> Option<&LegacyValue> {
        self.values.iter().find(|(c, _)| c == column).map(|(_, v)| v)
    }
}

/// Creates a legacy file of `layout` at `path` (WAL mode, like the legacy application) and
/// inserts `rows` in order, with foreign keys off (real files hold orphans).
///
/// # Errors
/// Conflict when `path` exists; InvalidInput when a row names a table or column the layout
/// lacks; Check (or another kind) when SQLite refuses a row.
pub fn build_legacy_file(path: &Path, layout: &LegacyLayout, rows: &[LegacyRow]) -> Result<()> {
    if path.exists() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!("{} already exists; the builder only creates new files", path.display()),
        ));
    }
    let columns = layout.columns()?;
    for row in rows {
        let Some(table_columns) = columns.get(&row.table) else {
            return Err(Error::invalid_input(format!(
                "layout {layout} has no table {}",
                row.table
            )));
        };
        if let Some((column, _)) = row.values.iter().find(|(c, _)| !table_columns.contains(c)) {
            return Err(Error::invalid_input(format!(
                "layout {layout} has no column {}.{column}",
                row.table
            )));
        }
    }
    let mut writer = LegacyWriter::create(path, &[layout.sql()?])?;
    for row in rows {
        writer.insert(&row.table, &row.values)?;
    }
    writer.finish()
}

/// A small data set for `layout`: rows in every table the layout has, values only for its
/// columns, timestamps in the legacy shapes found in real files (`2025-12-01 10:00:00`,
/// `…T…Z`, `…+02:00`, the canonical shape), JSON as text, the default synth group, and
/// columns added in place set to non-default values.
///
/// # Errors
/// InvalidInput when `created` is newer than `current`.
pub fn sample_rows(layout: &LegacyLayout) -> Result<Vec<LegacyRow>> {
    let columns = layout.columns()?;
    let has = |table: &str, column: &str| columns.get(table).is_some_and(|c| c.iter().any(|n| n == column));
    let mut rows = Vec::new();
    let mut push = |row: LegacyRow| {
        let row = LegacyRow {
            values: row.values.into_iter().filter(|(c, _)| has(&row.table, c)).collect(),
            table: row.table,
        };
        if columns.contains_key(&row.table) {
            rows.push(row);
        }
    };
    push(
        LegacyRow::new("experiments")
            .set("id", "exp_0000000a")
            .set("name", "Checkout in one click")
            .set("hypothesis", "One click converts more")
            .set("description", "Long description")
            .set(
                "scorecard_data",
                r#"{"feature_name":"one click","complexity":{"score":0.4}}"#,
            )
            .set("status", "active")
            .set("created_at", "2025-12-01 10:00:00")
            .set("updated_at", "2025-12-01T10:05:00Z"),
    );
    push(
        LegacyRow::new("experiments")
            .set("id", "exp_0000000b")
            .set("name", "Dark mode")
            .set("hypothesis", "Dark mode keeps users longer")
            .set("description", None::<&str>)
            .set("status", "deleted")
            .set("created_at", "2025-12-02T12:30:00.5+02:00"),
    );
    push(
        LegacyRow::new("experiments")
            .set("id", "exp_0000000c")
            .set("name", "Canonical")
            .set("hypothesis", "Already canonical")
            .set("created_at", "2025-12-03T08:00:00.123456+00:00"),
    );
    push(
        LegacyRow::new("synth_groups")
            .set("id", "grp_00000001")
            .set("name", "Default")
            .set("description", "Default group for synths without an explicit group")
            .set("created_at", "2025-01-01 00:00:00"),
    );
    push(
        LegacyRow::new("synth_groups")
            .set("id", "grp_0000000b")
            .set("name", "Shoppers")
            .set("created_at", "2025-11-30T09:00:00"),
    );
    for (id, group, name, created) in [
        ("syn_0000000a", Some("grp_0000000b"), "Ana", "2025-12-01T10:00:00Z"),
        ("syn_0000000b", None, "Bruno", "2025-12-01 10:00:01.250"),
    ] {
        push(
            LegacyRow::new("synths")
                .set("id", id)
                .set("synth_group_id", group)
                .set("nome", name)
                .set("descricao", "persona")
                .set("created_at", created)
                .set("version", "2.0.0")
                .set("data", r#"{"demografia":{"idade":34},"interesses":["x","y"]}"#),
        );
    }
    push(
        LegacyRow::new("interview_guide")
            .set("experiment_id", "exp_0000000a")
            .set("context_definition", "context")
            .set("questions", "1. Why?")
            .set("created_at", "2025-12-01 10:10:00"),
    );
    push(
        LegacyRow::new("analysis_runs")
            .set("id", "ana_0000000a")
            .set("experiment_id", "exp_0000000a")
            .set("scenario_id", "scn_peak")
            .set("config", r#"{"n_synths":2,"seed":7}"#)
            .set("status", "completed")
            .set("started_at", "2025-12-01 11:00:00")
            .set("completed_at", "2025-12-01 11:00:30.5")
            .set("total_synths", 2i64)
            .set("aggregated_outcomes", r#"{"success_rate":0.5}"#)
            .set("execution_time_seconds", 30.5),
    );
    for (id, synth, success) in [
        ("out_0000000a", "syn_0000000a", 0.25),
        ("out_0000000b", "syn_0000000b", 0.75),
    ] {
        push(
            LegacyRow::new("synth_outcomes")
                .set("id", id)
                .set("analysis_id", "ana_0000000a")
                .set("synth_id", synth)
                .set("did_not_try_rate", 0.5)
                .set("failed_rate", 0.5 - success / 2.0)
                .set("success_rate", success)
                .set("synth_attributes", r#"{"idade":34}"#),
        );
    }
    push(
        LegacyRow::new("analysis_cache")
            .set("analysis_id", "ana_0000000a")
            .set("cache_key", "histogram")
            .set("data", r#"{"bins":[1,2,3]}"#)
            .set("computed_at", "2025-12-01 11:01:00"),
    );
    push(
        LegacyRow::new("research_executions")
            .set("exec_id", "exec_0000000a")
            .set("experiment_id", "exp_0000000a")
            .set("topic_name", "checkout")
            .set("status", "completed")
            .set("synth_count", 1i64)
            .set("successful_count", 1i64)
            .set("started_at", "2025-12-01 12:00:00")
            .set("completed_at", "2025-12-01T12:10:00+00:00"),
    );
    push(
        LegacyRow::new("transcripts")
            .set("id", "tr_0000000a")
            .set("exec_id", "exec_0000000a")
            .set("synth_id", "syn_0000000a")
            .set("synth_name", "Ana")
            .set("status", "completed")
            .set("turn_count", 2i64)
            .set("timestamp", "2025-12-01 12:05:00")
            .set(
                "messages",
                r#"[{"role":"user","content":"hi"},{"role":"assistant","content":"olá"}]"#,
            ),
    );
    push(
        LegacyRow::new("explorations")
            .set("id", "expl_0000000a")
            .set("experiment_id", "exp_0000000a")
            .set("baseline_analysis_id", "ana_0000000a")
            .set("goal", r#"{"metric":"success_rate","operator":">=","value":0.6}"#)
            .set("config", r#"{"max_depth":3}"#)
            .set("status", "goal_achieved")
            .set("current_depth", 1i64)
            .set("total_nodes", 2i64)
            .set("total_llm_calls", 3i64)
            .set("best_success_rate", 0.62)
            .set("started_at", "2025-12-01 13:00:00")
            .set("completed_at", "2025-12-01 13:30:00"),
    );
    push(
        LegacyRow::new("scenario_nodes")
            .set("id", "node_0000000a")
            .set("exploration_id", "expl_0000000a")
            .set("depth", 0i64)
            .set("scorecard_params", r#"{"complexity":0.4}"#)
            .set("node_status", "active")
            .set("created_at", "2025-12-01 13:00:01"),
    );
    push(
        LegacyRow::new("scenario_nodes")
            .set("id", "node_0000000b")
            .set("exploration_id", "expl_0000000a")
            .set("parent_id", "node_0000000a")
            .set("depth", 1i64)
            .set("action_applied", "simplify the form")
            .set("action_category", "ux")
            .set("rationale", "fewer fields")
            .set("short_action", "simplify")
            .set("scorecard_params", r#"{"complexity":0.3}"#)
            .set("simulation_results", r#"{"success_rate":0.62}"#)
            .set("execution_time_seconds", 1.5)
            .set("node_status", "winner")
            .set("created_at", "2025-12-01T13:10:00Z"),
    );
    push(
        LegacyRow::new("experiment_documents")
            .set("id", "doc_0000000a")
            .set("experiment_id", "exp_0000000a")
            .set("document_type", "summary")
            .set("markdown_content", "# Summary")
            .set("metadata", r#"{"tokens":120}"#)
            .set("generated_at", "2025-12-01 14:00:00")
            .set("status", "completed"),
    );
    push(
        LegacyRow::new("feature_scorecards")
            .set("id", "sc_0000000a")
            .set("experiment_id", "exp_0000000b")
            .set("data", r#"{"feature_name":"dark mode"}"#)
            .set("created_at", "2025-10-01 09:00:00"),
    );
    push(
        LegacyRow::new("simulation_runs")
            .set("id", "sim_0000000a")
            .set("scorecard_id", "sc_0000000a")
            .set("scenario_id", "baseline")
            .set("config", r#"{"n":10}"#)
            .set("status", "completed")
            .set("started_at", "2025-10-01 09:10:00")
            .set("completed_at", "2025-10-01 09:11:00")
            .set("total_synths", 10i64),
    );
    push(
        LegacyRow::new("region_analyses")
            .set("id", "reg_0000000a")
            .set("simulation_id", "sim_0000000a")
            .set("rules", r#"[{"attr":"idade","op":">","value":30}]"#)
            .set("rule_text", "idade > 30")
            .set("synth_count", 4i64)
            .set("synth_percentage", 40.0)
            .set("did_not_try_rate", 0.1)
            .set("failed_rate", 0.2)
            .set("success_rate", 0.7)
            .set("failure_delta", -0.05),
    );
    push(
        LegacyRow::new("sensitivity_results")
            .set("id", "sens_0000000a")
            .set("simulation_id", "sim_0000000a")
            .set("analyzed_at", "2025-10-01 09:12:00")
            .set("deltas_used", "[0.05,0.1]")
            .set("baseline_success", 0.5)
            .set("most_sensitive_dimension", "complexity")
            .set("dimensions", r#"[{"name":"complexity","delta":0.1}]"#)
            .set("created_at", "2025-10-01 09:12:01"),
    );
    push(
        LegacyRow::new("chart_insights")
            .set("id", "ins_0000000a")
            .set("simulation_id", "ana_0000000a")
            .set("insight_type", "histogram")
            .set("response_json", r#"{"insight":"most succeed"}"#)
            .set("created_at", "2025-12-01 15:00:00")
            .set("updated_at", "2025-12-01 15:00:00"),
    );
    Ok(rows)
}
