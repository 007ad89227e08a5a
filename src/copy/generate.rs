//! A deterministic generator of realistic legacy files (`synthlab-db generate`), for tests,
//! demos and the copy benchmark.
//!
//! The same options and seed always give the same rows. Scale 1 is about 50 MB and 50k rows:
//! JSON documents of 1–20 KB, Portuguese text with accents and emoji, every legacy timestamp
//! shape, floats using all 53 bits, scenario trees to depth 5 stored children-first. The layout
//! is any legacy version 10–15, created fresh or upgraded in place from an older version
//! (added columns last, without their CHECK). `faults` plants each kind of bad row the copy must
//! catch, some with children so that the quarantine cascades.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::backend::sqlite::legacy_writer::LegacyWriter;
use crate::legacy::LegacyValue;
use crate::{Error, Result};

/// Oldest and newest legacy layout versions the copy reads.
pub const LAYOUTS: std::ops::RangeInclusive<u8> = 10..=15;

/// A kind of bad row the generator can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A child whose parent row does not exist.
    Orphan,
    /// Text with a NUL character.
    Nul,
    /// Text that is not valid UTF-8.
    NonUtf8,
    /// A non-numeric text in a numeric column.
    NonNumeric,
    /// A timestamp that cannot be parsed, or that has sub-microsecond digits.
    BadTimestamp,
    /// A JSON object with a duplicate key.
    DuplicateKeyJson,
    /// Text in a JSON column that is not JSON.
    InvalidJson,
    /// A value outside a CHECK enumeration (cascades to children).
    CheckEnum,
    /// A text longer than a CHECK allows (cascades to children).
    CheckLength,
    /// An id of the wrong shape (cascades to children).
    CheckId,
    /// A number outside a CHECK range (cascades down a scenario tree).
    CheckRange,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::Orphan,
        FaultKind::Nul,
        FaultKind::NonUtf8,
        FaultKind::NonNumeric,
        FaultKind::BadTimestamp,
        FaultKind::DuplicateKeyJson,
        FaultKind::InvalidJson,
        FaultKind::CheckEnum,
        FaultKind::CheckLength,
        FaultKind::CheckId,
        FaultKind::CheckRange,
    ];

    /// The kebab-case name (`non-utf8`).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Orphan => "orphan",
            FaultKind::Nul => "nul",
            FaultKind::NonUtf8 => "non-utf8",
            FaultKind::NonNumeric => "non-numeric",
            FaultKind::BadTimestamp => "bad-timestamp",
            FaultKind::DuplicateKeyJson => "duplicate-key-json",
            FaultKind::InvalidJson => "invalid-json",
            FaultKind::CheckEnum => "check-enum",
            FaultKind::CheckLength => "check-length",
            FaultKind::CheckId => "check-id",
            FaultKind::CheckRange => "check-range",
        }
    }
}

impl std::str::FromStr for FaultKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        FaultKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::invalid_input(format!("unknown fault kind '{text}' (known: {})", names.join(", ")))
            })
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Size: 1.0 ≈ 50 MB and 50k rows; small fractions make test files.
    pub scale: f64,
    /// Legacy layout version, 10–15.
    pub layout: u8,
    /// The version the file was created at (9 up to `layout`); columns added later sit last,
    /// without CHECK, as the legacy application's in-place upgrades left them.
    pub created: u8,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
    /// Bad rows to plant.
    pub faults: Vec<FaultKind>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            scale: 1.0,
            layout: 15,
            created: 15,
            seed: 7,
            faults: Vec::new(),
        }
    }
}

/// A bad row the generator planted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlantedFault {
    /// Its kind.
    pub kind: FaultKind,
    /// Table.
    pub table: String,
    /// Primary key value (the first key column).
    pub key: String,
    /// The column holding the bad value.
    pub column: String,
}

/// What was generated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GenerateReport {
    /// The file.
    pub path: PathBuf,
    /// Layout version.
    pub layout: u8,
    /// Version the file was created at.
    pub created: u8,
    /// Rows per table, in foreign-key order (tables the layout lacks are absent).
    pub rows: Vec<(String, u64)>,
    /// Planted bad rows (their children are not listed: the copy finds them).
    pub faults: Vec<PlantedFault>,
    /// File size in bytes.
    pub bytes: u64,
}

