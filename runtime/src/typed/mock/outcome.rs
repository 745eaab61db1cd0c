//! What a typed stub or verification is given and what comes back: options, call
//! counts, failed verifications and errors.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::ClientError;

/// How a stub matches and how long it lasts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StubOptions {
    pub(super) strict: bool,
    pub(super) count: Option<u32>,
}

impl StubOptions {
    /// Match only calls whose argument equals the stub's (by default a call matches
    /// when the stub's argument is contained in it: optional fields the stub leaves
    /// out match anything).
    #[must_use]
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Answer this many matching calls, then no more (by default, every one).
    #[must_use]
    pub fn count(mut self, calls: u32) -> Self {
        self.count = Some(calls);
        self
    }
}

/// How many matching calls a verification wants (`union.CallCountCriteria_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Times {
    /// Exactly `times` calls.
    Exact {
        /// The number of calls.
        times: i64,
    },
    /// No more than `times` calls.
    AtMost {
        /// The number of calls.
        times: i64,
    },
    /// `times` calls or more.
    AtLeast {
        /// The number of calls.
        times: i64,
    },
}

impl Times {
    /// Exactly `times` matching calls.
    pub fn exactly(times: i64) -> Times {
        Times::Exact { times }
    }

    /// At most `times` matching calls.
    pub fn at_most(times: i64) -> Times {
        Times::AtMost { times }
    }

    /// At least `times` matching calls.
    pub fn at_least(times: i64) -> Times {
        Times::AtLeast { times }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Times::Exact { times } => write!(f, "exactly {times}"),
            Times::AtMost { times } => write!(f, "at most {times}"),
            Times::AtLeast { times } => write!(f, "at least {times}"),
        }
    }
}

/// Why a verification failed (`union.VerificationFailure_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VerificationFailure {
    /// Fewer calls matched than wanted.
    TooFewMatchingCalls(MatchingCalls),
    /// More calls matched than wanted.
    TooManyMatchingCalls(MatchingCalls),
}

/// What a failed verification counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingCalls {
    /// The count the verification wanted.
    pub wanted: Times,
    /// How many recorded calls matched.
    pub found: i64,
    /// The calls the mock recorded, oldest first, each `{"fn.x": {..argument..}}`: all
    /// of them, or as many as fit in 4 MiB when the records hold more.
    #[serde(rename = "allCalls")]
    pub all_calls: Vec<Value>,
}

impl VerificationFailure {
    /// What the mock counted.
    pub fn counts(&self) -> &MatchingCalls {
        let (VerificationFailure::TooFewMatchingCalls(counts)
        | VerificationFailure::TooManyMatchingCalls(counts)) = self;
        counts
    }
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MatchingCalls {
            wanted,
            found,
            all_calls,
        } = self.counts();
        write!(
            f,
            "wanted {wanted} matching {}, found {found}; calls:",
            calls(*wanted)
        )?;
        for call in all_calls {
            write!(f, " {call}")?;
        }
        Ok(())
    }
}

/// The most recorded calls a verification's message lists.
const CALLS_LISTED: usize = 10;

/// A failed verification of `function`, for a person: what was wanted, the calls of
/// that function the mock recorded (the first few), and how many of others.
fn verification_message(
    function: &str,
    argument: &Value,
    strict: bool,
    failure: &VerificationFailure,
) -> String {
    let MatchingCalls {
        wanted,
        found,
        all_calls,
    } = failure.counts();
    let of_function: Vec<&Value> = all_calls
        .iter()
        .filter(|call| call.get(function).is_some())
        .collect();
    let mut message = format!(
        "{function}: wanted {wanted} {} with an argument {} {argument}, found {found}",
        calls(*wanted),
        if strict { "equal to" } else { "containing" }
    );
    match of_function.len() {
        0 => message.push_str(&format!("; no call of {function} was recorded")),
        recorded => {
            message.push_str(&format!("; its {recorded} recorded:"));
            for call in of_function.iter().take(CALLS_LISTED) {
                message.push_str(&format!(" {}", call[function]));
            }
            if recorded > CALLS_LISTED {
                message.push_str(&format!(" and {} more", recorded - CALLS_LISTED));
            }
        }
    }
    match all_calls.len() - of_function.len() {
        0 => {}
        1 => message.push_str(" (and 1 call of another function)"),
        others => message.push_str(&format!(" (and {others} calls of other functions)")),
    }
    message
}

/// "call" or "calls", as `times` asks.
fn calls(times: Times) -> &'static str {
    let (Times::Exact { times } | Times::AtMost { times } | Times::AtLeast { times }) = times;
    if times == 1 { "call" } else { "calls" }
}

/// Why a typed stub or verification did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockCallError {
    /// The recorded calls do not satisfy the verification.
    #[error("{}", verification_message(function, argument, *strict, failure))]
    #[non_exhaustive]
    Verification {
        /// The function verified.
        function: &'static str,
        /// The argument the calls were to contain (or equal, for a strict verification);
        /// boxed, to keep the error small.
        argument: Box<Value>,
        /// Whether only calls whose argument equals `argument` counted.
        strict: bool,
        /// What the mock counted.
        failure: VerificationFailure,
    },
    /// `verify_no_more_interactions` found calls no verification matched.
    #[error("calls never verified: {}", Value::Array(.0.clone()))]
    UnverifiedCalls(Vec<Value>),
    /// The typed input or result did not serialize to a JSON object, or holds a NaN or
    /// an infinity (JSON has no such number; `serde_json` would write `null`).
    #[error("{function}: the stub or call does not serialize: {reason}")]
    Encode {
        /// The function stubbed or verified.
        function: &'static str,
        /// What serde reported.
        reason: String,
    },
    /// The mock refused the request (a stub whose result the schema does not allow, say).
    #[error("the mock answered {request} with {answer}")]
    Refused {
        /// The mock function called (`fn.createStub_`, ...).
        request: &'static str,
        /// The mock's answer.
        answer: Value,
    },
    /// The call to the mock failed: a mock in another process could not be reached, say.
    #[error(transparent)]
    Client(#[from] ClientError),
}
