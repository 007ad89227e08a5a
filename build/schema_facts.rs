//! The schema facts, read once from the PostgreSQL migrations at build time: the tables in
//! foreign-key order, the timestamp columns, and the copy's target description (column types,
//! NOT NULL, CHECK rules, the default a column missing from an older legacy layout takes,
//! foreign keys, the rows the migrations seed).
//!
//! `build.rs` runs [`read_migrations`] over `migrations/postgres/V<N>__<name>.sql` (oldest
//! first) and writes [`schema_rs`] and [`copy_spec_rs`] to `$OUT_DIR`; `src/schema/facts.rs`
//! and `src/copy/spec.rs` include them. `tests/schema_facts.rs` runs the unit tests below.
//!
//! This is a reader of OUR DDL subset, not an SQL parser: `CREATE TABLE`, `ALTER TABLE`
//! (`ADD`/`DROP`/`RENAME COLUMN`, `ALTER COLUMN … SET/DROP NOT NULL|DEFAULT`), `DROP TABLE`,
//! `CREATE [UNIQUE] INDEX` / `DROP INDEX` (indexes are not facts here: the copy reads their
//! definitions from the catalog) and `INSERT INTO … VALUES` (seed rows). Everything else —
//! another statement, type, default or CHECK shape — stops the build with the file, line and
//! a hint, so no fact is ever skipped silently. CHECK expressions are recognised by shape
//! (`col IN (…)`, `char_length(col) <= n`, `col ~ '^prefix[a-f0-9]{n}$'`, `col >= n`,
//! `col BETWEEN a AND b`, each optionally behind `col IS NULL OR`); the copy evaluates the
//! recognised rule in Rust (`src/copy/convert.rs`), and a test checks it agrees with
//! PostgreSQL on boundary values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A column type the copy knows (`ColType` in `src/copy/spec.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `text`.
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

impl Type {
    fn variant(self) -> &'static str {
        match self {
            Type::Text => "Text",
            Type::Int => "Int",
            Type::Float => "Float",
            Type::Timestamp => "Timestamp",
            Type::Json => "Json",
        }
    }
}

/// A recognised CHECK rule on one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `col IN ('a', 'b', …)`.
    OneOf(Vec<String>),
    /// `char_length(col) <= n`.
    MaxChars(usize),
    /// `col ~ '^<prefix>[a-f0-9]{n}$'`.
    HexId(String, usize),
    /// `col >= n`.
    AtLeast(f64),
    /// `col BETWEEN a AND b`.
    Between(f64, f64),
}

/// A column's default, as far as the copy can use it.
#[derive(Debug, Clone, PartialEq)]
pub enum Default {
    /// A literal (string or number), as text.
    Literal(String),
    /// Computed at insert time (`now()`, `CURRENT_TIMESTAMP`): not a fact of the source.
    Computed(String),
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Type,
    /// NOT NULL (primary key columns included).
    pub not_null: bool,
    /// DEFAULT.
    pub default: Option<Default>,
    /// CHECK.
    pub check: Option<Check>,
}

/// A single-column foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// Referencing column.
    pub column: String,
    /// Referenced table.
    pub parent: String,
    /// Referenced column (`None` until resolved to the parent's key).
    pub parent_column: Option<String>,
}

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Name.
    pub name: String,
    /// Columns in physical order.
    pub columns: Vec<Column>,
    /// Primary key columns.
    pub key: Vec<String>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
}

/// A row a migration inserts: `(column, value as text)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// Table.
    pub table: String,
    /// Values by column.
    pub values: Vec<(String, String)>,
}

impl Seed {
    /// The values in the table's column order (`None`: NULL). A column the row leaves out
    /// (one added later, say) takes its literal default, else NULL.
    ///
    /// # Errors
    /// A message naming a column the row leaves out that has a computed default (`now()`: not
    /// reproducible) or is NOT NULL without a default.
    pub fn ordered(&self, table: &Table) -> Result<Vec<Option<String>>, String> {
        table
            .columns
            .iter()
            .map(|column| {
                let given = self.values.iter().find(|(name, _)| *name == column.name);
                match (given, &column.default) {
                    (Some((_, value)), _) => Ok(Some(value.clone())),
                    (None, Some(Default::Literal(value))) => Ok(Some(value.clone())),
                    (None, None) if !column.not_null => Ok(None),
                    (None, _) => Err(format!(
                        "a seed row of {} leaves out {}, which would take a computed default or none",
                        self.table, column.name
                    )),
                }
            })
            .collect()
    }
}

/// The schema after every migration ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// Tables in creation order.
    pub tables: Vec<Table>,
    /// Seed rows in insertion order.
    pub seeds: Vec<Seed>,
}

impl Schema {
    fn table_mut(&mut self, name: &str) -> Result<&mut Table, String> {
        self.tables
            .iter_mut()
            .find(|t| t.name == name)
            .ok_or_else(|| format!("table {name} does not exist"))
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Table {
    fn column_mut(&mut self, name: &str) -> Result<&mut Column, String> {
        let table = self.name.clone();
        self.columns
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("column {table}.{name} does not exist"))
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An unquoted identifier or keyword, lower-cased (PostgreSQL folds them).
    Word(String),
    /// A `"quoted"` identifier, as written.
    Quoted(String),
    /// A `'string'` literal, unescaped.
    Str(String),
    /// A number literal.
    Num(String),
    /// Punctuation or an operator.
    Sym(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn tokenize(sql: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = line;
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(format!("line {at}: unterminated /* comment"));
                }
                i += 2;
            }
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    let Some(&n) = chars.get(i) else {
                        return Err(format!("line {at}: unterminated {c}quote"));
                    };
                    if n == '\n' {
                        line += 1;
                    }
                    if n == c {
                        if chars.get(i + 1) == Some(&c) {
                            text.push(c);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    text.push(n);
                    i += 1;
                }
                let tok = if c == '\'' { Tok::Str(text) } else { Tok::Quoted(text) };
                out.push(Token { tok, line: at });
            }
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let mut text = String::new();
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    text.push(chars[i]);
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Num(text),
                    line: at,
                });
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut text = String::new();
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                    text.push(chars[i].to_ascii_lowercase());
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word(text),
                    line: at,
                });
            }
            '$' => return Err(format!("line {at}: dollar-quoted text is outside the DDL subset")),
            _ => {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let sym = if ["::", "<=", ">=", "<>", "!=", "~*", "!~"].contains(&two.as_str()) {
                    two
                } else {
                    c.to_string()
                };
                i += sym.chars().count();
                out.push(Token {
                    tok: Tok::Sym(sym),
                    line: at,
                });
            }
        }
    }
    Ok(out)
}

