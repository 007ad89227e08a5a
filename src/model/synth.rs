//! Synthetic personas (`synths`) and their groups (`synth_groups`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Input, Timestamp};

/// The id of the group that always exists.
pub const DEFAULT_SYNTH_GROUP_ID: &str = "grp_00000001";

/// Refuses to delete the default group (every backend asks before deleting a group).
///
/// # Errors
/// InvalidInput for [`DEFAULT_SYNTH_GROUP_ID`].
pub(crate) fn refuse_default_group(id: &str) -> crate::Result<()> {
    if id == DEFAULT_SYNTH_GROUP_ID {
        return Err(crate::Error::invalid_input(format!(
            "the default synth group {DEFAULT_SYNTH_GROUP_ID} cannot be deleted"
        )));
    }
    Ok(())
}

/// A named group of synths (`synth_groups`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthGroup {
    /// Primary key.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// What a caller supplies to create a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewSynthGroup {
    /// Primary key; [`NewSynthGroup::new`] generates one.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Creation time; `None` means now.
    pub created_at: Option<Timestamp>,
}

impl NewSynthGroup {
    /// A new group with a generated id.
    pub fn new(name: impl Into<String>) -> Self {
        NewSynthGroup {
            id: super::id::generate("grp", 12),
            name: name.into(),
            description: None,
            created_at: None,
        }
    }
}

/// A group with the number of synths in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthGroupWithCount {
    /// The group.
    #[serde(flatten)]
    pub group: SynthGroup,
    /// How many synths belong to it.
    pub synth_count: i64,
}

/// A group with its synths (newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthGroupDetail {
    /// The group.
    #[serde(flatten)]
    pub group: SynthGroup,
    /// Its synths.
    pub synths: Vec<Synth>,
}

/// A synthetic persona (`synths`); all attributes live in `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synth {
    /// Primary key.
    pub id: String,
    /// The group it belongs to.
    pub synth_group_id: Option<String>,
    /// Name (legacy column `nome`).
    pub nome: String,
    /// Description (legacy column `descricao`).
    pub descricao: Option<String>,
    /// Link to a photo.
    pub link_photo: Option<String>,
    /// Path of the avatar image.
    pub avatar_path: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Schema version of `data`.
    pub version: Option<String>,
    /// All attributes (demographics, psychographics, ...).
    pub data: Option<Value>,
}

/// What a caller supplies to create a synth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Input)]
pub struct NewSynth {
    /// Primary key; [`NewSynth::new`] generates one.
    pub id: String,
    /// The group; `None` leaves it ungrouped.
    pub synth_group_id: Option<String>,
    /// Name.
    pub nome: String,
    /// Description.
    pub descricao: Option<String>,
    /// Link to a photo.
    pub link_photo: Option<String>,
    /// Path of the avatar image.
    pub avatar_path: Option<String>,
    /// Schema version of `data`; `None` stores the legacy default `2.0.0`.
    pub version: Option<String>,
    /// All attributes.
    pub data: Option<Value>,
    /// Creation time; `None` means now.
    pub created_at: Option<Timestamp>,
}

impl NewSynth {
    /// A new synth with a generated id in the default group.
    pub fn new(nome: impl Into<String>) -> Self {
        NewSynth {
            id: super::id::generate("synth", 12),
            synth_group_id: Some(DEFAULT_SYNTH_GROUP_ID.to_owned()),
            nome: nome.into(),
            descricao: None,
            link_photo: None,
            avatar_path: None,
            version: None,
            data: None,
            created_at: None,
        }
    }
}

string_enum! {
    /// The columns a synth listing may be sorted by (a whitelist: nothing else reaches SQL).
    SynthSortColumn {
        /// `created_at`
        CreatedAt = "created_at",
        /// `nome`
        Nome = "nome",
        /// `id`
        Id = "id",
        /// `version` (nullable)
        Version = "version",
        /// `synth_group_id` (nullable)
        GroupId = "synth_group_id",
        /// `descricao` (nullable)
        Descricao = "descricao",
    }
}

string_enum! {
    /// Sort direction. NULLs sort first ascending and last descending on both backends.
    SortDirection { Asc = "asc", Desc = "desc" }
}

/// How to order a synth listing: a whitelisted column, a direction, then `id` as tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthSort {
    /// The column.
    pub column: SynthSortColumn,
    /// The direction.
    pub direction: SortDirection,
}

impl Default for SynthSort {
    fn default() -> Self {
        SynthSort {
            column: SynthSortColumn::CreatedAt,
            direction: SortDirection::Desc,
        }
    }
}

/// A dotted path into `synths.data`, e.g. `demografia.idade`. Each segment is an identifier
/// (`[A-Za-z_][A-Za-z0-9_]*`); the path is bound as a parameter, never pasted into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonPath(Vec<String>);

impl JsonPath {
    /// Parses and validates a dotted path.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for an empty path or a segment that is not an identifier.
    pub fn parse(path: &str) -> crate::Result<Self> {
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        let valid = |s: &String| {
            let mut chars = s.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && s.len() <= 64
        };
        if path.is_empty() || segments.len() > 16 || !segments.iter().all(valid) {
            return Err(crate::Error::invalid_input(format!(
                "invalid data path {path:?}: use dot-separated identifiers such as demografia.idade"
            )));
        }
        Ok(JsonPath(segments))
    }

    /// The segments of the path.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// The path in SQLite JSON path syntax (`$."a"."b"`); safe because segments are identifiers.
    pub fn to_sqlite_path(&self) -> String {
        let mut out = String::from("$");
        for segment in &self.0 {
            out.push_str(".\"");
            out.push_str(segment);
            out.push('"');
        }
        out
    }
}

