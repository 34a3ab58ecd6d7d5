//! `GET /`: a small home page. Signed in: who, a reminder to verify an unverified email
//! address, links to settings, devices and connected apps, and a sign-out link. Signed out:
//! sign in or create an account.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::{forwarded_cookies, render, texts};
use crate::model::Whoami;
use crate::server::error::HeraError;
use crate::server::i18n::Texts;
use crate::server::views::{HomePage, Layout};

use crate::server::State;

#[get("/")]
pub async fn home(http: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, HeraError> {
    let cookies = forwarded_cookies(&http);
    let home_url = state.page_url("/");
    let whoami = state.kratos.whoami(cookies.as_deref()).await?;
    let t = texts(&http, &state, &[]);
    let page = match whoami {
        Whoami::Active(session) => {
            // Kratos's browser logout needs a per-session token, so the link is asked for here,
            // server-side, rather than built.
            match state
                .kratos
                .browser_logout_url(cookies.as_deref(), &home_url)
                .await?
            {
                Some(sign_out_url) => HomePage {
                    layout: Layout::new(&t, t.text("home-title-signed-in")),
                    account: Some(session.identity.account_label()),
                    sign_out_url: Some(sign_out_url),
                    sign_in_url: None,
                    sign_up_url: None,
                    needs_second_factor: false,
                    unverified: session
                        .identity
                        .verifiable_addresses
                        .iter()
                        .find(|address| !address.verified && address.via == "email")
                        .map(|address| address.value.clone()),
                },
                // The session ended between the two calls.
                None => signed_out(&t, false),
            }
        }
        Whoami::Unauthenticated => signed_out(&t, false),
        Whoami::Aal2Required => signed_out(&t, true),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Hera's own sign-in page (Kratos returns here by default) and sign-up page; with a session
/// that lacks its second factor, the second step of signing in.
fn signed_out(t: &Texts, needs_second_factor: bool) -> HomePage {
    let title = if needs_second_factor {
        "home-title-second-factor"
    } else {
        "home-title-signed-out"
    };
    HomePage {
        layout: Layout::new(t, t.text(title)),
        account: None,
        sign_out_url: None,
        sign_in_url: Some(if needs_second_factor {
            "/login?aal=aal2".into()
        } else {
            "/login".into()
        }),
        sign_up_url: (!needs_second_factor).then(|| "/registration".into()),
        needs_second_factor,
        unverified: None,
    }
}
