//! Kratos's self-service pages (sign-in, sign-up, account recovery, email verification, account
//! settings and Kratos's error page) as plain HTML forms, for the local stack and the real-Ory
//! test tier until Hera renders these pages itself.
//!
//! Each page does what any Kratos UI does
//! (<https://www.ory.sh/docs/kratos/bring-your-own-ui/custom-ui-basic-integration>):
//! - without `?flow=`, it sends the browser to Kratos's `/self-service/<flow>/browser`
//!   (forwarding `return_to`, `refresh` and `aal`), which creates a flow and comes back with its id;
//! - with `?flow=<id>`, it fetches the flow JSON from Kratos with the browser's own `Cookie`
//!   header (Kratos checks its CSRF cookie on read) and renders `ui.nodes` as forms that the
//!   browser posts straight to `ui.action`, form-encoded; Kratos answers that post with a
//!   redirect (back here with the same flow and its messages, or on to `return_to`).
//!
//! One form per method group (password, code, TOTP, …), each with the `default` group's nodes
//! (CSRF token, identifier, traits), as Kratos's own UIs do, so a button only posts its own
//! method's fields. WebAuthn and passkeys need Kratos's script and are left out: these pages run
//! no JavaScript at all.
//!
//! The pages share the browser's Kratos cookies only when served on the same host as Kratos
//! (cookies ignore ports): 127.0.0.1 for both.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

/// The self-service flows, with each page's title.
pub const FLOWS: [(&str, &str); 5] = [
    ("login", "Sign in"),
    ("registration", "Create an account"),
    ("recovery", "Recover your account"),
    ("verification", "Verify your email address"),
    ("settings", "Account settings"),
];

/// Groups whose nodes need Kratos's WebAuthn script.
const SCRIPT_GROUPS: [&str; 2] = ["webauthn", "passkey"];

/// Where Kratos is.
pub struct KratosUi {
    /// Kratos's public API as this server reaches it (flow and error JSON).
    pub kratos_public: String,
    /// Kratos's public URL as browsers reach it (flow initialisation).
    pub kratos_browser: String,
    http: reqwest::Client,
}

impl KratosUi {
    pub fn new(kratos_public: &str, kratos_browser: &str) -> KratosUi {
        KratosUi {
            kratos_public: kratos_public.trim_end_matches('/').to_owned(),
            kratos_browser: kratos_browser.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Kratos's browser URL that starts `flow`, returning to `return_to` afterwards.
    pub fn init_url(&self, flow: &str, query: &HashMap<String, String>) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for name in ["refresh", "aal", "return_to"] {
            if let Some(value) = query.get(name).filter(|v| !v.is_empty()) {
                params.append_pair(name, value);
            }
        }
        let params = params.finish();
        let base = format!("{}/self-service/{flow}/browser", self.kratos_browser);
        if params.is_empty() {
            base
        } else {
            format!("{base}?{params}")
        }
    }
}

/// Registers `GET /login`, `/registration`, `/recovery`, `/verification`, `/settings` and
/// `/error`; the app data must hold a `web::Data<KratosUi>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (flow, title) in FLOWS {
        cfg.route(
            &format!("/{flow}"),
            web::get().to(move |request: HttpRequest, ui: web::Data<KratosUi>| {
                flow_page(flow, title, request, ui)
            }),
        );
    }
    cfg.route("/error", web::get().to(error_page));
}

fn query_of(request: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect()
}

async fn flow_page(
    flow: &'static str,
    title: &'static str,
    request: HttpRequest,
    ui: web::Data<KratosUi>,
) -> HttpResponse {
    let query = query_of(&request);
    let Some(id) = query.get("flow").filter(|id| !id.is_empty()) else {
        return see_other(&ui.init_url(flow, &query));
    };
    let mut fetch = ui
        .http
        .get(format!("{}/self-service/{flow}/flows", ui.kratos_public))
        .query(&[("id", id)])
        .header("accept", "application/json");
    if let Some(cookie) = request.headers().get(header::COOKIE) {
        fetch = fetch.header("cookie", cookie.as_bytes());
    }
    let response = match fetch.send().await {
        Ok(response) => response,
        Err(_) => return message_page(502, "Kratos could not be reached", "Try again shortly."),
    };
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        200 => html(200, &render_flow(flow, title, &body, &ui)),
        // Unknown or expired flow: start a new one (Kratos names where when it knows).
        404 | 410 => {
            let restart = body["error"]["details"]["redirect_to"]
                .as_str()
                .filter(|url| url.starts_with(&ui.kratos_browser))
                .map_or_else(|| ui.init_url(flow, &HashMap::new()), str::to_owned);
            see_other(&restart)
        }
        // A CSRF failure restarts only when the person asks, never in a loop.
        _ => message_page(
            status,
            body["error"]["message"]
                .as_str()
                .unwrap_or("Kratos refused the request"),
            body["error"]["reason"].as_str().unwrap_or_default(),
        ),
    }
}

