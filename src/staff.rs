//! The bakery's staff directory: who may sign in and where they work.
//!
//! The credentials are hard-coded, as in the reference example. Secrets are compared in
//! constant time so a caller cannot learn a password byte by byte from response timing.

use constant_time_eq::constant_time_eq;

/// The caller's normalised identity, as `on_auth` derives it from the credentials. The
/// staff directory is compiled in, and an identity is one of its entries: its text is
/// borrowed from it, not copied for every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The employee's id, e.g. `baker-001`.
    pub employee_id: &'static str,
    /// Where the employee works, e.g. `oven`.
    pub station: &'static str,
}

impl Identity {
    /// The oven station bakes the specials and may approve them.
    pub fn works_the_oven(&self) -> bool {
        self.station == OVEN
    }
}

/// Why a sign-in did not produce an identity.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    /// Unknown user or wrong password.
    #[error("missing or invalid bakery credentials")]
    Rejected,
    /// The backend that would check the credentials is down.
    #[error("bakery auth backend unavailable")]
    BackendUnavailable,
}

/// The station that bakes the specials.
pub const OVEN: &str = "oven";

struct StaffMember {
    username: &'static str,
    password: &'static str,
    outcome: Outcome,
}

enum Outcome {
    SignedIn(Identity),
    /// A test account whose sign-in makes the auth backend fail.
    BackendFails,
}

const STAFF: &[StaffMember] = &[
    StaffMember {
        username: "lead-baker",
        password: "opensesame",
        outcome: Outcome::SignedIn(Identity {
            employee_id: "baker-001",
            station: OVEN,
        }),
    },
    StaffMember {
        username: "cashier",
        password: "knockknock",
        outcome: Outcome::SignedIn(Identity {
            employee_id: "cashier-002",
            station: "counter",
        }),
    },
    StaffMember {
        username: "explode",
        password: "boom",
        outcome: Outcome::BackendFails,
    },
];

/// Checks a username and password against the staff directory.
///
/// Every entry is compared, whatever matches, so the time taken does not depend on which
/// account (if any) the credentials belong to.
///
/// # Errors
///
/// - [`SignInError::Rejected`] for an unknown user or a wrong password.
/// - [`SignInError::BackendUnavailable`] for the demo account whose check stands for a
///   backend that is down.
pub fn sign_in(username: &str, password: &str) -> Result<Identity, SignInError> {
    let mut found = None;
    for member in STAFF {
        // `&`, not `&&`: the password is compared whether or not the name matched.
        let same_user = constant_time_eq(member.username.as_bytes(), username.as_bytes());
        let same_password = constant_time_eq(member.password.as_bytes(), password.as_bytes());
        if same_user & same_password {
            found = Some(member);
        }
    }
    match found.map(|member| &member.outcome) {
        Some(Outcome::SignedIn(identity)) => Ok(*identity),
        Some(Outcome::BackendFails) => Err(SignInError::BackendUnavailable),
        None => Err(SignInError::Rejected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_baker_works_the_oven() {
        let identity = sign_in("lead-baker", "opensesame").unwrap();
        assert_eq!(identity.employee_id, "baker-001");
        assert!(identity.works_the_oven());
    }

    #[test]
    fn cashier_works_the_counter() {
        let identity = sign_in("cashier", "knockknock").unwrap();
        assert_eq!(identity.employee_id, "cashier-002");
        assert_eq!(identity.station, "counter");
        assert!(!identity.works_the_oven());
    }

    #[test]
    fn the_exploding_account_fails_the_backend() {
        assert_eq!(
            sign_in("explode", "boom"),
            Err(SignInError::BackendUnavailable)
        );
    }

    #[test]
    fn wrong_passwords_and_strangers_are_rejected() {
        assert_eq!(
            sign_in("lead-baker", "opensesam"),
            Err(SignInError::Rejected)
        );
        assert_eq!(sign_in("lead-baker", ""), Err(SignInError::Rejected));
        assert_eq!(sign_in("nobody", "opensesame"), Err(SignInError::Rejected));
        assert_eq!(sign_in("cashier", "opensesame"), Err(SignInError::Rejected));
    }
}
