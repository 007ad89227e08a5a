//! Deployment files: the Docker Compose file parses as YAML and has the keys a user relies
//! on. (`.env.example` and the environment variables: `environment.rs`.)

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
