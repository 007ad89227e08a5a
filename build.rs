//! Makes new or changed migration files take effect without `cargo clean`: refinery embeds
//! them at compile time, so the crate must be rebuilt when the folder changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=migrations/postgres");
}
