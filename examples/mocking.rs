//! Mocking and testing: the bakery's `fn.myShift` stubbed with the generated types,
//! called through the generated client in process, and the call verified. The README's
//! "Mocking and testing" section shows this file, and a test of the bakery runs it.

use telepact::typed::Times;
use telepact_bakery::api::{self, Auth, AuthPassword, MyShiftInput, MyShiftOk, MyShiftOutput};

/// Stubs `fn.myShift`, calls it through the generated client and verifies the call.
#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = api::Mock::new()?;
    let shift = MyShiftOk {
        employee_id: "baker-001".into(),
        station: "oven".into(),
        pastry: "croissant".into(),
    };
    mock.stub(MyShiftInput {}, MyShiftOutput::Ok(shift.clone()))
        .await?;

    // The schema declares `union.Auth_`, so calls carry `@auth_`; the mock accepts any.
    let credentials = Auth::Password(AuthPassword {
        username: "tester".into(),
        password: "anything".into(),
    });
    let client = mock
        .client()
        .with_headers(api::RequestHeaders::default().with_auth(credentials));

    let response = client.my_shift(MyShiftInput {}).await?;
    assert_eq!(response.output, MyShiftOutput::Ok(shift));

    mock.verify(MyShiftInput {}, Times::exactly(1)).await?;
    mock.verify_no_more_interactions().await?;
    Ok(())
}