/// Splits tokens into statements at top-level `;`.
fn statements(tokens: Vec<Token>) -> Vec<Vec<Token>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        if token.tok == Tok::Sym(";".into()) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(token);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn show(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        let piece = match &token.tok {
            Tok::Word(w) | Tok::Num(w) | Tok::Sym(w) => w.clone(),
            Tok::Quoted(q) => format!("\"{q}\""),
            Tok::Str(s) => format!("'{}'", s.replace('\'', "''")),
        };
        let glue = !out.is_empty()
            && !matches!(piece.as_str(), "(" | ")" | "," | "::")
            && !out.ends_with('(')
            && !out.ends_with("::");
        if glue {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Cursor

struct Cursor<'t> {
    tokens: &'t [Token],
    at: usize,
}

impl<'t> Cursor<'t> {
    fn new(tokens: &'t [Token]) -> Self {
        Cursor { tokens, at: 0 }
    }

    fn peek(&self) -> Option<&'t Tok> {
        self.tokens.get(self.at).map(|t| &t.tok)
    }

    fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    fn line(&self) -> usize {
        self.tokens.get(self.at).or(self.tokens.last()).map_or(0, |t| t.line)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w == word)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.is_word(word);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn eat_words(&mut self, words: &[&str]) -> bool {
        let hit = words
            .iter()
            .enumerate()
            .all(|(k, w)| matches!(self.tokens.get(self.at + k).map(|t| &t.tok), Some(Tok::Word(x)) if x == w));
        if hit {
            self.at += words.len();
        }
        hit
    }

    fn expect_word(&mut self, word: &str) -> Result<(), String> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected {}", word.to_uppercase())))
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Sym(s)) if s == sym);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn unexpected(&self, what: &str) -> String {
        let rest = show(&self.tokens[self.at.min(self.tokens.len())..]);
        format!("line {}: {what}, found `{}`", self.line(), truncate(&rest))
    }

    /// An identifier: a word or a quoted name.
    fn ident(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => {
                let name = w.clone();
                self.at += 1;
                Ok(name)
            }
            _ => Err(self.unexpected("expected a name")),
        }
    }

    /// A possibly schema-qualified name (`public.t` → `t`).
    fn table_name(&mut self) -> Result<String, String> {
        let mut name = self.ident()?;
        while self.eat_sym(".") {
            name = self.ident()?;
        }
        Ok(name)
    }

    /// The tokens inside the parenthesised group that starts here.
    fn group(&mut self) -> Result<&'t [Token], String> {
        if !self.eat_sym("(") {
            return Err(self.unexpected("expected ("));
        }
        let start = self.at;
        let mut depth = 1;
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Sym(s) if s == "(" => depth += 1,
                Tok::Sym(s) if s == ")" => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = &self.tokens[start..self.at];
                        self.at += 1;
                        return Ok(inner);
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
        Err(format!("line {}: unbalanced parentheses", self.line()))
    }

    /// A parenthesised list of names.
    fn name_list(&mut self) -> Result<Vec<String>, String> {
        let inner = self.group()?;
        split_commas(inner)
            .into_iter()
            .map(|part| {
                let mut c = Cursor::new(part);
                let name = c.ident()?;
                // Index column options (ASC/DESC, NULLS …) are not facts here.
                Ok(name)
            })
            .collect()
    }

    fn rest(&self) -> &'t [Token] {
        &self.tokens[self.at.min(self.tokens.len())..]
    }
}

