//! What the copy knows about the target schema (migrations/postgres/V1): per table its key,
//! columns (type, NOT NULL, CHECK, the default a column missing from an older legacy layout
//! takes) and foreign keys. A test compares these specs with the migrated PostgreSQL catalog so
//! they cannot drift from the migrations.

/// The PostgreSQL type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    /// `text COLLATE "C"`.
    Text,
    /// `bigint`.
    Int,
    /// `double precision`.
    Float,
    /// `timestamptz`.
    Timestamp,
    /// `jsonb`.
    Json,
}

impl ColType {
    /// The name PostgreSQL's catalog uses (`format_type`).
    pub(crate) fn pg_name(self) -> &'static str {
        match self {
            ColType::Text => "text",
            ColType::Int => "bigint",
            ColType::Float => "double precision",
            ColType::Timestamp => "timestamp with time zone",
            ColType::Json => "jsonb",
        }
    }
}

/// A CHECK constraint of the migrated schema, evaluated in Rust before a row is sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Check {
    /// No CHECK.
    None,
    /// `col IN (…)`.
    OneOf(&'static [&'static str]),
    /// `char_length(col) <= n`.
    MaxChars(usize),
    /// `col ~ '^<prefix>[a-f0-9]{n}$'`.
    HexId(&'static str, usize),
    /// `col >= 0` (PostgreSQL orders NaN above every number, so NaN passes).
    NonNegative,
    /// `col BETWEEN 0 AND 1`.
    UnitInterval,
}

/// The value a column missing from an older legacy layout takes (the V1 default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The column has no default and is nullable: NULL.
    Null,
    /// A text literal default.
    Text(&'static str),
    /// NOT NULL without a usable default: a layout without it cannot be copied.
    Required,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnSpec {
    pub(crate) name: &'static str,
    pub(crate) ty: ColType,
    pub(crate) not_null: bool,
    pub(crate) check: Check,
    pub(crate) missing: Missing,
}

/// A foreign key `column → parent(parent_column)` (all are single-column).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForeignKey {
    pub(crate) column: &'static str,
    pub(crate) parent: &'static str,
    pub(crate) parent_column: &'static str,
}

/// One table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableSpec {
    pub(crate) name: &'static str,
    /// Primary key columns.
    pub(crate) key: &'static [&'static str],
    pub(crate) columns: &'static [ColumnSpec],
    pub(crate) foreign_keys: &'static [ForeignKey],
}

impl TableSpec {
    /// Position of a column.
    pub(crate) fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }

    /// Positions of the key columns.
    pub(crate) fn key_indexes(&self) -> Vec<usize> {
        self.key.iter().filter_map(|k| self.index_of(k)).collect()
    }

    /// The foreign key pointing into the same table (scenario_nodes.parent_id), if any.
    pub(crate) fn self_reference(&self) -> Option<&ForeignKey> {
        self.foreign_keys.iter().find(|fk| fk.parent == self.name)
    }
}

/// Looks a table up by name.
pub(crate) fn table(name: &str) -> Option<&'static TableSpec> {
    SPECS.iter().find(|t| t.name == name)
}

const fn col(name: &'static str, ty: ColType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        not_null: false,
        check: Check::None,
        missing: Missing::Null,
    }
}

const fn req(name: &'static str, ty: ColType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        not_null: true,
        check: Check::None,
        missing: Missing::Required,
    }
}

const fn checked(mut c: ColumnSpec, check: Check) -> ColumnSpec {
    c.check = check;
    c
}

const fn defaulted(mut c: ColumnSpec, value: &'static str) -> ColumnSpec {
    c.missing = Missing::Text(value);
    c
}

const fn fk(column: &'static str, parent: &'static str, parent_column: &'static str) -> ForeignKey {
    ForeignKey {
        column,
        parent,
        parent_column,
    }
}

use ColType::{Float, Int, Json, Text, Timestamp as Ts};

const RUN_STATUS: &[&str] = &["pending", "running", "completed", "failed"];
const EXEC_STATUS: &[&str] = &["pending", "running", "generating_summary", "completed", "failed"];
const EXPLORATION_STATUS: &[&str] = &[
    "running",
    "goal_achieved",
    "depth_limit_reached",
    "cost_limit_reached",
    "no_viable_paths",
];
const NODE_STATUS: &[&str] = &["active", "dominated", "winner", "expansion_failed"];
const DOCUMENT_TYPE: &[&str] = &["summary", "prfaq", "executive_summary"];
const DOCUMENT_STATUS: &[&str] = &["pending", "generating", "completed", "failed", "partial"];

