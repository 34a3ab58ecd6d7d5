//! The UI nodes of the fake Kratos's flows, in the shapes, groups, labels and order the real
//! Kratos v26.2.0 sends (`tests/contract/recorded/kratos-*-get-flow-*`).

use serde_json::{json, Map, Value};

/// A text (`uiText`) without context.
pub fn text(id: u64, text: &str, kind: &str) -> Value {
    json!({"id": id, "text": text, "type": kind})
}

/// A text with context.
pub fn text_with(id: u64, text: &str, kind: &str, context: Value) -> Value {
    json!({"id": id, "text": text, "type": kind, "context": context})
}

/// An `input` node. `extra` adds attributes (`value`, `required`, `autocomplete`, …) in the
/// order Kratos writes them: after `type`, before `disabled`.
pub fn input(
    group: &str,
    name: &str,
    input_type: &str,
    extra: &[(&str, Value)],
    label: Option<Value>,
) -> Value {
    let mut attributes = Map::new();
    attributes.insert("name".into(), json!(name));
    attributes.insert("type".into(), json!(input_type));
    for (key, value) in extra {
        attributes.insert((*key).to_owned(), value.clone());
    }
    attributes.insert("disabled".into(), json!(false));
    attributes.insert("node_type".into(), json!("input"));
    let meta = match label {
        Some(label) => json!({"label": label}),
        None => json!({}),
    };
    json!({"type": "input", "group": group, "attributes": attributes, "messages": [], "meta": meta})
}

pub fn csrf(token: &str) -> Value {
    input(
        "default",
        "csrf_token",
        "hidden",
        &[("value", json!(token)), ("required", json!(true))],
        None,
    )
}

/// A submit button.
pub fn submit(group: &str, name: &str, value: &str, label: Value) -> Value {
    input(
        group,
        name,
        "submit",
        &[("value", json!(value))],
        Some(label),
    )
}

/// The label of a field generated from the identity schema.
pub fn schema_label(name: &str, title: &str) -> Value {
    text_with(
        1070002,
        title,
        "info",
        json!({"name": name, "title": title}),
    )
}

/// The identity schema's traits as fields: `traits.email` (required), `traits.name.first`,
/// `traits.name.last`; `hidden` on the second registration step. A trait without a value has
/// no `value` attribute.
pub fn traits(group: &str, hidden: bool, values: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
    let value = |name: &str| -> Vec<(&'static str, Value)> {
        values(name)
            .filter(|v| !v.is_empty())
            .map(|v| vec![("value", json!(v))])
            .unwrap_or_default()
    };
    let mut email_extra = value("traits.email");
    email_extra.push(("required", json!(true)));
    email_extra.push(("autocomplete", json!("email")));
    let kind = |visible: &'static str| if hidden { "hidden" } else { visible };
    vec![
        input(
            group,
            "traits.email",
            kind("email"),
            &email_extra,
            Some(schema_label("traits.email", "E-Mail")),
        ),
        input(
            group,
            "traits.name.first",
            kind("text"),
            &value("traits.name.first"),
            Some(schema_label("traits.name.first", "First Name")),
        ),
        input(
            group,
            "traits.name.last",
            kind("text"),
            &value("traits.name.last"),
            Some(schema_label("traits.name.last", "Last Name")),
        ),
    ]
}

pub fn password(autocomplete: &str) -> Value {
    input(
        "password",
        "password",
        "password",
        &[
            ("required", json!(true)),
            ("autocomplete", json!(autocomplete)),
        ],
        Some(text(1070001, "Password", "info")),
    )
}

/// A base64 PNG, as Kratos inlines its TOTP QR code (this one only looks like a QR code).
pub const QR_PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAB0AAAAdAQAAAAB+6FqiAAAAjUlEQVR42mP4////DwYwccDRQILhvsv0GwwXq7dEMFxMKgES8UDWfR/xGwwHagokGP5/l//BcC+y9wbD8w2dOxh++F4Gcvce+MFw26fLguGdsqUFw1cjphkMx4LeSTBcPFAC1HH86Q6GA/XsNxjuu/YDxTI2A4kqhh0MFwuCKhjuR/JGMBxwsJRggDsDAINeRriJpCMUAAAAAElFTkSuQmCC";

pub fn totp_enrolment(secret: &str) -> Vec<Value> {
    vec![
        json!({"type": "img", "group": "totp",
               "attributes": {"src": QR_PNG, "id": "totp_qr", "width": 256, "height": 256, "node_type": "img"},
               "messages": [],
               "meta": {"label": text(1050005, "Authenticator app QR code", "info")}}),
        json!({"type": "text", "group": "totp",
               "attributes": {"text": text_with(1050006, secret, "info", json!({"secret": secret})), "id": "totp_secret_key", "node_type": "text"},
               "messages": [],
               "meta": {"label": text(1050017, "This is your authenticator app secret. Use it if you can not scan the QR code.", "info")}}),
        input(
            "totp",
            "totp_code",
            "text",
            &[("required", json!(true))],
            Some(text(1070006, "Verify code", "info")),
        ),
        submit("totp", "method", "totp", text(1070003, "Save", "info")),
    ]
}

/// The backup codes shown after "generate": a text node with every code.
pub fn lookup_codes(codes: &[(String, bool)]) -> Value {
    let secrets: Vec<Value> = codes
        .iter()
        .map(|(code, used)| {
            if *used {
                text_with(
                    1050014,
                    "Secret was used",
                    "info",
                    json!({"used_at": "2026-01-01T00:00:00Z", "used_at_unix": 1767225600}),
                )
            } else {
                text_with(1050009, code, "info", json!({"secret": code}))
            }
        })
        .collect();
    let joined: Vec<&str> = codes.iter().map(|(c, _)| c.as_str()).collect();
    json!({"type": "text", "group": "lookup_secret",
           "attributes": {"text": text_with(1050015, &joined.join(", "), "info", json!({"secrets": secrets})), "id": "lookup_secret_codes", "node_type": "text"},
           "messages": [],
           "meta": {"label": text(1050010, "These are your back up recovery codes. Please keep them in a safe place!", "info")}})
}

/// Kratos's WebAuthn script node.
pub fn webauthn_script(src: &str, integrity: &str) -> Value {
    json!({"type": "script", "group": "webauthn",
           "attributes": {"src": src, "async": true, "referrerpolicy": "no-referrer", "crossorigin": "anonymous",
                          "integrity": integrity, "type": "text/javascript", "id": "webauthn_script",
                          "nonce": super::super::fake_hydra::random_uuid(), "node_type": "script"},
           "messages": [], "meta": {}})
}

/// Attaches `messages` to the node named `name`, or, when there is none, appends the unlabeled
/// `text` node Kratos adds to carry a message for a field the form does not have.
pub fn attach(nodes: &mut Vec<Value>, name: &str, messages: &[Value]) {
    if messages.is_empty() {
        return;
    }
    let found = nodes
        .iter_mut()
        .find(|node| node["attributes"]["name"] == name && node["attributes"]["type"] != "submit");
    match found {
        Some(node) => {
            if let Some(list) = node["messages"].as_array_mut() {
                list.extend(messages.iter().cloned());
            }
        }
        None => {
            let mut orphan = input("default", name, "text", &[], None);
            orphan["messages"] = json!(messages);
            // Kratos places it among the default nodes.
            let at = nodes
                .iter()
                .rposition(|n| n["group"] == "default")
                .map_or(nodes.len(), |i| i + 1);
            nodes.insert(at, orphan);
        }
    }
}
