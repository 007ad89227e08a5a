//! Deployment files: the Docker Compose file parses as YAML and has the keys a user relies
//! on; `.env.example` documents every environment variable the project reads.

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn compose_file_is_valid_yaml_with_a_healthchecked_postgres() {
    let text = std::fs::read_to_string(root().join("docker/docker-compose.postgres.yml")).expect("compose file");
    let docs = YamlLoader::load_from_str(&text).expect("valid YAML");
    assert_eq!(docs.len(), 1, "one document");
    let doc = &docs[0];
    let pg = &doc["services"]["postgres"];
    assert!(!pg.is_badvalue(), "services.postgres exists");
    let image = pg["image"].as_str().expect("image");
    assert!(image.starts_with("postgres:"), "{image}");
    let health = &pg["healthcheck"];
    let test: Vec<&str> = health["test"]
        .as_vec()
        .expect("healthcheck.test list")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(test.first().is_some_and(|t| t.starts_with("CMD")), "{test:?}");
    assert!(test.iter().any(|t| t.contains("pg_isready")), "{test:?}");
    for key in ["interval", "timeout"] {
        assert!(health[key].as_str().is_some(), "healthcheck.{key}");
    }
    assert!(health["retries"].as_i64().is_some_and(|r| r > 0), "healthcheck.retries");
    let env = &pg["environment"];
    for key in ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"] {
        assert!(env[key].as_str().is_some(), "environment.{key}");
    }
    let ports: Vec<&str> = pg["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(ports.iter().any(|p| p.ends_with(":5432")), "{ports:?}");
    assert!(
        ports.iter().all(|p| p.starts_with("127.0.0.1:")),
        "published on loopback only: {ports:?}"
    );
    let volume = pg["volumes"][0].as_str().expect("a data volume");
    let name = volume.split(':').next().expect("volume name");
    assert!(
        !doc["volumes"][name].is_badvalue(),
        "volume {name} declared at top level"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn env_example_documents_every_variable_the_project_reads() {
    let example = std::fs::read_to_string(root().join(".env.example")).expect(".env.example");
    // Names read through std::env::var / env lookups anywhere in the sources and tests.
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "examples"] {
        if root().join(dir).exists() {
            rust_files(&root().join(dir), &mut files);
        }
    }
    let mut names: Vec<String> = vec!["DATABASE_URL".into(), "SYNTHLAB_DB_PATH".into(), "RUST_LOG".into()];
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for (i, _) in text.match_indices("env::var(\"") {
            let rest = &text[i + "env::var(\"".len()..];
            if let Some(end) = rest.find('"') {
                names.push(rest[..end].to_owned());
            }
        }
    }
    names.extend(
        synthlab_db::config::ENV_VARIABLES
            .iter()
            .map(|(name, _)| (*name).to_owned()),
    );
    // Variables a test sets for its own child processes are not configuration.
    names.retain(|n| !n.starts_with("SYNTHLAB_TEST_") && n != "CARGO_MANIFEST_DIR");
    names.sort();
    names.dedup();
    let missing: Vec<&String> = names.iter().filter(|n| !example.contains(n.as_str())).collect();
    assert!(missing.is_empty(), ".env.example does not document {missing:?}");
    assert!(names.len() >= 12, "found {names:?}");
}
