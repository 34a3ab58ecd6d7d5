//! Kratos's browser self-service flows as Hera reads them: a flow, its UI (the form's action,
//! its nodes and messages), the texts Kratos sends by id, and what Kratos says when it cannot
//! give a flow.
//!
//! A flow is rendered generically from its nodes, so the types keep what Kratos sends open:
//! node types and groups Hera does not know are kept (as [`Attributes::Unknown`] and a plain
//! group string), and values are kept as JSON. See
//! <https://www.ory.sh/docs/kratos/concepts/ui-user-interface> for the node model.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::kratos::KratosFlow;

/// One of Kratos's browser self-service flows, as `GET /self-service/<kind>/flows?id=` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Flow {
    pub id: String,
    pub ui: Ui,
    /// Where the browser goes when the flow is done; only present when set.
    #[serde(default)]
    pub return_to: Option<String>,
    /// `choose_method`, `sent_email`, `passed_challenge` (recovery, verification, login by
    /// code), `show_form`, `success` (settings); kept open.
    #[serde(default)]
    pub state: Option<String>,
    /// Login: a re-authentication of a signed-in person.
    #[serde(default)]
    pub refresh: bool,
    /// Login: `aal1` or `aal2` (a second factor).
    #[serde(default)]
    pub requested_aal: Option<String>,
    /// The URL the flow was started with (its `return_to`, `refresh`, `aal`).
    #[serde(default)]
    pub request_url: Option<String>,
}

impl Flow {
    /// True for a login flow that asks for a second factor.
    pub fn is_second_factor(&self) -> bool {
        self.requested_aal.as_deref() == Some("aal2")
    }
}

/// The form Kratos describes: where it posts, its nodes and its flow-level messages.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ui {
    /// Absolute URL the form posts to (Kratos's `/self-service/<kind>?flow=<id>`, or a finished
    /// verification flow's return address).
    pub action: String,
    /// `POST` (kept as sent).
    pub method: String,
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Messages about the whole flow; Kratos omits the field when there are none.
    #[serde(default)]
    pub messages: Vec<Text>,
}

/// One node of a flow's UI.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `default`, `password`, `code`, `oidc`, `profile`, `totp`, … (kept open).
    pub group: String,
    pub attributes: Attributes,
    /// Messages about this node (a field's validation error).
    pub messages: Vec<Text>,
    /// The node's label (`meta.label`).
    pub label: Option<Text>,
}

impl Node {
    /// The input's name, for input nodes.
    pub fn input(&self) -> Option<&Input> {
        match &self.attributes {
            Attributes::Input(input) => Some(input),
            _ => None,
        }
    }
}

/// What a node is, by `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Attributes {
    Input(Input),
    Img(Img),
    Anchor(Anchor),
    Text(TextNode),
    Script(Script),
    Div(Div),
    /// A node type Hera does not know: only its label and messages can be shown.
    Unknown {
        node_type: String,
    },
}

/// An `input` node: a field, a hidden value or a button.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Input {
    pub name: String,
    /// `text`, `password`, `email`, `hidden`, `submit`, `button`, `checkbox`, … (kept open).
    #[serde(rename = "type")]
    pub input_type: String,
    /// A string mostly; a boolean for checkboxes; absent for an empty field.
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub autocomplete: Option<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub maxlength: Option<u64>,
    /// The function of Kratos's WebAuthn script a button calls when clicked.
    #[serde(default, rename = "onclickTrigger")]
    pub onclick_trigger: Option<String>,
    /// The function of Kratos's WebAuthn script called once the page has loaded.
    #[serde(default, rename = "onloadTrigger")]
    pub onload_trigger: Option<String>,
}

impl Input {
    /// The value as text: strings as they are, numbers and booleans written out.
    pub fn value_text(&self) -> Option<String> {
        match self.value.as_ref()? {
            Value::String(text) => Some(text.clone()),
            Value::Null => None,
            Value::Bool(b) => Some(b.to_string()),
            other => Some(other.to_string()),
        }
    }

    /// A button (`submit`, or `button` for a script's trigger).
    pub fn is_button(&self) -> bool {
        matches!(self.input_type.as_str(), "submit" | "button")
    }

    pub fn is_hidden(&self) -> bool {
        self.input_type == "hidden"
    }
}

/// An `img` node (the TOTP QR code).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Img {
    pub src: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
}

/// An `a` node (a finished verification's "continue").
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Anchor {
    pub href: String,
    pub title: Text,
    #[serde(default)]
    pub id: String,
}

