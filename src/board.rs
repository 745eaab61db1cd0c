//! The shift board's functions.

use telepact::{HandlerError, Refusal};

use crate::api::{
    ApproveSpecialInput, ApproveSpecialOk, ApproveSpecialOutput, Context, Handler, MyShiftInput,
    MyShiftOk, MyShiftOutput,
};
use crate::staff::Identity;

/// The pastry each station starts its shift with.
fn pastry_for(identity: &Identity) -> &'static str {
    if identity.works_the_oven() {
        "sesame loaf"
    } else {
        "almond croissant"
    }
}

/// Implements the schema's functions.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShiftBoard;

impl Handler for ShiftBoard {
    async fn my_shift(
        &self,
        _input: MyShiftInput,
        context: &mut Context,
    ) -> Result<MyShiftOutput, HandlerError> {
        let identity = caller(context)?;
        Ok(MyShiftOutput::Ok(MyShiftOk {
            employee_id: identity.employee_id.to_string(),
            station: identity.station.to_string(),
            pastry: pastry_for(identity).to_string(),
        }))
    }

    async fn approve_special(
        &self,
        _input: ApproveSpecialInput,
        context: &mut Context,
    ) -> Result<ApproveSpecialOutput, HandlerError> {
        if !caller(context)?.works_the_oven() {
            return Err(
                Refusal::unauthorized("oven station required to approve the special").into(),
            );
        }
        Ok(ApproveSpecialOutput::Ok(ApproveSpecialOk {
            message: "special approved: cardamom morning bun".to_string(),
        }))
    }
}

/// The identity the auth hook attached. Every function of this schema requires auth,
/// so a missing identity is a server fault, answered with `ErrorUnknown_`.
fn caller(context: &Context) -> Result<&Identity, HandlerError> {
    context
        .extensions
        .get::<Identity>()
        .ok_or_else(|| "no identity attached to an authenticated request".into())
}
