//! Every credential kind end to end over HTTP with the typed client: login, me,
//! API keys, admin-only and public functions, logout.

use crate::support;

use support::{Service, api_key, bearer, login, password, wrong_password};
use telepact::typed::standard::{ErrorUnauthenticated, ErrorUnauthorized};
use telepact_auth::Requirement;
use telepact_auth_example::api::{
    CreateApiKeyErrorNameTooLong, CreateApiKeyInput, CreateApiKeyOk, CreateApiKeyOutput,
    ListUsersInput, ListUsersOutput, LoginInput, LoginOutput, LogoutInput, LogoutOutput, MeInput,
    MeOk, MeOutput, RefreshInput, RefreshOutput, RequestHeaders, RevokeApiKeyInput,
    RevokeApiKeyOutput,
};

fn unauthenticated() -> ErrorUnauthenticated {
    ErrorUnauthenticated {
        message: Some("Valid authentication is required.".into()),
    }
}

async fn me(service: &Service, headers: RequestHeaders) -> MeOutput {
    service
        .client()
        .me_with(MeInput {}, headers)
        .await
        .expect("the call completes")
        .output
        .known()
        .expect("a result tag the schema declares")
}

#[tokio::test]
async fn a_password_login_yields_tokens_and_the_bearer_token_the_enriched_identity() {
    let service = Service::start().await;
    let tokens = login(&service, "alice").await;
    assert_eq!(tokens.expires_in, 300);
    assert!(tokens.refresh_token.starts_with("tpr_"));
    assert_eq!(tokens.csrf_token, None);

    let identity = me(&service, bearer(&tokens.access_token)).await;
    assert_eq!(
        identity,
        MeOutput::Ok(MeOk {
            user_id: "u-alice".into(),
            tenant: "acme".into(),
            roles: vec!["admin".into(), "member".into()],
            scopes: vec![
                "keys:write".into(),
                "profile:read".into(),
                "users:read".into()
            ],
            method: "Bearer".into(),
        })
    );
    let MeOutput::Ok(by_password) = me(&service, password("carol")).await else {
        panic!("carol signs in with her password");
    };
    assert_eq!(
        (by_password.tenant.as_str(), by_password.method.as_str()),
        ("globex", "Password")
    );
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_unauthenticated() {
    let service = Service::start().await;
    assert_eq!(
        me(&service, wrong_password("alice")).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
    assert_eq!(
        me(&service, RequestHeaders::default()).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
    assert_eq!(
        me(&service, bearer("not-a-jwt")).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
    assert_eq!(
        me(&service, api_key("tpk_nope.nope")).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
}

#[tokio::test]
async fn login_takes_only_a_password() {
    let service = Service::start().await;
    let tokens = login(&service, "bob").await;
    let answer = service
        .client()
        .login_with(LoginInput::default(), bearer(&tokens.access_token))
        .await
        .unwrap();
    assert_eq!(
        answer.output,
        LoginOutput::ErrorUnauthorized(ErrorUnauthorized {
            message: Some("Password credentials required".into())
        })
    );
}

#[tokio::test]
async fn an_api_key_is_scoped_usable_and_revocable() {
    let service = Service::start().await;
    let client = service.client();
    let ci = || CreateApiKeyInput {
        name: "ci".into(),
        scopes: vec!["profile:read".into()],
    };
    // A key outlives the sign-in that makes it, so a token (stolen, perhaps) makes none:
    // the password is asked for again.
    let tokens = login(&service, "bob").await;
    let by_token = client
        .create_api_key_with(ci(), bearer(&tokens.access_token))
        .await
        .unwrap();
    let password_required = CreateApiKeyOutput::ErrorUnauthorized(ErrorUnauthorized {
        message: Some("Password credentials required".into()),
    });
    assert_eq!(by_token.output, password_required);
    let created = client
        .create_api_key_with(ci(), password("bob"))
        .await
        .unwrap();
    let CreateApiKeyOutput::Ok(CreateApiKeyOk {
        key_id,
        api_key: key,
    }) = created
        .output
        .clone()
        .known()
        .expect("a result tag the schema declares")
    else {
        panic!("expected a key, got {:?}", created.output);
    };
    assert!(key.starts_with("tpk_") && key.contains(&key_id));

    let MeOutput::Ok(identity) = me(&service, api_key(&key)).await else {
        panic!("the key authenticates");
    };
    assert_eq!(identity.user_id, "u-bob");
    assert_eq!(identity.scopes, ["profile:read"]);
    assert_eq!(identity.method, "ApiKey");

    // A key is no password, so it mints no further keys, lacking keys:write or not.
    let minted = client
        .create_api_key_with(
            CreateApiKeyInput {
                name: "more".into(),
                scopes: vec![],
            },
            api_key(&key),
        )
        .await
        .unwrap();
    assert_eq!(minted.output, password_required);

    // Nor can a key that holds keys:write: a key would otherwise renew itself (the
    // toolkit refuses it too, `AuthError::KeyFromKey`, under a policy that lets it by).
    let writer = client
        .create_api_key_with(
            CreateApiKeyInput {
                name: "keys".into(),
                scopes: vec!["keys:write".into()],
            },
            password("bob"),
        )
        .await
        .unwrap();
    let Some(CreateApiKeyOutput::Ok(writer)) = writer.output.known() else {
        panic!("bob may create a key with keys:write");
    };
    let minted = client
        .create_api_key_with(
            CreateApiKeyInput {
                name: "more".into(),
                scopes: vec![],
            },
            api_key(&writer.api_key),
        )
        .await
        .unwrap();
    assert_eq!(minted.output, password_required);

    // A name is kept to a bound.
    let long_name = CreateApiKeyInput {
        name: "n".repeat(telepact_auth::MAX_API_KEY_NAME_BYTES + 1),
        scopes: vec![],
    };
    let refused = client
        .create_api_key_with(long_name, password("bob"))
        .await
        .unwrap();
    assert_eq!(
        refused.output,
        CreateApiKeyOutput::ErrorNameTooLong(CreateApiKeyErrorNameTooLong { limit: 256 })
    );

    // Someone else cannot revoke it, not even an admin; its owner can, and then it stops
    // working.
    let alice = client
        .revoke_api_key_with(
            RevokeApiKeyInput {
                key_id: key_id.clone(),
            },
            password("alice"),
        )
        .await
        .unwrap();
    assert!(matches!(
        alice.output.as_known(),
        Some(RevokeApiKeyOutput::ErrorNotFound(_))
    ));
    let revoked = client
        .revoke_api_key_with(RevokeApiKeyInput { key_id }, password("bob"))
        .await
        .unwrap();
    assert!(matches!(
        revoked.output.as_known(),
        Some(RevokeApiKeyOutput::Ok(_))
    ));
    assert_eq!(
        me(&service, api_key(&key)).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
}

/// A key's scopes narrow what it may do, revoking keys included: a key handed to a
/// read-only integration must not be able to switch off its owner's other keys.
#[tokio::test]
async fn revoking_a_key_needs_keys_write_like_making_one() {
    let service = Service::start().await;
    let client = service.client();
    let make = |name: &str, scopes: &[&str]| CreateApiKeyInput {
        name: name.into(),
        scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
    };
    let mut keys = Vec::new();
    for (name, scopes) in [
        ("reader", &["profile:read"][..]),
        ("deploy", &["keys:write"]),
    ] {
        let made = client.create_api_key_with(make(name, scopes), password("bob"));
        let Some(CreateApiKeyOutput::Ok(key)) = made.await.unwrap().output.known() else {
            panic!("bob may create the {name} key");
        };
        keys.push(key);
    }
    let [reader, deploy] = <[CreateApiKeyOk; 2]>::try_from(keys).expect("two keys");
    let revoke = |key_id: &str| RevokeApiKeyInput {
        key_id: key_id.into(),
    };

    let by_reader = client
        .revoke_api_key_with(revoke(&deploy.key_id), api_key(&reader.api_key))
        .await
        .unwrap();
    assert_eq!(
        by_reader.output,
        RevokeApiKeyOutput::ErrorUnauthorized(ErrorUnauthorized {
            message: Some(telepact_auth::NOT_PERMITTED.into())
        })
    );
    assert!(matches!(
        me(&service, api_key(&deploy.api_key)).await,
        MeOutput::Ok(_)
    ));

    // A key granted keys:write, and its owner's sign-in, may revoke.
    let by_deploy = client
        .revoke_api_key_with(revoke(&reader.key_id), api_key(&deploy.api_key))
        .await
        .unwrap();
    assert!(matches!(
        by_deploy.output.as_known(),
        Some(RevokeApiKeyOutput::Ok(_))
    ));
    let tokens = login(&service, "bob").await;
    let by_token = client
        .revoke_api_key_with(revoke(&deploy.key_id), bearer(&tokens.access_token))
        .await
        .unwrap();
    assert!(matches!(
        by_token.output.as_known(),
        Some(RevokeApiKeyOutput::Ok(_))
    ));
}

#[tokio::test]
async fn an_api_key_cannot_carry_scopes_its_owner_lacks() {
    let service = Service::start().await;
    let answer = service
        .client()
        .create_api_key_with(
            CreateApiKeyInput {
                name: "greedy".into(),
                scopes: vec!["users:read".into()],
            },
            password("bob"),
        )
        .await
        .unwrap();
    assert_eq!(
        answer.output,
        CreateApiKeyOutput::ErrorUnauthorized(ErrorUnauthorized {
            message: Some("an API key may only carry scopes you hold".into())
        })
    );
}

#[tokio::test]
async fn only_admins_list_users() {
    let service = Service::start().await;
    let client = service.client();
    let denied = client
        .list_users_with(ListUsersInput {}, password("bob"))
        .await
        .unwrap();
    assert_eq!(
        denied.output,
        ListUsersOutput::ErrorUnauthorized(ErrorUnauthorized {
            message: Some(telepact_auth::NOT_PERMITTED.into())
        })
    );
    let listed = client
        .list_users_with(ListUsersInput {}, password("alice"))
        .await
        .unwrap();
    let Some(ListUsersOutput::Ok(ok)) = listed.output.known() else {
        panic!("alice is an admin");
    };
    let ids: Vec<&str> = ok.users.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(ids, ["u-alice", "u-bob", "u-carol"]);

    // An admin's API key lists users only when it was given `users:read`: its scopes
    // narrow what it may do, although its user's roles are all there.
    for (scopes, lists) in [(vec![], false), (vec!["users:read".to_string()], true)] {
        let input = CreateApiKeyInput {
            name: "reports".into(),
            scopes,
        };
        let created = client
            .create_api_key_with(input, password("alice"))
            .await
            .unwrap();
        let Some(CreateApiKeyOutput::Ok(created)) = created.output.known() else {
            panic!("alice may create a key");
        };
        let listed = client
            .list_users_with(ListUsersInput {}, api_key(&created.api_key))
            .await
            .unwrap();
        let listed = matches!(listed.output.known(), Some(ListUsersOutput::Ok(_)));
        assert_eq!(listed, lists);
    }
}

#[tokio::test]
async fn refresh_is_public_and_the_policy_says_so() {
    let service = Service::start().await;
    let answer = service
        .client()
        .refresh(RefreshInput {
            refresh_token: "tpr_unknown".into(),
        })
        .await
        .unwrap();
    // Reached the handler without credentials; the token itself is refused.
    assert!(matches!(
        answer.output.as_known(),
        Some(RefreshOutput::ErrorUnauthenticated(_))
    ));

    let policy = telepact_auth_example::policy();
    assert_eq!(policy.requirement("fn.refresh"), &Requirement::Public);
    assert_eq!(policy.requirement("fn.me"), &Requirement::Authenticated);
    assert_eq!(
        policy.requirement("fn.listUsers"),
        &telepact_auth_example::list_users_requirement()
    );
    let schema = telepact_auth_example::api::schema();
    assert!(policy.mismatches(&schema).is_empty());
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_its_refresh_token() {
    let service = Service::start().await;
    let client = service.client();
    let tokens = login(&service, "alice").await;
    let out = client
        .logout_with(LogoutInput {}, bearer(&tokens.access_token))
        .await
        .unwrap();
    assert!(matches!(out.output.as_known(), Some(LogoutOutput::Ok(_))));
    assert_eq!(
        me(&service, bearer(&tokens.access_token)).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
    let refreshed = client
        .refresh(RefreshInput {
            refresh_token: tokens.refresh_token,
        })
        .await
        .unwrap();
    assert!(matches!(
        refreshed.output.as_known(),
        Some(RefreshOutput::ErrorUnauthenticated(_))
    ));
}

#[tokio::test]
async fn disabling_a_user_stops_their_tokens_at_once() {
    let service = Service::start().await;
    let tokens = login(&service, "bob").await;
    service.users.set_disabled("u-bob", true);
    assert_eq!(
        me(&service, bearer(&tokens.access_token)).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
}