async fn error_page(request: HttpRequest, ui: web::Data<KratosUi>) -> HttpResponse {
    let query = query_of(&request);
    let id = query.get("id").cloned().unwrap_or_default();
    let body: Value = match ui
        .http
        .get(format!("{}/self-service/errors", ui.kratos_public))
        .query(&[("id", &id)])
        .header("accept", "application/json")
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let error = &body["error"];
    message_page(
        error["code"].as_u64().map_or(500, |code| code as u16),
        error["message"].as_str().unwrap_or("Something went wrong"),
        error["reason"].as_str().unwrap_or_default(),
    )
}

/// The page for one flow: its messages, one form per method group, and links to the other
/// flows a person may need from here.
pub fn render_flow(flow: &str, title: &str, body: &Value, ui: &KratosUi) -> String {
    let ui_container = &body["ui"];
    let nodes: Vec<&Value> = ui_container["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().collect())
        .unwrap_or_default();
    let mut page = String::new();
    let title = match flow {
        "login" if body["requested_aal"] == "aal2" => "Second factor",
        "login" if body["refresh"] == true => "Confirm it is you",
        _ => title,
    };
    let _ = write!(page, "<h1>{}</h1>", escape(title));
    page.push_str(&messages(&ui_container["messages"], "messages"));

    let defaults: Vec<&Value> = nodes
        .iter()
        .copied()
        .filter(|node| node["group"] == "default")
        .collect();
    let mut groups: Vec<&str> = Vec::new();
    for node in &nodes {
        let group = node["group"].as_str().unwrap_or_default();
        if group != "default" && !SCRIPT_GROUPS.contains(&group) && !groups.contains(&group) {
            groups.push(group);
        }
    }
    let action = ui_container["action"].as_str().unwrap_or_default();
    let method = ui_container["method"].as_str().unwrap_or("POST");
    for group in groups {
        let own: Vec<&Value> = nodes
            .iter()
            .copied()
            .filter(|node| node["group"] == group)
            .collect();
        let _ = write!(
            page,
            "<form method=\"{}\" action=\"{}\" data-group=\"{}\">",
            escape(method),
            escape(action),
            escape(group)
        );
        for node in defaults.iter().chain(own.iter()) {
            page.push_str(&render_node(flow, group, node));
        }
        page.push_str("</form>");
    }

    // After a sign-up Kratos asks to verify the address at once; a person may do it later and
    // go on to where the sign-up was headed (the `return_to` of the request that started it).
    if flow == "verification" && body["state"] == "sent_email" {
        let next = body["request_url"]
            .as_str()
            .and_then(|url| url::Url::parse(url).ok())
            .and_then(|url| {
                url.query_pairs()
                    .find(|(name, _)| name == "return_to")
                    .map(|(_, value)| value.into_owned())
            })
            .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
        if let Some(next) = next {
            let _ = write!(
                page,
                "<p><a id=\"skip\" href=\"{}\">Verify later</a></p>",
                escape(&next)
            );
        }
    }

    let return_to: HashMap<String, String> = body["return_to"]
        .as_str()
        .map(|r| HashMap::from([("return_to".to_owned(), r.to_owned())]))
        .unwrap_or_default();
    let links: &[(&str, &str)] = match flow {
        "login" => &[
            ("registration", "Create an account"),
            ("recovery", "Forgot your password?"),
        ],
        "registration" => &[("login", "Sign in instead")],
        "recovery" | "verification" => &[("login", "Sign in")],
        _ => &[],
    };
    if !links.is_empty() {
        page.push_str("<nav><ul>");
        for (target, text) in links {
            let _ = write!(
                page,
                "<li><a id=\"to-{target}\" href=\"{}\">{}</a></li>",
                escape(&ui.init_url(target, &return_to)),
                escape(text)
            );
        }
        page.push_str("</ul></nav>");
    }
    layout(title, &page)
}

/// One node, in the form of `group` (an id of `group-name` keeps labels unique on the page).
fn render_node(flow: &str, group: &str, node: &Value) -> String {
    let attributes = &node["attributes"];
    let label = node["meta"]["label"]["text"].as_str().unwrap_or_default();
    let name = attributes["name"].as_str().unwrap_or_default();
    let id = format!("{group}-{}", name.replace(['.', '_'], "-"));
    let mut out = String::new();
    match node["type"].as_str().unwrap_or_default() {
        "input" => {
            let kind = attributes["type"].as_str().unwrap_or("text");
            let value = match &attributes["value"] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            match kind {
                "submit" | "button" => {
                    let _ = write!(
                        out,
                        "<button type=\"submit\" name=\"{}\" value=\"{}\">{}</button>",
                        escape(name),
                        escape(&value),
                        escape(if label.is_empty() { "Continue" } else { label })
                    );
                }
                // A refresh sign-in carries the current account as a hidden identifier; it is
                // shown, so that a person asked to sign in as someone else (`login_hint`) can.
                "hidden" if !(flow == "login" && name == "identifier") => {
                    let _ = write!(
                        out,
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        escape(name),
                        escape(&value)
                    );
                }
                _ => {
                    let shown = if kind == "hidden" { "email" } else { kind };
                    let label = if label.is_empty() { name } else { label };
                    let _ = write!(
                        out,
                        "<p><label for=\"{id}\">{}</label> <input id=\"{id}\" type=\"{}\" name=\"{}\" value=\"{}\"",
                        escape(label),
                        escape(shown),
                        escape(name),
                        escape(&value)
                    );
                    if let Some(autocomplete) = attributes["autocomplete"].as_str() {
                        let _ = write!(out, " autocomplete=\"{}\"", escape(autocomplete));
                    }
                    if name.ends_with("code") {
                        out.push_str(" inputmode=\"numeric\"");
                    }
                    out.push_str("></p>");
                }
            }
        }
        "img" => {
            // Only inline images (the TOTP QR code): nothing is loaded from elsewhere.
            if let Some(src) = attributes["src"]
                .as_str()
                .filter(|src| src.starts_with("data:image/"))
            {
                let _ = write!(
                    out,
                    "<p><img id=\"{}\" src=\"{}\" alt=\"{}\" width=\"192\" height=\"192\"></p>",
                    escape(attributes["id"].as_str().unwrap_or_default()),
                    escape(src),
                    escape(label)
                );
            }
        }
        "text" => {
            let text = &attributes["text"];
            let secrets: Vec<&str> = text["context"]["secrets"]
                .as_array()
                .map(|all| all.iter().filter_map(|s| s["text"].as_str()).collect())
                .unwrap_or_default();
            let shown = if secrets.is_empty() {
                text["text"].as_str().unwrap_or_default().to_owned()
            } else {
                secrets.join(" ")
            };
            let _ = write!(
                out,
                "<p>{}</p><p><code id=\"{}\">{}</code></p>",
                escape(label),
                escape(attributes["id"].as_str().unwrap_or_default()),
                escape(&shown)
            );
        }
        "a" => {
            if let Some(href) = attributes["href"]
                .as_str()
                .filter(|href| href.starts_with("http://") || href.starts_with("https://"))
            {
                let _ = write!(
                    out,
                    "<p><a id=\"{}\" href=\"{}\">{}</a></p>",
                    escape(attributes["id"].as_str().unwrap_or_default()),
                    escape(href),
                    escape(attributes["title"]["text"].as_str().unwrap_or("Continue"))
                );
            }
        }
        _ => {}
    }
    out.push_str(&messages(&node["messages"], ""));
    out
}

/// Kratos's messages as a list (`id` names the list; each item carries the message id and
/// type as data attributes).
fn messages(list: &Value, id: &str) -> String {
    let Some(items) = list.as_array().filter(|items| !items.is_empty()) else {
        return String::new();
    };
    let mut out = if id.is_empty() {
        "<ul class=\"messages\">".to_owned()
    } else {
        format!("<ul class=\"messages\" id=\"{id}\">")
    };
    for item in items {
        let _ = write!(
            out,
            "<li data-id=\"{}\" data-type=\"{}\">{}</li>",
            item["id"].as_u64().unwrap_or_default(),
            escape(item["type"].as_str().unwrap_or_default()),
            escape(item["text"].as_str().unwrap_or_default())
        );
    }
    out.push_str("</ul>");
    out
}

fn message_page(status: u16, message: &str, reason: &str) -> HttpResponse {
    let body = format!(
        "<h1>{}</h1><p id=\"reason\">{}</p><p><a href=\"/login\">Start again</a></p>",
        escape(message),
        escape(reason)
    );
    html(status, &layout(message, &body))
}

fn layout(title: &str, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Account</title><style>{STYLE}</style></head>\
         <body><main>{main}</main></body></html>",
        escape(title)
    )
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f4f6;color:#1b1b1f}\
main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 3px #0002}\
h1{font-size:1.5rem;margin-top:0}form{margin:1rem 0;padding-top:1rem;border-top:1px solid #ddd}\
label{display:block;font-weight:600}input:not([type=checkbox]){width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #888;border-radius:.375rem}\
button{font:inherit;padding:.5rem 1rem;margin:.25rem .5rem .25rem 0;border-radius:.375rem;border:1px solid #2544b8;background:#2544b8;color:#fff;cursor:pointer}\
button[name=screen],button[name=email],button[name=resend]{background:#fff;color:#2544b8}\
.messages{padding-left:1.25rem}[data-type=error]{color:#a4000f}code{font-size:1.1rem;word-break:break-all}\
:focus-visible{outline:3px solid #2544b8;outline-offset:2px}";

fn see_other(location: &str) -> HttpResponse {
    match HeaderValue::from_str(location) {
        Ok(value) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, value))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(_) => message_page(500, "Unusable redirect", ""),
    }
}

fn html(status: u16, body: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'",
        ))
        .body(body.to_owned())
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
