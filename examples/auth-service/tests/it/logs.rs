//! No credential or token appears in any log line: every flow runs with logging at
//! `trace` captured, then the captured text is searched for each secret.

use crate::support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::{KEY_SECRET, Service, call, password_of};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Seconds past those in which a used refresh token is answered again.
fn past_the_reuse_grace(service: &Service) -> u64 {
    let grace = service.auth.config().refresh_reuse_grace;
    u64::try_from(grace).unwrap_or(0) + 1
}

fn text(answer: &support::Raw, field: &str) -> String {
    answer.payload()[field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let service = Service::start().await;
    let alice = format!("Basic {}", base64_pair("alice", password_of("alice")));
    let mut secrets = vec![
        password_of("alice").to_string(),
        "wrong-password-123".to_string(),
        String::from_utf8_lossy(KEY_SECRET).to_string(),
    ];

    let login = service
        .post(
            &[("authorization", &alice)],
            call("fn.login", json!({"session!": true})),
        )
        .await;
    let access = text(&login, "accessToken");
    let refresh = text(&login, "refreshToken");
    let csrf = text(&login, "csrfToken!");
    let cookie = login.set_cookie.clone().unwrap_or_default();
    let session_id = cookie["__Host-tp_session=".len()..]
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    secrets.extend([
        access.clone(),
        refresh.clone(),
        csrf.clone(),
        session_id.clone(),
    ]);

    let bearer = format!("Bearer {access}");
    service
        .post(&[("authorization", &bearer)], call("fn.me", json!({})))
        .await;
    let rotated = service
        .post(&[], call("fn.refresh", json!({"refreshToken": refresh})))
        .await;
    secrets.push(text(&rotated, "refreshToken"));
    secrets.push(text(&rotated, "accessToken"));
    // The replay, past the seconds in which a retry is answered, is refused and
    // logged, without the token.
    service.clock.advance_secs(past_the_reuse_grace(&service));
    service
        .post(&[], call("fn.refresh", json!({"refreshToken": refresh})))
        .await;

    let key = service
        .post(
            &[("authorization", &alice)],
            call(
                "fn.createApiKey",
                json!({"name": "logs", "scopes": ["profile:read"]}),
            ),
        )
        .await;
    let api_key = text(&key, "apiKey");
    secrets.push(api_key.clone());
    secrets.push(api_key.split('.').nth(1).unwrap_or_default().to_string());
    service
        .post(&[("x-api-key", &api_key)], call("fn.me", json!({})))
        .await;

    let wrong = format!("Basic {}", base64_pair("alice", "wrong-password-123"));
    service
        .post(&[("authorization", &wrong)], call("fn.me", json!({})))
        .await;
    service
        .post(
            &[("authorization", "Bearer eyJub3QiOiJ2YWxpZCJ9")],
            call("fn.me", json!({})),
        )
        .await;
    let cookie_header = format!("__Host-tp_session={session_id}");
    service
        .post(&[("cookie", &cookie_header)], call("fn.me", json!({})))
        .await;
    service
        .post(
            &[("cookie", &cookie_header), ("x-csrf-token", &csrf)],
            call("fn.logout", json!({})),
        )
        .await;
    secrets.push("eyJub3QiOiJ2YWxpZCJ9".to_string());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.lines()
            .any(|line| line.contains("credentials refused") && line.contains("address=127.0.0.1")),
        "the refusals are logged with the client's address:\n{logs}"
    );
    assert!(
        logs.contains("refresh token reused"),
        "the reuse is logged:\n{logs}"
    );
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret leaked into the logs:\n{logs}"
        );
    }
}

#[tokio::test]
async fn a_policy_refusal_names_the_missing_role_and_scope_in_the_log_only() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let service = Service::start().await;
    let carol = format!("Basic {}", base64_pair("carol", password_of("carol")));
    let listed = service
        .post(
            &[("authorization", &carol)],
            call("fn.listUsers", json!({})),
        )
        .await;
    let minted = service
        .post(
            &[("authorization", &carol)],
            call("fn.createApiKey", json!({"name": "k", "scopes": []})),
        )
        .await;
    for answer in [&listed, &minted] {
        assert_eq!(
            answer.message,
            json!([{}, {"ErrorUnauthorized_": {"message!": telepact_auth::NOT_PERMITTED}}])
        );
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let refusals: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("call refused by policy"))
        .collect();
    assert_eq!(refusals.len(), 2, "{logs}");
    assert!(refusals[0].contains(" INFO "), "{}", refusals[0]);
    assert!(
        refusals[0].contains(r#"function="fn.listUsers""#)
            && refusals[0].contains("user_id=u-carol")
            && refusals[0].contains(r#"missing_kind="role" missing="admin""#),
        "{}",
        refusals[0]
    );
    assert!(
        refusals[1].contains(r#"function="fn.createApiKey""#)
            && refusals[1].contains(r#"missing_kind="scope" missing="keys:write""#),
        "{}",
        refusals[1]
    );
    assert!(!logs.contains(password_of("carol")), "{logs}");
}

fn base64_pair(username: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
}
