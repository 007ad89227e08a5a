//! A scratch database on the parity server (`PARITY_DATABASE_URL`) for tests that run the
//! binary against a database of their own; dropped again on drop. Also the one way these tests
//! read a finished command's output.

#![allow(dead_code)]

use std::process::Output;

/// The parity server's URL (default `postgres://postgres@127.0.0.1:5432/postgres`).
pub fn server_url() -> String {
    std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// stdout then stderr of a finished command.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh database `synthlab_<purpose>_<pid>`, with a runtime for the test's own connections.
pub struct ScratchDatabase {
    /// The database name.
    pub name: String,
    /// Its URL on the parity server.
    pub url: String,
    /// Runs the test's async calls (their connection tasks live on it).
    pub runtime: tokio::runtime::Runtime,
}

impl ScratchDatabase {
    /// Drops any leftover of the same name and creates the database.
    pub fn create(purpose: &str) -> ScratchDatabase {
        let name = format!("synthlab_{purpose}_{}", std::process::id());
        let base = server_url();
        let (server, _) = base.rsplit_once('/').expect("database in PARITY_DATABASE_URL");
        let database = ScratchDatabase {
            url: format!("{server}/{name}"),
            name,
            runtime: tokio::runtime::Runtime::new().expect("runtime"),
        };
        database.admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", database.name));
        database.admin(&format!("CREATE DATABASE {}", database.name));
        database
    }

    /// Runs one statement on the server's own database.
    pub fn admin(&self, sql: &str) {
        self.runtime.block_on(async {
            let client = synthlab_db::pg::connect_url(&server_url())
                .await
                .expect("PostgreSQL unreachable (PARITY_DATABASE_URL); start one: make pg-start");
            client.batch_execute(sql).await.expect("admin statement");
        });
    }

    /// A connection to this database, kept open by the caller.
    pub fn connect(&self) -> tokio_postgres::Client {
        self.runtime
            .block_on(synthlab_db::pg::connect_url(&self.url))
            .expect("connection to the scratch database")
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        self.admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}
