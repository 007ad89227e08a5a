//! PostgreSQL facts for `synthlab-db doctor`.

use std::time::Instant;

use super::PgDb;
use crate::DatabaseConfig;
use crate::config::{PostgresConfig, SslMode};
use crate::doctor::Check;

/// The oldest server the migrations are written for.
const MIN_SERVER_VERSION_NUM: i32 = 130_000;

/// Appends pooler, server, TLS, pool and database facts.
pub(crate) async fn checks(db: &PgDb, config: &DatabaseConfig, checks: &mut Vec<Check>) {
    let DatabaseConfig::Postgres(config) = config else {
        return;
    };
    // First: without `pgbouncer=true` behind a transaction pooler, the checks below (named
    // statements) may fail, and this one says why.
    checks.push(pooler_check(config).await);
    let started = Instant::now();
    let row = match db.query_one("SELECT 1::int4 AS one", &[]).await {
        Ok(row) => row,
        Err(err) => {
            checks.push(Check::problem("round trip", "failed", err.to_string()));
            return;
        }
    };
    let one: i32 = row.try_get("one").unwrap_or(0);
    let round_trip = format!("{:.2} ms", started.elapsed().as_secs_f64() * 1000.0);
    checks.push(if one == 1 {
        Check::ok("round trip", round_trip)
    } else {
        Check::problem("round trip", round_trip, "SELECT 1 did not answer 1")
    });

    checks.push(
        match db
            .query_one(
                "SELECT current_setting('server_version') AS version,
                        current_setting('server_version_num')::int4 AS num,
                        current_user::text AS usr",
                &[],
            )
            .await
        {
            Err(err) => Check::problem("server", "unknown", err.to_string()),
            Ok(row) => {
                let version: String = row.try_get("version").unwrap_or_default();
                let num: i32 = row.try_get("num").unwrap_or(0);
                let user: String = row.try_get("usr").unwrap_or_default();
                let value = format!("PostgreSQL {version} (connected as {user})");
                if num < MIN_SERVER_VERSION_NUM {
                    Check::problem("server", value, "PostgreSQL 13 or newer is needed")
                } else {
                    Check::ok("server", value)
                }
            }
        },
    );

    checks.push(tls_check(db, config).await);

    let pool = db.pool_status();
    checks.push(Check::ok(
        "pool",
        format!(
            "max {}, open {}, idle {}, waiting {}; recycling {}{}, wait timeout {} s, create timeout {} s",
            pool.max_size,
            pool.open,
            pool.idle,
            pool.waiting,
            config.pool_recycling.as_str(),
            if config.pool_recycling == crate::config::PoolRecycling::Verified {
                format!(" (idle ≥ {} ms)", config.pool_verify_after.as_millis())
            } else {
                String::new()
            },
            config.pool_timeout.as_secs(),
            config.pool_create_timeout.as_secs(),
        ),
    ));

    checks.push(
        match db
            .query_one(
                "SELECT current_database()::text AS name, pg_encoding_to_char(d.encoding)::text AS encoding,
                        d.datcollate::text AS collate, d.datctype::text AS ctype,
                        to_jsonb(d) ->> 'datlocprovider' AS provider,
                        coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale') AS icu_locale
                 FROM pg_database d WHERE d.datname = current_database()",
                &[],
            )
            .await
        {
            Err(err) => Check::problem("database", "unknown", err.to_string()),
            Ok(row) => {
                let get = |column: &str| {
                    row.try_get::<_, Option<String>>(column)
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                };
                let provider = match get("provider").as_str() {
                    "i" => "icu",
                    "c" => "libc",
                    "b" => "builtin",
                    _ => "libc",
                };
                let icu = get("icu_locale");
                let locale = if icu.is_empty() {
                    String::new()
                } else {
                    format!(", locale {icu}")
                };
                let value = format!(
                    "{} (encoding {}, collation {} via {provider}{locale}, ctype {}; text columns use COLLATE \"C\")",
                    get("name"),
                    get("encoding"),
                    get("collate"),
                    get("ctype"),
                );
                if get("encoding") == "UTF8" {
                    Check::ok("database", value)
                } else {
                    Check::problem("database", value, "the database encoding must be UTF8")
                }
            }
        },
    );
}

