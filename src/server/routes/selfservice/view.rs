//! A Kratos flow, laid out by [`crate::domain::selfservice::layout`], as a page: every node
//! becomes a field, a button, a secret, an image, a link or a note, with its label and messages
//! in the page's language, and the attributes people and password managers need.

use std::collections::HashSet;

use url::Url;

use crate::domain::selfservice::{usable_url, Layout as FlowLayout};
use crate::model::flow::{Attributes, Flow, Input, Node, Text, TextKind};
use crate::model::KratosFlow;
use crate::server::assets::SCRIPT_PATH;
use crate::server::i18n::Texts;
use crate::server::kratos_texts::{label, translate};
use crate::server::views::{
    AppBadge, ButtonView, CodesView, FieldView, FlowPage, HiddenField, ImageView, InputView,
    Layout, LinkView, MessageView, NoteView, ScriptView, SecretView, SectionView,
};

/// A flow page, and what its CSP must allow.
pub struct Built {
    pub page: FlowPage,
    /// Script URLs the page loads (Kratos's script and, with it, Hera's own).
    pub scripts: Vec<String>,
    /// The page shows a `data:` image (the TOTP QR code).
    pub data_images: bool,
}

/// What the page is built from besides the flow.
pub struct Context<'a> {
    pub t: &'a Texts,
    pub kind: KratosFlow,
    /// The application the flow serves, when it was started for a Hydra login.
    pub app: Option<AppBadge>,
    /// Kratos as browsers reach it: the only origin scripts may come from.
    pub kratos_browser: &'a Url,
    /// Hera's own script as browsers reach it (absolute, for the CSP).
    pub hera_script_url: String,
}

pub fn build(cx: &Context<'_>, flow: &Flow, layout: &FlowLayout) -> Built {
    let t = cx.t;
    let nodes = &flow.ui.nodes;
    let mut ids = HashSet::new();
    let mut data_images = false;
    let mut sections: Vec<SectionView> = layout
        .sections
        .iter()
        .map(|section| {
            let mut fields: Vec<FieldView> = Vec::new();
            for &index in &section.nodes {
                let Some(field) = field(cx, &section.group, &nodes[index], &mut ids) else {
                    continue;
                };
                if matches!(field, FieldView::Image(_)) {
                    data_images = true;
                }
                match (field, fields.last_mut()) {
                    (FieldView::Actions(mut buttons), Some(FieldView::Actions(row))) => {
                        row.append(&mut buttons);
                    }
                    (field, _) => fields.push(field),
                }
            }
            let needs_script = needs_script(&fields);
            SectionView {
                id: unique(&mut ids, &format!("section-{}", section.group)),
                heading: (cx.kind == KratosFlow::Settings)
                    .then(|| t.get(&format!("flow-group-{}", section.group)))
                    .flatten()
                    .map(str::to_owned),
                separated: false,
                is_form: section.is_form,
                needs_script,
                fields,
            }
        })
        .collect();
    // Other ways to do the same thing are set apart by "or" (settings are a list of topics, and
    // a section of secondary buttons, such as Kratos's "Back", is no alternative).
    if cx.kind != KratosFlow::Settings {
        let mut previous_visible = false;
        for (section, layout) in sections.iter_mut().zip(&layout.sections) {
            let alternative = layout.group == "oidc" || has_primary(&section.fields);
            section.separated = previous_visible && !section.needs_script && alternative;
            previous_visible |= !section.needs_script;
        }
    }
    set_autofocus(cx.kind, &mut sections);
    let scripts: Vec<ScriptView> = layout
        .scripts
        .iter()
        .filter_map(|&i| script(&nodes[i], cx.kratos_browser))
        .collect();
    let mut script_urls: Vec<String> = scripts.iter().map(|s| s.src.clone()).collect();
    let hera_script = (!scripts.is_empty()).then(|| t.own(SCRIPT_PATH));
    if hera_script.is_some() {
        script_urls.push(cx.hera_script_url.clone());
    }
    let note = (flow.is_second_factor() && sections.iter().all(|s| s.needs_script))
        .then(|| t.text("flow-no-second-factor").to_owned());
    let page = FlowPage {
        layout: Layout::new(t, t.text(title_key(cx.kind, flow))),
        intro: cx.app.as_ref().map(|app| {
            t.text1(
                &format!("flow-{}-continue-to", cx.kind.name()),
                "app",
                &app.name,
            )
        }),
        app: cx.app.clone(),
        messages: flow.ui.messages.iter().map(|m| message(t, m)).collect(),
        note,
        sections,
        action: flow.ui.action.clone(),
        method: if flow.ui.method.eq_ignore_ascii_case("get") {
            "get"
        } else {
            "post"
        },
        shared: layout
            .shared
            .iter()
            .filter_map(|&i| nodes[i].input().map(hidden))
            .collect(),
        scripts,
        hera_script,
        links: links(t, cx.kind, flow),
    };
    Built {
        page,
        scripts: script_urls,
        data_images,
    }
}