fn truncate(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Splits at top-level commas.
fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match &token.tok {
            Tok::Sym(s) if s == "(" => depth += 1,
            Tok::Sym(s) if s == ")" => depth -= 1,
            Tok::Sym(s) if s == "," && depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        out.push(&tokens[start..]);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Statements

/// Reads migration scripts `(file name, SQL)`, oldest first, into the schema they leave.
///
/// # Errors
/// A message naming the file and line of the first statement, type, default or CHECK shape
/// outside the subset this reader knows.
pub fn read_migrations(scripts: &[(String, String)]) -> Result<Schema, String> {
    let mut schema = Schema::default();
    for (file, sql) in scripts {
        let tokens = tokenize(sql).map_err(|e| format!("{file}: {e}"))?;
        for statement in statements(tokens) {
            apply(&mut schema, &statement).map_err(|e| format!("{file}: {e}"))?;
        }
        resolve_foreign_keys(&mut schema).map_err(|e| format!("{file}: {e}"))?;
        for seed in &schema.seeds {
            let table = schema
                .table(&seed.table)
                .ok_or_else(|| format!("{file}: a seed row of {} outlived its table", seed.table))?;
            seed.ordered(table).map_err(|e| format!("{file}: {e}"))?;
        }
    }
    Ok(schema)
}

fn apply(schema: &mut Schema, statement: &[Token]) -> Result<(), String> {
    let mut c = Cursor::new(statement);
    if c.eat_words(&["create", "table"]) {
        create_table(schema, &mut c)
    } else if c.eat_words(&["alter", "table"]) {
        alter_table(schema, &mut c)
    } else if c.eat_words(&["drop", "table"]) {
        let if_exists = c.eat_words(&["if", "exists"]);
        for part in split_commas(c.rest()) {
            let name = Cursor::new(part).table_name()?;
            let before = schema.tables.len();
            schema.tables.retain(|t| t.name != name);
            if before == schema.tables.len() && !if_exists {
                return Err(format!("line {}: DROP TABLE {name}: no such table", c.line()));
            }
            schema.seeds.retain(|s| s.table != name);
        }
        Ok(())
    } else if c.eat_words(&["create", "index"])
        || c.eat_words(&["create", "unique", "index"])
        || c.eat_words(&["drop", "index"])
    {
        // Indexes are not facts of the copy's description (it reads their definitions from
        // the catalog); the drift check compares them.
        Ok(())
    } else if c.eat_words(&["insert", "into"]) {
        insert(schema, &mut c)
    } else {
        Err(c.unexpected(
            "a statement outside the DDL subset build/schema_facts.rs reads (CREATE/ALTER/DROP TABLE, \
             CREATE/DROP INDEX, INSERT … VALUES): teach it the statement",
        ))
    }
}

fn create_table(schema: &mut Schema, c: &mut Cursor<'_>) -> Result<(), String> {
    if c.eat_words(&["if", "not", "exists"]) {
        return Err(c.unexpected("CREATE TABLE IF NOT EXISTS leaves the schema unknown: use CREATE TABLE"));
    }
    let name = c.table_name()?;
    if schema.table(&name).is_some() {
        return Err(format!("line {}: table {name} created twice", c.line()));
    }
    let body = c.group()?;
    if !c.done() {
        return Err(c.unexpected("table options are outside the DDL subset"));
    }
    let mut table = Table {
        name,
        columns: Vec::new(),
        key: Vec::new(),
        foreign_keys: Vec::new(),
    };
    for element in split_commas(body) {
        let mut e = Cursor::new(element);
        if !table_constraint(&mut table, &mut e)? {
            let column = column_definition(&mut table, &mut e)?;
            table.columns.push(column);
        }
    }
    if table.key.is_empty() {
        return Err(format!("table {}: no primary key (the copy needs one)", table.name));
    }
    schema.tables.push(table);
    Ok(())
}

/// A table-level constraint, if `c` starts one.
fn table_constraint(table: &mut Table, c: &mut Cursor<'_>) -> Result<bool, String> {
    if c.eat_word("constraint") {
        c.ident()?;
    } else if !["primary", "unique", "foreign", "check", "exclude"]
        .iter()
        .any(|w| c.is_word(w))
    {
        return Ok(false);
    }
    if c.eat_words(&["primary", "key"]) {
        if !table.key.is_empty() {
            return Err(format!("table {}: two primary keys", table.name));
        }
        table.key = c.name_list()?;
        for name in table.key.clone() {
            table.column_mut(&name)?.not_null = true;
        }
    } else if c.eat_word("unique") {
        c.name_list()?;
    } else if c.eat_words(&["foreign", "key"]) {
        let columns = c.name_list()?;
        let [column] = columns.as_slice() else {
            return Err(format!(
                "table {}: foreign key ({}) has several columns; the copy handles single-column keys",
                table.name,
                columns.join(", ")
            ));
        };
        table.column_mut(column)?;
        let fk = references(c, column)?;
        table.foreign_keys.push(fk);
    } else if c.eat_word("check") {
        let expr = c.group()?;
        let (column, check) = recognise_check(expr, None)?;
        set_check(table, &column, check, expr)?;
    } else {
        return Err(c.unexpected("a table constraint outside the DDL subset"));
    }
    if !c.done() {
        return Err(c.unexpected("constraint options are outside the DDL subset"));
    }
    Ok(true)
}

fn set_check(table: &mut Table, column: &str, check: Check, expr: &[Token]) -> Result<(), String> {
    let table_name = table.name.clone();
    attach_check(&table_name, table.column_mut(column)?, check, expr)
}

/// Gives `column` its CHECK rule: one per column, and of a kind that fits its type.
fn attach_check(table: &str, column: &mut Column, check: Check, expr: &[Token]) -> Result<(), String> {
    let name = &column.name;
    if column.check.is_some() {
        return Err(format!(
            "{table}.{name}: a second CHECK ({}); the copy holds one rule per column",
            show(expr)
        ));
    }
    let fits = matches!(
        (&check, column.ty),
        (Check::OneOf(_) | Check::MaxChars(_) | Check::HexId(..), Type::Text)
            | (Check::AtLeast(_) | Check::Between(..), Type::Int | Type::Float)
    );
    if !fits {
        return Err(format!(
            "{table}.{name}: CHECK ({}) does not fit a {:?} column",
            show(expr),
            column.ty
        ));
    }
    column.check = Some(check);
    Ok(())
}

/// `REFERENCES parent [(column)] [ON DELETE …] [ON UPDATE …]`.
fn references(c: &mut Cursor<'_>, column: &str) -> Result<ForeignKey, String> {
    c.expect_word("references")?;
    let parent = c.table_name()?;
    let parent_column = if matches!(c.peek(), Some(Tok::Sym(s)) if s == "(") {
        let names = c.name_list()?;
        let [name] = names.as_slice() else {
            return Err(c.unexpected("a single referenced column"));
        };
        Some(name.clone())
    } else {
        None
    };
    loop {
        if c.eat_words(&["on", "delete"]) || c.eat_words(&["on", "update"]) {
            let known = c.eat_word("cascade")
                || c.eat_word("restrict")
                || c.eat_words(&["set", "null"])
                || c.eat_words(&["set", "default"])
                || c.eat_words(&["no", "action"]);
            if !known {
                return Err(c.unexpected("a referential action"));
            }
        } else {
            break;
        }
    }
    Ok(ForeignKey {
        column: column.to_owned(),
        parent,
        parent_column,
    })
}

const COLUMN_CONSTRAINT_WORDS: [&str; 9] = [
    "not",
    "null",
    "primary",
    "unique",
    "default",
    "check",
    "references",
    "constraint",
    "collate",
];

fn column_type(c: &mut Cursor<'_>) -> Result<Type, String> {
    let ty = if c.eat_word("text") {
        Type::Text
    } else if c.eat_word("bigint") || c.eat_word("int8") {
        Type::Int
    } else if c.eat_words(&["double", "precision"]) || c.eat_word("float8") {
        Type::Float
    } else if c.eat_word("timestamptz") || c.eat_words(&["timestamp", "with", "time", "zone"]) {
        Type::Timestamp
    } else if c.eat_word("jsonb") {
        Type::Json
    } else {
        return Err(c.unexpected(
            "a column type the copy knows (text, bigint, double precision, timestamptz, jsonb); \
             a new type needs a ColType in src/copy/spec.rs and a conversion in src/copy/convert.rs",
        ));
    };
    if matches!(c.peek(), Some(Tok::Sym(s)) if s == "[" || s == "(") {
        return Err(c.unexpected("arrays and type modifiers are outside the DDL subset"));
    }
    Ok(ty)
}

fn column_definition(table: &mut Table, c: &mut Cursor<'_>) -> Result<Column, String> {
    let name = c.ident()?;
    if table.column(&name).is_some() {
        return Err(format!("line {}: column {}.{name} defined twice", c.line(), table.name));
    }
    let ty = column_type(c)?;
    let mut column = Column {
        name: name.clone(),
        ty,
        not_null: false,
        default: None,
        check: None,
    };
    let mut checks = Vec::new();
    while !c.done() {
        if c.eat_word("constraint") || c.eat_word("collate") {
            c.ident()?;
        } else if c.eat_words(&["not", "null"]) {
            column.not_null = true;
        } else if c.eat_word("null") {
        } else if c.eat_words(&["primary", "key"]) {
            if !table.key.is_empty() {
                return Err(format!("table {}: two primary keys", table.name));
            }
            table.key = vec![name.clone()];
            column.not_null = true;
        } else if c.eat_word("unique") {
        } else if c.eat_word("default") {
            column.default = Some(default_value(c)?);
        } else if c.eat_word("check") {
            checks.push(c.group()?);
        } else if c.is_word("references") {
            let fk = references(c, &name)?;
            table.foreign_keys.push(fk);
        } else {
            return Err(c.unexpected(&format!("a constraint of column {}.{name}", table.name)));
        }
    }
    for expr in checks {
        let (read, check) = recognise_check(expr, Some(&name))?;
        if read != name {
            return Err(format!(
                "{}.{name}: its CHECK ({}) reads column {read}; write it as a table constraint",
                table.name,
                show(expr)
            ));
        }
        attach_check(&table.name, &mut column, check, expr)?;
    }
    Ok(column)
}

/// The tokens of a DEFAULT expression: up to the next column constraint.
fn default_value(c: &mut Cursor<'_>) -> Result<Default, String> {
    let start = c.at;
    let mut depth = 0;
    while let Some(tok) = c.peek() {
        match tok {
            Tok::Sym(s) if s == "(" => depth += 1,
            Tok::Sym(s) if s == ")" => depth -= 1,
            Tok::Word(w) if depth == 0 && COLUMN_CONSTRAINT_WORDS.contains(&w.as_str()) => break,
            _ => {}
        }
        c.at += 1;
    }
    let expr = &c.tokens[start..c.at];
    // A literal, optionally cast (`'active'::text`, `0`, `-1.5`).
    let uncast = match expr.iter().position(|t| t.tok == Tok::Sym("::".into())) {
        Some(at) => &expr[..at],
        None => expr,
    };
    let toks: Vec<&Tok> = uncast.iter().map(|t| &t.tok).collect();
    match toks.as_slice() {
        [Tok::Str(s)] => Ok(Default::Literal(s.clone())),
        [Tok::Num(n)] => Ok(Default::Literal(n.clone())),
        [Tok::Sym(sign), Tok::Num(n)] if sign == "-" => Ok(Default::Literal(format!("-{n}"))),
        [Tok::Word(w), Tok::Sym(open), Tok::Sym(close)] if w == "now" && open == "(" && close == ")" => {
            Ok(Default::Computed(show(expr)))
        }
        [Tok::Word(w)] if w == "current_timestamp" => Ok(Default::Computed(show(expr))),
        _ => Err(format!(
            "line {}: DEFAULT {} is neither a literal nor now(); teach build/schema_facts.rs what a \
             column missing from an older legacy layout should get",
            expr.first().map_or(0, |t| t.line),
            show(expr)
        )),
    }
}

fn alter_table(schema: &mut Schema, c: &mut Cursor<'_>) -> Result<(), String> {
    c.eat_words(&["if", "exists"]);
    c.eat_word("only");
    let mut name = c.table_name()?;
    schema.table_mut(&name)?;
    for action in split_commas(c.rest()) {
        let mut a = Cursor::new(action);
        if a.eat_word("add") {
            a.eat_word("column");
            if a.eat_words(&["if", "not", "exists"]) {
                return Err(a.unexpected("ADD COLUMN IF NOT EXISTS leaves the schema unknown"));
            }
            let table = schema.table_mut(&name)?;
            if !table_constraint(table, &mut a)? {
                let column = column_definition(table, &mut a)?;
                table.columns.push(column);
            }
        } else if a.eat_word("drop") {
            a.eat_word("column");
            let if_exists = a.eat_words(&["if", "exists"]);
            let column = a.ident()?;
            if !a.eat_word("cascade") {
                a.eat_word("restrict");
            }
            let table = schema.table_mut(&name)?;
            if table.key.contains(&column) {
                return Err(format!("line {}: dropping key column {name}.{column}", a.line()));
            }
            let before = table.columns.len();
            table.columns.retain(|col| col.name != column);
            if before == table.columns.len() && !if_exists {
                return Err(format!(
                    "line {}: DROP COLUMN {name}.{column}: no such column",
                    a.line()
                ));
            }
            table.foreign_keys.retain(|fk| fk.column != column);
            for seed in schema.seeds.iter_mut().filter(|s| s.table == name) {
                seed.values.retain(|(c, _)| *c != column);
            }
        } else if a.eat_words(&["rename", "to"]) {
            let new = a.ident()?;
            rename_table(schema, &name, &new)?;
            name = new;
        } else if a.eat_word("rename") {
            a.eat_word("column");
            let old = a.ident()?;
            a.expect_word("to")?;
            let new = a.ident()?;
            rename_column(schema, &name, &old, &new)?;
        } else if a.eat_word("alter") {
            a.eat_word("column");
            let column = a.ident()?;
            let col = schema.table_mut(&name)?.column_mut(&column)?;
            if a.eat_words(&["set", "not", "null"]) {
                col.not_null = true;
            } else if a.eat_words(&["drop", "not", "null"]) {
                col.not_null = false;
            } else if a.eat_words(&["set", "default"]) {
                col.default = Some(default_value(&mut a)?);
            } else if a.eat_words(&["drop", "default"]) {
                col.default = None;
            } else {
                return Err(a.unexpected("ALTER COLUMN … SET/DROP NOT NULL or SET/DROP DEFAULT"));
            }
        } else {
            return Err(a.unexpected("an ALTER TABLE action the reader knows (ADD, DROP, RENAME, ALTER COLUMN)"));
        }
        if !a.done() {
            return Err(a.unexpected("the end of the ALTER TABLE action"));
        }
    }
    Ok(())
}

fn rename_table(schema: &mut Schema, old: &str, new: &str) -> Result<(), String> {
    if schema.table(new).is_some() {
        return Err(format!("RENAME {old} TO {new}: {new} exists"));
    }
    schema.table_mut(old)?.name = new.to_owned();
    for fk in schema.tables.iter_mut().flat_map(|t| &mut t.foreign_keys) {
        if fk.parent == old {
            fk.parent = new.to_owned();
        }
    }
    for seed in schema.seeds.iter_mut().filter(|s| s.table == old) {
        seed.table = new.to_owned();
    }
    Ok(())
}

fn rename_column(schema: &mut Schema, table_name: &str, old: &str, new: &str) -> Result<(), String> {
    let table = schema.table_mut(table_name)?;
    if table.column(new).is_some() {
        return Err(format!("RENAME COLUMN {table_name}.{old} TO {new}: {new} exists"));
    }
    table.column_mut(old)?.name = new.to_owned();
    for key in table.key.iter_mut().filter(|k| *k == old) {
        *key = new.to_owned();
    }
    for fk in table.foreign_keys.iter_mut().filter(|fk| fk.column == old) {
        fk.column = new.to_owned();
    }
    for fk in schema.tables.iter_mut().flat_map(|t| &mut t.foreign_keys) {
        if fk.parent == table_name && fk.parent_column.as_deref() == Some(old) {
            fk.parent_column = Some(new.to_owned());
        }
    }
    for seed in schema.seeds.iter_mut().filter(|s| s.table == table_name) {
        for (column, _) in seed.values.iter_mut().filter(|(c, _)| c == old) {
            *column = new.to_owned();
        }
    }
    Ok(())
}

fn insert(schema: &mut Schema, c: &mut Cursor<'_>) -> Result<(), String> {
    let name = c.table_name()?;
    let columns = c.name_list()?;
    c.expect_word("values")?;
    let table = schema
        .table(&name)
        .ok_or_else(|| format!("line {}: INSERT INTO {name}: no such table", c.line()))?;
    let mut seeds = Vec::new();
    loop {
        let row = c.group()?;
        let values: Vec<String> = split_commas(row)
            .into_iter()
            .map(
                |value| match value.iter().map(|t| &t.tok).collect::<Vec<_>>().as_slice() {
                    [Tok::Str(s)] => Ok(s.clone()),
                    [Tok::Num(n)] => Ok(n.clone()),
                    _ => Err(format!(
                        "line {}: seed value {} is not a literal",
                        value.first().map_or(0, |t| t.line),
                        show(value)
                    )),
                },
            )
            .collect::<Result<_, _>>()?;
        if values.len() != columns.len() {
            return Err(format!(
                "line {}: INSERT INTO {name}: {} values for {} columns",
                c.line(),
                values.len(),
                columns.len()
            ));
        }
        if let Some(unknown) = columns.iter().find(|n| table.column(n).is_none()) {
            return Err(format!("line {}: INSERT INTO {name}: no column {unknown}", c.line()));
        }
        seeds.push(Seed {
            table: name.clone(),
            values: columns.iter().cloned().zip(values).collect(),
        });
        if !c.eat_sym(",") {
            break;
        }
    }
    // `ON CONFLICT … DO NOTHING` keeps the seed idempotent; anything else changes rows.
    if c.eat_words(&["on", "conflict"]) {
        if matches!(c.peek(), Some(Tok::Sym(s)) if s == "(") {
            c.name_list()?;
        }
        c.expect_word("do")?;
        c.expect_word("nothing")?;
    }
    if !c.done() {
        return Err(c.unexpected("the end of the INSERT (… ON CONFLICT … DO NOTHING at most)"));
    }
    schema.seeds.extend(seeds);
    Ok(())
}

fn resolve_foreign_keys(schema: &mut Schema) -> Result<(), String> {
    let keys: BTreeMap<String, (Vec<String>, Vec<String>)> = schema
        .tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                (t.key.clone(), t.columns.iter().map(|c| c.name.clone()).collect()),
            )
        })
        .collect();
    for table in &mut schema.tables {
        for fk in &mut table.foreign_keys {
            let Some((key, columns)) = keys.get(&fk.parent) else {
                return Err(format!(
                    "{}.{} references {}, which does not exist",
                    table.name, fk.column, fk.parent
                ));
            };
            match &fk.parent_column {
                Some(column) if !columns.contains(column) => {
                    return Err(format!(
                        "{}.{} references {}.{column}, which does not exist",
                        table.name, fk.column, fk.parent
                    ));
                }
                Some(_) => {}
                None => match key.as_slice() {
                    [column] => fk.parent_column = Some(column.clone()),
                    _ => {
                        return Err(format!(
                            "{}.{} references {} without naming a column",
                            table.name, fk.column, fk.parent
                        ));
                    }
                },
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CHECK shapes

/// Recognises a CHECK expression; returns the column it reads and its rule.
fn recognise_check(expr: &[Token], column: Option<&str>) -> Result<(String, Check), String> {
    let unknown = || {
        format!(
            "line {}: CHECK ({}) has a shape build/schema_facts.rs does not know (col IN (…), \
             char_length(col) <= n, col ~ '^prefix[a-f0-9]{{n}}$', col >= n, col BETWEEN a AND b, \
             each optionally behind `col IS NULL OR`): teach it the shape and src/copy/convert.rs its rule{}",
            expr.first().map_or(0, |t| t.line),
            show(expr),
            column.map_or(String::new(), |c| format!(" (column {c})"))
        )
    };
    let expr = strip_parens(expr);
    // `col IS NULL OR <rule>`: NULL passes a CHECK anyway.
    let parts = split_word(expr, "or");
    if parts.len() == 2 {
        let null_test: Vec<&Tok> = parts[0].iter().map(|t| &t.tok).collect();
        if let [name, Tok::Word(is), Tok::Word(null)] = null_test.as_slice()
            && is == "is"
            && null == "null"
            && let Some(name) = ident_of(name)
        {
            let (read, check) = recognise_check(parts[1], column)?;
            if read != name {
                return Err(unknown());
            }
            return Ok((read, check));
        }
        return Err(unknown());
    }
    if parts.len() > 2 {
        return Err(unknown());
    }
    let toks: Vec<&Tok> = expr.iter().map(|t| &t.tok).collect();
    let shape = match toks.as_slice() {
        [name, Tok::Word(w), ..] if w == "in" => {
            let name = ident_of(name).ok_or_else(unknown)?;
            let mut c = Cursor::new(&expr[2..]);
            let list = c.group().map_err(|_| unknown())?;
            if !c.done() {
                return Err(unknown());
            }
            let values = split_commas(list)
                .into_iter()
                .map(|v| match v.iter().map(|t| &t.tok).collect::<Vec<_>>().as_slice() {
                    [Tok::Str(s)] => Ok(s.clone()),
                    _ => Err(unknown()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            (name, Check::OneOf(values))
        }
        [
            Tok::Word(f),
            Tok::Sym(open),
            name,
            Tok::Sym(close),
            Tok::Sym(le),
            Tok::Num(n),
        ] if (f == "char_length" || f == "length") && open == "(" && close == ")" && le == "<=" => {
            let name = ident_of(name).ok_or_else(unknown)?;
            (name, Check::MaxChars(n.parse().map_err(|_| unknown())?))
        }
        [name, Tok::Sym(op), Tok::Str(pattern)] if op == "~" => {
            let name = ident_of(name).ok_or_else(unknown)?;
            let (prefix, digits) = hex_id_pattern(pattern).ok_or_else(unknown)?;
            (name, Check::HexId(prefix, digits))
        }
        [name, Tok::Sym(op), rest @ ..] if op == ">=" => {
            let name = ident_of(name).ok_or_else(unknown)?;
            (name, Check::AtLeast(number(rest).ok_or_else(unknown)?))
        }
        [name, Tok::Word(between), ..] if between == "between" => {
            let name = ident_of(name).ok_or_else(unknown)?;
            let bounds = split_word(&expr[2..], "and");
            let [low, high] = bounds.as_slice() else {
                return Err(unknown());
            };
            let tok_of = |part: &[Token]| part.iter().map(|t| t.tok.clone()).collect::<Vec<_>>();
            let (low, high) = (number_of(&tok_of(low)), number_of(&tok_of(high)));
            match (low, high) {
                (Some(low), Some(high)) => (name, Check::Between(low, high)),
                _ => return Err(unknown()),
            }
        }
        _ => return Err(unknown()),
    };
    Ok(shape)
}

fn ident_of(tok: &Tok) -> Option<String> {
    match tok {
        Tok::Word(w) | Tok::Quoted(w) => Some(w.clone()),
        _ => None,
    }
}

fn number(rest: &[&Tok]) -> Option<f64> {
    number_of(&rest.iter().map(|t| (*t).clone()).collect::<Vec<_>>())
}

fn number_of(toks: &[Tok]) -> Option<f64> {
    match toks {
        [Tok::Num(n)] => n.parse().ok(),
        [Tok::Sym(sign), Tok::Num(n)] if sign == "-" => n.parse::<f64>().ok().map(|v| -v),
        [Tok::Sym(open), inner @ .., Tok::Sym(close)] if open == "(" && close == ")" => number_of(inner),
        _ => None,
    }
}

/// `^<prefix>[a-f0-9]{n}$` → (prefix, n); the prefix is letters, digits and `_` only.
fn hex_id_pattern(pattern: &str) -> Option<(String, usize)> {
    let inner = pattern.strip_prefix('^')?.strip_suffix('$')?;
    let (prefix, rest) = inner.split_once("[a-f0-9]{")?;
    let digits = rest.strip_suffix('}')?.parse().ok()?;
    prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then(|| (prefix.to_owned(), digits))
}

/// Removes parentheses that enclose the whole expression.
fn strip_parens(mut expr: &[Token]) -> &[Token] {
    loop {
        let open = matches!(expr.first().map(|t| &t.tok), Some(Tok::Sym(s)) if s == "(");
        let close = matches!(expr.last().map(|t| &t.tok), Some(Tok::Sym(s)) if s == ")");
        if !(open && close) {
            return expr;
        }
        let mut depth = 0;
        for (i, token) in expr.iter().enumerate() {
            match &token.tok {
                Tok::Sym(s) if s == "(" => depth += 1,
                Tok::Sym(s) if s == ")" => {
                    depth -= 1;
                    if depth == 0 && i + 1 < expr.len() {
                        return expr;
                    }
                }
                _ => {}
            }
        }
        expr = &expr[1..expr.len() - 1];
    }
}

/// Splits at a top-level keyword (`OR`, `AND`).
fn split_word<'t>(expr: &'t [Token], word: &str) -> Vec<&'t [Token]> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, token) in expr.iter().enumerate() {
        match &token.tok {
            Tok::Sym(s) if s == "(" => depth += 1,
            Tok::Sym(s) if s == ")" => depth -= 1,
            Tok::Word(w) if w == word && depth == 0 => {
                out.push(&expr[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&expr[start..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Order

/// The tables parents first: the order the migrations create them in, each table moved after
/// the tables its foreign keys point to (self-references aside).
///
/// # Errors
/// A message naming the tables of a foreign-key cycle.
pub fn fk_order(schema: &Schema) -> Result<Vec<&Table>, String> {
    let mut placed: Vec<&Table> = Vec::new();
    let mut left: Vec<&Table> = schema.tables.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            t.foreign_keys
                .iter()
                .all(|fk| fk.parent == t.name || placed.iter().any(|p| p.name == fk.parent))
        });
        let Some(ready) = ready else {
            let names: Vec<&str> = left.iter().map(|t| t.name.as_str()).collect();
            return Err(format!("foreign keys form a cycle among {}", names.join(", ")));
        };
        placed.push(left.remove(ready));
    }
    Ok(placed)
}

// ---------------------------------------------------------------------------------------------
// Generated Rust

const HEADER: &str =
    "// Generated by build.rs from migrations/postgres (reader: build/schema_facts.rs). Do not edit.\n";

/// `TABLES`, `TIMESTAMP_COLUMNS` and `JSON_COLUMNS`, included by `src/schema/facts.rs`.
///
/// # Errors
/// As [`fk_order`].
pub fn schema_rs(schema: &Schema) -> Result<String, String> {
    let ordered = fk_order(schema)?;
    let mut out = String::from(HEADER);
    let _ = writeln!(
        out,
        "/// The {n} tables of the schema, parents before children (the order to load data in).\n\
         pub const TABLES: [&str; {n}] = [",
        n = ordered.len()
    );
    for table in &ordered {
        let _ = writeln!(out, "    {:?},", table.name);
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Columns holding timestamps (`timestamptz` in the PostgreSQL migrations), in creation order.\n\
         /// SQLite stores them as canonical text (its type says only `TEXT`); a parity test checks\n\
         /// this list against both catalogs.\n\
         pub const TIMESTAMP_COLUMNS: &[(&str, &str)] = &[\n",
    );
    for table in &schema.tables {
        for column in table.columns.iter().filter(|c| c.ty == Type::Timestamp) {
            let _ = writeln!(out, "    ({:?}, {:?}),", table.name, column.name);
        }
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Columns holding JSON documents (`jsonb` in the PostgreSQL migrations), in creation order.\n\
         /// SQLite stores them as JSON text, as the legacy application writes and reads them.\n\
         pub const JSON_COLUMNS: &[(&str, &str)] = &[\n",
    );
    for table in &schema.tables {
        for column in table.columns.iter().filter(|c| c.ty == Type::Json) {
            let _ = writeln!(out, "    ({:?}, {:?}),", table.name, column.name);
        }
    }
    out.push_str("];\n");
    Ok(out)
}

/// `SPECS` and `SEED_ROWS`, included by `src/copy/spec.rs` (whose types they name).
///
/// # Errors
/// As [`fk_order`].
pub fn copy_spec_rs(schema: &Schema) -> Result<String, String> {
    let ordered = fk_order(schema)?;
    let mut out = String::from(HEADER);
    let _ = writeln!(
        out,
        "/// The {n} tables in foreign-key order (the order of [`crate::schema::TABLES`]).\n\
         pub(crate) const SPECS: [TableSpec; {n}] = [",
        n = ordered.len()
    );
    for table in &ordered {
        let _ = writeln!(
            out,
            "    TableSpec {{\n        name: {:?},\n        key: &{:?},",
            table.name, table.key
        );
        out.push_str("        columns: &[\n");
        for column in &table.columns {
            let check = match &column.check {
                None => "Check::None".to_owned(),
                Some(Check::OneOf(values)) => format!("Check::OneOf(&{values:?})"),
                Some(Check::MaxChars(n)) => format!("Check::MaxChars({n})"),
                Some(Check::HexId(prefix, n)) => format!("Check::HexId({prefix:?}, {n})"),
                Some(Check::AtLeast(min)) => format!("Check::AtLeast({min:?})"),
                Some(Check::Between(low, high)) => format!("Check::Between({low:?}, {high:?})"),
            };
            let missing = match (&column.default, column.not_null) {
                (Some(Default::Literal(text)), _) => format!("Missing::Text({text:?})"),
                (None | Some(Default::Computed(_)), true) => "Missing::Required".to_owned(),
                (None | Some(Default::Computed(_)), false) => "Missing::Null".to_owned(),
            };
            let _ = writeln!(
                out,
                "            ColumnSpec {{ name: {:?}, ty: ColType::{}, not_null: {}, check: {check}, missing: {missing} }},",
                column.name,
                column.ty.variant(),
                column.not_null
            );
        }
        out.push_str("        ],\n        foreign_keys: &[\n");
        for fk in &table.foreign_keys {
            let _ = writeln!(
                out,
                "            ForeignKey {{ column: {:?}, parent: {:?}, parent_column: {:?} }},",
                fk.column,
                fk.parent,
                fk.parent_column.as_deref().unwrap_or_default()
            );
        }
        out.push_str("        ],\n    },\n");
    }
    out.push_str("];\n\n/// The rows the migrations insert.\npub(crate) const SEED_ROWS: &[SeedRow] = &[\n");
    for seed in &schema.seeds {
        let table = schema
            .table(&seed.table)
            .ok_or_else(|| format!("a seed row of {} outlived its table", seed.table))?;
        let _ = writeln!(
            out,
            "    SeedRow {{ table: {:?}, values: &{:?} }},",
            seed.table,
            seed.ordered(table)?
        );
    }
    out.push_str("];\n");
    Ok(out)
}

/// The up scripts of a migrations folder (`V<N>__<name>.sql`, not `.down.sql`), oldest first,
/// as `(file name, SQL)`.
///
/// # Errors
/// A message for an unreadable folder or file, or a file name outside the pattern.
pub fn up_scripts(dir: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    let mut scripts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()).map(str::to_owned) else {
            continue;
        };
        if !file.ends_with(".sql") || file.ends_with(".down.sql") {
            continue;
        }
        let version: u64 = file
            .strip_prefix('V')
            .and_then(|rest| rest.split_once("__"))
            .and_then(|(v, _)| v.parse().ok())
            .ok_or_else(|| format!("{file}: not a V<N>__<name>.sql migration"))?;
        let sql = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        scripts.push((version, file, sql));
    }
    scripts.sort_by_key(|(version, _, _)| *version);
    Ok(scripts.into_iter().map(|(_, file, sql)| (file, sql)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Result<Schema, String> {
        read_migrations(&[("V1__test.sql".to_owned(), sql.to_owned())])
    }

    fn migrations() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        up_scripts(&dir).expect("migrations")
    }

    #[test]
    fn the_migrations_are_read() {
        let schema = read_migrations(&migrations()).expect("the migrations are in the subset");
        assert_eq!(schema.tables.len(), 17);
        let experiments = schema.table("experiments").expect("experiments");
        assert_eq!(experiments.key, ["id"]);
        let status = experiments.column("status").expect("status");
        assert_eq!(
            status.check,
            Some(Check::OneOf(vec!["active".into(), "deleted".into()]))
        );
        assert_eq!(status.default, Some(Default::Literal("active".into())));
        assert!(status.not_null);
        let name = experiments.column("name").expect("name");
        assert_eq!(name.check, Some(Check::MaxChars(100)));
        let transcripts = schema.table("transcripts").expect("transcripts");
        assert_eq!(transcripts.column("timestamp").map(|c| c.ty), Some(Type::Timestamp));
        let explorations = schema.table("explorations").expect("explorations");
        assert_eq!(
            explorations.column("id").and_then(|c| c.check.clone()),
            Some(Check::HexId("expl_".into(), 8))
        );
        assert_eq!(
            explorations.column("best_success_rate").and_then(|c| c.check.clone()),
            Some(Check::Between(0.0, 1.0))
        );
        assert_eq!(
            explorations.column("total_nodes").and_then(|c| c.check.clone()),
            Some(Check::AtLeast(0.0))
        );
        let cache = schema.table("analysis_cache").expect("analysis_cache");
        assert_eq!(cache.key, ["analysis_id", "cache_key"]);
        assert_eq!(
            cache.column("computed_at").and_then(|c| c.default.clone()),
            Some(Default::Computed("now()".into()))
        );
        let nodes = schema.table("scenario_nodes").expect("scenario_nodes");
        assert!(nodes.foreign_keys.iter().any(|fk| fk.parent == "scenario_nodes"));
        assert_eq!(schema.seeds.len(), 1);
        let groups = schema.table("synth_groups").expect("synth_groups");
        assert_eq!(
            schema.seeds[0].ordered(groups).expect("seed")[0].as_deref(),
            Some("grp_00000001")
        );
    }

    #[test]
    fn tables_come_parents_first() {
        let schema = read(
            "CREATE TABLE child (id text PRIMARY KEY, parent_id text REFERENCES parent (id));
             CREATE TABLE parent (id text PRIMARY KEY, up text REFERENCES parent);",
        );
        // PostgreSQL would refuse this script (parent does not exist yet), but a later
        // ALTER TABLE … ADD COLUMN can point at any table: the order is a topological sort.
        let schema = schema.expect("read");
        let names: Vec<&str> = fk_order(&schema)
            .expect("order")
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["parent", "child"]);
        assert_eq!(schema.tables[1].foreign_keys[0].parent_column.as_deref(), Some("id"));
        let cycle = read(
            "CREATE TABLE a (id text PRIMARY KEY, b_id text REFERENCES b (id));
             CREATE TABLE b (id text PRIMARY KEY, a_id text REFERENCES a (id));",
        )
        .expect("read");
        assert!(fk_order(&cycle).unwrap_err().contains("cycle"));
    }

    #[test]
    fn later_migrations_change_the_facts() {
        let schema = read_migrations(&[
            (
                "V1__a.sql".into(),
                "CREATE TABLE t (id text PRIMARY KEY, old bigint NOT NULL DEFAULT 0, gone text);
                 INSERT INTO t (id, old, gone) VALUES ('a', 7, 'x');"
                    .into(),
            ),
            (
                "V2__b.sql".into(),
                "ALTER TABLE t ADD COLUMN note text CHECK (char_length(note) <= 10);
                 ALTER TABLE t DROP COLUMN gone;
                 ALTER TABLE t RENAME COLUMN old TO counter;
                 ALTER TABLE t ALTER COLUMN counter DROP NOT NULL, ALTER COLUMN counter SET DEFAULT -1;
                 ALTER TABLE t ADD COLUMN seen_at timestamptz;"
                    .into(),
            ),
        ])
        .expect("read");
        let t = schema.table("t").expect("t");
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "counter", "note", "seen_at"]);
        let seed = &schema.seeds[0];
        let values = seed.ordered(t).expect("seed");
        assert_eq!(values, [Some("a".to_owned()), Some("7".to_owned()), None, None]);
        let counter = t.column("counter").expect("counter");
        assert!(!counter.not_null);
        assert_eq!(counter.default, Some(Default::Literal("-1".into())));
        assert_eq!(
            t.column("note").and_then(|c| c.check.clone()),
            Some(Check::MaxChars(10))
        );
        let code = schema_rs(&schema).expect("code");
        assert!(code.contains("(\"t\", \"seen_at\")"), "{code}");
    }

    #[test]
    fn unknown_shapes_stop_the_build() {
        let cases = [
            ("CREATE TABLE t (id text PRIMARY KEY CHECK (id <> ''));", "shape"),
            ("CREATE TABLE t (id text PRIMARY KEY CHECK (id ~ '^[A-Z]+$'));", "shape"),
            ("CREATE TABLE t (id text PRIMARY KEY, n bigint CHECK (n > 0));", "shape"),
            (
                "CREATE TABLE t (id text PRIMARY KEY, a bigint, b bigint, CHECK (a < b));",
                "shape",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY, n bigint CHECK (n >= 0 AND n < 9));",
                "shape",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY, n bigint CHECK (char_length(n) <= 3));",
                "fit",
            ),
            ("CREATE TABLE t (id text PRIMARY KEY, n integer);", "column type"),
            ("CREATE TABLE t (id text PRIMARY KEY, n text[]);", "arrays"),
            (
                "CREATE TABLE t (id text PRIMARY KEY, n bigint DEFAULT 1 + 1);",
                "DEFAULT",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY); UPDATE t SET id = 'x';",
                "statement",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY); ALTER TABLE t ALTER COLUMN id TYPE bigint;",
                "ALTER COLUMN",
            ),
            ("CREATE TABLE t (id text);", "primary key"),
            (
                "CREATE TABLE t (a text, b text, PRIMARY KEY (a, b), FOREIGN KEY (a, b) REFERENCES u (x, y));",
                "single-column",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY, u text REFERENCES nowhere (id));",
                "does not exist",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY); INSERT INTO t (id) VALUES (now());",
                "literal",
            ),
            (
                "CREATE TABLE t (id text PRIMARY KEY); INSERT INTO t (id) VALUES ('a');
                 ALTER TABLE t ADD COLUMN at timestamptz NOT NULL DEFAULT now();",
                "computed default",
            ),
        ];
        for (sql, expected) in cases {
            let err = read(sql).expect_err(sql);
            assert!(err.contains(expected), "{sql}: {err}");
            assert!(err.starts_with("V1__test.sql"), "{err}");
        }
    }

    #[test]
    fn recognised_shapes() {
        let schema = read(
            "CREATE TABLE t (
               id text PRIMARY KEY CHECK (id ~ '^t_[a-f0-9]{4}$'),
               kind text NOT NULL DEFAULT 'a'::text CHECK (kind IN ('a', 'b''s')),
               n bigint CHECK (n IS NULL OR n BETWEEN -1 AND 10),
               f double precision,
               CHECK (f >= 0.5)
             );
             INSERT INTO t (kind, id, n, f) VALUES ('a', 't_0000', '1', 1.5) ON CONFLICT (id) DO NOTHING;",
        )
        .expect("read");
        let t = schema.table("t").expect("t");
        assert_eq!(
            t.column("id").and_then(|c| c.check.clone()),
            Some(Check::HexId("t_".into(), 4))
        );
        assert_eq!(
            t.column("kind").and_then(|c| c.check.clone()),
            Some(Check::OneOf(vec!["a".into(), "b's".into()]))
        );
        assert_eq!(
            t.column("n").and_then(|c| c.check.clone()),
            Some(Check::Between(-1.0, 10.0))
        );
        assert_eq!(t.column("f").and_then(|c| c.check.clone()), Some(Check::AtLeast(0.5)));
        let values = schema.seeds[0].ordered(t).expect("seed");
        assert_eq!(values, ["t_0000", "a", "1", "1.5"].map(|v| Some(v.to_owned())));
        let code = copy_spec_rs(&schema).expect("code");
        assert!(code.contains("Check::OneOf(&[\"a\", \"b's\"])"), "{code}");
        assert!(code.contains("missing: Missing::Text(\"a\")"), "{code}");
    }
}
