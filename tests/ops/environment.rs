//! The environment variables: `synthlab_db::environment::VARIABLES` is every variable the
//! project reads, and `.env.example` and the README's table of variables document exactly the
//! listed ones (those a person may set).
//!
//! "Reads" is found in the sources, not taken on trust: Rust (`env::var`/`var_os` with a
//! literal, a constant or — a dynamic read — any variable-shaped literal of the same file;
//! `env::vars`/`vars_os`; `env!`/`option_env!`; `EnvFilter`'s `RUST_LOG`; clap's `env = …`;
//! every `SYNTHLAB_*` literal of the library, examples and benchmarks), the shell scripts
//! (`scripts/`, `.ci/run`, Makefile recipes: a variable used before the script sets it) and the
//! Python helpers (`os.environ`, `os.getenv`). The Makefile's own `NAME ?= …` variables are
//! make's command-line arguments, documented with their targets, and are not scanned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use synthlab_db::environment::{self, Reader, VARIABLES};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A variable (or, `family`, every variable with this prefix) read at `at` (file:line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Read {
    name: String,
    family: bool,
    at: String,
}

impl Read {
    fn new(name: &str, family: bool, file: &str, line: usize) -> Read {
        Read {
            name: name.to_owned(),
            family,
            at: format!("{file}:{}", line + 1),
        }
    }

    /// Whether a listed variable covers it (a family read needs the listed family itself).
    fn listed(&self) -> bool {
        if self.family {
            VARIABLES.iter().any(|v| v.family && v.name == self.name)
        } else {
            environment::find(&self.name).is_some()
        }
    }
}

/// The files under the crate's `dirs` whose name ends in `.ext`.
fn files_with(dirs: &[&str], ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        walk(&root().join(dir), ext, &mut out);
    }
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// The Rust sources of the project: library, binary, tests, examples, benchmarks, build script,
/// proc macros. Left out: the list itself (`src/environment.rs` names, never reads) and this
/// file (its checks quote what they look for).
fn rust_sources() -> Vec<(String, String)> {
    let mut files = vec![root().join("build.rs")];
    files.extend(files_with(
        &["src", "tests", "examples", "benches", "build", "macros/src"],
        "rs",
    ));
    files
        .into_iter()
        .map(|path| (relative(&path), std::fs::read_to_string(&path).expect("read source")))
        .filter(|(rel, _)| rel != "tests/ops/environment.rs" && rel != "src/environment.rs")
        .collect()
}

/// Shaped like an environment variable's name: upper case, digits and at least one `_`.
fn variable_shaped(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_uppercase())
        && text.contains('_')
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The string literals of one line of Rust (escaped quotes are rare enough here to ignore).
fn literals(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

/// Code lines: comments (`//`, doc comments included) are not reads.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
}

