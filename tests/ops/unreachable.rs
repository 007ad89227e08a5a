//! A server that cannot be reached at startup: a clear Unavailable error within
//! `connect_timeout`, with the password redacted. No running PostgreSQL needed.

use std::time::{Duration, Instant};

use synthlab_db::{ErrorKind, Store};

fn assert_clear(err: &synthlab_db::Error, elapsed: Duration, limit: Duration) {
    let text = format!("{err} {err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{text}");
    assert!(elapsed < limit, "took {elapsed:?}, limit {limit:?}: {text}");
    assert!(!text.contains("hunter2"), "password leaked: {text}");
    assert!(
        err.to_string().contains("u:***@127.0.0.1"),
        "names the server, redacted: {err}"
    );
}

#[tokio::test]
async fn refused_connection_fails_at_once() {
    // "At once": far below the configured connect_timeout (a third of it), so a refused
    // connection is not waited out, however slow a loaded machine is to run the attempt.
    let connect_timeout = Duration::from_secs(30);
    let started = Instant::now();
    let err = Store::connect_url(&format!(
        "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout={}",
        connect_timeout.as_secs()
    ))
    .await
    .expect_err("nothing listens on port 1");
    assert_clear(&err, started.elapsed(), connect_timeout / 3);
}

#[tokio::test]
async fn silent_server_fails_within_connect_timeout() {
    // Accepts TCP connections and never answers, like a hung server or a firewall black hole.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    // The whole open (TLS attempt and prefer's plain retry included) is bounded by one
    // connect_timeout: never before it, and well before twice it (the margin, 2.5 s of a 3 s
    // timeout, absorbs a loaded machine but not a second full wait).
    let connect_timeout = Duration::from_secs(3);
    let started = Instant::now();
    let err = Store::connect_url(&format!(
        "postgres://u:hunter2@127.0.0.1:{port}/db?connect_timeout={}",
        connect_timeout.as_secs()
    ))
    .await
    .expect_err("the server never answers");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= connect_timeout,
        "gave up before connect_timeout: {elapsed:?}"
    );
    assert_clear(&err, elapsed, connect_timeout + Duration::from_millis(2500));
    assert!(
        err.to_string().contains("connect_timeout"),
        "says which limit ran out: {err}"
    );
    holder.abort();
}
