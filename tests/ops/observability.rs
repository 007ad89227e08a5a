//! Observability: one span per repository call with backend, repository, method, rows and
//! duration; a warning above the slow-call threshold. (No password in any log line:
//! `tests/redaction.rs`, whose subscriber is global.)

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, ensure};
use synthlab_db::model::NewExperiment;
use synthlab_db::{BackendKind, DatabaseConfig, Store};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span or event as seen by the subscriber: its name (events: message), level and fields.
#[derive(Debug, Clone)]
pub struct Seen {
    pub name: String,
    pub level: Level,
    pub fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// Collects closed spans and events.
#[derive(Clone, Default)]
pub struct Capture {
    pub spans: Arc<Mutex<Vec<Seen>>>,
    pub events: Arc<Mutex<Vec<Seen>>>,
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let name = fields.0.get("message").cloned().unwrap_or_default();
        self.events.lock().expect("lock").push(Seen {
            name,
            level: *event.metadata().level(),
            fields: fields.0,
        });
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            let fields = span
                .extensions()
                .get::<Fields>()
                .map(|f| f.0.clone())
                .unwrap_or_default();
            self.spans.lock().expect("lock").push(Seen {
                name: span.name().to_owned(),
                level: *span.metadata().level(),
                fields,
            });
        }
    }
}

/// Every formatted log line, as a service's log file would hold them.
#[derive(Clone, Default)]
pub struct Lines(pub Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

impl Lines {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// Installs a TRACE-level subscriber on this thread: the capture layer plus formatted lines
/// (with span close events, as the CLI prints them).
pub fn capture() -> (Capture, Lines, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry()
        .with(capture.clone())
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(lines.clone())
                .with_ansi(false)
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE),
        )
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    let guard = tracing::subscriber::set_default(subscriber);
    (capture, lines, guard)
}

fn calls(capture: &Capture) -> Vec<Seen> {
    capture
        .spans
        .lock()
        .expect("lock")
        .iter()
        .filter(|s| s.name == "repository_call")
        .cloned()
        .collect()
}

fn field<'a>(seen: &'a Seen, name: &str) -> &'a str {
    seen.fields.get(name).map(String::as_str).unwrap_or("")
}

parity!(each_repository_call_has_one_span_with_its_facts, |db| {
    let (capture, lines, _guard) = capture();
    let repo = db.store.experiments();
    let created = repo.create(&NewExperiment::new("traced", "one span per call")).await?;
    repo.get(&created.id).await?;
    repo.get("exp_missing").await?;
    repo.soft_delete(&created.id).await?;
    let failed = repo.soft_delete(&created.id).await;
    ensure!(failed.is_err(), "deleting twice fails");

    let spans = calls(&capture);
    let methods: Vec<&str> = spans.iter().map(|s| field(s, "method")).collect();
    ensure!(
        methods == ["create", "get", "get", "soft_delete", "soft_delete"],
        "one span per call, in order: {methods:?}"
    );
    let backend = db.kind().as_str();
    for span in &spans {
        ensure!(span.level == Level::DEBUG, "{span:?}");
        ensure!(field(span, "backend") == backend, "{span:?}");
        ensure!(field(span, "repository") == "ExperimentRepository", "{span:?}");
        let ms: f64 = field(span, "duration_ms").parse().context("duration_ms recorded")?;
        ensure!((0.0..60_000.0).contains(&ms), "{span:?}");
    }
    let rows: Vec<&str> = spans.iter().map(|s| field(s, "rows")).collect();
    ensure!(rows == ["1", "1", "0", "1", "0"], "rows per call: {rows:?}");
    ensure!(
        field(&spans[4], "error") == "not found",
        "failed call records its error kind: {:?}",
        spans[4]
    );
    ensure!(field(&spans[0], "error").is_empty(), "{:?}", spans[0]);
    // The formatted output (what RUST_LOG=synthlab_db=debug prints) names the same facts.
    let text = lines.text();
    ensure!(
        text.lines().any(|l| l.contains("repository_call")
            && l.contains("method=\"create\"")
            && l.contains("rows=1")
            && l.contains("duration_ms=")),
        "{text}"
    );
    Ok(())
});

