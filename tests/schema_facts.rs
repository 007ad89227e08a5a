//! The build-time reader of the PostgreSQL migrations (`build/schema_facts.rs`, run by
//! `build.rs`): its unit tests run here, and the facts this build compiled in are the ones it
//! reads from the migrations now.

#[path = "../build/schema_facts.rs"]
mod schema_facts;

#[test]
fn the_compiled_facts_are_those_of_the_migrations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let schema = schema_facts::read_migrations(&schema_facts::up_scripts(&dir).expect("scripts")).expect("read");
    let tables: Vec<&str> = schema_facts::fk_order(&schema)
        .expect("order")
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(tables, synthlab_db::schema::TABLES);
    let timestamps: Vec<(&str, &str)> = schema
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.ty == schema_facts::Type::Timestamp)
                .map(|c| (t.name.as_str(), c.name.as_str()))
        })
        .collect();
    assert_eq!(timestamps, synthlab_db::schema::TIMESTAMP_COLUMNS);
}
