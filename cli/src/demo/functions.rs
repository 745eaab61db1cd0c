//! The calculator's functions.

use std::sync::MutexGuard;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use telepact::clock::{Clock, SystemClock};
use telepact::typed::{Bytes, Call};
use telepact::{HandlerError, Refusal};

use super::access::{SessionUser, SharedLedger, lock, owner};
use super::blob::{self, Snapshot};
use super::calculator::*;
use super::expression::{self, Failure, MAX_NESTING};
use super::ledger::{Full, Ledger, Owner};

/// Serves the schema's functions from the shared ledger.
#[derive(Debug, Clone)]
pub(super) struct Calculator(pub(super) SharedLedger);

impl Calculator {
    /// The ledger, locked, and whose variables and paper tape this call uses.
    fn caller(&self, context: &Context) -> Result<(MutexGuard<'_, Ledger>, Owner), Refusal> {
        let ledger = lock(&self.0);
        let owner = owner(context, &ledger)?;
        Ok((ledger, owner))
    }
}

/// How many random bytes a session token holds.
const TOKEN_BYTES: usize = 16;

impl Handler for Calculator {
    async fn add(&self, input: AddInput, _: &mut Context) -> Result<AddOutput, HandlerError> {
        let sum = input.x + input.y;
        if !sum.is_finite() {
            return Err(out_of_range());
        }
        Ok(AddOutput::Ok(AddOk { result: sum }))
    }

    async fn save_variable(
        &self,
        input: SaveVariableInput,
        context: &mut Context,
    ) -> Result<SaveVariableOutput, HandlerError> {
        let (mut ledger, owner) = self.caller(context)?;
        Ok(match ledger.save(&owner, [(input.name, input.value)]) {
            Ok(()) => SaveVariableOutput::Ok(SaveVariableOk {}),
            Err(Full) => SaveVariableOutput::ErrorUnavailable(ErrorUnavailable {}),
        })
    }

    async fn save_variables(
        &self,
        input: SaveVariablesInput,
        context: &mut Context,
    ) -> Result<SaveVariablesOutput, HandlerError> {
        let (mut ledger, owner) = self.caller(context)?;
        Ok(match ledger.save(&owner, input.variables) {
            Ok(()) => SaveVariablesOutput::Ok(SaveVariablesOk {}),
            Err(Full) => SaveVariablesOutput::ErrorUnavailable(ErrorUnavailable {}),
        })
    }

    async fn get_variable(
        &self,
        input: GetVariableInput,
        context: &mut Context,
    ) -> Result<GetVariableOutput, HandlerError> {
        let (ledger, owner) = self.caller(context)?;
        let value = ledger.variable(&owner, &input.name);
        let variable = value.map(|value| Variable {
            name: input.name,
            value,
        });
        Ok(GetVariableOutput::Ok(GetVariableOk { variable }))
    }

    async fn get_variables(
        &self,
        _: GetVariablesInput,
        context: &mut Context,
    ) -> Result<GetVariablesOutput, HandlerError> {
        let (ledger, owner) = self.caller(context)?;
        let variables = ledger.variables(&owner);
        let variables = variables.iter().map(|(name, &value)| Variable {
            name: name.clone(),
            value,
        });
        Ok(GetVariablesOutput::Ok(GetVariablesOk {
            variables: variables.collect(),
        }))
    }

    async fn delete_variable(
        &self,
        input: DeleteVariableInput,
        context: &mut Context,
    ) -> Result<DeleteVariableOutput, HandlerError> {
        let (mut ledger, owner) = self.caller(context)?;
        ledger.delete(&owner, [input.name.as_str()]);
        Ok(DeleteVariableOutput::Ok(DeleteVariableOk {}))
    }

    async fn delete_variables(
        &self,
        input: DeleteVariablesInput,
        context: &mut Context,
    ) -> Result<DeleteVariablesOutput, HandlerError> {
        let (mut ledger, owner) = self.caller(context)?;
        ledger.delete(&owner, input.names.iter().map(String::as_str));
        Ok(DeleteVariablesOutput::Ok(DeleteVariablesOk {}))
    }

    async fn evaluate(
        &self,
        input: EvaluateInput,
        context: &mut Context,
    ) -> Result<EvaluateOutput, HandlerError> {
        let (mut ledger, owner) = self.caller(context)?;
        // The schema has no error for an expression too deep: it answers `ErrorUnknown_`,
        // and nothing is kept.
        if expression::nesting(&input.expression) > MAX_NESTING {
            let limit = format!("the expression nests deeper than {MAX_NESTING} operations");
            return Err(limit.into());
        }
        let outcome = expression::evaluate(&input.expression, ledger.variables(&owner));
        let evaluation = Evaluation {
            expression: input.expression,
            result: outcome.as_ref().ok().copied(),
            timestamp: SystemClock.unix_now(),
            successful: outcome.is_ok(),
        };
        ledger.record(&owner, evaluation);
        Ok(match outcome {
            Ok(result) => EvaluateOutput::Ok(EvaluateOk {
                result,
                save_result: Call(SaveVariableInput {
                    name: "result".to_string(),
                    value: result,
                }),
            }),
            Err(Failure::UnknownVariables(unknown_variables)) => {
                EvaluateOutput::ErrorUnknownVariables(EvaluateErrorUnknownVariables {
                    unknown_variables,
                })
            }
            Err(Failure::DivisionByZero) => {
                EvaluateOutput::ErrorCannotDivideByZero(EvaluateErrorCannotDivideByZero {})
            }
            Err(Failure::OutOfRange) => return Err(out_of_range()),
        })
    }