/// The page's heading.
fn title_key(kind: KratosFlow, flow: &Flow) -> &'static str {
    match kind {
        KratosFlow::Login if flow.refresh => "flow-login-refresh-title",
        KratosFlow::Login if flow.is_second_factor() => "flow-login-second-factor-title",
        KratosFlow::Login => "flow-login-title",
        KratosFlow::Registration => "flow-registration-title",
        KratosFlow::Recovery => "flow-recovery-title",
        KratosFlow::Verification if flow.state.as_deref() == Some("passed_challenge") => {
            "flow-verification-done-title"
        }
        KratosFlow::Verification => "flow-verification-title",
        KratosFlow::Settings => "flow-settings-title",
    }
}

/// Links to the neighbouring pages, carrying the flow's `return_to`: signing up instead ends
/// where the sign-in would have, and so does recovering the account (Kratos hands the
/// `return_to` on to the settings flow where the new password is set, and goes there after it).
fn links(t: &Texts, kind: KratosFlow, flow: &Flow) -> Vec<LinkView> {
    let with_return_to = |path: &str| match flow.return_to.as_deref() {
        Some(return_to) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", return_to)
                .finish();
            t.own(&format!("{path}?{query}"))
        }
        None => t.own(path),
    };
    let link = |href: String, key: &str| LinkView {
        href,
        text: t.text(key).to_owned(),
    };
    let has_password = flow
        .ui
        .nodes
        .iter()
        .any(|n| n.group == "password" || n.group == "identifier_first");
    match kind {
        KratosFlow::Login if flow.refresh || flow.is_second_factor() => {
            vec![link(t.own("/"), "flow-link-home")]
        }
        KratosFlow::Login => {
            let mut links = Vec::new();
            if has_password {
                links.push(link(with_return_to("/recovery"), "flow-link-recovery"));
            }
            links.push(link(
                with_return_to("/registration"),
                "flow-link-registration",
            ));
            links
        }
        KratosFlow::Registration => vec![link(with_return_to("/login"), "flow-link-login")],
        KratosFlow::Recovery => vec![link(t.own("/login"), "flow-link-sign-in")],
        KratosFlow::Verification if flow.state.as_deref() == Some("passed_challenge") => Vec::new(),
        KratosFlow::Verification | KratosFlow::Settings => {
            vec![link(t.own("/"), "flow-link-home")]
        }
    }
}

fn message(t: &Texts, text: &Text) -> MessageView {
    MessageView {
        text: translate(t, text),
        kind: match text.kind {
            TextKind::Error => "error",
            TextKind::Success => "success",
            TextKind::Info => "info",
        },
    }
}

fn hidden(input: &Input) -> HiddenField {
    HiddenField {
        name: input.name.clone(),
        value: input.value_text().unwrap_or_default(),
        onload: input.onload_trigger.clone(),
    }
}