/// A `text` node (the TOTP secret, backup codes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TextNode {
    pub text: Text,
    #[serde(default)]
    pub id: String,
}

/// A `script` node (Kratos's WebAuthn and passkey script).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Script {
    pub src: String,
    #[serde(default)]
    pub integrity: String,
    #[serde(default)]
    pub crossorigin: String,
    #[serde(default)]
    pub referrerpolicy: String,
    #[serde(default, rename = "type")]
    pub script_type: String,
    #[serde(default)]
    pub id: String,
    #[serde(default, rename = "async")]
    pub is_async: bool,
}

/// A `div` node (a captcha's container).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Div {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub class: Option<String>,
}

/// A text Kratos sends by id (`uiText`): a label or a message, in English, with the values
/// that were filled into it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Text {
    pub id: u64,
    /// Kratos's English wording, shown when Hera has no translation of `id`.
    #[serde(default)]
    pub text: String,
    #[serde(default, rename = "type")]
    pub kind: TextKind,
    /// The values filled into the text (`{"min_length": 8, …}`).
    #[serde(default)]
    pub context: Value,
}

/// The kind of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextKind {
    #[default]
    Info,
    Error,
    Success,
}

impl<'de> Deserialize<'de> for TextKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let kind = String::deserialize(deserializer)?;
        Ok(match kind.as_str() {
            "error" => TextKind::Error,
            "success" => TextKind::Success,
            // `info`, and anything newer: shown neutrally.
            _ => TextKind::Info,
        })
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Meta {
            #[serde(default)]
            label: Option<Text>,
        }
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            node_type: String,
            #[serde(default)]
            group: String,
            #[serde(default)]
            attributes: Value,
            #[serde(default)]
            messages: Vec<Text>,
            #[serde(default)]
            meta: Option<Meta>,
        }
        use serde::de::Error;
        let raw = Raw::deserialize(deserializer)?;
        let attributes = raw.attributes;
        let typed = |kind: &str| -> Result<Attributes, D::Error> {
            let parsed = match kind {
                "input" => serde_json::from_value(attributes.clone()).map(Attributes::Input),
                "img" => serde_json::from_value(attributes.clone()).map(Attributes::Img),
                "a" => serde_json::from_value(attributes.clone()).map(Attributes::Anchor),
                "text" => serde_json::from_value(attributes.clone()).map(Attributes::Text),
                "script" => serde_json::from_value(attributes.clone()).map(Attributes::Script),
                "div" => serde_json::from_value(attributes.clone()).map(Attributes::Div),
                other => {
                    return Ok(Attributes::Unknown {
                        node_type: other.to_owned(),
                    })
                }
            };
            // The error names the attribute, never its value (values carry CSRF tokens).
            parsed.map_err(|e| {
                D::Error::custom(format!(
                    "a {kind} node's attributes: {:?} error at column {}",
                    e.classify(),
                    e.column()
                ))
            })
        };
        Ok(Node {
            group: raw.group,
            attributes: typed(&raw.node_type)?,
            messages: raw.messages,
            label: raw.meta.and_then(|meta| meta.label),
        })
    }
}

/// What Kratos said instead of a flow (or instead of a redirect when asked for JSON): its
/// status and error id, with the addresses it names. Read from Kratos's nested error body
/// (`{"error": {"id", "code", "reason", "details"}, "redirect_browser_to", "use_flow_id"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowProblem {
    pub status: u16,
    /// `security_csrf_violation`, `self_service_flow_expired`, `session_aal2_required`, …;
    /// absent on some errors (a 404, an expired recovery flow, a 401 without a session).
    pub id: Option<String>,
    /// Where Kratos says the browser must go next (top level, or in `details`).
    pub redirect_browser_to: Option<String>,
    /// An expired flow: Kratos's address to start a new one (`details.redirect_to`).
    pub restart_at: Option<String>,
    /// An expired flow: its `return_to` (`details.return_to`), empty when it had none.
    pub return_to: Option<String>,
    /// A replaced flow: the flow to use instead.
    pub use_flow_id: Option<String>,
    /// Kratos's explanation, for the log only: it may quote addresses from the request.
    pub reason: Option<String>,
}

/// A self-service error Kratos recorded for the error page (`GET /self-service/errors?id=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfServiceError {
    /// The error's own id, which the page shows for support.
    pub id: String,
    /// What went wrong, in the same terms as a failed flow.
    pub problem: FlowProblem,
}

