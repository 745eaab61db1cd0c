use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use telepact::ClientOptions;

use super::*;

/// `telepact demo-server --port 0 --unavailable-rate 0 ...`: no random outages unless
/// `extra` sets a rate.
fn start_demo(extra: &[&str]) -> RunningServer {
    let mut command = telepact_command();
    command.args(["demo-server", "--port", "0", "--host", "127.0.0.1"]);
    if !extra.contains(&"--unavailable-rate") {
        command.args(["--unavailable-rate", "0"]);
    }
    command.args(extra);
    RunningServer::spawn(command)
}

#[test]
fn takes_its_port_from_the_reference_environment_variable() {
    let mut command = telepact_command();
    command
        .args(["demo-server", "--host", "127.0.0.1"])
        .env("MOCK_SERVER_PORT", "0");
    let demo = RunningServer::spawn(command);
    let pong = Caller::of(&demo).call(json!({"fn.ping_": {}}));
    assert_eq!(pong, OK());
}

/// Calls the demo as the tutorials do, one JSON message at a time.
struct Caller {
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl Caller {
    fn of(demo: &RunningServer) -> Caller {
        Caller {
            client: Client::http(&demo.url("http"), ClientOptions::default()).unwrap(),
            runtime: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    /// The answer's body to `body` with no headers.
    fn call(&self, body: Value) -> Value {
        self.call_with(json!({}), body)
    }

    /// The answer's body to `[headers, body]`.
    fn call_with(&self, headers: Value, body: Value) -> Value {
        self.runtime
            .block_on(call_with(&self.client, headers, body))
    }

    /// The answer's body to `body` with `@auth_` naming `username` for this call only.
    fn call_as(&self, username: &str, body: Value) -> Value {
        let auth = json!({"@auth_": {"Ephemeral": {"username": username}}});
        self.call_with(auth, body)
    }

    fn call_in_session(&self, token: &str, body: Value) -> Value {
        self.call_with(json!({"@auth_": {"Session": {"token": token}}}), body)
    }

    fn login(&self, username: &str) -> String {
        let answer = self.call(json!({"fn.login": {"username": username}}));
        let token = answer["Ok_"]["token"].as_str();
        token
            .unwrap_or_else(|| panic!("no token in {answer}"))
            .to_string()
    }
}

fn constant(value: f64) -> Value {
    json!({"Constant": {"value": value}})
}

fn variable(name: &str) -> Value {
    json!({"Variable": {"name": name}})
}

fn operation(operator: &str, left: Value, right: Value) -> Value {
    json!({operator: {"left": left, "right": right}})
}

fn evaluate(expression: Value) -> Value {
    json!({"fn.evaluate": {"expression": expression}})
}

fn names_and_values(answer: &Value) -> Vec<(String, f64)> {
    let variables = answer["Ok_"]["variables"].as_array().expect("variables");
    let pair = |variable: &Value| {
        let name = variable["name"].as_str().unwrap().to_string();
        (name, variable["value"].as_f64().unwrap())
    };
    variables.iter().map(pair).collect()
}

const OK: fn() -> Value = || json!({"Ok_": {}});

#[test]
fn serves_the_calculator_the_tutorials_call() {
    let demo = start_demo(&[]);
    let caller = Caller::of(&demo);
    let api = caller.call(json!({"fn.api_": {}}));
    let definitions = api["Ok_"]["api"].as_array().expect("the schema");
    let defines = |name: &str| definitions.iter().any(|entry| entry.get(name).is_some());
    for name in [
        "fn.add",
        "fn.evaluate",
        "union.Auth_",
        "errors.Availability",
    ] {
        assert!(defines(name), "{name} not in {api}");
    }
    let sum = caller.call(json!({"fn.add": {"x": 1, "y": 2}}));
    assert_eq!(sum["Ok_"]["result"].as_f64(), Some(3.0));

    let save = json!({"fn.saveVariables": {"variables": {"b": 2, "a": 10}}});
    assert_eq!(caller.call(save), OK());
    let all = caller.call(json!({"fn.getVariables": {}}));
    let expected = [("a".to_string(), 10.0), ("b".to_string(), 2.0)];
    assert_eq!(names_and_values(&all), expected);
    let one = caller.call(json!({"fn.getVariable": {"name": "b"}}));
    assert_eq!(
        one,
        json!({"Ok_": {"variable!": {"name": "b", "value": 2.0}}})
    );
    let absent = caller.call(json!({"fn.getVariable": {"name": "c"}}));
    assert_eq!(absent, json!({"Ok_": {}}));

    let product = caller.call(evaluate(operation("Mul", constant(5.0), variable("b"))));
    let saving = json!({"fn.saveVariable": {"name": "result", "value": 10.0}});
    assert_eq!(
        product,
        json!({"Ok_": {"result": 10.0, "saveResult": saving}})
    );
    let unknown = operation(
        "Add",
        variable("x"),
        operation("Div", variable("y"), variable("x")),
    );
    assert_eq!(
        caller.call(evaluate(unknown)),
        json!({"ErrorUnknownVariables": {"unknownVariables": ["x", "y"]}})
    );
    let by_zero = operation(
        "Div",
        variable("a"),
        operation("Sub", variable("b"), constant(2.0)),
    );
    assert_eq!(
        caller.call(evaluate(by_zero)),
        json!({"ErrorCannotDivideByZero": {}})
    );

    let tape = caller.call(json!({"fn.getPaperTape": {"limit!": 2}}));
    let lines = tape["Ok_"]["tape"].as_array().expect("a tape");
    let outcomes: Vec<(&Value, &Value)> = lines
        .iter()
        .map(|line| (&line["result"], &line["successful"]))
        .collect();
    assert_eq!(outcomes, [(&Value::Null, &json!(false)); 2]);
    assert_eq!(lines[1]["expression"]["Add"]["left"], variable("x"));
    assert!(lines[0]["timestamp"].as_i64() > Some(1_700_000_000));
    let whole = caller.call(json!({"fn.getPaperTape": {}}));
    let first = &whole["Ok_"]["tape"][2];
    assert_eq!(
        (&first["result"], &first["successful"]),
        (&json!(10.0), &json!(true))
    );

    assert_eq!(
        caller.call(json!({"fn.deleteVariables": {"names": ["a", "z"]}})),
        OK()
    );
    assert_eq!(
        caller.call(json!({"fn.deleteVariable": {"name": "b"}})),
        OK()
    );
    let none = caller.call(json!({"fn.getVariables": {}}));
    assert_eq!(none, json!({"Ok_": {"variables": []}}));
    let invalid = caller.call(json!({"fn.add": {"x": "one", "y": 2}}));
    assert!(
        invalid.get("ErrorInvalidRequestBody_").is_some(),
        "{invalid}"
    );
    assert!(demo.interrupt().success());
}

#[test]
fn callers_without_auth_share_and_named_users_keep_their_own() {
    let demo = start_demo(&[]);
    let caller = Caller::of(&demo);
    let save = |value: f64| json!({"fn.saveVariable": {"name": "x", "value": value}});
    let read = json!({"fn.getVariable": {"name": "x"}});
    assert_eq!(caller.call(save(1.0)), OK());
    assert_eq!(caller.call_as("ada", save(2.0)), OK());
    let value_for = |answer: Value| answer["Ok_"]["variable!"]["value"].as_f64();
    assert_eq!(value_for(caller.call(read.clone())), Some(1.0));
    assert_eq!(value_for(caller.call_as("ada", read.clone())), Some(2.0));
    assert_eq!(value_for(caller.call_as("bob", read.clone())), None);

    // A session reaches the same user's variables.
    let token = caller.login("ada");
    assert_eq!(
        value_for(caller.call_in_session(&token, read.clone())),
        Some(2.0)
    );
    let stranger = caller.call_in_session("not-a-token", read);
    let refused =
        json!({"ErrorUnauthenticated_": {"message!": "Valid authentication is required."}});
    assert_eq!(stranger, refused);
}

#[test]
fn a_session_is_claimed_once_and_ended_only_by_its_holder() {
    let demo = start_demo(&[]);
    let caller = Caller::of(&demo);
    let token = caller.login("doc-user");
    assert_eq!(token.len(), 22, "{token}");
    let again = caller.call(json!({"fn.login": {"username": "doc-user"}}));
    assert_eq!(again, json!({"ErrorUsernameAlreadyInUse": {}}));

    let logout = |username: &str| json!({"fn.logout": {"username": username}});
    let unauthenticated =
        json!({"ErrorUnauthenticated_": {"message!": "Valid authentication is required."}});
    assert_eq!(caller.call(logout("doc-user")), unauthenticated);
    // Naming a user proves nothing: only a session may end a session.
    assert_eq!(
        caller.call_as("doc-user", logout("doc-user")),
        unauthenticated
    );
    let not_yours = caller.call_in_session(&token, logout("someone-else"));
    assert!(not_yours.get("ErrorUnauthorized_").is_some(), "{not_yours}");

    let save = json!({"fn.saveVariable": {"name": "kept", "value": 1}});
    assert_eq!(caller.call_in_session(&token, save), OK());
    assert_eq!(caller.call_in_session(&token, logout("doc-user")), OK());
    // The session and what it saved are gone; the name is free again.
    let after = caller.call_in_session(&token, json!({"fn.getVariables": {}}));
    assert_eq!(after, unauthenticated);
    let forgotten = caller.call_as("doc-user", json!({"fn.getVariables": {}}));
    assert_eq!(forgotten, json!({"Ok_": {"variables": []}}));
    assert_ne!(caller.login("doc-user"), token);
}

#[test]
fn an_export_imports_elsewhere_and_other_bytes_are_refused() {
    let demo = start_demo(&[]);
    let caller = Caller::of(&demo);
    let save = json!({"fn.saveVariables": {"variables": {"a": 1.5, "b": -2}}});
    assert_eq!(caller.call_as("ada", save), OK());
    let sum = operation("Add", variable("a"), variable("b"));
    caller.call_as("ada", evaluate(sum));
    caller.call_as("ada", evaluate(variable("missing")));
    let exported = caller.call_as("ada", json!({"fn.export": {}}));
    let blob = exported["Ok_"]["blob"]
        .as_str()
        .expect("a base64 blob")
        .to_string();

    let import = |blob: &str| json!({"fn.import": {"blob": blob}});
    assert_eq!(caller.call_as("bob", import(&blob)), OK());
    for read in [
        json!({"fn.getVariables": {}}),
        json!({"fn.getPaperTape": {}}),
    ] {
        assert_eq!(
            caller.call_as("bob", read.clone()),
            caller.call_as("ada", read)
        );
    }

    // The reference's layout, with integers where this server writes floats:
    // {"variables": {"a": 1}, "evaluations": []} in MessagePack.
    let mut written = vec![0x82, 0xa9];
    written.extend(b"variables");
    written.extend([0x81, 0xa1, b'a', 0x01, 0xab]);
    written.extend(b"evaluations");
    written.push(0x90);
    let written = STANDARD.encode(written);
    assert_eq!(caller.call_as("cy", import(&written)), OK());
    let read = caller.call_as("cy", json!({"fn.getVariables": {}}));
    assert_eq!(names_and_values(&read), [("a".to_string(), 1.0)]);

    for foreign in ["AAAA", "kA==", ""] {
        let refused = caller.call_as("cy", import(foreign));
        assert!(
            refused.get("ErrorUnknown_").is_some(),
            "{foreign}: {refused}"
        );
    }
    let unchanged = caller.call_as("cy", json!({"fn.getVariables": {}}));
    assert_eq!(unchanged, read);

    // A caller it cannot place is refused before the blob is read, as for any call.
    let unauthenticated =
        json!({"ErrorUnauthenticated_": {"message!": "Valid authentication is required."}});
    for blob in [blob.as_str(), "kA=="] {
        let stranger = caller.call_in_session("not-a-token", import(blob));
        assert_eq!(stranger, unauthenticated, "{blob}");
    }
}

#[test]
fn past_its_memory_limit_saves_and_logins_answer_error_unavailable() {
    let demo = start_demo(&["--memory-limit", "1kB"]);
    let caller = Caller::of(&demo);
    let unavailable = json!({"ErrorUnavailable": {}});
    let mut saved = 0;
    loop {
        let save = json!({"fn.saveVariable": {"name": format!("v{saved}"), "value": 1}});
        let answer = caller.call(save);
        if answer == unavailable {
            break;
        }
        assert_eq!(answer, OK());
        saved += 1;
        assert!(saved < 100, "the limit was not reached");
    }
    assert!(saved > 0);
    assert_eq!(
        caller.call(json!({"fn.login": {"username": "ada"}})),
        unavailable
    );
    // What is kept still reads, and freeing room makes room.
    let all = caller.call(json!({"fn.getVariables": {}}));
    assert_eq!(names_and_values(&all).len(), saved);
    assert_eq!(
        caller.call(json!({"fn.deleteVariable": {"name": "v0"}})),
        OK()
    );
    let save = json!({"fn.saveVariable": {"name": "v0", "value": 2}});
    assert_eq!(caller.call(save), OK());
    let refused = telepact(&["demo-server", "--memory-limit", "0MiB"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("0 bytes leaves room for nothing"));
}

#[test]
fn the_unavailable_rate_sets_how_often_a_call_meets_an_outage() {
    let demo = start_demo(&["--unavailable-rate", "1"]);
    let caller = Caller::of(&demo);
    let sum = caller.call(json!({"fn.add": {"x": 1, "y": 2}}));
    assert_eq!(sum, json!({"ErrorUnavailable": {}}));
    // The standard functions have no service errors and always answer.
    assert_eq!(caller.call(json!({"fn.ping_": {}})), OK());
    let refused = telepact(&["demo-server", "--unavailable-rate", "1.5"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("expected a number from 0 to 1"));
}

#[test]
fn its_binary_encoding_is_the_one_the_tutorials_show() {
    // The tutorials' binary page negotiates `"@bin_": [900069279]` with the
    // reference's demo: the same field names give the same encoding.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/calculator");
    let schema = telepact_schema::Schema::from_dir(dir).unwrap();
    let encoding = telepact::binary::BinaryEncoding::new(&schema);
    assert_eq!(encoding.checksum(), 900_069_279);
}

#[test]
fn its_log_says_why_a_call_failed_and_never_shows_a_token() {
    let log_path = scratch_dir("demo-log").join("stderr.log");
    let mut command = telepact_command();
    command
        .args(["demo-server", "--port", "0", "--host", "127.0.0.1"])
        .args(["--unavailable-rate", "0"])
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(&log_path).unwrap());
    let demo = RunningServer::spawn_logging(command);
    let caller = Caller::of(&demo);
    let refused = caller.call(json!({"fn.import": {"blob": "AAAA"}}));
    let case_id = refused["ErrorUnknown_"]["caseId"]
        .as_str()
        .expect("a case id");
    let token = caller.login("ada");
    let logout = json!({"fn.logout": {"username": "ada"}});
    let wrong_session = format!("{token}-not");
    caller.call_in_session(&wrong_session, logout.clone());
    assert_eq!(caller.call_in_session(&token, logout), OK());
    assert!(demo.interrupt().success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    let failure = log.lines().find(|line| line.contains(case_id));
    let failure = failure.unwrap_or_else(|| panic!("no line with {case_id} in {log}"));
    assert!(
        failure.contains("fn.import") && failure.contains("the blob"),
        "{failure}"
    );
    assert!(
        log.lines().any(|line| line.contains("credentials refused")
            && line.contains(r#"function="fn.logout""#)
            && line.contains("address=127.0.0.1")),
        "{log}"
    );
    assert!(!log.contains(&token), "a token reached the log: {log}");
}
