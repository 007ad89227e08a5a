//! A real PgBouncer in front of the test server: Debian's `pgbouncer` binary, started by the
//! test as an unprivileged user (the `postgres` user when the tests run as root: PgBouncer
//! refuses root) on a free port of 127.0.0.1, with a generated configuration in transaction
//! mode and a small pool (`default_pool_size = 4`), so that server connections are really
//! shared between client connections. The pool keeps its four server connections open and
//! hands them out in turn (`min_pool_size`, `server_round_robin`): even one client working
//! alone gets another server session for each transaction, so nothing that leans on session
//! state can pass by luck.
//!
//! Stopped when the value is dropped, and also when the test process dies: PgBouncer runs
//! under a small shell that stops it as soon as our end of its stdin pipe closes.
//!
//! A missing binary FAILS with the command that installs it: these tests never skip.

#![allow(dead_code)]

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Server connections per (database, user) pool.
pub const POOL_SIZE: u32 = 4;

/// The server PgBouncer forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Host of the PostgreSQL server.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The user PgBouncer logs in as (trust or the given password).
    pub user: String,
    /// That user's password, if the server asks for one.
    pub password: Option<String>,
}

impl Upstream {
    /// The server of a `postgres://` URL (such as `PARITY_DATABASE_URL`).
    pub fn from_url(raw: &str) -> Upstream {
        let url = url::Url::parse(raw).unwrap_or_else(|e| panic!("not a URL ({e})"));
        Upstream {
            host: url.host_str().unwrap_or("127.0.0.1").to_owned(),
            port: url.port().unwrap_or(5432),
            user: match url.username() {
                "" => "postgres".to_owned(),
                user => percent_decode(user),
            },
            password: url.password().map(percent_decode),
        }
    }

    /// The parity server (`PARITY_DATABASE_URL`, default 127.0.0.1:5432).
    pub fn parity() -> Upstream {
        Upstream::from_url(
            &std::env::var("PARITY_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        )
    }
}

/// A running PgBouncer; stopped on drop.
pub struct PgBouncer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    upstream: Upstream,
    watchdog: Child,
    stdin: Option<ChildStdin>,
    dir: tempfile::TempDir,
}

/// The `pgbouncer` binary, or a failure naming the command that installs it.
fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("PGBOUNCER") {
        return PathBuf::from(path);
    }
    let mut candidates: Vec<PathBuf> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| Path::new(dir).join("pgbouncer"))
        .collect();
    candidates.push(PathBuf::from("/usr/sbin/pgbouncer"));
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "\n\nPGBOUNCER TESTS: the pgbouncer binary is not installed.\n\
             Install it: apt-get install -y pgbouncer   (as root; .ci/run does this)\n\
             or set PGBOUNCER=/path/to/pgbouncer. These tests never skip.\n"
        )
    })
}

/// uid and gid of `postgres` when we are root (PgBouncer refuses to run as root).
fn unprivileged() -> Option<(u32, u32)> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("running as root, and no postgres user to run pgbouncer as (PgBouncer refuses root)");
    let fields: Vec<&str> = line.split(':').collect();
    Some((
        fields[2].parse().expect("uid of postgres"),
        fields[3].parse().expect("gid of postgres"),
    ))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl PgBouncer {
    /// Starts PgBouncer in front of `upstream`. `databases` are extra `[databases]` entries
    /// (`name = settings`, e.g. a `connect_query`); every other database name is forwarded
    /// as it is.
    pub fn start(upstream: &Upstream, databases: &[(String, String)]) -> PgBouncer {
        PgBouncer::start_sized(upstream, databases, POOL_SIZE)
    }

    /// As [`PgBouncer::start`], with `pool_size` server connections per pool.
    pub fn start_sized(upstream: &Upstream, databases: &[(String, String)], pool_size: u32) -> PgBouncer {
        let binary = binary();
        let dir = tempfile::Builder::new()
            .prefix("synthlab-pgbouncer-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let port = free_port();
        let server = format!("host={} port={}", upstream.host, upstream.port);
        let mut entries = String::new();
        for (name, settings) in databases {
            entries.push_str(&format!("{name} = {server} {settings}\n"));
        }
        let config = format!(
            "[databases]\n{entries}* = {server}\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {dir}/userlist.txt\n\
             pool_mode = transaction\ndefault_pool_size = {pool_size}\nmin_pool_size = {pool_size}\n\
             server_round_robin = 1\nmax_client_conn = 2000\n\
             server_idle_timeout = 10\nignore_startup_parameters = extra_float_digits\n\
             logfile = {dir}/pgbouncer.log\npidfile = {dir}/pgbouncer.pid\nadmin_users = {user}\n",
            dir = dir.path().display(),
            user = upstream.user,
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), config).expect("write pgbouncer.ini");
        std::fs::write(
            dir.path().join("userlist.txt"),
            format!(
                "{} {}\n",
                quote(&upstream.user),
                quote(upstream.password.as_deref().unwrap_or(""))
            ),
        )
        .expect("write userlist.txt");
        let account = unprivileged();
        if let Some((uid, gid)) = account {
            let status = Command::new("chown")
                .arg("-R")
                .arg(format!("{uid}:{gid}"))
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the PgBouncer directory failed");
        }
        // The shell stops PgBouncer when its stdin closes: on drop, or when this process dies.
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                "\"$0\" \"$1\" & pid=$!; read _ignored; kill -TERM $pid 2>/dev/null; wait $pid",
            ])
            .arg(&binary)
            .arg(dir.path().join("pgbouncer.ini"))
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = account {
            command.uid(uid).gid(gid);
        }
        let mut watchdog = command.spawn().expect("start pgbouncer");
        let stdin = watchdog.stdin.take();
        let bouncer = PgBouncer {
            port,
            upstream: upstream.clone(),
            watchdog,
            stdin,
            dir,
        };
        bouncer.wait_until_listening();
        bouncer
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen on 127.0.0.1:{} within 15 s; its log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A URL through PgBouncer as the upstream user, to `dbname`, with `params` (e.g.
    /// `pgbouncer=true`).
    pub fn url(&self, dbname: &str, params: &str) -> String {
        let mut url = url::Url::parse("postgres://127.0.0.1").expect("base URL");
        url.set_port(Some(self.port)).expect("port");
        url.set_username(&self.upstream.user).expect("user");
        url.set_password(self.upstream.password.as_deref()).expect("password");
        url.set_path(&format!("/{dbname}"));
        url.set_query((!params.is_empty()).then_some(params));
        url.to_string()
    }

    /// PgBouncer's log so far (for failure messages).
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.dir.path().join("pgbouncer.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // Closing the pipe makes the shell stop PgBouncer and exit.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.watchdog.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}