/// What Kratos answered when Hera asked for a flow.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowAnswer {
    Flow(Box<Flow>),
    /// No flow: Kratos explained why (404, 410, 403, 401, 422, …).
    Problem(FlowProblem),
}

/// The parameters a browser flow is started with (`/self-service/<kind>/browser?…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStart {
    /// Where Kratos sends the browser when the flow is done.
    pub return_to: Option<String>,
    /// Login: re-authenticate a signed-in person.
    pub refresh: bool,
    /// Login: ask for a second factor (`aal=aal2`).
    pub aal2: bool,
}

/// A flow Hera renders or starts: which kind, and its id when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRef {
    pub kind: KratosFlow,
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nodes_of_every_type_are_read_and_unknown_types_are_kept() {
        let nodes: Vec<Node> = serde_json::from_value(json!([
            {"type": "input", "group": "default", "attributes": {"name": "csrf_token", "type": "hidden", "value": "x", "required": true, "disabled": false, "node_type": "input"}, "messages": [], "meta": {}},
            {"type": "img", "group": "totp", "attributes": {"src": "data:image/png;base64,AA", "id": "totp_qr", "width": 256, "height": 256, "node_type": "img"}, "messages": [], "meta": {"label": {"id": 1050005, "text": "QR", "type": "info"}}},
            {"type": "a", "group": "code", "attributes": {"href": "https://app.example/", "title": {"id": 1070009, "text": "Continue", "type": "info"}, "id": "continue", "node_type": "a"}, "messages": [], "meta": {}},
            {"type": "text", "group": "totp", "attributes": {"text": {"id": 1050006, "text": "SECRET", "type": "info", "context": {"secret": "SECRET"}}, "id": "totp_secret_key", "node_type": "text"}, "messages": [], "meta": {}},
            {"type": "script", "group": "webauthn", "attributes": {"src": "https://id.example/.well-known/ory/webauthn.js", "async": true, "integrity": "sha512-x", "crossorigin": "anonymous", "referrerpolicy": "no-referrer", "type": "text/javascript", "id": "webauthn_script", "nonce": "n", "node_type": "script"}, "messages": [], "meta": {}},
            {"type": "div", "group": "captcha", "attributes": {"id": "c", "class": "k", "node_type": "div"}, "messages": [], "meta": {}},
            {"type": "hologram", "group": "future", "attributes": {"node_type": "hologram"}, "messages": [{"id": 9999999, "text": "Hello", "type": "weird"}], "meta": {}}
        ]))
        .unwrap();
        assert!(
            matches!(&nodes[0].attributes, Attributes::Input(i) if i.name == "csrf_token" && i.is_hidden())
        );
        assert!(matches!(&nodes[1].attributes, Attributes::Img(i) if i.width == Some(256)));
        assert!(matches!(&nodes[2].attributes, Attributes::Anchor(a) if a.title.id == 1070009));
        assert!(
            matches!(&nodes[3].attributes, Attributes::Text(t) if t.text.context["secret"] == "SECRET")
        );
        assert!(
            matches!(&nodes[4].attributes, Attributes::Script(s) if s.is_async && s.integrity == "sha512-x")
        );
        assert!(matches!(&nodes[5].attributes, Attributes::Div(d) if d.id == "c"));
        assert_eq!(
            nodes[6].attributes,
            Attributes::Unknown {
                node_type: "hologram".into()
            }
        );
        assert_eq!(nodes[6].messages[0].kind, TextKind::Info);
        assert_eq!(nodes[1].label.as_ref().map(|l| l.id), Some(1050005));
    }

    #[test]
    fn a_malformed_known_node_fails_without_quoting_its_values() {
        let error = serde_json::from_value::<Node>(json!(
            {"type": "input", "group": "default", "attributes": {"type": "hidden", "value": "csrf-secret-value"}, "messages": [], "meta": {}}
        ))
        .unwrap_err()
        .to_string();
        assert!(error.contains("input node"), "{error}");
        assert!(!error.contains("csrf-secret-value"), "{error}");
    }

    #[test]
    fn input_values_read_as_text_whatever_their_json_type() {
        let input = |value: Value| Input {
            name: "n".into(),
            input_type: "text".into(),
            value: Some(value),
            ..Input::default()
        };
        assert_eq!(input(json!("a")).value_text().as_deref(), Some("a"));
        assert_eq!(input(json!(true)).value_text().as_deref(), Some("true"));
        assert_eq!(input(json!(3)).value_text().as_deref(), Some("3"));
        assert_eq!(input(Value::Null).value_text(), None);
    }
}