impl GenerateReport {
    /// Total rows.
    pub fn total_rows(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

/// The statements that create a legacy file of `layout`, created at version `created` (and,
/// when older, upgraded in place the way the legacy application did): the layouts of
/// [`crate::legacy`], the one source of truth for what legacy files look like.
///
/// # Errors
/// InvalidInput for a layout outside 10–15 or `created` outside 9..=layout.
pub fn layout_statements(layout: u8, created: u8) -> Result<Vec<String>> {
    use crate::legacy::{LegacyLayout, LegacyVersion};
    let version = |n: u8| LegacyVersion::ALL.into_iter().find(|v| v.number() == u32::from(n));
    let refused = || {
        Error::invalid_input(format!(
            "layout v{layout} created at v{created}: layouts are v10–v15, created at v9 up to the layout"
        ))
    };
    if !LAYOUTS.contains(&layout) || !(9..=layout).contains(&created) {
        return Err(refused());
    }
    let (Some(current), Some(born)) = (version(layout), version(created)) else {
        return Err(refused());
    };
    let legacy = if born == current {
        LegacyLayout::fresh(current)
    } else {
        LegacyLayout::upgraded(born, current)
    };
    Ok(vec![legacy.sql()?])
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }

    /// A float in [0, 1) using all 53 bits of the mantissa.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "ação",
    "usuário",
    "experiência",
    "navegação",
    "coração",
    "pão",
    "maçã",
    "você",
    "não",
    "é",
    "informação",
    "preço",
    "decisão",
    "opção",
    "avaliação",
    "compra",
    "cartão",
    "crédito",
    "benefício",
    "família",
    "são",
    "paulo",
    "região",
    "nordeste",
    "jovem",
    "adulto",
    "idoso",
    "renda",
    "médio",
    "alta",
    "baixa",
    "confiança",
    "segurança",
    "rápido",
    "fácil",
    "difícil",
    "também",
    "já",
    "até",
    "após",
    "através",
    "útil",
    "público",
    "serviço",
    "aplicativo",
    "tela",
    "botão",
    "página",
    "cadastro",
    "pagamento",
    "entrega",
    "atenção",
];
const EMOJI: &[&str] = &["😀", "🚀", "✨", "👍", "🇧🇷", "💳", "📱", "🤔", "❤️", "🎯"];
const KEYS: &[&str] = &[
    "nome",
    "idade",
    "renda_mensal",
    "preferências",
    "histórico",
    "região",
    "escolaridade",
    "ocupação",
    "interesses",
    "dispositivo",
    "frequência",
    "satisfação",
    "observação",
    "métricas",
    "pontuação",
];

fn words(rng: &mut Rng, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        if rng.chance(4) {
            out.push_str(rng.pick(EMOJI));
        } else {
            out.push_str(rng.pick(WORDS));
        }
    }
    out
}

fn text_of(rng: &mut Rng, min_chars: usize, max_chars: usize) -> String {
    let target = rng.range(min_chars, max_chars);
    let mut out = String::new();
    while out.chars().count() < target {
        if !out.is_empty() {
            out.push_str(if rng.chance(10) { ".\n" } else { " " });
        }
        out.push_str(&words(rng, 6));
    }
    out.chars().take(max_chars).collect()
}

fn timestamp(rng: &mut Rng) -> String {
    let secs = 1_735_689_600 + rng.below(365 * 86_400) as i64; // during 2025
    let micros = rng.below(1_000_000) as u32;
    let Some(ts) = chrono::DateTime::from_timestamp(secs, micros * 1000) else {
        return "2025-06-01T12:00:00.000000+00:00".to_owned();
    };
    match rng.below(4) {
        0 => ts.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        1 => ts.format("%Y-%m-%d %H:%M:%S").to_string(),
        2 => (ts - chrono::Duration::hours(3))
            .format("%Y-%m-%dT%H:%M:%S%.6f-03:00")
            .to_string(),
        _ => ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    }
}

fn json_number(rng: &mut Rng, out: &mut String) {
    match rng.below(8) {
        0 => {
            let _ = write!(out, "{}", rng.below(100_000));
        }
        1 => out.push_str(rng.pick(&["1.50", "1e2", "-0.0", "2.5E-3", "100"])),
        2 => {
            let _ = write!(out, "{:?}", (rng.unit() - 0.5) * 1e12);
        }
        _ => {
            let _ = write!(out, "{:?}", rng.unit());
        }
    }
}

