//! Credentials in the NATS server's URL (`nats://user:password@host`, as nats.go and
//! the nats CLI take them): the connection is made with them, and no log line holds
//! them.

use std::time::Duration;

use telepact::nats;
use telepact_test_support::NatsServer;

use crate::log_capture::Capture;

/// The password reaches no log line, debug ones included, where async-nats's connector
/// wrote the URL whole (`password: Some(..)`) on every attempt, and the connection is
/// made as the URL's user, where async-nats 0.52 dropped the URL's credentials and
/// retried, refused, without end.
#[tokio::test]
async fn credentials_in_the_url_connect_and_are_never_logged() {
    const PASSWORD: &str = "s3cret-pa55";
    let Some(nats_server) = NatsServer::start_requiring("worker", PASSWORD) else {
        return;
    };
    let capture = Capture::default();
    let _logged = tracing::subscriber::set_default(capture.clone());
    let url = format!("nats://worker:{PASSWORD}@127.0.0.1:{}", nats_server.port());
    let client = nats::connect(&url, Duration::from_secs(2))
        .await
        .expect("a valid URL");
    let flushed = tokio::time::timeout(Duration::from_secs(5), client.flush()).await;
    let lines = capture.lines();
    let logged: Vec<_> = lines
        .iter()
        .filter(|line| line.contains(PASSWORD))
        .collect();
    assert!(logged.is_empty(), "the password was logged: {logged:?}");
    assert!(matches!(flushed, Ok(Ok(()))), "connected as the URL's user");
}
