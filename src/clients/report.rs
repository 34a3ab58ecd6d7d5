//! What `plan` and `apply` print: one block per client in id order, then the deletions, then a
//! summary. Secrets are always `****`.

use super::fields::{Kind, FIELDS};
use super::plan::{display, Action, Plan, Step};
use super::validate::Secret;

/// Whether a block describes what would happen or what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tense {
    Plan,
    Done,
}

/// The block for one client: a heading, its fields or changes, and its warnings.
pub fn step(step: &Step, tense: Tense) -> Vec<String> {
    let spec = &step.spec;
    let verb = match (&step.action, tense) {
        (Action::Create, Tense::Plan) => "+ create",
        (Action::Create, Tense::Done) => "+ created",
        (Action::Update(_), Tense::Plan) => "~ update",
        (Action::Update(_), Tense::Done) => "~ updated",
        (Action::Unchanged, _) => "= unchanged",
    };
    let mut lines = vec![format!("{verb} {} ({})", spec.id, spec.source)];
    match &step.action {
        Action::Create => {
            for field in FIELDS {
                if field.kind == Kind::Secret {
                    if let Some(secret) = &spec.secret {
                        lines.push(format!("    client_secret: {}", masked(secret)));
                    }
                } else if let Some(value) = spec.body.get(field.name) {
                    lines.push(format!(
                        "    {}: {}",
                        field.name,
                        display(field.name, Some(value))
                    ));
                }
            }
        }
        Action::Update(changes) => {
            for change in changes {
                lines.push(format!(
                    "    {}: {} → {}",
                    change.field, change.before, change.after
                ));
            }
            if let Some(secret) = &spec.secret {
                lines.push(if step.send_secret {
                    format!("    client_secret: replaced by {}", masked(secret))
                } else {
                    "    client_secret: kept (Hydra never returns secrets, so they cannot be \
                     compared; --replace-secrets sends it)"
                        .to_owned()
                });
            }
        }
        Action::Unchanged => {}
    }
    for warning in &spec.warnings {
        lines.push(format!("    warning: {warning}"));
    }
    lines
}

fn masked(secret: &Secret) -> String {
    format!("**** (from ${})", secret.variable)
}

/// The line for a client `--prune` deletes.
pub fn deletion(id: &str, tense: Tense) -> String {
    match tense {
        Tense::Plan => format!("- delete {id} (managed by Hera, and no file defines it any more)"),
        Tense::Done => format!("- deleted {id}"),
    }
}

/// Counts of what a plan holds or an apply did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

impl Counts {
    pub fn add(&mut self, action: &Action) {
        match action {
            Action::Create => self.created += 1,
            Action::Update(_) => self.updated += 1,
            Action::Unchanged => self.unchanged += 1,
        }
    }

    pub fn changes(&self) -> usize {
        self.created + self.updated + self.deleted
    }
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            deleted: self.deletions.len(),
            ..Counts::default()
        };
        for step in &self.steps {
            counts.add(&step.action);
        }
        counts
    }
}

/// The last line of a report.
pub fn summary(counts: Counts, tense: Tense, dir: &str) -> String {
    let total = counts.created + counts.updated + counts.unchanged;
    match tense {
        _ if counts.changes() == 0 => format!(
            "No changes: Hydra {} the {total} client{} in {dir}.",
            if tense == Tense::Plan {
                "matches"
            } else {
                "already matched"
            },
            if total == 1 { "" } else { "s" },
        ),
        Tense::Plan => format!(
            "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
            counts.created, counts.updated, counts.deleted, counts.unchanged
        ),
        Tense::Done => format!(
            "Applied: {} created, {} updated, {} deleted, {} unchanged.",
            counts.created, counts.updated, counts.deleted, counts.unchanged
        ),
    }
}

