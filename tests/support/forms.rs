//! Reading Hera's flow pages as a browser does: the forms (their action, method, the section
//! they are in, their fields and buttons), and submitting one with the clicked button's
//! `name=value`, as browsers send only the button that was pressed.

#![allow(dead_code)]

/// One `<form>` of a page.
#[derive(Clone, Debug)]
pub struct Form {
    pub action: String,
    pub method: String,
    /// The `id` of the `<section>` the form is in (`section-password`).
    pub section: String,
    /// Inputs (`name`, `value`, `type`) in document order.
    pub inputs: Vec<Field>,
    /// Buttons (`name`, `value`, `type`).
    pub buttons: Vec<Field>,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub kind: String,
    /// The whole tag, for checking attributes.
    pub tag: String,
}

impl Form {
    /// The body a browser sends when `button` (`name`, `value`) is pressed after typing
    /// `typed`: every input with a name (typed values replace the page's), then the button.
    pub fn body(&self, button: (&str, &str), typed: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut body: Vec<(String, String)> = Vec::new();
        for input in &self.inputs {
            if input.kind == "checkbox" {
                continue;
            }
            let value = typed
                .iter()
                .find(|(name, _)| *name == input.name)
                .map_or(input.value.clone(), |(_, v)| (*v).to_owned());
            body.push((input.name.clone(), value));
        }
        for (name, value) in typed {
            if !self.inputs.iter().any(|i| i.name == *name) {
                body.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        assert!(
            self.buttons
                .iter()
                .any(|b| b.name == button.0 && b.value == button.1),
            "the form has no button {button:?}: {:?}",
            self.buttons
        );
        body.push((button.0.to_owned(), button.1.to_owned()));
        body
    }

    pub fn input(&self, name: &str) -> Option<&Field> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

/// Every form of a page.
pub fn forms(html: &str) -> Vec<Form> {
    let mut found = Vec::new();
    let mut rest = html;
    let mut offset = 0;
    while let Some(start) = rest.find("<form") {
        let Some(end) = rest[start..].find("</form>") else {
            break;
        };
        let block = &rest[start..start + end];
        let open = &block[..block.find('>').unwrap_or(block.len())];
        let section = html[..offset + start]
            .rfind("<section")
            .map(|at| attribute(&html[at..], "id").unwrap_or_default())
            .unwrap_or_default();
        found.push(Form {
            action: attribute(open, "action").unwrap_or_default(),
            method: attribute(open, "method").unwrap_or_default(),
            section,
            inputs: tags(block, "<input")
                .into_iter()
                .filter_map(|tag| field(&tag, "text"))
                .collect(),
            buttons: tags(block, "<button")
                .into_iter()
                .filter_map(|tag| field(&tag, "submit"))
                .collect(),
        });
        offset += start + end + "</form>".len();
        rest = &rest[start + end + "</form>".len()..];
    }
    found
}

/// The form containing the button `name=value`.
pub fn form_with_button(html: &str, name: &str, value: &str) -> Form {
    forms(html)
        .into_iter()
        .find(|f| f.buttons.iter().any(|b| b.name == name && b.value == value))
        .unwrap_or_else(|| panic!("no form with the button {name}={value} in:\n{html}"))
}

fn field(tag: &str, default_kind: &str) -> Option<Field> {
    Some(Field {
        name: attribute(tag, "name")?,
        value: attribute(tag, "value").unwrap_or_default(),
        kind: attribute(tag, "type").unwrap_or_else(|| default_kind.to_owned()),
        tag: tag.to_owned(),
    })
}

/// The opening tags starting with `open` in `html`.
pub fn tags(html: &str, open: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(open) {
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        found.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    found
}

/// The opening tag of the visible input named `name` on a page.
pub fn visible_input(html: &str, name: &str) -> String {
    tags(html, "<input")
        .into_iter()
        .find(|tag| {
            attribute(tag, "name").as_deref() == Some(name)
                && attribute(tag, "type").as_deref() != Some("hidden")
        })
        .unwrap_or_else(|| panic!("no visible input {name} in:\n{html}"))
}

/// The opening tag of the button `name`=`value` on a page.
pub fn button(html: &str, name: &str, value: &str) -> String {
    tags(html, "<button")
        .into_iter()
        .find(|tag| {
            attribute(tag, "name").as_deref() == Some(name)
                && attribute(tag, "value").as_deref() == Some(value)
        })
        .unwrap_or_else(|| panic!("no button {name}={value} in:\n{html}"))
}

/// The decoded value of `name="…"` in a tag.
pub fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// Whether a tag has the attribute `name` (with or without a value).
pub fn has_attribute(tag: &str, name: &str) -> bool {
    tag.contains(&format!(" {name}=\""))
        || tag.contains(&format!(" {name} "))
        || tag.contains(&format!(" {name}>"))
}

/// HTML character references: `&#NN;`, `&#xNN;` and the named ones Hera's templates write.
pub fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(end) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|n| n.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of a page without tags, entities decoded, whitespace collapsed.
pub fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_their_sections_fields_and_buttons_are_read() {
        let html = r#"<section class="flow-section" id="section-password"><form method="post" action="http://k/self-service/login?flow=1&#38;x=2">
            <input type="hidden" name="csrf_token" value="a&#43;b">
            <input id="p" name="password" type="password">
            <button type="submit" name="method" value="password">Go</button></form></section>"#;
        let form = &forms(html)[0];
        assert_eq!(form.action, "http://k/self-service/login?flow=1&x=2");
        assert_eq!(form.section, "section-password");
        assert_eq!(form.input("csrf_token").unwrap().value, "a+b");
        let body = form.body(("method", "password"), &[("password", "secret")]);
        assert_eq!(
            body,
            [
                ("csrf_token".to_owned(), "a+b".to_owned()),
                ("password".to_owned(), "secret".to_owned()),
                ("method".to_owned(), "password".to_owned())
            ]
        );
        assert_eq!(text("<p>A &amp; <b>B</b></p>"), "A & B");
    }
}