/// `const NAME: &str = "value";` anywhere in the sources.
fn string_constants(sources: &[(String, String)]) -> BTreeMap<String, String> {
    let mut constants = BTreeMap::new();
    for (_, text) in sources {
        for (_, line) in code_lines(text) {
            let Some((_, rest)) = line.split_once("const ") else {
                continue;
            };
            let Some((name, rest)) = rest.split_once(": &str = \"") else {
                continue;
            };
            if let Some((value, _)) = rest.split_once('"') {
                constants.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }
    constants
}

/// The argument at the start of `rest` (just after a call's opening parenthesis): a literal,
/// a resolved constant, or `None` for a run-time value.
fn argument(rest: &str, constants: &BTreeMap<String, String>) -> Result<Option<String>, String> {
    let rest = rest.trim_start();
    if let Some(literal) = rest.strip_prefix('"') {
        return Ok(literal.split_once('"').map(|(name, _)| name.to_owned()));
    }
    let path: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let name = path.rsplit("::").next().unwrap_or_default();
    if name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return match constants.get(name) {
            Some(value) => Ok(Some(value.clone())),
            None => Err(format!("cannot resolve the constant {name}")),
        };
    }
    Ok(None)
}

/// The variables one Rust file reads. `library` files also count every `SYNTHLAB_*` literal.
fn rust_reads(
    file: &str,
    text: &str,
    constants: &BTreeMap<String, String>,
    library: bool,
) -> Result<Vec<Read>, String> {
    let mut reads = Vec::new();
    let mut dynamic = false;
    let mut whole_environment = None;
    for (n, line) in code_lines(text) {
        for call in ["env::var(", "env::var_os(", "option_env!(", "env!("] {
            for (i, _) in line.match_indices(call) {
                if call == "env!(" && line[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    continue; // option_env!(…), seen above, or another macro
                }
                match argument(&line[i + call.len()..], constants).map_err(|e| format!("{file}:{}: {e}", n + 1))? {
                    Some(name) => reads.push(Read::new(&name, false, file, n)),
                    None => dynamic = true,
                }
            }
        }
        if line.contains("env::vars()") || line.contains("env::vars_os()") {
            whole_environment = Some(n);
        }
        if line.contains("from_default_env()") {
            reads.push(Read::new("RUST_LOG", false, file, n));
        }
        for (i, _) in line.match_indices("env = \"") {
            if let Some((name, _)) = line[i + "env = \"".len()..].split_once('"') {
                reads.push(Read::new(name, false, file, n));
            }
        }
        if library {
            for literal in literals(line).into_iter().filter(|l| l.starts_with("SYNTHLAB_")) {
                reads.push(Read::new(literal, literal.ends_with('_'), file, n));
            }
        }
    }
    if dynamic {
        // The name is a run-time value: every variable-shaped literal of the file may be one.
        for (n, line) in code_lines(text) {
            for literal in literals(line).into_iter().filter(|l| variable_shaped(l)) {
                reads.push(Read::new(literal, false, file, n));
            }
        }
    }
    if let Some(n) = whole_environment {
        // The whole environment: the file must keep only a listed family (by its prefix) or
        // the listed variables (through `synthlab_db::environment`).
        let mut prefixes = Vec::new();
        for (_, line) in code_lines(text) {
            for (i, _) in line.match_indices("starts_with(") {
                if let Ok(Some(prefix)) = argument(&line[i + "starts_with(".len()..], constants) {
                    prefixes.push(prefix);
                }
            }
        }
        if text.contains("environment::") {
            prefixes.clear();
        } else if prefixes.is_empty() {
            return Err(format!(
                "{file}:{}: reads the whole environment without a filter",
                n + 1
            ));
        }
        reads.extend(prefixes.iter().map(|p| Read::new(p, true, file, n)));
    }
    Ok(reads)
}

/// The variables a shell script reads: names used (`$NAME`, `${NAME…}`) before the script sets
/// them. Quoted here-documents are not shell. `recipe` (a Makefile) writes `$$NAME`.
fn shell_reads(file: &str, text: &str, recipe: bool) -> Vec<Read> {
    let mut first_set: BTreeMap<String, usize> = BTreeMap::new();
    let mut first_used: BTreeMap<String, usize> = BTreeMap::new();
    let mut heredoc: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if let Some(end) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        let code = line.trim_start();
        if code.starts_with('#') {
            continue;
        }
        if let Some((_, tag)) = code.split_once("<<") {
            let tag = tag.trim_start_matches('-').trim().trim_matches(['\'', '"']);
            let tag: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !tag.is_empty() {
                heredoc = Some(tag);
            }
        }
        let dollar = if recipe { "$$" } else { "$" };
        for (i, _) in code.match_indices(dollar) {
            let rest = code[i + dollar.len()..].trim_start_matches('{');
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                first_used.entry(name).or_insert(n);
            }
        }
        // Assignments: `NAME=…` as a word (also after export/local/readonly), `read … NAMES`.
        let words: Vec<&str> = code
            .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
            .collect();
        for (w, word) in words.iter().enumerate() {
            if let Some((name, _)) = word.split_once('=')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                first_set.entry(name.to_owned()).or_insert(n);
            }
            if *word == "read" {
                for name in words[w + 1..].iter().take_while(|w| !w.starts_with('<')) {
                    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        first_set.entry((*name).to_owned()).or_insert(n);
                    }
                }
            }
        }
    }
    first_used
        .into_iter()
        .filter(|(name, used)| first_set.get(name).is_none_or(|set| set >= used))
        .map(|(name, used)| Read::new(&name, false, file, used))
        .collect()
}

/// The variables a Python helper reads.
fn python_reads(file: &str, text: &str) -> Vec<Read> {
    let mut reads = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for call in ["os.environ[\"", "os.environ.get(\"", "os.getenv(\""] {
            for (i, _) in line.match_indices(call) {
                if let Some((name, _)) = line[i + call.len()..].split_once('"') {
                    reads.push(Read::new(name, false, file, n));
                }
            }
        }
    }
    reads
}