fn json_string(rng: &mut Rng, out: &mut String, n: usize) {
    out.push('"');
    out.push_str(&words(rng, n));
    if rng.chance(10) {
        out.push_str(" \\u00e9\\n\\\"citação\\\"");
    }
    out.push('"');
}

fn json_value(rng: &mut Rng, out: &mut String, depth: usize) {
    match rng.below(if depth > 2 { 5 } else { 8 }) {
        0 | 1 => {
            let n = rng.range(2, 12);
            json_string(rng, out, n)
        }
        2 | 3 => json_number(rng, out),
        4 => out.push_str(rng.pick(&["true", "false", "null"])),
        5 | 6 => {
            out.push('[');
            for i in 0..rng.range(0, 6) {
                if i > 0 {
                    out.push(',');
                }
                json_value(rng, out, depth + 1);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.range(1, 4) {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "\"{}_{i}\":", rng.pick(KEYS));
                json_value(rng, out, depth + 1);
            }
            out.push('}');
        }
    }
}

/// A JSON object of roughly `min..=max` bytes.
fn json_doc(rng: &mut Rng, min: usize, max: usize) -> String {
    let target = rng.range(min, max);
    let mut out = String::with_capacity(target + 256);
    out.push('{');
    let mut i = 0;
    while out.len() < target {
        if i > 0 {
            out.push(if rng.chance(20) { '\n' } else { ',' });
            if out.ends_with('\n') {
                out.pop();
                out.push_str(",\n ");
            }
        }
        let _ = write!(out, "\"{}_{i}\": ", rng.pick(KEYS));
        json_value(rng, &mut out, 0);
        i += 1;
    }
    out.push('}');
    out
}

use LegacyValue::{Integer, Null, Real, Text};

fn t(s: impl Into<String>) -> LegacyValue {
    Text(s.into())
}

/// NULL `percent` of the time, else the value (evaluated only then).
macro_rules! opt {
    ($rng:ident, $percent:expr, $value:expr) => {
        if $rng.chance($percent) { Null } else { $value }
    };
}

fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}_{n:08x}")
}

/// Row counts at scale 1.
const BASE: [(&str, usize); 17] = [
    ("experiments", 200),
    ("synth_groups", 20),
    ("feature_scorecards", 150),
    ("interview_guide", 150),
    ("analysis_runs", 180),
    ("research_executions", 300),
    ("experiment_documents", 300),
    ("synths", 2500),
    ("synth_outcomes", 33_000),
    ("analysis_cache", 900),
    ("transcripts", 5000),
    ("explorations", 60),
    ("scenario_nodes", 3000),
    ("simulation_runs", 300),
    ("region_analyses", 2000),
    ("sensitivity_results", 300),
    ("chart_insights", 1000),
];

fn count(scale: f64, table: &str) -> usize {
    let base = BASE.iter().find(|(t, _)| *t == table).map_or(0, |(_, n)| *n);
    ((base as f64 * scale).round() as usize).max(12)
}