async fn tls_check(db: &PgDb, config: &crate::config::PostgresConfig) -> Check {
    let tls = &config.tls;
    let verification = if tls.verifies_host() {
        "certificate chain and host name checked"
    } else if tls.verifies_chain() {
        "certificate chain checked, host name not"
    } else {
        "certificate not checked"
    };
    let row = db
        .query_opt(
            "SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await;
    let row = match row {
        Err(err) => return Check::problem("tls", "unknown", format!("cannot read pg_stat_ssl: {err}")),
        Ok(None) => return Check::problem("tls", "unknown", "pg_stat_ssl has no row for our connection"),
        Ok(Some(row)) => row,
    };
    let ssl: bool = row.try_get("ssl").unwrap_or(false);
    if ssl {
        let version: Option<String> = row.try_get("version").unwrap_or(None);
        let cipher: Option<String> = row.try_get("cipher").unwrap_or(None);
        let bits: Option<i32> = row.try_get("bits").unwrap_or(None);
        Check::ok(
            "tls",
            format!(
                "yes, {} {} ({} bits); sslmode={}, {verification}",
                version.unwrap_or_default(),
                cipher.unwrap_or_default(),
                bits.unwrap_or(0),
                tls.mode.as_str(),
            ),
        )
    } else {
        let value = format!("no (plain TCP or socket); sslmode={}", tls.mode.as_str());
        match tls.mode {
            SslMode::Disable | SslMode::Prefer => Check::ok("tls", value),
            _ => Check::problem(
                "tls",
                value,
                "the connection is not encrypted although sslmode asks for TLS",
            ),
        }
    }
}

/// How often the pooler probe lets two connections ask for their server session.
const POOLER_PROBES: usize = 5;

/// What the pooler probe saw.
enum Sessions {
    /// Each connection kept its own server session.
    Own,
    /// Two of our connections were served by one server session.
    Shared(i32),
    /// One connection was served by another server session in a later transaction.
    Moved(i32, i32),
}

/// Whether a transaction pooler sits between us and the server, and whether `pgbouncer=true`
/// says so.
///
/// Two connections of ours ask for their server session (`pg_backend_pid()`) in turn, a few
/// times, each question its own transaction. Connected directly, every connection has one
/// session for its whole life: its pid never changes and differs from the other's. Behind a
/// transaction pooler (PgBouncer's `pool_mode = transaction`) a server connection goes back to
/// the pool after each transaction: the next transaction of the same connection may get
/// another one (round robin), and the other connection may get the one just freed (PgBouncer's
/// default, most recently used first). Either is proof of transaction pooling, which is what
/// breaks named prepared statements. A session pooler keeps one session per client while it is
/// connected and is harmless. Unnamed statements only, so the probe works behind any pooler.
async fn pooler_check(config: &PostgresConfig) -> Check {
    const PROBE: &str = "SELECT pg_backend_pid(), inet_server_port()";
    let opened = tokio::try_join!(super::connect::connect(config), super::connect::connect(config));
    let (first, second) = match opened {
        Ok(pair) => pair,
        Err(err) => return Check::problem("pooler", "unknown", format!("cannot open two probe connections: {err}")),
    };
    let mut seen = Sessions::Own;
    let mut first_pid = None;
    let mut server_port = None;
    for _ in 0..POOLER_PROBES {
        // The first connection asks twice in a row, then the second: a pooler handing out
        // idle server sessions most-recently-used first shares one between the two, one
        // handing them out in turn (round robin) moves the first connection, even when it has
        // exactly two idle sessions to alternate between.
        let pids = async {
            let a = first.query_typed_one(PROBE, &[]).await?;
            let again = first.query_typed_one(PROBE, &[]).await?;
            let b = second.query_typed_one(PROBE, &[]).await?;
            server_port = a.try_get::<_, Option<i32>>(1)?;
            Ok::<_, crate::Error>((
                a.try_get::<_, i32>(0)?,
                again.try_get::<_, i32>(0)?,
                b.try_get::<_, i32>(0)?,
            ))
        }
        .await;
        let (a, again, b) = match pids {
            Ok(pids) => pids,
            Err(err) => return Check::problem("pooler", "unknown", format!("the probe failed: {err}")),
        };
        let earlier = *first_pid.get_or_insert(a);
        seen = if a == b || again == b {
            Sessions::Shared(b)
        } else if earlier != a {
            Sessions::Moved(earlier, a)
        } else if again != a {
            Sessions::Moved(a, again)
        } else {
            continue;
        };
        break;
    }
    let (_, url_port) = config.host_port();
    let forwarded = match server_port {
        Some(port) if i64::from(port) != i64::from(url_port) => {
            format!("; the server listens on port {port}, the URL names {url_port}")
        }
        _ => String::new(),
    };
    let pooled = match seen {
        Sessions::Own => None,
        Sessions::Shared(pid) => Some(format!("two connections shared server session {pid}")),
        Sessions::Moved(from, to) => Some(format!(
            "one connection moved from server session {from} to {to} between transactions"
        )),
    };
    match (pooled, config.pgbouncer) {
        (Some(how), true) => Check::ok(
            "pooler",
            format!("transaction pooler in front ({how}){forwarded}; pgbouncer=true"),
        ),
        (Some(how), false) => Check::problem(
            "pooler",
            format!("transaction pooler in front ({how}){forwarded}"),
            "a transaction pooler (PgBouncer or alike) sits in front of the server but pgbouncer=true is missing: \
             add it to the URL (or set SYNTHLAB_PGBOUNCER=1), otherwise named prepared statements fail \
             (prepared statement \"s1\" does not exist / already exists)",
        ),
        (None, true) => Check::ok(
            "pooler",
            format!(
                "none seen (each connection kept its own server session){forwarded}; pgbouncer=true \
                 (statements unnamed: connected directly, leaving it out is faster)"
            ),
        ),
        (None, false) => Check::ok(
            "pooler",
            format!("none seen (each connection kept its own server session){forwarded}"),
        ),
    }
}