/// Every variable read anywhere in the project.
fn project_reads() -> Vec<Read> {
    let sources = rust_sources();
    let constants = string_constants(&sources);
    let mut reads = Vec::new();
    let mut problems = Vec::new();
    for (file, text) in &sources {
        let library = !file.starts_with("tests/");
        match rust_reads(file, text, &constants, library) {
            Ok(found) => reads.extend(found),
            Err(problem) => problems.push(problem),
        }
    }
    assert!(problems.is_empty(), "reads the scan cannot name: {problems:?}");
    let mut scripts = vec![root().join(".ci/run")];
    scripts.extend(files_with(&["scripts"], "sh"));
    for script in scripts {
        let text = std::fs::read_to_string(&script).expect("read script");
        reads.extend(shell_reads(&relative(&script), &text, false));
    }
    let makefile = std::fs::read_to_string(root().join("Makefile")).expect("Makefile");
    reads.extend(shell_reads("Makefile", &makefile, true));
    for file in files_with(&["tests", "fixtures", "scripts"], "py") {
        let text = std::fs::read_to_string(&file).expect("read python");
        reads.extend(python_reads(&relative(&file), &text));
    }
    reads.sort();
    reads
}

#[test]
fn every_variable_read_anywhere_is_in_the_list() {
    let reads = project_reads();
    // The scan sees every way of reading (each of these is read in exactly that way today).
    let seen = |name: &str, family: bool| reads.iter().any(|r| r.name == name && r.family == family);
    for (name, family, how) in [
        ("PARITY_DATABASE_URL", false, "env::var with a literal"),
        ("SYNTHLAB_KILL_CHILD", false, "env::var with a constant"),
        (
            "BENCH_READS",
            false,
            "env::var with a run-time name (benches/cutover.rs)",
        ),
        ("SYNTHLAB_POOL_MAX_SIZE", false, "the configuration's lookups"),
        ("SYNTHLAB_ROUTE_", true, "env::vars_os filtered by a prefix"),
        ("SYNTHLAB_SHADOW_BUDGET_MS", false, "a SYNTHLAB_ literal of the library"),
        ("RUST_LOG", false, "EnvFilter::try_from_default_env"),
        ("BENCH_PG_URL", false, "a shell script"),
        ("PGPORT", false, "a shell script's nested default"),
        ("CARGO_MANIFEST_DIR", false, "env!"),
    ] {
        assert!(seen(name, family), "the scan missed {name} ({how}): {reads:#?}");
    }
    let unlisted: Vec<&Read> = reads.iter().filter(|r| !r.listed()).collect();
    assert!(
        unlisted.is_empty(),
        "read but not in synthlab_db::environment::VARIABLES: {unlisted:#?}"
    );
    // And the other way: nothing listed that nobody reads.
    let stale: Vec<&str> = VARIABLES
        .iter()
        .filter(|v| {
            !reads.iter().any(|r| {
                if v.family {
                    r.name.starts_with(v.name)
                } else {
                    r.name == v.name
                }
            })
        })
        .map(|v| v.name)
        .collect();
    assert!(stale.is_empty(), "listed but read nowhere: {stale:?}");
}

#[test]
fn the_scan_reports_reads_of_unlisted_variables() {
    let constants = BTreeMap::from([("HIDDEN".to_owned(), "SYNTHLAB_HIDDEN_KNOB".to_owned())]);
    let rust = "fn f() {\n    let a = std::env::var(\"SYNTHLAB_NEW_KNOB\");\n    // std::env::var(\"IN_A_COMMENT\")\n    \
                let b = std::env::var_os(HIDDEN);\n    let c = std::env::var(name);\n    let d = \"OTHER_NAME\";\n}\n";
    let reads = rust_reads("x.rs", rust, &constants, false).expect("scan");
    let names: BTreeSet<&str> = reads.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["SYNTHLAB_NEW_KNOB", "SYNTHLAB_HIDDEN_KNOB", "OTHER_NAME"]),
        "{reads:?}"
    );
    assert!(reads.iter().all(|r| !r.listed()));
    let err = rust_reads("x.rs", "let v = std::env::var(UNKNOWN_CONST);", &constants, false).expect_err("unresolved");
    assert!(err.contains("UNKNOWN_CONST"), "{err}");
    let unfiltered = "for (k, v) in std::env::vars() { println!(\"{k}\"); }";
    assert!(rust_reads("x.rs", unfiltered, &constants, false).is_err());
    let library = rust_reads("x.rs", "pub const X: &str = \"SYNTHLAB_SOMETHING\";", &constants, true).expect("scan");
    assert_eq!(library.len(), 1, "{library:?}");

    let script = "#!/bin/sh\nWORK=\"${WORK_DIR:-/tmp}\"\necho \"$WORK\"\nX=\"${1:-${X:-1}}\"\n\
                  cat <<'EOF'\n$NOT_SHELL\nEOF\nread -r A B < f\necho \"$A $B $LATE\"\nLATE=1\n";
    let names: BTreeSet<String> = shell_reads("s.sh", script, false).into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        BTreeSet::from(["WORK_DIR".to_owned(), "X".to_owned(), "LATE".to_owned()])
    );
    let python = "x = os.environ.get(\"SECRET_KNOB\", \"1\")\n";
    assert_eq!(python_reads("w.py", python)[0].name, "SECRET_KNOB");
}