/// Generates a legacy file at `path` (replacing it). Blocking: call it off the async workers.
///
/// # Errors
/// InvalidInput for bad options; Other when the file cannot be written.
pub fn generate(path: &Path, options: &GenerateOptions) -> Result<GenerateReport> {
    if !(options.scale > 0.0 && options.scale <= 1000.0) {
        return Err(Error::invalid_input("scale must be above 0 and at most 1000"));
    }
    let statements = layout_statements(options.layout, options.created)?;
    let mut w = LegacyWriter::create(path, &statements)?;
    let mut rng = Rng(options.seed ^ 0x5EED_0000_5EED);
    let s = options.scale;
    let mut rows: Vec<(String, u64)> = Vec::new();
    let mut tally = |w: &LegacyWriter, table: &str, n: usize| {
        if w.has_table(table) {
            rows.push((table.to_owned(), n as u64));
        }
    };

    let n_exp = count(s, "experiments");
    for i in 0..n_exp {
        let row = [
            ("id", t(id("exp", i))),
            ("name", t(text_of(&mut rng, 5, 90))),
            ("hypothesis", t(text_of(&mut rng, 20, 480))),
            ("description", opt!(rng, 20, t(text_of(&mut rng, 50, 1900)))),
            ("scorecard_data", opt!(rng, 30, t(json_doc(&mut rng, 1000, 3000)))),
            ("status", t(if rng.chance(10) { "deleted" } else { "active" })),
            ("created_at", t(timestamp(&mut rng))),
            ("updated_at", opt!(rng, 40, t(timestamp(&mut rng)))),
        ];
        w.insert("experiments", &row)?;
    }
    tally(&w, "experiments", n_exp);

    let n_groups = count(s, "synth_groups");
    for i in 0..n_groups {
        let (gid, name) = if i == 0 {
            ("grp_00000001".to_owned(), "Default".to_owned())
        } else {
            (id("grp", i + 1), text_of(&mut rng, 5, 40))
        };
        let row = [
            ("id", t(gid)),
            ("name", t(name)),
            ("description", opt!(rng, 30, t(text_of(&mut rng, 10, 200)))),
            ("created_at", t(timestamp(&mut rng))),
        ];
        w.insert("synth_groups", &row)?;
    }
    tally(&w, "synth_groups", n_groups);

    let n_sc = count(s, "feature_scorecards");
    for i in 0..n_sc {
        let row = [
            ("id", t(id("sc", i))),
            ("experiment_id", opt!(rng, 10, t(id("exp", i % n_exp)))),
            ("data", t(json_doc(&mut rng, 1000, 3000))),
            ("created_at", t(timestamp(&mut rng))),
            ("updated_at", opt!(rng, 50, t(timestamp(&mut rng)))),
        ];
        w.insert("feature_scorecards", &row)?;
    }
    tally(&w, "feature_scorecards", n_sc);

    let n_ig = count(s, "interview_guide").min(n_exp);
    for i in 0..n_ig {
        let row = [
            ("experiment_id", t(id("exp", i))),
            ("context_definition", opt!(rng, 10, t(text_of(&mut rng, 50, 800)))),
            ("questions", opt!(rng, 10, t(text_of(&mut rng, 50, 1500)))),
            ("context_examples", opt!(rng, 50, t(text_of(&mut rng, 20, 600)))),
            ("created_at", t(timestamp(&mut rng))),
            ("updated_at", opt!(rng, 50, t(timestamp(&mut rng)))),
        ];
        w.insert("interview_guide", &row)?;
    }
    tally(&w, "interview_guide", n_ig);

    let n_ana = count(s, "analysis_runs").min(n_exp);
    for i in 0..n_ana {
        let row = [
            ("id", t(id("ana", i))),
            ("experiment_id", t(id("exp", i))),
            (
                "scenario_id",
                t(rng.pick(&["baseline", "cenário_otimista", "pessimista"])),
            ),
            ("config", t(json_doc(&mut rng, 1000, 3000))),
            (
                "status",
                t(rng.pick(&["pending", "running", "completed", "completed", "failed"])),
            ),
            ("started_at", t(timestamp(&mut rng))),
            ("completed_at", opt!(rng, 30, t(timestamp(&mut rng)))),
            ("total_synths", Integer(rng.below(5000) as i64)),
            ("aggregated_outcomes", opt!(rng, 20, t(json_doc(&mut rng, 1000, 5000)))),
            ("execution_time_seconds", opt!(rng, 10, Real(rng.unit() * 600.0))),
        ];
        w.insert("analysis_runs", &row)?;
    }
    tally(&w, "analysis_runs", n_ana);

    let n_exec = count(s, "research_executions");
    for i in 0..n_exec {
        let row = [
            ("exec_id", t(id("exec", i))),
            ("experiment_id", opt!(rng, 15, t(id("exp", i % n_exp)))),
            ("topic_name", t(text_of(&mut rng, 5, 60))),
            (
                "status",
                t(rng.pick(&["pending", "running", "generating_summary", "completed", "failed"])),
            ),
            ("synth_count", Integer(rng.below(50) as i64)),
            ("successful_count", opt!(rng, 10, Integer(rng.below(50) as i64))),
            ("failed_count", opt!(rng, 10, Integer(rng.below(5) as i64))),
            ("model", t(rng.pick(&["gpt-4o-mini", "gpt-4o", "o3-mini"]))),
            ("max_turns", Integer(rng.range(3, 12) as i64)),
            ("started_at", t(timestamp(&mut rng))),
            ("completed_at", opt!(rng, 30, t(timestamp(&mut rng)))),
            ("additional_context", opt!(rng, 50, t(text_of(&mut rng, 20, 500)))),
        ];
        w.insert("research_executions", &row)?;
    }
    tally(&w, "research_executions", n_exec);

    if w.has_table("experiment_documents") {
        let n_doc = count(s, "experiment_documents").min(n_exp * 3);
        for i in 0..n_doc {
            let mut markdown = format!("# {}\n\n", text_of(&mut rng, 10, 60));
            while markdown.len() < 3000 {
                let _ = write!(
                    markdown,
                    "## {}\n\n{}\n\n",
                    words(&mut rng, 3),
                    text_of(&mut rng, 200, 600)
                );
            }
            let row = [
                ("id", t(id("doc", i))),
                ("experiment_id", t(id("exp", i / 3))),
                ("document_type", t(["summary", "prfaq", "executive_summary"][i % 3])),
                ("markdown_content", t(markdown)),
                ("metadata", opt!(rng, 30, t(json_doc(&mut rng, 100, 400)))),
                ("generated_at", t(timestamp(&mut rng))),
                ("model", t("gpt-4o-mini")),
                (
                    "status",
                    t(rng.pick(&["pending", "generating", "completed", "failed", "partial"])),
                ),
                ("error_message", opt!(rng, 90, t(text_of(&mut rng, 10, 100)))),
            ];
            w.insert("experiment_documents", &row)?;
        }
        tally(&w, "experiment_documents", n_doc);
    }

    let n_syn = count(s, "synths");
    for i in 0..n_syn {
        let group = if rng.chance(30) { 0 } else { rng.range(1, n_groups - 1) };
        let group_id = if group == 0 {
            "grp_00000001".to_owned()
        } else {
            id("grp", group + 1)
        };
        let row = [
            ("id", t(id("syn", i))),
            ("synth_group_id", opt!(rng, 10, t(group_id))),
            ("nome", t(text_of(&mut rng, 5, 40))),
            ("descricao", opt!(rng, 10, t(text_of(&mut rng, 50, 600)))),
            ("link_photo", opt!(rng, 40, t(format!("https://fotos.example/{i}.jpg")))),
            ("avatar_path", opt!(rng, 40, t(format!("avatars/syn_{i:08x}.png")))),
            ("created_at", t(timestamp(&mut rng))),
            ("version", t("2.0.0")),
            ("data", opt!(rng, 5, t(json_doc(&mut rng, 1000, 3000)))),
        ];
        w.insert("synths", &row)?;
    }
    tally(&w, "synths", n_syn);

    let n_out = count(s, "synth_outcomes").min(n_ana * n_syn);
    let per_analysis = n_out.div_ceil(n_ana);
    let mut written = 0;
    'outcomes: for a in 0..n_ana {
        for j in 0..per_analysis {
            if written == n_out {
                break 'outcomes;
            }
            let row = [
                ("id", t(id("out", written))),
                ("analysis_id", t(id("ana", a))),
                ("synth_id", t(id("syn", (a * 7 + j) % n_syn))),
                ("did_not_try_rate", Real(rng.unit())),
                ("failed_rate", Real(rng.unit())),
                ("success_rate", Real(rng.unit())),
                ("synth_attributes", opt!(rng, 5, t(json_doc(&mut rng, 60, 200)))),
            ];
            w.insert("synth_outcomes", &row)?;
            written += 1;
        }
    }
    tally(&w, "synth_outcomes", written);

    let per_cache = count(s, "analysis_cache").div_ceil(n_ana).max(1);
    for a in 0..n_ana {
        for k in 0..per_cache {
            let row = [
                ("analysis_id", t(id("ana", a))),
                ("cache_key", t(format!("gráfico_{k}"))),
                ("data", t(json_doc(&mut rng, 1000, 20_000))),
                ("params", opt!(rng, 40, t(json_doc(&mut rng, 50, 200)))),
                ("computed_at", t(timestamp(&mut rng))),
            ];
            w.insert("analysis_cache", &row)?;
        }
    }
    tally(&w, "analysis_cache", per_cache * n_ana);

    let n_tr = count(s, "transcripts").min(n_exec * n_syn);
    let per_exec = n_tr.div_ceil(n_exec);
    let mut written = 0;
    'transcripts: for e in 0..n_exec {
        for j in 0..per_exec {
            if written == n_tr {
                break 'transcripts;
            }
            let mut messages = String::from("[");
            let target = rng.range(1000, 2000);
            let mut turn = 0;
            while messages.len() < target {
                if turn > 0 {
                    messages.push(',');
                }
                let speaker = if turn % 2 == 0 { "entrevistador" } else { "sintético" };
                let _ = write!(
                    messages,
                    "{{\"role\":\"{speaker}\",\"turn\":{turn},\"content\":\"{}\"}}",
                    text_of(&mut rng, 40, 400).replace('\n', "\\n")
                );
                turn += 1;
            }
            messages.push(']');
            let row = [
                ("id", t(id("tr", written))),
                ("exec_id", t(id("exec", e))),
                ("synth_id", t(id("syn", (e * 13 + j) % n_syn))),
                ("synth_name", t(text_of(&mut rng, 5, 30))),
                ("status", t(rng.pick(&["completed", "completed", "failed", "pending"]))),
                ("turn_count", Integer(turn)),
                ("timestamp", t(timestamp(&mut rng))),
                ("messages", opt!(rng, 3, t(messages))),
            ];
            w.insert("transcripts", &row)?;
            written += 1;
        }
    }
    tally(&w, "transcripts", written);

    let mut node_parents: Vec<(usize, Vec<usize>)> = Vec::new(); // (exploration, node ids with children)
    if w.has_table("explorations") {
        let n_expl = count(s, "explorations").min(n_ana);
        for i in 0..n_expl {
            let row = [
                ("id", t(id("expl", i))),
                ("experiment_id", t(id("exp", i))),
                ("baseline_analysis_id", t(id("ana", i))),
                ("goal", t(json_doc(&mut rng, 100, 400))),
                ("config", t(json_doc(&mut rng, 200, 800))),
                (
                    "status",
                    t(rng.pick(&[
                        "running",
                        "goal_achieved",
                        "depth_limit_reached",
                        "cost_limit_reached",
                        "no_viable_paths",
                    ])),
                ),
                ("current_depth", Integer(rng.below(6) as i64)),
                ("total_nodes", Integer(rng.below(100) as i64)),
                ("total_llm_calls", Integer(rng.below(300) as i64)),
                ("best_success_rate", opt!(rng, 20, Real(rng.unit()))),
                ("started_at", t(timestamp(&mut rng))),
                ("completed_at", opt!(rng, 30, t(timestamp(&mut rng)))),
            ];
            w.insert("explorations", &row)?;
        }
        tally(&w, "explorations", n_expl);

        let per_tree = count(s, "scenario_nodes").div_ceil(n_expl).max(4);
        let mut next_node = 0usize;
        for e in 0..n_expl {
            // Build the tree (parents first), then store it children-first.
            let mut nodes: Vec<(usize, Option<usize>, usize)> = Vec::new(); // (id, parent, depth)
            for k in 0..per_tree {
                let (parent, depth) = match k {
                    0 => (None, 0),
                    1 | 2 => (Some(k - 1), k),
                    _ => {
                        let candidates: Vec<usize> = (0..nodes.len()).filter(|&n| nodes[n].2 < 5).collect();
                        let p = candidates[rng.below(candidates.len() as u64) as usize];
                        (Some(p), nodes[p].2 + 1)
                    }
                };
                nodes.push((next_node + k, parent.map(|p| next_node + p), depth));
            }
            next_node += per_tree;
            node_parents.push((e, vec![nodes[1].0]));
            for (node, parent, depth) in nodes.iter().rev() {
                let row = [
                    ("id", t(id("node", *node))),
                    ("exploration_id", t(id("expl", e))),
                    ("parent_id", parent.map_or(Null, |p| t(id("node", p)))),
                    ("depth", Integer(*depth as i64)),
                    ("action_applied", opt!(rng, 10, t(text_of(&mut rng, 10, 120)))),
                    (
                        "action_category",
                        opt!(rng, 10, t(rng.pick(&["preço", "ux", "onboarding"]))),
                    ),
                    ("rationale", opt!(rng, 10, t(text_of(&mut rng, 20, 400)))),
                    ("short_action", opt!(rng, 20, t(words(&mut rng, 3)))),
                    ("scorecard_params", t(json_doc(&mut rng, 300, 600))),
                    ("simulation_results", opt!(rng, 20, t(json_doc(&mut rng, 300, 1000)))),
                    ("execution_time_seconds", opt!(rng, 10, Real(rng.unit() * 30.0))),
                    (
                        "node_status",
                        t(rng.pick(&["active", "dominated", "winner", "expansion_failed"])),
                    ),
                    ("created_at", t(timestamp(&mut rng))),
                ];
                w.insert("scenario_nodes", &row)?;
            }
        }
        tally(&w, "scenario_nodes", next_node);
    }

    let n_sim = count(s, "simulation_runs");
    for i in 0..n_sim {
        let row = [
            ("id", t(id("sim", i))),
            ("scorecard_id", t(id("sc", i % n_sc))),
            ("scenario_id", t(rng.pick(&["baseline", "otimista", "pessimista"]))),
            ("config", t(json_doc(&mut rng, 300, 1500))),
            ("status", t(rng.pick(&["pending", "running", "completed", "failed"]))),
            ("started_at", t(timestamp(&mut rng))),
            ("completed_at", opt!(rng, 30, t(timestamp(&mut rng)))),
            ("total_synths", opt!(rng, 10, Integer(rng.below(5000) as i64))),
            ("aggregated_outcomes", opt!(rng, 30, t(json_doc(&mut rng, 300, 1500)))),
            ("execution_time_seconds", opt!(rng, 10, Real(rng.unit() * 100.0))),
        ];
        w.insert("simulation_runs", &row)?;
    }
    tally(&w, "simulation_runs", n_sim);

    let n_reg = count(s, "region_analyses");
    for i in 0..n_reg {
        let special = [5e-324, 1e300, -0.0, 0.1, 1.0 / 3.0];
        let row = [
            ("id", t(id("reg", i))),
            ("simulation_id", t(id("sim", i % n_sim))),
            ("rules", t(json_doc(&mut rng, 100, 400))),
            ("rule_text", t(text_of(&mut rng, 10, 200))),
            ("synth_count", Integer(rng.below(500) as i64)),
            ("synth_percentage", Real(rng.unit() * 100.0)),
            ("did_not_try_rate", Real(rng.unit())),
            ("failed_rate", Real(rng.unit())),
            ("success_rate", Real(rng.unit())),
            (
                "failure_delta",
                Real(special[i % special.len()] * if i % 2 == 0 { 1.0 } else { rng.unit() }),
            ),
        ];
        w.insert("region_analyses", &row)?;
    }
    tally(&w, "region_analyses", n_reg);

    let n_sens = count(s, "sensitivity_results");
    for i in 0..n_sens {
        let row = [
            ("id", t(id("sens", i))),
            ("simulation_id", t(id("sim", i % n_sim))),
            ("analyzed_at", t(timestamp(&mut rng))),
            ("deltas_used", t(json_doc(&mut rng, 50, 200))),
            ("baseline_success", Real(rng.unit())),
            ("most_sensitive_dimension", t(rng.pick(KEYS))),
            ("dimensions", t(json_doc(&mut rng, 300, 1500))),
            ("created_at", t(timestamp(&mut rng))),
        ];
        w.insert("sensitivity_results", &row)?;
    }
    tally(&w, "sensitivity_results", n_sens);

    let n_ins = count(s, "chart_insights");
    let types = ["funil", "distribuição", "correlação", "tendência"];
    for i in 0..n_ins {
        let row = [
            ("id", t(id("ins", i))),
            ("simulation_id", t(id("sim", i / types.len()))),
            ("insight_type", t(types[i % types.len()])),
            ("response_json", t(json_doc(&mut rng, 500, 2000))),
            ("created_at", t(timestamp(&mut rng))),
            ("updated_at", t(timestamp(&mut rng))),
        ];
        w.insert("chart_insights", &row)?;
    }
    tally(&w, "chart_insights", n_ins);

    let mut faults = Vec::new();
    for kind in &options.faults {
        plant(&mut w, *kind, &node_parents, &mut faults)?;
    }
    w.finish()?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(GenerateReport {
        path: path.to_owned(),
        layout: options.layout,
        created: options.created,
        rows,
        faults,
        bytes,
    })
}

