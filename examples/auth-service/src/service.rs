//! The service's functions.

use std::collections::BTreeSet;

use telepact::HandlerError;
use telepact::logging::LineBudget;
use telepact_auth::http::{clear_session_cookie, set_session_cookie};
use telepact_auth::{AuthError, AuthMethod, Authenticator, Identity, MemoryUsers, Refusal};

use crate::api::{
    Context, CreateApiKeyErrorNameTooLong, CreateApiKeyInput, CreateApiKeyOk, CreateApiKeyOutput,
    Handler, ListUsersInput, ListUsersOk, ListUsersOutput, LoginInput, LoginOk, LoginOutput,
    LogoutInput, LogoutOk, LogoutOutput, MeInput, MeOk, MeOutput, RefreshInput, RefreshOk,
    RefreshOutput, RevokeApiKeyErrorNotFound, RevokeApiKeyInput, RevokeApiKeyOk,
    RevokeApiKeyOutput, UserSummary,
};
use telepact::typed::standard::ErrorUnauthenticated;

/// Implements the schema's functions over an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthService {
    auth: Authenticator,
    users: MemoryUsers,
}

impl AuthService {
    /// The service's handlers over an authenticator and the user directory it signs in against.
    pub fn new(auth: Authenticator, users: MemoryUsers) -> Self {
        AuthService { auth, users }
    }
}

impl Handler for AuthService {
    async fn login(
        &self,
        input: LoginInput,
        context: &mut Context,
    ) -> Result<LoginOutput, HandlerError> {
        let identity = caller(context)?.clone();
        let tokens = self.auth.issue_tokens(&identity).await?;
        let mut csrf_token = None;
        if input.session == Some(true) {
            let session = self.auth.create_linked_session(&identity, &tokens).await?;
            set_session_cookie(&mut context.raw_response_headers, &session);
            csrf_token = Some(session.csrf.clone());
        }
        Ok(LoginOutput::Ok(LoginOk {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
            expires_in: tokens.expires_in,
            csrf_token,
        }))
    }

    async fn refresh(
        &self,
        input: RefreshInput,
        _context: &mut Context,
    ) -> Result<RefreshOutput, HandlerError> {
        match self.auth.refresh(&input.refresh_token).await {
            Ok(tokens) => Ok(RefreshOutput::Ok(RefreshOk {
                access_token: tokens.access_token.clone(),
                refresh_token: tokens.refresh_token.clone(),
                expires_in: tokens.expires_in,
            })),
            // Not a verdict on the token: the client keeps it and tries again.
            Err(failed @ (AuthError::Store(_) | AuthError::Internal(_))) => Err(failed.into()),
            Err(refused) => {
                // Anyone may send bad refresh tokens as fast as they like.
                static REFUSED_LINES: LineBudget = LineBudget::per_second(10);
                if let Some(left_out) = REFUSED_LINES.admit() {
                    let left_out = (left_out > 0).then_some(left_out);
                    tracing::info!(reason = %refused, left_out, "refresh refused");
                }
                Ok(RefreshOutput::ErrorUnauthenticated(ErrorUnauthenticated {
                    message: Some("The refresh token is not valid.".into()),
                }))
            }
        }
    }

    async fn logout(
        &self,
        _input: LogoutInput,
        context: &mut Context,
    ) -> Result<LogoutOutput, HandlerError> {
        let identity = caller(context)?.clone();
        self.auth.logout(&identity).await?;
        if identity.method() == AuthMethod::Session {
            clear_session_cookie(&mut context.raw_response_headers);
        }
        Ok(LogoutOutput::Ok(LogoutOk {}))
    }

    async fn create_api_key(
        &self,
        input: CreateApiKeyInput,
        context: &mut Context,
    ) -> Result<CreateApiKeyOutput, HandlerError> {
        let identity = caller(context)?;
        let scopes: BTreeSet<String> = input.scopes.into_iter().collect();
        match self
            .auth
            .create_api_key(identity, &input.name, scopes)
            .await
        {
            Ok(key) => Ok(CreateApiKeyOutput::Ok(CreateApiKeyOk {
                key_id: key.key_id.clone(),
                api_key: key.key.clone(),
            })),
            Err(AuthError::ScopeNotHeld) => Err(Box::new(Refusal::Unauthorized(
                "an API key may only carry scopes you hold".into(),
            ))),
            Err(AuthError::KeyFromKey) => Err(Box::new(Refusal::Unauthorized(
                "sign in with a password to create API keys".into(),
            ))),
            Err(AuthError::KeyNameTooLong { limit }) => {
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let too_long = CreateApiKeyErrorNameTooLong { limit };
                Ok(CreateApiKeyOutput::ErrorNameTooLong(too_long))
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn revoke_api_key(
        &self,
        input: RevokeApiKeyInput,
        context: &mut Context,
    ) -> Result<RevokeApiKeyOutput, HandlerError> {
        let identity = caller(context)?;
        if self.auth.revoke_api_key(identity, &input.key_id).await? {
            Ok(RevokeApiKeyOutput::Ok(RevokeApiKeyOk {}))
        } else {
            Ok(RevokeApiKeyOutput::ErrorNotFound(
                RevokeApiKeyErrorNotFound {},
            ))
        }
    }

    async fn me(&self, _input: MeInput, context: &mut Context) -> Result<MeOutput, HandlerError> {
        let identity = caller(context)?;
        Ok(MeOutput::Ok(MeOk {
            user_id: identity.user_id.clone(),
            tenant: identity.tenant.clone(),
            roles: identity.roles.iter().cloned().collect(),
            scopes: identity.scopes.iter().cloned().collect(),
            method: identity.method().as_str().to_string(),
        }))
    }

    async fn list_users(
        &self,
        _input: ListUsersInput,
        _context: &mut Context,
    ) -> Result<ListUsersOutput, HandlerError> {
        let users = self
            .users
            .users()
            .into_iter()
            .map(|user| UserSummary {
                user_id: user.user_id,
                tenant: user.tenant,
                roles: user.roles.into_iter().collect(),
            })
            .collect();
        Ok(ListUsersOutput::Ok(ListUsersOk { users }))
    }
}

/// The identity the auth hook attached. The policy runs first, so a missing one means
/// the call was public; answered as unauthenticated.
fn caller(context: &Context) -> Result<&Identity, HandlerError> {
    context
        .extensions
        .get::<Identity>()
        .ok_or_else(|| Box::new(Refusal::Unauthenticated) as HandlerError)
}
