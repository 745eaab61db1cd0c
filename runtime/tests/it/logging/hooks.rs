//! What a failing hook logs: a bounded number of lines, each naming the call's function
//! (the start of a long one), as a failing handler's line does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use telepact::schema::Schema;
use telepact::{FunctionRouter, Server};

use super::run_logged_on;

/// A hook that fails on every call (an audit sink that is down, a hook refusing what a
/// client sends) logs within the failure lines, as a failing handler does: a flood of
/// calls writes a bounded number of `hook failed` lines, and the error hook hears of
/// every failure.
#[test]
fn a_flood_of_failing_hooks_logs_a_bounded_number_of_lines() {
    let reported = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&reported);
    let schema = Schema::from_text(r#"[{"fn.work": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_request(|_| Err("the audit log is full".into()))
        .on_response(|_| Err("the metrics sink is gone".into()))
        .on_error(move |_| {
            counted.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .expect("server builds");
    let ping = r#"[{}, {"fn.ping_": {}}]"#.to_string();
    let (lines, responses) = run_logged_on(&server, &vec![ping; 500]);
    assert!(responses.iter().all(|r| r.pointer("/1/Ok_").is_some()));
    assert_eq!(reported.load(Ordering::Relaxed), 1_000);
    let failed: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("hook failed"))
        .collect();
    // Ten lines a second; a slow machine may run the calls over a second boundary.
    assert!(
        !failed.is_empty() && failed.len() < 50,
        "{} lines, the first {:?}",
        failed.len(),
        failed.first()
    );
    // Each names the call's function, as a handler's failure does.
    assert!(
        failed
            .iter()
            .all(|line| line.contains(r#"function="fn.ping_""#)),
        "{failed:?}"
    );
    let left_out: u64 = failed
        .iter()
        .filter_map(|line| line.split("left_out=").nth(1))
        .filter_map(|count| count.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert!(left_out <= 1_000 - failed.len() as u64, "{failed:?}");
}

/// A failing hook's line names the function the client sent as the call's span does:
/// its start, however long the client made it.
#[test]
fn a_failing_hooks_line_keeps_the_start_of_a_long_function_name() {
    let schema = Schema::from_text(r#"[{"fn.work": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_request(|_| Err("the audit log is full".into()))
        .on_response(|_| Err("the metrics sink is gone".into()))
        .build()
        .expect("server builds");
    let long_name = format!("fn.{}", "F".repeat(200_000));
    let request = serde_json::json!([{}, {long_name.as_str(): {}}]).to_string();
    let (lines, _) = run_logged_on(&server, &[request]);
    let failed: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("hook failed"))
        .collect();
    assert_eq!(failed.len(), 2, "{lines:.300?}");
    for line in failed {
        assert!(line.contains("(200003 bytes)"), "{line:.300}");
        assert!(line.len() < 1_000, "a line of {} bytes", line.len());
    }
}

/// An on-error hook that panics is logged naming the call's function, as every other
/// line a call logs does (the start of a long one); the line named none.
#[test]
fn a_panicking_error_hooks_line_names_the_function() {
    let schema = Schema::from_text(r#"[{"fn.work": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .on_request(|_| Err("the audit log is full".into()))
        .on_error(|_| panic!("the alerting sink is gone"))
        .build()
        .expect("server builds");
    let long_name = format!("fn.{}", "F".repeat(200_000));
    let requests = [r#"[{}, {"fn.ping_": {}}]"#.to_string(), {
        serde_json::json!([{}, {long_name.as_str(): {}}]).to_string()
    }];
    let (lines, _) = run_logged_on(&server, &requests);
    let panicked: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("hook panicked"))
        .collect();
    assert_eq!(panicked.len(), 2, "{lines:.300?}");
    assert!(
        panicked[0].contains(r#"function="fn.ping_""#),
        "{panicked:?}"
    );
    assert!(
        panicked[1].contains("(200003 bytes)"),
        "{:.300}",
        panicked[1]
    );
    assert!(panicked[1].len() < 1_000, "a line of {}", panicked[1].len());
}