/// The 17 tables in foreign-key order (the order of [`crate::schema::TABLES`]).
pub(crate) const SPECS: [TableSpec; 17] = [
    TableSpec {
        name: "experiments",
        key: &["id"],
        columns: &[
            req("id", Text),
            checked(req("name", Text), Check::MaxChars(100)),
            checked(req("hypothesis", Text), Check::MaxChars(500)),
            checked(col("description", Text), Check::MaxChars(2000)),
            col("scorecard_data", Json),
            defaulted(
                checked(req("status", Text), Check::OneOf(&["active", "deleted"])),
                "active",
            ),
            req("created_at", Ts),
            col("updated_at", Ts),
        ],
        foreign_keys: &[],
    },
    TableSpec {
        name: "synth_groups",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("name", Text),
            col("description", Text),
            req("created_at", Ts),
        ],
        foreign_keys: &[],
    },
    TableSpec {
        name: "feature_scorecards",
        key: &["id"],
        columns: &[
            req("id", Text),
            col("experiment_id", Text),
            req("data", Json),
            req("created_at", Ts),
            col("updated_at", Ts),
        ],
        foreign_keys: &[fk("experiment_id", "experiments", "id")],
    },
    TableSpec {
        name: "interview_guide",
        key: &["experiment_id"],
        columns: &[
            req("experiment_id", Text),
            col("context_definition", Text),
            col("questions", Text),
            col("context_examples", Text),
            req("created_at", Ts),
            col("updated_at", Ts),
        ],
        foreign_keys: &[fk("experiment_id", "experiments", "id")],
    },
    TableSpec {
        name: "analysis_runs",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("experiment_id", Text),
            defaulted(req("scenario_id", Text), "baseline"),
            req("config", Json),
            checked(req("status", Text), Check::OneOf(RUN_STATUS)),
            req("started_at", Ts),
            col("completed_at", Ts),
            col("total_synths", Int),
            col("aggregated_outcomes", Json),
            col("execution_time_seconds", Float),
        ],
        foreign_keys: &[fk("experiment_id", "experiments", "id")],
    },
    TableSpec {
        name: "research_executions",
        key: &["exec_id"],
        columns: &[
            req("exec_id", Text),
            col("experiment_id", Text),
            req("topic_name", Text),
            checked(req("status", Text), Check::OneOf(EXEC_STATUS)),
            req("synth_count", Int),
            col("successful_count", Int),
            col("failed_count", Int),
            col("model", Text),
            col("max_turns", Int),
            req("started_at", Ts),
            col("completed_at", Ts),
            col("additional_context", Text),
        ],
        foreign_keys: &[fk("experiment_id", "experiments", "id")],
    },
    TableSpec {
        name: "experiment_documents",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("experiment_id", Text),
            checked(req("document_type", Text), Check::OneOf(DOCUMENT_TYPE)),
            req("markdown_content", Text),
            col("metadata", Json),
            req("generated_at", Ts),
            col("model", Text),
            checked(req("status", Text), Check::OneOf(DOCUMENT_STATUS)),
            col("error_message", Text),
        ],
        foreign_keys: &[fk("experiment_id", "experiments", "id")],
    },
    TableSpec {
        name: "synths",
        key: &["id"],
        columns: &[
            req("id", Text),
            col("synth_group_id", Text),
            req("nome", Text),
            col("descricao", Text),
            col("link_photo", Text),
            col("avatar_path", Text),
            req("created_at", Ts),
            col("version", Text),
            col("data", Json),
        ],
        foreign_keys: &[fk("synth_group_id", "synth_groups", "id")],
    },
    TableSpec {
        name: "synth_outcomes",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("analysis_id", Text),
            req("synth_id", Text),
            req("did_not_try_rate", Float),
            req("failed_rate", Float),
            req("success_rate", Float),
            col("synth_attributes", Json),
        ],
        foreign_keys: &[fk("analysis_id", "analysis_runs", "id")],
    },
    TableSpec {
        name: "analysis_cache",
        key: &["analysis_id", "cache_key"],
        columns: &[
            req("analysis_id", Text),
            req("cache_key", Text),
            req("data", Json),
            col("params", Json),
            req("computed_at", Ts),
        ],
        foreign_keys: &[fk("analysis_id", "analysis_runs", "id")],
    },
    TableSpec {
        name: "transcripts",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("exec_id", Text),
            req("synth_id", Text),
            req("synth_name", Text),
            req("status", Text),
            col("turn_count", Int),
            req("timestamp", Ts),
            col("messages", Json),
        ],
        foreign_keys: &[fk("exec_id", "research_executions", "exec_id")],
    },
    TableSpec {
        name: "explorations",
        key: &["id"],
        columns: &[
            checked(req("id", Text), Check::HexId("expl_", 8)),
            req("experiment_id", Text),
            req("baseline_analysis_id", Text),
            req("goal", Json),
            req("config", Json),
            checked(req("status", Text), Check::OneOf(EXPLORATION_STATUS)),
            checked(req("current_depth", Int), Check::NonNegative),
            checked(req("total_nodes", Int), Check::NonNegative),
            checked(req("total_llm_calls", Int), Check::NonNegative),
            checked(col("best_success_rate", Float), Check::UnitInterval),
            req("started_at", Ts),
            col("completed_at", Ts),
        ],
        foreign_keys: &[
            fk("experiment_id", "experiments", "id"),
            fk("baseline_analysis_id", "analysis_runs", "id"),
        ],
    },
    TableSpec {
        name: "scenario_nodes",
        key: &["id"],
        columns: &[
            checked(req("id", Text), Check::HexId("node_", 8)),
            req("exploration_id", Text),
            col("parent_id", Text),
            checked(req("depth", Int), Check::NonNegative),
            col("action_applied", Text),
            col("action_category", Text),
            col("rationale", Text),
            col("short_action", Text),
            req("scorecard_params", Json),
            col("simulation_results", Json),
            checked(col("execution_time_seconds", Float), Check::NonNegative),
            checked(req("node_status", Text), Check::OneOf(NODE_STATUS)),
            req("created_at", Ts),
        ],
        foreign_keys: &[
            fk("exploration_id", "explorations", "id"),
            fk("parent_id", "scenario_nodes", "id"),
        ],
    },
    TableSpec {
        name: "simulation_runs",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("scorecard_id", Text),
            req("scenario_id", Text),
            req("config", Json),
            checked(req("status", Text), Check::OneOf(RUN_STATUS)),
            req("started_at", Ts),
            col("completed_at", Ts),
            col("total_synths", Int),
            col("aggregated_outcomes", Json),
            col("execution_time_seconds", Float),
        ],
        foreign_keys: &[fk("scorecard_id", "feature_scorecards", "id")],
    },
    TableSpec {
        name: "region_analyses",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("simulation_id", Text),
            req("rules", Json),
            req("rule_text", Text),
            req("synth_count", Int),
            req("synth_percentage", Float),
            req("did_not_try_rate", Float),
            req("failed_rate", Float),
            req("success_rate", Float),
            req("failure_delta", Float),
        ],
        foreign_keys: &[fk("simulation_id", "simulation_runs", "id")],
    },
    TableSpec {
        name: "sensitivity_results",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("simulation_id", Text),
            req("analyzed_at", Ts),
            req("deltas_used", Json),
            req("baseline_success", Float),
            req("most_sensitive_dimension", Text),
            req("dimensions", Json),
            req("created_at", Ts),
        ],
        foreign_keys: &[fk("simulation_id", "simulation_runs", "id")],
    },
    TableSpec {
        name: "chart_insights",
        key: &["id"],
        columns: &[
            req("id", Text),
            req("simulation_id", Text),
            req("insight_type", Text),
            req("response_json", Json),
            req("created_at", Ts),
            req("updated_at", Ts),
        ],
        foreign_keys: &[],
    },
];