/// `text` with every occurrence of a secret replaced by `****`, for anything printed that did
/// not come from Hera itself (Hydra's error descriptions).
pub fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        if !secret.expose().is_empty() {
            text = text.replace(secret.expose(), "****");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::files::Source;
    use crate::clients::plan::Change;
    use crate::clients::validate::ClientSpec;
    use serde_json::json;

    fn spec(secret: bool, warnings: &[&str]) -> ClientSpec {
        ClientSpec {
            id: "web".into(),
            source: Source {
                file: "hydra-clients/web.json".into(),
                index: None,
            },
            body: json!({
                "client_id": "web",
                "scope": "openid",
                "redirect_uris": ["https://app.example.com/cb"],
                "metadata": {"managed_by": "hera"},
            })
            .as_object()
            .unwrap()
            .clone(),
            secret: secret.then(|| Secret::new("WEB_SECRET", "super-secret-value")),
            warnings: warnings.iter().map(|w| (*w).to_owned()).collect(),
        }
    }

    #[test]
    fn a_create_lists_the_files_fields_with_the_secret_masked() {
        let step = Step {
            spec: spec(true, &[]),
            action: Action::Create,
            send_secret: true,
        };
        assert_eq!(
            super::step(&step, Tense::Plan),
            [
                "+ create web (hydra-clients/web.json)",
                "    client_id: \"web\"",
                "    client_secret: **** (from $WEB_SECRET)",
                "    scope: \"openid\"",
                "    redirect_uris: [\"https://app.example.com/cb\"]",
                "    metadata: {\"managed_by\":\"hera\"}",
            ]
        );
    }

    #[test]
    fn an_update_lists_each_change_and_what_happens_to_the_secret() {
        let change = Change {
            field: "client_name",
            before: "\"Old\"".into(),
            after: "\"New\"".into(),
        };
        let kept = Step {
            spec: spec(true, &["look at this"]),
            action: Action::Update(vec![change.clone()]),
            send_secret: false,
        };
        assert_eq!(
            super::step(&kept, Tense::Done),
            [
                "~ updated web (hydra-clients/web.json)",
                "    client_name: \"Old\" → \"New\"",
                "    client_secret: kept (Hydra never returns secrets, so they cannot be compared; --replace-secrets sends it)",
                "    warning: look at this",
            ]
        );
        let replaced = Step {
            send_secret: true,
            action: Action::Update(vec![]),
            ..kept
        };
        assert_eq!(
            super::step(&replaced, Tense::Plan)[1],
            "    client_secret: replaced by **** (from $WEB_SECRET)"
        );
    }

    #[test]
    fn no_report_line_ever_contains_a_secret() {
        for action in [Action::Create, Action::Update(vec![]), Action::Unchanged] {
            for send_secret in [false, true] {
                let step = Step {
                    spec: spec(true, &[]),
                    action: action.clone(),
                    send_secret,
                };
                for tense in [Tense::Plan, Tense::Done] {
                    for line in super::step(&step, tense) {
                        assert!(!line.contains("super-secret-value"), "{line}");
                    }
                }
            }
        }
    }

    #[test]
    fn summaries_count_or_say_there_is_nothing_to_do() {
        let counts = Counts {
            created: 1,
            updated: 2,
            deleted: 0,
            unchanged: 3,
        };
        assert_eq!(
            summary(counts, Tense::Plan, "hydra-clients"),
            "Plan: 1 to create, 2 to update, 0 to delete, 3 unchanged."
        );
        assert_eq!(
            summary(counts, Tense::Done, "hydra-clients"),
            "Applied: 1 created, 2 updated, 0 deleted, 3 unchanged."
        );
        let none = Counts {
            unchanged: 4,
            ..Counts::default()
        };
        assert_eq!(
            summary(none, Tense::Plan, "hydra-clients"),
            "No changes: Hydra matches the 4 clients in hydra-clients."
        );
        assert_eq!(
            summary(none, Tense::Done, "x"),
            "No changes: Hydra already matched the 4 clients in x."
        );
    }

    #[test]
    fn secrets_are_masked_in_text_from_hydra() {
        let secret = Secret::new("S", "hunter2-hunter2");
        assert_eq!(
            redact("bad secret hunter2-hunter2!", [&secret]),
            "bad secret ****!"
        );
    }
}
