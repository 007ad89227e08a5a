//! `synthlab-db`: the command-line face of the data layer.
//!
//! Exit codes: 0 success, 1 failure (database unreachable, check failed), 2 configuration or
//! usage error. `anyhow` is used only here, at the binary's edge.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(err) => {
            let code = match err.downcast_ref::<synthlab_db::Error>().map(synthlab_db::Error::kind) {
                Some(synthlab_db::ErrorKind::Config | synthlab_db::ErrorKind::InvalidInput) => 2,
                _ => 1,
            };
            // The crate's errors already carry their causes in the message: print it once,
            // behind one prefix. Other errors (I/O, JSON) print their chain.
            match err.downcast_ref::<synthlab_db::Error>() {
                Some(err) => eprintln!("error: {err}"),
                None => eprintln!("error: {err:#}"),
            }
            ExitCode::from(code)
        }
    }
}