impl JsonPath {
    /// Checks the segments again: a path deserialized with serde bypasses [`JsonPath::parse`].
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when a segment is not an identifier or the path is empty.
    pub fn validate(&self) -> crate::Result<()> {
        if JsonPath::parse(&self.to_string())? == *self {
            Ok(())
        } else {
            Err(crate::Error::invalid_input(format!(
                "invalid data path {:?}: every segment must be an identifier",
                self.0
            )))
        }
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// A condition on a value inside `synths.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataCondition {
    /// The value equals this JSON scalar (string, number, boolean or null); numbers compare
    /// as numbers (30 equals 30.0).
    Eq(Value),
    /// The value is a number ≥ this.
    Gte(f64),
    /// The value is a number > this.
    Gt(f64),
    /// The value is a number ≤ this.
    Lte(f64),
    /// The value is a number < this.
    Lt(f64),
}

/// One filter of a structured synth search: a path and a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFilter {
    /// Where in `data`.
    pub path: JsonPath,
    /// What must hold there.
    pub condition: DataCondition,
}

/// What a [`DataCondition`] asks of the JSON value, in the terms both backends translate to SQL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Comparison<'a> {
    /// A JSON string equal to this text.
    Text(&'a str),
    /// The JSON literal `true` or `false`.
    Bool(bool),
    /// The JSON literal `null`.
    Null,
    /// A JSON number compared (as a double) with `op` (`=`, `>=`, `>`, `<=`, `<`) to the bound.
    Number(&'static str, f64),
}

impl DataCondition {
    /// The comparison this condition makes; one classification shared by both backends.
    ///
    /// # Errors
    /// InvalidInput for a non-scalar equality value or a number that is not a double.
    pub(crate) fn comparison(&self) -> crate::Result<Comparison<'_>> {
        Ok(match self {
            DataCondition::Eq(Value::String(text)) => Comparison::Text(text),
            DataCondition::Eq(Value::Bool(b)) => Comparison::Bool(*b),
            DataCondition::Eq(Value::Null) => Comparison::Null,
            DataCondition::Eq(Value::Number(n)) => Comparison::Number(
                "=",
                n.as_f64()
                    .ok_or_else(|| crate::Error::invalid_input(format!("data filter value {n} is not a number")))?,
            ),
            DataCondition::Eq(_) => return Err(crate::Error::invalid_input("data filters compare scalars only")),
            DataCondition::Gte(n) => Comparison::Number(">=", *n),
            DataCondition::Gt(n) => Comparison::Number(">", *n),
            DataCondition::Lte(n) => Comparison::Number("<=", *n),
            DataCondition::Lt(n) => Comparison::Number("<", *n),
        })
    }
}

impl DataFilter {
    /// Parses `path OP value`, e.g. `demografia.idade >= 30` or `demografia.sexo = "feminino"`.
    /// OP is one of `=`, `>=`, `>`, `<=`, `<`; the value of `=` is JSON (a bare word is taken
    /// as a string), the value of the others a number.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for anything else.
    pub fn parse(expression: &str) -> crate::Result<Self> {
        let bad = || {
            crate::Error::invalid_input(format!(
                "invalid filter {expression:?}: expected `path OP value` with OP one of = >= > <= <"
            ))
        };
        let (op_at, op) = ["<=", ">=", "=", "<", ">"]
            .iter()
            .filter_map(|op| expression.find(op).map(|at| (at, *op)))
            .min_by_key(|(at, op)| (*at, usize::MAX - op.len()))
            .ok_or_else(bad)?;
        let path = JsonPath::parse(expression[..op_at].trim())?;
        let raw = expression[op_at + op.len()..].trim();
        if raw.is_empty() {
            return Err(bad());
        }
        let number = || raw.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(bad);
        let condition = match op {
            "=" => {
                DataCondition::Eq(serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_owned())))
            }
            ">=" => DataCondition::Gte(number()?),
            ">" => DataCondition::Gt(number()?),
            "<=" => DataCondition::Lte(number()?),
            _ => DataCondition::Lt(number()?),
        };
        let filter = DataFilter { path, condition };
        filter.validate()?;
        Ok(filter)
    }

    /// Checks that an equality value is a scalar and that numbers are finite.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] otherwise.
    pub fn validate(&self) -> crate::Result<()> {
        match &self.condition {
            DataCondition::Eq(Value::Array(_) | Value::Object(_)) => Err(crate::Error::invalid_input(
                "data filters compare scalars only (string, number, boolean, null)",
            )),
            DataCondition::Gte(n) | DataCondition::Gt(n) | DataCondition::Lte(n) | DataCondition::Lt(n)
                if !n.is_finite() =>
            {
                Err(crate::Error::invalid_input("data filter bound must be a finite number"))
            }
            _ => Ok(()),
        }
    }
}

/// A structured synth search (replaces the legacy raw-SQL `where_clause`): every given
/// criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SynthSearch {
    /// Only synths of this group.
    pub group_id: Option<String>,
    /// Only synths whose `nome` contains this text (ASCII letters case-insensitive, like the
    /// legacy `LIKE`; other characters exactly).
    pub name_contains: Option<String>,
    /// Conditions on values inside `data`.
    pub data: Vec<DataFilter>,
    /// Order of the results.
    pub sort: SynthSort,
}

impl SynthSearch {
    /// Checks every data filter (path segments, scalar equality values, finite bounds).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for the first invalid filter.
    pub fn validate(&self) -> crate::Result<()> {
        for filter in &self.data {
            filter.path.validate()?;
            filter.validate()?;
        }
        Ok(())
    }
}
