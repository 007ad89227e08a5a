//! `synthlab-db doctor`.

use std::process::ExitCode;

use synthlab_db::DatabaseConfig;

use super::Format;

/// Prints every fact `doctor` gathered and exits 1 when any of them is a problem.
pub(crate) async fn run(config: &DatabaseConfig, origin: &str, format: Format) -> anyhow::Result<ExitCode> {
    let report = synthlab_db::doctor::diagnose(config).await;
    match format {
        Format::Json => {
            let mut doc = serde_json::to_value(&report)?;
            doc["url_from"] = serde_json::Value::from(origin);
            doc["healthy"] = serde_json::Value::from(report.is_healthy());
            outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            outln!("{:<14} {}", "backend:", report.backend);
            outln!("{:<14} {} (from {origin})", "url:", report.url);
            for check in &report.checks {
                let mark = if check.problem.is_some() { "FAIL" } else { "ok" };
                outln!("{:<14} {} [{mark}]", format!("{}:", check.name), check.value);
            }
        }
    }
    let problems = report.problems();
    if problems.is_empty() {
        eprintln!("doctor: all checks passed");
        return Ok(ExitCode::SUCCESS);
    }
    for check in &problems {
        eprintln!(
            "doctor: {}: {}",
            check.name,
            check.problem.as_deref().unwrap_or_default()
        );
    }
    eprintln!("doctor: {} problem(s) found", problems.len());
    Ok(ExitCode::from(1))
}