parity!(calls_warn_exactly_when_they_reach_the_slow_threshold, |db| {
    let config = match db.kind() {
        BackendKind::Sqlite => {
            let path = db.sqlite_path.clone().context("sqlite path")?;
            format!("sqlite://{}?slow_call_ms=0", path.display()).parse::<DatabaseConfig>()?
        }
        BackendKind::Postgres => {
            let mut pg = db.pg_config.clone().context("pg config")?;
            pg.slow_call = Duration::ZERO;
            DatabaseConfig::Postgres(pg)
        }
    };
    ensure!(config.slow_call() == Duration::ZERO);
    let slow_store = Store::connect(&config).await?;
    let threshold = db.store.config().slow_call();
    ensure!(
        threshold == synthlab_db::observe::DEFAULT_SLOW_CALL,
        "the case's store keeps the default"
    );
    let (capture, _lines, _guard) = capture();
    // Threshold 0: every call reaches it.
    slow_store.experiments().get("exp_missing").await?;
    // The default threshold: a call warns when, and only when, it took at least that long. A
    // loaded machine may make a call that slow, so call until one stays under it (at most 20).
    for _ in 0..20 {
        db.store.experiments().get("exp_missing").await?;
        let last = calls(&capture).last().map(|s| field(s, "duration_ms").parse::<f64>());
        if last.is_some_and(|ms| ms.is_ok_and(|ms| ms < threshold.as_secs_f64() * 1000.0)) {
            break;
        }
    }
    let spans = calls(&capture);
    let warnings: Vec<Seen> = capture
        .events
        .lock()
        .expect("lock")
        .iter()
        .filter(|e| e.name == "slow repository call")
        .cloned()
        .collect();
    let mut under = 0;
    for (i, span) in spans.iter().enumerate() {
        let threshold_ms = if i == 0 { 0 } else { threshold.as_millis() as u64 };
        let ms: f64 = field(span, "duration_ms").parse().context("duration_ms recorded")?;
        let warned: Vec<&Seen> = warnings
            .iter()
            .filter(|w| {
                field(w, "duration_ms") == field(span, "duration_ms")
                    && field(w, "threshold_ms") == threshold_ms.to_string()
            })
            .collect();
        let reached = ms >= threshold_ms as f64;
        under += usize::from(!reached);
        ensure!(
            warned.len() == usize::from(reached),
            "call {i} took {ms} ms against {threshold_ms} ms and logged {} warnings: {warnings:?}",
            warned.len()
        );
        if let Some(warning) = warned.first() {
            ensure!(warning.level == Level::WARN, "{warning:?}");
            ensure!(field(warning, "method") == "get" && field(warning, "repository") == "ExperimentRepository");
            ensure!(field(warning, "backend") == db.kind().as_str() && field(warning, "rows") == "0");
        }
    }
    ensure!(warnings.len() == spans.len() - under, "no other warning: {warnings:?}");
    ensure!(under >= 1, "no call of 20 stayed under {threshold:?}: {spans:?}");
    Ok(())
});

#[test]
fn slow_call_threshold_comes_from_url_then_environment_then_default() {
    let env_500 = |name: &str| (name == "SYNTHLAB_SLOW_CALL_MS").then(|| "250".to_owned());
    let none = |_: &str| None;
    let url = DatabaseConfig::parse_with_env("sqlite://x.db?slow_call_ms=7", &env_500).expect("url");
    let env = DatabaseConfig::parse_with_env("postgres://h/db", &env_500).expect("env");
    let default = DatabaseConfig::parse_with_env("sqlite://x.db", &none).expect("default");
    assert_eq!(url.slow_call(), Duration::from_millis(7));
    assert_eq!(env.slow_call(), Duration::from_millis(250));
    assert_eq!(default.slow_call(), synthlab_db::observe::DEFAULT_SLOW_CALL);
    let bad = DatabaseConfig::parse_with_env("sqlite://x.db", &|_: &str| Some("soon".to_owned()));
    assert_eq!(bad.expect_err("bad env").kind(), synthlab_db::ErrorKind::Config);
}
