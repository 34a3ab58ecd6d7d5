//! A mail sink for Kratos's HTTP courier: Kratos POSTs every message it would mail (the JSON
//! body built by `deploy/local/courier.jsonnet`) to `POST /mail`, and the sink keeps it, so
//! sign-up, recovery and verification codes can be read locally: printed by the demo, waited
//! for by the tests, and listed at `GET /messages`. Kratos counts any 2xx answer as delivered.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use serde_json::Value;

/// The fields of `courier.jsonnet` that carry a one-time code.
const CODE_FIELDS: [&str; 4] = [
    "verification_code",
    "recovery_code",
    "login_code",
    "registration_code",
];

/// Every message received so far; with `echo`, each is also printed as it arrives.
#[derive(Default)]
pub struct Mailbox {
    messages: Mutex<Vec<Value>>,
    echo: bool,
}

impl Mailbox {
    pub fn new(echo: bool) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            messages: Mutex::new(Vec::new()),
            echo,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every message, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        self.lock().clone()
    }

    /// The newest message to `recipient` whose `template_type` starts with `template`.
    pub fn latest(&self, recipient: &str, template: &str) -> Option<Value> {
        self.lock()
            .iter()
            .rev()
            .find(|m| is_for(m, recipient, template))
            .cloned()
    }

    /// Waits up to `within` for a message to `recipient` whose `template_type` starts with
    /// `template` and that arrived after the first `after` messages.
    pub async fn wait_for(
        &self,
        recipient: &str,
        template: &str,
        after: usize,
        within: Duration,
    ) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .lock()
                .iter()
                .skip(after)
                .rev()
                .find(|m| is_for(m, recipient, template))
                .cloned();
            if found.is_some() {
                return found;
            }
            if Instant::now() >= deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many messages arrived so far (a mark for [`Mailbox::wait_for`]).
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    fn receive(&self, message: Value) {
        if self.echo {
            let code = code(&message).map_or(String::new(), |c| format!(" (code {c})"));
            println!(
                "mail to {}: {}{code}",
                message["recipient"].as_str().unwrap_or("?"),
                message["subject"].as_str().unwrap_or_default()
            );
        }
        self.lock().push(message);
    }
}

fn is_for(message: &Value, recipient: &str, template: &str) -> bool {
    message["recipient"] == recipient
        && message["template_type"]
            .as_str()
            .is_some_and(|t| t.starts_with(template))
}

/// The one-time code a message carries, if any.
pub fn code(message: &Value) -> Option<&str> {
    CODE_FIELDS
        .iter()
        .find_map(|field| message[*field].as_str().filter(|c| !c.is_empty()))
}

/// Registers `POST /mail` and `GET /messages`; the app data must hold a `web::Data<Mailbox>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mail", web::post().to(receive))
        .route("/messages", web::get().to(list));
}

async fn receive(mailbox: web::Data<Mailbox>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<Value>(&body) {
        Ok(message) if message.is_object() => {
            mailbox.receive(message);
            HttpResponse::Ok().json(serde_json::json!({}))
        }
        _ => HttpResponse::BadRequest().json(serde_json::json!({"error": "not a JSON object"})),
    }
}

async fn list(mailbox: web::Data<Mailbox>) -> HttpResponse {
    HttpResponse::Ok().json(mailbox.messages())
}