/// A row the migrations themselves insert (V1 seeds the default synth group). A copy into a
/// fresh target replaces it with the source's row of the same key; when the source has no such
/// row the seed stays, and verify expects it.
pub(crate) struct SeedRow {
    pub(crate) table: &'static str,
    /// Column values as text, in the table's column order.
    pub(crate) values: &'static [&'static str],
}

/// The rows V1 inserts.
pub(crate) const SEED_ROWS: &[SeedRow] = &[SeedRow {
    table: "synth_groups",
    values: &[
        "grp_00000001",
        "Default",
        "Default group for synths without an explicit group",
        "2025-01-01T00:00:00.000000+00:00",
    ],
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_follow_the_schema_table_order() {
        let names: Vec<&str> = SPECS.iter().map(|t| t.name).collect();
        assert_eq!(names, crate::schema::TABLES.to_vec());
        for spec in &SPECS {
            assert_eq!(spec.key_indexes().len(), spec.key.len(), "{}", spec.name);
            for fk in spec.foreign_keys {
                assert!(spec.index_of(fk.column).is_some(), "{}.{}", spec.name, fk.column);
                let parent = table(fk.parent).expect("parent spec");
                assert!(parent.index_of(fk.parent_column).is_some());
                let own = SPECS.iter().position(|t| t.name == spec.name);
                let theirs = SPECS.iter().position(|t| t.name == fk.parent);
                assert!(theirs <= own, "{} loads before its parent {}", spec.name, fk.parent);
            }
        }
    }
}