/// One node as a field; `None` for a node with nothing to show.
fn field(
    cx: &Context<'_>,
    group: &str,
    node: &Node,
    ids: &mut HashSet<String>,
) -> Option<FieldView> {
    let t = cx.t;
    let messages: Vec<MessageView> = node.messages.iter().map(|m| message(t, m)).collect();
    let note = |label: Option<String>, text: Option<String>, messages: Vec<MessageView>| {
        let shown = label.is_some() || text.is_some() || !messages.is_empty();
        shown.then_some(FieldView::Note(NoteView {
            label,
            text,
            messages,
        }))
    };
    let node_label = node.label.as_ref().map(|l| translate(t, l));
    match &node.attributes {
        Attributes::Input(input) if input.is_hidden() => Some(FieldView::Hidden(hidden(input))),
        Attributes::Input(input) if input.is_button() => {
            let label = node
                .label
                .as_ref()
                .map(|l| label(t, l, Some(&input.name)))
                .or_else(|| input.value_text())
                .unwrap_or_else(|| input.name.clone());
            Some(FieldView::Actions(vec![ButtonView {
                name: input.name.clone(),
                value: input.value_text().unwrap_or_default(),
                label,
                primary: input.name == "method" && input.onclick_trigger.is_none(),
                formnovalidate: input.name != "method",
                trigger: input.onclick_trigger.clone(),
                onload: input.onload_trigger.clone(),
                disabled: input.disabled,
                messages,
            }]))
        }
        Attributes::Input(input) => {
            // A field without a label is one Kratos added only to carry a message (an error for
            // a field the form does not have): its message is shown, the field is not.
            let Some(label) = node.label.as_ref().map(|l| label(t, l, Some(&input.name))) else {
                return note(None, None, messages);
            };
            let view = input_view(cx.kind, group, input, label, messages, ids);
            Some(if input.input_type == "checkbox" {
                FieldView::Checkbox(view)
            } else {
                FieldView::Input(view)
            })
        }
        Attributes::Img(img) if is_inline_image(&img.src) => Some(FieldView::Image(ImageView {
            id: unique(
                ids,
                &dom_id(group, if img.id.is_empty() { "image" } else { &img.id }),
            ),
            src: img.src.clone(),
            alt: node_label.unwrap_or_default(),
            width: img.width.unwrap_or(256),
            height: img.height.unwrap_or(256),
        })),
        Attributes::Img(_) => note(node_label, None, messages),
        Attributes::Anchor(anchor) => match usable_url(&anchor.href) {
            Some(href) => Some(FieldView::Link(LinkView {
                href,
                text: translate(t, &anchor.title),
            })),
            None => note(node_label, None, messages),
        },
        Attributes::Text(text) => {
            let id = unique(
                ids,
                &dom_id(group, if text.id.is_empty() { "text" } else { &text.id }),
            );
            let context = &text.text.context;
            if let Some(secrets) = context.get("secrets").and_then(|v| v.as_array()) {
                let codes = secrets
                    .iter()
                    .map(|secret| {
                        let code = secret
                            .pointer("/context/secret")
                            .and_then(|v| v.as_str())
                            .map(str::to_owned);
                        let used = code.is_none();
                        (code.unwrap_or_default(), used)
                    })
                    .collect();
                Some(FieldView::Codes(CodesView {
                    id,
                    label: node_label,
                    codes,
                }))
            } else if let Some(secret) = context.get("secret").and_then(|v| v.as_str()) {
                Some(FieldView::Secret(SecretView {
                    id,
                    label: node_label,
                    value: secret.to_owned(),
                }))
            } else {
                note(node_label, Some(translate(t, &text.text)), messages)
            }
        }
        Attributes::Script(_) => None,
        Attributes::Div(div) => Some(FieldView::Container(div.id.clone())),
        Attributes::Unknown { .. } => note(node_label, None, messages),
    }
}

fn input_view(
    kind: KratosFlow,
    group: &str,
    input: &Input,
    label: String,
    messages: Vec<MessageView>,
    ids: &mut HashSet<String>,
) -> InputView {
    let is_password = input.input_type == "password";
    let verbatim = matches!(
        input.name.as_str(),
        "identifier"
            | "code"
            | "totp_code"
            | "lookup_secret"
            | "email"
            | "traits.email"
            | "traits.username"
    ) || input.input_type == "email";
    InputView {
        id: unique(ids, &dom_id(group, &input.name)),
        name: input.name.clone(),
        input_type: input.input_type.clone(),
        // What the person typed comes back after an error, except a password.
        value: (!is_password)
            .then(|| input.value_text())
            .flatten()
            .filter(|v| !v.is_empty()),
        label,
        required: input.required,
        disabled: input.disabled,
        autocomplete: autocomplete(kind, input),
        inputmode: inputmode(input),
        pattern: input.pattern.clone(),
        maxlength: input.maxlength,
        autofocus: false,
        verbatim,
        checked: input.value == Some(serde_json::Value::Bool(true)),
        invalid: messages.iter().any(|m| m.kind == "error"),
        messages,
    }
}