    async fn get_paper_tape(
        &self,
        input: GetPaperTapeInput,
        context: &mut Context,
    ) -> Result<GetPaperTapeOutput, HandlerError> {
        // No limit: the whole tape; a negative one: none of it.
        let limit = input
            .limit
            .map_or(usize::MAX, |limit| usize::try_from(limit).unwrap_or(0));
        let (ledger, owner) = self.caller(context)?;
        let tape = ledger.tape(&owner, limit);
        Ok(GetPaperTapeOutput::Ok(GetPaperTapeOk { tape }))
    }

    async fn export(
        &self,
        _: ExportInput,
        context: &mut Context,
    ) -> Result<ExportOutput, HandlerError> {
        let (variables, evaluations) = {
            let (ledger, owner) = self.caller(context)?;
            ledger.snapshot(&owner)
        };
        let blob = blob::encode(&Snapshot {
            variables,
            evaluations,
        })?;
        Ok(ExportOutput::Ok(ExportOk { blob: Bytes(blob) }))
    }

    async fn import(
        &self,
        input: ImportInput,
        context: &mut Context,
    ) -> Result<ImportOutput, HandlerError> {
        // A caller it cannot place is refused as for any other call, whatever the blob.
        drop(self.caller(context)?);
        // The schema has no error for a blob this server did not write: it answers
        // `ErrorUnknown_`, and the log says why. Decoded without holding the lock, so
        // the caller is placed again after: its session may have ended meanwhile.
        let snapshot = blob::decode(&input.blob.0)?;
        let (mut ledger, owner) = self.caller(context)?;
        Ok(
            match ledger.replace(&owner, snapshot.variables, snapshot.evaluations) {
                Ok(()) => ImportOutput::Ok(ImportOk {}),
                Err(Full) => ImportOutput::ErrorUnavailable(ErrorUnavailable {}),
            },
        )
    }

    async fn login(&self, input: LoginInput, _: &mut Context) -> Result<LoginOutput, HandlerError> {
        let token = new_token()?;
        Ok(
            match lock(&self.0).open_session(&input.username, token.clone()) {
                Ok(true) => LoginOutput::Ok(LoginOk { token }),
                Ok(false) => {
                    LoginOutput::ErrorUsernameAlreadyInUse(LoginErrorUsernameAlreadyInUse {})
                }
                Err(Full) => LoginOutput::ErrorUnavailable(ErrorUnavailable {}),
            },
        )
    }

    async fn logout(
        &self,
        input: LogoutInput,
        context: &mut Context,
    ) -> Result<LogoutOutput, HandlerError> {
        let session = context.extensions.get::<SessionUser>();
        let Some(SessionUser(user)) = session else {
            return Err(Refusal::Unauthenticated.into());
        };
        if *user != input.username {
            let why = "this session belongs to another username";
            return Err(Refusal::unauthorized(why).into());
        }
        lock(&self.0).close_session(user);
        Ok(LogoutOutput::Ok(LogoutOk {}))
    }
}

/// A result past the largest number: the schema has no error for it, so the call
/// answers `ErrorUnknown_`.
fn out_of_range() -> HandlerError {
    "the result is too large for a number".into()
}

/// A session token: random bytes from the operating system, URL-safe base64.
fn new_token() -> Result<String, HandlerError> {
    let mut bytes = [0_u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| format!("no random bytes for a token: {error}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::demo::expression::tests::nested;

    #[tokio::test]
    async fn an_expression_nested_too_deep_is_refused_and_not_kept() {
        let ledger = Arc::new(Mutex::new(Ledger::new(usize::MAX)));
        let calculator = Calculator(ledger.clone());
        let evaluate = |expression| EvaluateInput { expression };
        let deepest = calculator
            .evaluate(evaluate(nested(MAX_NESTING)), &mut Context::default())
            .await;
        assert!(matches!(deepest, Ok(EvaluateOutput::Ok(_))));
        let deeper = calculator
            .evaluate(evaluate(nested(MAX_NESTING + 1)), &mut Context::default())
            .await;
        let refusal = deeper.err().map(|error| error.to_string());
        assert_eq!(
            refusal.as_deref(),
            Some("the expression nests deeper than 100 operations")
        );
        assert_eq!(lock(&ledger).tape(&Owner::Everyone, 10).len(), 1);

        // A caller it cannot place is refused as such, however deep the expression.
        let mut stranger = Context::default();
        let session = serde_json::json!({"Session": {"token": "not-a-token"}});
        stranger.raw_headers.insert("@auth_".to_string(), session);
        let refused = calculator
            .evaluate(evaluate(nested(MAX_NESTING + 1)), &mut stranger)
            .await;
        let refusal = refused
            .err()
            .and_then(|error| error.downcast::<Refusal>().ok());
        assert!(
            matches!(refusal.as_deref(), Some(Refusal::Unauthenticated)),
            "{refusal:?}"
        );
    }
}
