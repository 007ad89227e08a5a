//! Startup probe for `make bench-repo`: starts like a service (runtime, configuration from the
//! environment, `Store::connect` with its migration check), answers one repository query, prints
//! `answered` and exits. The benchmark times it from process start to that line.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, _) = synthlab_db::DatabaseConfig::resolve(None)?;
    let store = synthlab_db::Store::connect(&config).await?;
    let found = store.experiments().get("exp_100000").await?;
    println!("answered ({})", if found.is_some() { "found" } else { "none" });
    Ok(())
}