/// The `autocomplete` token: Kratos's own when it sends one, else by the field's name, so
/// password managers fill the right thing (a new password on sign-up and in settings).
fn autocomplete(kind: KratosFlow, input: &Input) -> Option<String> {
    if let Some(given) = input.autocomplete.as_deref().filter(|a| !a.is_empty()) {
        return Some(given.to_owned());
    }
    let token = match input.name.as_str() {
        "identifier" | "traits.username" => "username",
        "password" if kind == KratosFlow::Login => "current-password",
        "password" => "new-password",
        "code" | "totp_code" | "lookup_secret" => "one-time-code",
        "email" | "traits.email" => "email",
        "traits.name.first" => "given-name",
        "traits.name.last" => "family-name",
        "traits.phone" => "tel",
        _ => match input.input_type.as_str() {
            "email" => "email",
            "tel" => "tel",
            "url" => "url",
            _ => return None,
        },
    };
    Some(token.to_owned())
}

/// The keyboard phones show: digits for one-time codes Kratos sends or apps show.
fn inputmode(input: &Input) -> Option<&'static str> {
    match (input.name.as_str(), input.input_type.as_str()) {
        ("totp_code" | "code", _) => Some("numeric"),
        (_, "email") => Some("email"),
        (_, "tel") => Some("tel"),
        _ => None,
    }
}

/// Focus goes to the first field with an error, else (except in settings, a page of many
/// forms) to the first empty field.
fn set_autofocus(kind: KratosFlow, sections: &mut [SectionView]) {
    let fields = || {
        sections
            .iter()
            .filter(|s| !s.needs_script)
            .flat_map(|s| s.fields.iter())
    };
    let invalid = fields()
        .position(|f| matches!(f, FieldView::Input(i) | FieldView::Checkbox(i) if i.invalid));
    let empty =
        fields().position(|f| matches!(f, FieldView::Input(i) if i.value.is_none() && !i.disabled));
    let Some(target) = invalid.or(empty.filter(|_| kind != KratosFlow::Settings)) else {
        return;
    };
    if let Some(FieldView::Input(view) | FieldView::Checkbox(view)) = sections
        .iter_mut()
        .filter(|s| !s.needs_script)
        .flat_map(|s| s.fields.iter_mut())
        .nth(target)
    {
        view.autofocus = true;
    }
}

/// Whether a section has a method's main button.
fn has_primary(fields: &[FieldView]) -> bool {
    fields
        .iter()
        .any(|f| matches!(f, FieldView::Actions(row) if row.iter().any(|b| b.primary)))
}