#[allow(clippy::too_many_arguments)]
fn put(
    w: &mut LegacyWriter,
    out: &mut Vec<PlantedFault>,
    kind: FaultKind,
    table: &str,
    key_col: &str,
    key: String,
    column: &str,
    value: LegacyValue,
) -> Result<()> {
    if w.corrupt(table, key_col, &key, column, &value)? > 0 {
        out.push(PlantedFault {
            kind,
            table: table.to_owned(),
            key,
            column: column.to_owned(),
        });
    }
    Ok(())
}

fn plant(
    w: &mut LegacyWriter,
    kind: FaultKind,
    node_parents: &[(usize, Vec<usize>)],
    out: &mut Vec<PlantedFault>,
) -> Result<()> {
    let k = kind;
    match kind {
        FaultKind::Orphan => put(
            w,
            out,
            k,
            "synth_outcomes",
            "id",
            id("out", 3),
            "analysis_id",
            t("ana_deadbeef"),
        )?,
        FaultKind::Nul => put(w, out, k, "synths", "id", id("syn", 3), "descricao", t("Olá\0mundo"))?,
        FaultKind::NonUtf8 => put(
            w,
            out,
            k,
            "region_analyses",
            "id",
            id("reg", 2),
            "rule_text",
            LegacyValue::Bytes(b"regi\xe3o em Latin-1".to_vec()),
        )?,
        FaultKind::NonNumeric => {
            put(
                w,
                out,
                k,
                "region_analyses",
                "id",
                id("reg", 5),
                "synth_count",
                t("muitos"),
            )?;
            put(
                w,
                out,
                k,
                "synth_outcomes",
                "id",
                id("out", 6),
                "success_rate",
                t("n/a"),
            )?;
        }
        FaultKind::BadTimestamp => {
            put(
                w,
                out,
                k,
                "transcripts",
                "id",
                id("tr", 2),
                "timestamp",
                t("ontem às 10h"),
            )?;
            put(
                w,
                out,
                k,
                "interview_guide",
                "experiment_id",
                id("exp", 6),
                "updated_at",
                t("2025-03-01T10:00:00.1234567Z"),
            )?;
        }
        FaultKind::DuplicateKeyJson => put(
            w,
            out,
            k,
            "synths",
            "id",
            id("syn", 5),
            "data",
            t("{\"nome\": \"Ana\", \"idade\": 30, \"nome\": \"Bia\"}"),
        )?,
        FaultKind::InvalidJson => put(
            w,
            out,
            k,
            "sensitivity_results",
            "id",
            id("sens", 1),
            "dimensions",
            t("{\"preço\": 0.4,}"),
        )?,
        FaultKind::CheckEnum => put(w, out, k, "analysis_runs", "id", id("ana", 2), "status", t("archived"))?,
        FaultKind::CheckLength => put(
            w,
            out,
            k,
            "experiments",
            "id",
            id("exp", 4),
            "name",
            t("Experiência ".repeat(9)),
        )?,
        FaultKind::CheckId => {
            if w.has_table("explorations") {
                let bad = "expl_XYZ!";
                w.corrupt(
                    "scenario_nodes",
                    "exploration_id",
                    &id("expl", 1),
                    "exploration_id",
                    &t(bad),
                )?;
                if w.corrupt("explorations", "id", &id("expl", 1), "id", &t(bad))? > 0 {
                    out.push(PlantedFault {
                        kind,
                        table: "explorations".to_owned(),
                        key: bad.to_owned(),
                        column: "id".to_owned(),
                    });
                }
            }
        }
        FaultKind::CheckRange => {
            if let Some((_, parents)) = node_parents.first()
                && let Some(node) = parents.first()
            {
                put(
                    w,
                    out,
                    k,
                    "scenario_nodes",
                    "id",
                    id("node", *node),
                    "execution_time_seconds",
                    Real(-1.5),
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_builds_and_older_ones_lack_the_later_parts() {
        for layout in LAYOUTS {
            for created in 9..=layout {
                let statements = layout_statements(layout, created).expect("layout");
                let all: String = statements
                    .join(";\n")
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let creates = |table: &str| {
                    all.contains(&format!("CREATE TABLE {table} "))
                        || all.contains(&format!("CREATE TABLE IF NOT EXISTS {table} "))
                };
                assert_eq!(
                    creates("experiment_documents"),
                    layout >= 15,
                    "v{layout} from v{created}"
                );
                assert_eq!(creates("scenario_nodes"), layout >= 13, "v{layout} from v{created}");
                assert_eq!(all.contains("short_action"), layout >= 14);
                assert_eq!(
                    all.contains("scenario_id TEXT NOT NULL DEFAULT 'baseline'"),
                    layout >= 11
                );
                assert_eq!(all.contains("ADD COLUMN status"), created < 10);
            }
        }
        assert!(layout_statements(9, 9).is_err());
        assert!(layout_statements(15, 16).is_err());
    }
}
