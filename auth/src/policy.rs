//! Per-function requirements, declared in one place and enforced before the handler.
//!
//! ```
//! use telepact_auth::{AuthMethod, Policy, Requirement};
//!
//! let policy = Policy::new()
//!     .public("fn.refresh")
//!     .require("fn.login", Requirement::Method(AuthMethod::Password))
//!     // A key outlives the sign-in that made it: the password is asked for again.
//!     .require("fn.createApiKey", Requirement::AllOf(vec![
//!         Requirement::Method(AuthMethod::Password),
//!         Requirement::Scope("keys:write".into()),
//!     ]))
//!     .require("fn.listUsers", Requirement::Role("admin".into()));
//! assert_eq!(policy.requirement("fn.me"), &Requirement::Authenticated);
//! ```

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use telepact::logging::LineBudget;
use telepact::schema::Schema;
use telepact::{BoxFuture, FunctionRouter, HandlerError, Message, Middleware, Refusal};

use crate::identity::{AuthMethod, Identity};

/// What a caller needs to call a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone (the schema marks the function `$authenticated: false`).
    Public,
    /// Any authenticated caller.
    Authenticated,
    /// The user holds this role.
    Role(String),
    /// The credential grants this scope.
    Scope(String),
    /// Signed in with this kind of credential (e.g. `fn.login` takes a password).
    Method(AuthMethod),
    /// Every one of these.
    AllOf(Vec<Requirement>),
}