/// A section that only works with Kratos's script: it has buttons that run one of the
/// script's functions and no plain submit button.
fn needs_script(fields: &[FieldView]) -> bool {
    let buttons: Vec<&ButtonView> = fields
        .iter()
        .filter_map(|f| match f {
            FieldView::Actions(row) => Some(row.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    let scripted = fields
        .iter()
        .any(|f| matches!(f, FieldView::Hidden(h) if h.onload.is_some()))
        || buttons.iter().any(|b| b.trigger.is_some());
    scripted && buttons.iter().all(|b| b.trigger.is_some())
}

/// Kratos's script, only from Kratos's own origin and only with its integrity hash.
fn script(node: &Node, kratos_browser: &Url) -> Option<ScriptView> {
    let Attributes::Script(script) = &node.attributes else {
        return None;
    };
    let src = Url::parse(&script.src).ok()?;
    let trusted = src.origin() == kratos_browser.origin()
        && matches!(src.scheme(), "http" | "https")
        && script.integrity.starts_with("sha");
    if !trusted {
        tracing::warn!(
            "Kratos's script node is not from Kratos's browser origin or has no integrity hash; it is left out"
        );
        return None;
    }
    Some(ScriptView {
        src: src.into(),
        integrity: script.integrity.clone(),
        crossorigin: if script.crossorigin.is_empty() {
            "anonymous".into()
        } else {
            script.crossorigin.clone()
        },
        referrerpolicy: if script.referrerpolicy.is_empty() {
            "no-referrer".into()
        } else {
            script.referrerpolicy.clone()
        },
        is_async: script.is_async,
    })
}

/// A raster image inlined as base64 (Kratos's TOTP QR code); nothing else is shown as an image.
fn is_inline_image(src: &str) -> bool {
    ["png", "jpeg", "gif", "webp"]
        .iter()
        .any(|kind| src.starts_with(&format!("data:image/{kind};base64,")))
}

/// `<group>-<name>`, with what is not a letter, digit, `-` or `_` replaced by `-`.
fn dom_id(group: &str, name: &str) -> String {
    format!("{group}-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `id`, or `id-2`, `id-3`, … when taken.
fn unique(ids: &mut HashSet<String>, id: &str) -> String {
    let mut candidate = id.to_owned();
    let mut n = 2;
    while ids.contains(&candidate) {
        candidate = format!("{id}-{n}");
        n += 1;
    }
    ids.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, input_type: &str) -> Input {
        Input {
            name: name.into(),
            input_type: input_type.into(),
            ..Input::default()
        }
    }

    #[test]
    fn fields_get_the_autocomplete_password_managers_expect() {
        let cases = [
            (KratosFlow::Login, "identifier", "text", Some("username")),
            (
                KratosFlow::Login,
                "password",
                "password",
                Some("current-password"),
            ),
            (
                KratosFlow::Registration,
                "password",
                "password",
                Some("new-password"),
            ),
            (
                KratosFlow::Settings,
                "password",
                "password",
                Some("new-password"),
            ),
            (KratosFlow::Recovery, "code", "text", Some("one-time-code")),
            (
                KratosFlow::Login,
                "totp_code",
                "text",
                Some("one-time-code"),
            ),
            (
                KratosFlow::Login,
                "lookup_secret",
                "text",
                Some("one-time-code"),
            ),
            (
                KratosFlow::Registration,
                "traits.email",
                "email",
                Some("email"),
            ),
            (
                KratosFlow::Registration,
                "traits.name.first",
                "text",
                Some("given-name"),
            ),
            (
                KratosFlow::Registration,
                "traits.website",
                "url",
                Some("url"),
            ),
            (KratosFlow::Registration, "traits.team", "text", None),
        ];
        for (kind, name, input_type, expected) in cases {
            assert_eq!(
                autocomplete(kind, &input(name, input_type)).as_deref(),
                expected,
                "{name}"
            );
        }
        let mut given = input("identifier", "text");
        given.autocomplete = Some("username webauthn".into());
        assert_eq!(
            autocomplete(KratosFlow::Login, &given).as_deref(),
            Some("username webauthn")
        );
    }

    #[test]
    fn codes_get_a_numeric_keyboard() {
        assert_eq!(inputmode(&input("totp_code", "text")), Some("numeric"));
        assert_eq!(inputmode(&input("code", "text")), Some("numeric"));
        assert_eq!(inputmode(&input("lookup_secret", "text")), None);
        assert_eq!(inputmode(&input("traits.email", "email")), Some("email"));
    }

    #[test]
    fn only_inline_raster_images_are_shown() {
        assert!(is_inline_image("data:image/png;base64,AAAA"));
        for other in [
            "data:image/svg+xml;base64,PHN2Zz4=",
            "data:text/html,x",
            "https://x/qr.png",
            "javascript:x",
        ] {
            assert!(!is_inline_image(other), "{other}");
        }
    }

    #[test]
    fn ids_are_safe_and_unique() {
        let mut ids = HashSet::new();
        assert_eq!(
            unique(&mut ids, &dom_id("profile", "traits.name.first")),
            "profile-traits-name-first"
        );
        assert_eq!(
            unique(&mut ids, &dom_id("profile", "traits.name.first")),
            "profile-traits-name-first-2"
        );
        assert_eq!(dom_id("x", "a\"><b"), "x-a---b");
    }

    fn button(trigger: Option<&str>) -> ButtonView {
        ButtonView {
            name: "b".into(),
            value: String::new(),
            label: "B".into(),
            primary: trigger.is_none(),
            formnovalidate: false,
            trigger: trigger.map(str::to_owned),
            onload: None,
            disabled: false,
            messages: Vec::new(),
        }
    }

    #[test]
    fn a_section_needs_the_script_only_when_nothing_in_it_works_without() {
        let scripted = vec![FieldView::Actions(vec![button(Some(
            "oryWebAuthnRegistration",
        ))])];
        assert!(needs_script(&scripted));
        let mixed = vec![FieldView::Actions(vec![
            button(Some("oryWebAuthnRegistration")),
            button(None),
        ])];
        assert!(!needs_script(&mixed), "a plain button works without it");
        let onload = vec![FieldView::Hidden(HiddenField {
            name: "passkey_login".into(),
            value: String::new(),
            onload: Some("oryPasskeyLoginAutocompleteInit".into()),
        })];
        assert!(needs_script(&onload));
        assert!(!needs_script(&[FieldView::Actions(vec![button(None)])]));
    }
}
