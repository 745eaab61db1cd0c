//! The service as Prometheus and a prober see it with `--metrics-addr`: its calls by
//! result (sign-ins refused, calls failed for want of the store), and the credential
//! store's state, with a real `redis-server` stopped under it.

use std::time::{Duration, Instant};

use crate::one_command::Running;

/// The status and body of `GET path` on `port`, and the content type.
async fn get(port: u16, path: &str) -> (u16, String, String) {
    let answer = crate::support::plain_http_client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .expect("answered");
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, answer.text().await.expect("a body"), content_type)
}

/// The value of the sample `series` (name and labels as written) in a scrape.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.local_addr().expect("an address").port()
}

const LOGIN_ALICE: &str = r#"[{"@auth_": {"Password": {"username": "alice", "password": "wonderland"}}}, {"fn.login": {}}]"#;
const LOGIN_WRONG: &str = r#"[{"@auth_": {"Password": {"username": "alice", "password": "not-hers"}}}, {"fn.login": {}}]"#;

#[tokio::test]
async fn metrics_show_refused_sign_ins_and_the_store_going_down_and_back() {
    let Some(mut redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    let metrics_port = free_port();
    let address = format!("127.0.0.1:{metrics_port}");
    let running = Running::start(
        "metrics",
        &["--redis", &redis.url(), "--metrics-addr", &address],
    );
    let signed_in = running.post(&[], LOGIN_ALICE).await;
    assert!(signed_in[1].get("Ok_").is_some(), "{signed_in}");
    let refused = running.post(&[], LOGIN_WRONG).await;
    assert!(
        refused[1].get("ErrorUnauthenticated_").is_some(),
        "{refused}"
    );

    let (status, text, content_type) = get(metrics_port, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, telepact::prometheus::CONTENT_TYPE);
    let login =
        |result: &str| format!(r#"telepact_calls_total{{function="fn.login",result="{result}"}}"#);
    assert_eq!(sample(&text, &login("Ok_")), Some(1.0), "{text}");
    assert_eq!(sample(&text, &login("ErrorUnauthenticated_")), Some(1.0));
    assert_eq!(sample(&text, "telepact_credential_store_up"), Some(1.0));
    assert!(
        text.contains("# HELP telepact_credential_store_up "),
        "{text}"
    );
    assert_eq!(get(metrics_port, "/readyz").await.0, 200);

    redis.kill();
    let failed = running.post(&[], LOGIN_ALICE).await;
    assert!(failed[1].get("ErrorUnknown_").is_some(), "{failed}");
    let text = get(metrics_port, "/metrics").await.1;
    assert_eq!(
        sample(&text, "telepact_credential_store_up"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(sample(&text, &login("ErrorUnknown_")), Some(1.0));
    assert_eq!(get(metrics_port, "/readyz").await.0, 503);
    assert_eq!(get(metrics_port, "/healthz").await.0, 200, "still live");

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = get(metrics_port, "/metrics").await.1;
        if sample(&text, "telepact_credential_store_up") == Some(1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "the store is up again: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
