//! A throwaway PostgreSQL cluster for the tests that need their own server (TLS, restart).
//!
//! Built from the local binaries (`PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else
//! `pg_config --bindir`): `initdb` (as the `postgres` user when running as root — initdb
//! refuses root) into a fresh directory under /tmp, listening on a free port of 127.0.0.1
//! only, `ssl=on` with a server certificate for `localhost` signed by a test CA made here
//! with the `openssl` CLI. Stopped and removed on drop, also when a test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The certificates made for one cluster (PEM files).
pub struct Certs {
    /// The test CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// Another CA, which signed nothing the server uses.
    pub other_ca: PathBuf,
    /// Client certificate for the role `certuser`, signed by `ca`.
    pub client_cert: PathBuf,
    /// Its private key.
    pub client_key: PathBuf,
}

/// A running throwaway cluster; stopped and deleted on drop.
pub struct Cluster {
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// Certificates (the server's is for `localhost`).
    pub certs: Certs,
    bin: PathBuf,
    base: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn fail(what: &str, output: &Output) -> ! {
    panic!(
        "throwaway cluster: {what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn run(what: &str, command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("throwaway cluster: cannot run {what}: {e}"));
    if !output.status.success() {
        fail(what, &output);
    }
    output
}

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| {
                    let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                    let bin = e.path().join("bin");
                    bin.join("initdb").exists().then_some((v, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    match Command::new("pg_config").arg("--bindir").output() {
        Ok(out) if out.status.success() => PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        _ => panic!(
            "throwaway cluster: no PostgreSQL server binaries found (set PG_BIN, or install them: \
             apt-get install postgresql). These tests never skip."
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn openssl(dir: &Path, args: &[&str]) {
    run(
        &format!("openssl {}", args.first().copied().unwrap_or("")),
        Command::new("openssl").current_dir(dir).args(args),
    );
}

/// Makes a CA (`name`.crt/.key) with an EC P-256 key.
fn make_ca(dir: &Path, name: &str, cn: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// Makes a leaf certificate (`name`.crt/.key) signed by `ca`, with the given extensions.
fn make_leaf(dir: &Path, name: &str, cn: &str, ca: &str, extensions: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).expect("write extensions");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

impl Cluster {
    /// Creates and starts a cluster whose `pg_hba.conf` is `hba` (TCP lines; local socket
    /// access is always trust). `extra_roles` are created (LOGIN SUPERUSER, so that they can
    /// migrate the schema like `postgres`).
    pub fn start(hba: &str, extra_roles: &[&str]) -> Cluster {
        let bin = pg_bin();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("synthlab-pgtest-")
            .tempdir_in("/tmp")
            .expect("temp dir under /tmp");
        let base = dir.path().to_path_buf();
        let data = base.join("data");
        let certs_dir = base.join("certs");
        std::fs::create_dir_all(&certs_dir).expect("certs dir");
        std::fs::create_dir_all(base.join("sock")).expect("socket dir");

        make_ca(&certs_dir, "ca", "synthlab test CA");
        make_ca(&certs_dir, "other-ca", "synthlab other CA");
        make_leaf(
            &certs_dir,
            "server",
            "localhost",
            "ca",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
        );
        make_leaf(
            &certs_dir,
            "client",
            "certuser",
            "ca",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
        );

        if as_postgres {
            run(
                "chown",
                Command::new("chown").args(["-R", "postgres:postgres"]).arg(&base),
            );
        }
        let cluster = Cluster {
            port: free_port(),
            certs: Certs {
                ca: certs_dir.join("ca.crt"),
                other_ca: certs_dir.join("other-ca.crt"),
                client_cert: certs_dir.join("client.crt"),
                client_key: certs_dir.join("client.key"),
            },
            bin,
            base,
            data,
            as_postgres,
            _dir: dir,
        };
        cluster.as_owner(
            "initdb",
            &[
                "-D",
                cluster.data.to_str().expect("utf-8 path"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        for file in ["server.crt", "server.key", "ca.crt"] {
            std::fs::copy(certs_dir.join(file), cluster.data.join(file)).expect("copy certificate");
        }
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'ca.crt'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n",
            cluster.port,
            cluster.base.join("sock").display()
        );
        let mut existing = std::fs::read_to_string(cluster.data.join("postgresql.conf")).expect("read conf");
        existing.push_str(&conf);
        std::fs::write(cluster.data.join("postgresql.conf"), existing).expect("write conf");
        std::fs::write(
            cluster.data.join("pg_hba.conf"),
            format!("local all all trust\n{hba}\n"),
        )
        .expect("write pg_hba.conf");
        if as_postgres {
            run(
                "chown",
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&cluster.data),
            );
            run(
                "chmod",
                Command::new("chmod").arg("0600").arg(cluster.data.join("server.key")),
            );
        }
        cluster.start_server();
        for role in extra_roles {
            cluster.psql(&format!("CREATE ROLE {role} LOGIN SUPERUSER"));
        }
        cluster
    }

    fn as_owner(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir("/tmp");
        run(tool, &mut command)
    }

    /// Runs one SQL statement as `postgres` over the local socket.
    pub fn psql(&self, sql: &str) -> String {
        let out = run(
            "psql",
            Command::new(self.bin.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                ])
                .arg("-h")
                .arg(self.base.join("sock"))
                .args(["-p", &self.port.to_string(), "-c", sql]),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Starts the server (waits until it accepts connections).
    pub fn start_server(&self) {
        let log = self.base.join("server.log");
        self.as_owner(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().expect("utf-8 path"),
                "-l",
                log.to_str().expect("utf-8 path"),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
    }

    /// Stops the server (`-m fast`: sessions are disconnected, as in a restart).
    pub fn stop_server(&self) {
        self.as_owner(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().expect("utf-8 path"),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
            ],
        );
    }

    /// A URL for this cluster: `user@host:port/postgres?params`.
    pub fn url(&self, user: &str, host: &str, params: &str) -> String {
        let sep = if params.is_empty() { "" } else { "&" };
        format!(
            "postgres://{user}@{host}:{}/postgres?connect_timeout=5{sep}{params}",
            self.port
        )
    }

    /// The server log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data.to_string_lossy().into_owned();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "-t", "20", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .current_dir("/tmp")
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        // Give the postmaster a moment to release the directory before TempDir removes it.
        std::thread::sleep(Duration::from_millis(50));
    }
}