/// The names `.env.example` documents: every `NAME=` line, commented out or not.
fn env_example_names() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(".env.example")).expect(".env.example");
    text.lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches('#').trim();
            let (name, _) = line.split_once('=')?;
            (!name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .then(|| name.to_owned())
        })
        .collect()
}

/// The README's table of variables (header `| variable | read by | meaning |`): name (a family
/// written `PREFIX_<PART>`) and the "read by" cell.
fn readme_table() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("| variable | read by | meaning |"));
    assert!(
        lines.next().is_some(),
        "README.md has no table `| variable | read by | meaning |`"
    );
    lines
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`');
            let name = name.split_once('<').map_or(name, |(prefix, _)| prefix);
            (name.to_owned(), cells[2].to_owned())
        })
        .collect()
}

fn reader_label(reader: Reader) -> &'static str {
    match reader {
        Reader::Library => "library",
        Reader::Cli => "CLI",
        Reader::Tests => "tests",
        Reader::Benchmarks => "benchmarks",
        Reader::Scripts => "scripts",
        Reader::TestChild | Reader::Cargo | Reader::System => "not documented",
    }
}

#[test]
fn env_example_documents_exactly_the_listed_variables() {
    let documented = env_example_names();
    let missing: Vec<&str> = VARIABLES
        .iter()
        .filter(|v| v.documented() && !documented.iter().any(|name| v.covers(name)))
        .map(|v| v.name)
        .collect();
    assert!(missing.is_empty(), ".env.example does not document {missing:?}");
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|name| environment::find(name).is_none_or(|v| !v.documented()))
        .collect();
    assert!(
        unknown.is_empty(),
        ".env.example documents unlisted variables {unknown:?}"
    );
}

#[test]
fn readme_table_lists_exactly_the_listed_variables_with_their_readers() {
    let table = readme_table();
    let listed: Vec<(String, String)> = VARIABLES
        .iter()
        .filter(|v| v.documented())
        .map(|v| (v.name.to_owned(), reader_label(v.reader).to_owned()))
        .collect();
    let table_set: BTreeSet<&(String, String)> = table.iter().collect();
    let listed_set: BTreeSet<&(String, String)> = listed.iter().collect();
    assert_eq!(table.len(), table_set.len(), "a row twice: {table:?}");
    let only_readme: Vec<_> = table_set.difference(&listed_set).collect();
    let only_listed: Vec<_> = listed_set.difference(&table_set).collect();
    assert!(
        only_readme.is_empty() && only_listed.is_empty(),
        "README's variable table has {only_readme:?} that the list has not, and lacks {only_listed:?} \
         (name, read by) of synthlab_db::environment::VARIABLES"
    );
}

#[test]
fn the_code_names_of_the_settings_and_routes_are_listed() {
    let library: Vec<&str> = VARIABLES
        .iter()
        .filter(|v| v.reader == Reader::Library)
        .map(|v| v.name)
        .collect();
    for (name, _) in synthlab_db::config::ENV_VARIABLES {
        assert!(library.contains(name), "{name} (config::ENV_VARIABLES) is not listed");
    }
    assert!(library.contains(&synthlab_db::observe::SLOW_CALL_ENV));
    let family = environment::find("SYNTHLAB_ROUTE_EXPERIMENTS").expect("the route family");
    assert!(family.family && family.name == synthlab_db::cutover::ROUTE_PREFIX);
    for repository in synthlab_db::cutover::REPOSITORIES {
        let name = format!("SYNTHLAB_ROUTE_{}", repository.to_ascii_uppercase());
        assert!(environment::find(&name).is_some(), "{name}");
    }
}