/// The service's requirements by function name; unlisted functions need
/// [`Requirement::Authenticated`].
#[derive(Debug, Clone)]
pub struct Policy {
    rules: HashMap<String, Requirement>,
    fallback: Requirement,
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy {
    /// An empty policy: every function needs an authenticated caller.
    pub fn new() -> Self {
        Policy {
            rules: HashMap::new(),
            fallback: Requirement::Authenticated,
        }
    }

    /// Sets what `function` (e.g. `fn.shifts`) needs.
    pub fn require(mut self, function: impl Into<String>, requirement: Requirement) -> Self {
        self.rules.insert(function.into(), requirement);
        self
    }

    /// Lets anyone call `function`.
    pub fn public(self, function: impl Into<String>) -> Self {
        self.require(function, Requirement::Public)
    }

    /// What `function` needs: its rule; else public for internal (`_`) names; else
    /// the fallback.
    pub fn requirement(&self, function: &str) -> &Requirement {
        match self.rules.get(function) {
            Some(rule) => rule,
            None if function.ends_with('_') => &Requirement::Public,
            None => &self.fallback,
        }
    }

    /// Whether `identity` (absent for an anonymous call) may call `function`.
    ///
    /// A missing role or scope is refused with [`NOT_PERMITTED`], which names neither:
    /// the caller learns nothing about the policy. What was missing goes to a `tracing`
    /// event (`call refused by policy`, level info) with the function and user id, at
    /// most ten lines a second (the next line counts those left out, `left_out`).
    ///
    /// # Errors
    ///
    /// - [`Refusal::Unauthenticated`] when the function is not public and there is no
    ///   `identity`.
    /// - [`Refusal::Unauthorized`] with [`NOT_PERMITTED`] for a missing role or scope, or
    ///   with the kind of credential required when the identity signed in otherwise.
    pub fn check(&self, function: &str, identity: Option<&Identity>) -> Result<(), Refusal> {
        satisfies(function, self.requirement(function), identity)
    }

    /// Where the policy and the schema disagree, by function name: a public rule for a
    /// function the runtime authenticates, or the other way round (anything but public
    /// for an internal function, which the runtime never authenticates, so no caller
    /// could meet it: `$internal: true` without a rule falls back to needing a caller);
    /// an internal function the schema itself defines (`fn.export_`) that the policy
    /// leaves public without a rule saying so (anyone may call it, and `fn.api_` does
    /// not list it: [`public`](Self::public) confirms it); and a rule for a function the
    /// schema does not define, such as a misspelt name, which leaves the function it
    /// meant needing only an authenticated caller. Check it when the server is built: an
    /// empty list means the policy says what it seems to.
    pub fn mismatches(&self, schema: &Schema) -> Vec<String> {
        let own_definitions = defined_keys(schema.original());
        let disagreeing = schema
            .functions()
            .iter()
            .filter(|function| {
                let public_in_policy = self.requirement(&function.name) == &Requirement::Public;
                if function.internal {
                    let unconfirmed = !self.rules.contains_key(&function.name)
                        && own_definitions.contains(function.name.as_str());
                    !public_in_policy || unconfirmed
                } else {
                    public_in_policy == schema.requires_auth(function)
                }
            })
            .map(|function| function.name.clone());
        let mut unknown: Vec<String> = self
            .rules
            .keys()
            .filter(|name| {
                !schema
                    .functions()
                    .iter()
                    .any(|function| &function.name == *name)
            })
            .cloned()
            .collect();
        unknown.sort();
        disagreeing.chain(unknown).collect()
    }

    /// The policy as middleware (pass to `ServerBuilder::middleware`).
    pub fn middleware(self) -> PolicyMiddleware {
        PolicyMiddleware { policy: self }
    }
}

/// The refusal message for a caller lacking a role or scope.
pub const NOT_PERMITTED: &str = "You are not permitted to call this function.";

/// The policy's refusals logged a second: a signed-in caller may call what it may not
/// as fast as it likes. The lines past it are counted, and the next one gives the count.
static REFUSAL_LINES: LineBudget = LineBudget::per_second(10);

fn satisfies(
    function: &str,
    requirement: &Requirement,
    identity: Option<&Identity>,
) -> Result<(), Refusal> {
    if requirement == &Requirement::Public {
        return Ok(());
    }
    let identity = identity.ok_or(Refusal::Unauthenticated)?;
    let not_permitted = |kind: &str, missing: &str| {
        if let Some(left_out) = REFUSAL_LINES.admit() {
            tracing::info!(
                function,
                user_id = %identity.user_id,
                tenant = %identity.tenant,
                missing_kind = kind,
                missing,
                left_out = (left_out > 0).then_some(left_out),
                "call refused by policy"
            );
        }
        Err(Refusal::Unauthorized(NOT_PERMITTED.into()))
    };
    match requirement {
        Requirement::Public | Requirement::Authenticated => Ok(()),
        Requirement::Role(role) if !identity.has_role(role) => not_permitted("role", role),
        Requirement::Scope(scope) if !identity.has_scope(scope) => not_permitted("scope", scope),
        // The kind of credential is no secret of the policy: the caller needs it to
        // know how to sign in.
        Requirement::Method(method) if identity.method() != *method => Err(Refusal::Unauthorized(
            format!("{} credentials required", method.as_str()),
        )),
        Requirement::AllOf(all) => all
            .iter()
            .try_for_each(|r| satisfies(function, r, Some(identity))),
        Requirement::Role(_) | Requirement::Scope(_) | Requirement::Method(_) => Ok(()),
    }
}

/// Checks the [`Policy`] before routing; a call it refuses gets the [`Refusal`], which
/// the server answers with `ErrorUnauthenticated_` / `ErrorUnauthorized_`.
#[derive(Debug, Clone)]
pub struct PolicyMiddleware {
    policy: Policy,
}

impl Middleware for PolicyMiddleware {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        Box::pin(async move {
            let mut request = request;
            let function = request.target().to_string();
            if request.extensions.get::<Identity>().is_none() {
                // Only the auth hook may set these; a public call must not pose as a user.
                for name in Identity::HEADER_NAMES {
                    request.headers.remove(name);
                }
            }
            let identity = request.extensions.get::<Identity>();
            if let Err(denial) = self.policy.check(&function, identity) {
                return Err(denial.into());
            }
            router.call(request).await
        })
    }
}

