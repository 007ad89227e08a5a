//! The `synthlab-db` binary as the tests run it: nothing the library or the binary reads from
//! the environment (`synthlab_db::environment::VARIABLES`: `DATABASE_URL`, every
//! `SYNTHLAB_*` setting and route, `RUST_LOG`) is inherited from the shell that started the
//! tests, so a developer's exported routing variables cannot change a result. A test sets what
//! it needs with `.env(…)` afterwards.

#![allow(dead_code)]

use std::process::Command;

use synthlab_db::environment::{self, Reader};

/// A command running the `synthlab-db` binary in a clean environment.
pub fn synthlab_db() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_synthlab-db"));
    clear_configuration(&mut command);
    command
}

/// Removes from `command`'s environment every variable of the process environment that the
/// library or the binary reads.
pub fn clear_configuration(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let read = name
            .to_str()
            .and_then(environment::find)
            .is_some_and(|v| matches!(v.reader, Reader::Library | Reader::Cli));
        if read {
            command.env_remove(name);
        }
    }
}