/// The schema keys the user's own definitions name (`fn.export_`), not the standard ones.
fn defined_keys(original: &[Value]) -> BTreeSet<&str> {
    original
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|definition| definition.keys())
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::CredentialRef;
    use serde_json::{Map, Value};
    use telepact::Headers;

    fn caller(roles: &[&str], scopes: &[&str]) -> Identity {
        Identity {
            user_id: "u1".into(),
            tenant: "acme".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            credential: CredentialRef::Password,
        }
    }

    fn policy() -> Policy {
        Policy::new()
            .public("fn.refresh")
            .require("fn.admin", Requirement::Role("admin".into()))
            .require("fn.keys", Requirement::Scope("keys:write".into()))
            .require("fn.login", Requirement::Method(AuthMethod::Password))
    }

    #[test]
    fn public_functions_need_nothing_and_others_need_a_caller() {
        let policy = policy();
        assert_eq!(policy.check("fn.refresh", None), Ok(()));
        assert_eq!(policy.check("fn.ping_", None), Ok(()));
        assert_eq!(policy.check("fn.me", None), Err(Refusal::Unauthenticated));
        assert_eq!(policy.check("fn.me", Some(&caller(&[], &[]))), Ok(()));
    }

    #[test]
    fn roles_scopes_and_methods_are_checked() {
        let policy = policy();
        let user = caller(&["user"], &["profile:read"]);
        let admin = caller(&["admin"], &["keys:write"]);
        assert_eq!(
            policy.check("fn.admin", Some(&user)),
            Err(Refusal::Unauthorized(NOT_PERMITTED.into()))
        );
        assert_eq!(policy.check("fn.admin", Some(&admin)), Ok(()));
        assert_eq!(
            policy.check("fn.keys", Some(&user)),
            Err(Refusal::Unauthorized(NOT_PERMITTED.into()))
        );
        assert_eq!(policy.check("fn.keys", Some(&admin)), Ok(()));
        assert_eq!(policy.check("fn.login", Some(&user)), Ok(()));
        let bearer = Identity {
            credential: CredentialRef::ApiKey { key_id: "k".into() },
            ..user
        };
        assert_eq!(
            policy.check("fn.login", Some(&bearer)),
            Err(Refusal::Unauthorized(
                "Password credentials required".into()
            ))
        );
    }

    #[test]
    fn all_of_needs_every_part() {
        let both = Requirement::AllOf(vec![
            Requirement::Role("admin".into()),
            Requirement::Scope("audit".into()),
        ]);
        let policy = Policy::new().require("fn.audit", both);
        assert!(
            policy
                .check("fn.audit", Some(&caller(&["admin"], &[])))
                .is_err()
        );
        assert!(
            policy
                .check("fn.audit", Some(&caller(&["admin"], &["audit"])))
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_middleware_refuses_before_the_handler_and_strips_posed_identities() {
        let router = FunctionRouter::new().route("fn.echo", |request: Message| async move {
            let mut payload = Map::new();
            payload.insert("headers".into(), Value::from(request.headers.clone()));
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        });
        let middleware = Policy::new().public("fn.echo").middleware();
        let mut headers = Headers::new();
        headers.insert("@userId", Value::String("u-admin".into()));
        let request = Message::new(headers, "fn.echo", Map::new());
        let answer = middleware.call(request, &router).await.unwrap();
        assert_eq!(answer.target(), "Ok_");
        assert!(
            answer.payload().unwrap()["headers"]
                .get("@userId")
                .is_none()
        );

        let guarded = Policy::new().middleware();
        let request = Message::new(Headers::new(), "fn.echo", Map::new());
        let refusal = guarded.call(request, &router).await.unwrap_err();
        assert_eq!(
            refusal.downcast::<Refusal>().map(|r| *r).ok(),
            Some(Refusal::Unauthenticated)
        );
    }

    #[test]
    fn mismatches_name_functions_whose_publicness_disagrees_with_the_schema() {
        let schema = Schema::from_text(
            r#"[
                {"union.Auth_": [{"Bearer": {"token": "string"}}]},
                {"fn.open": {}, "$authenticated": false, "->": [{"Ok_": {}}]},
                {"fn.closed": {}, "->": [{"Ok_": {}}]},
                {"fn.fine": {}, "->": [{"Ok_": {}}]}
            ]"#,
        )
        .unwrap();
        let policy = Policy::new().public("fn.closed");
        let mut found = policy.mismatches(&schema);
        found.sort();
        assert_eq!(found, ["fn.closed", "fn.open"]);
        let agreeing = Policy::new().public("fn.open");
        assert!(agreeing.mismatches(&schema).is_empty());
    }

    /// A rule for a function the schema lacks (a misspelt name) is a mismatch: the
    /// function it meant would otherwise let any authenticated caller in.
    #[test]
    fn a_rule_for_a_function_the_schema_lacks_is_a_mismatch() {
        let schema = Schema::from_text(
            r#"[
                {"union.Auth_": [{"Bearer": {"token": "string"}}]},
                {"fn.payroll": {}, "->": [{"Ok_": {}}]}
            ]"#,
        )
        .unwrap();
        let misspelt = Policy::new()
            .require("fn.payRoll", Requirement::Role("payroll".into()))
            .require("fn.absent", Requirement::Authenticated);
        assert_eq!(misspelt.mismatches(&schema), ["fn.absent", "fn.payRoll"]);
        let right = Policy::new().require("fn.payroll", Requirement::Role("payroll".into()));
        assert!(right.mismatches(&schema).is_empty());
    }
}
