//! `hera clients plan|apply`: a deployment's OAuth2 clients kept as reviewed JSON files in
//! `hydra-clients/`, and Hydra brought in line with them.
//!
//! The data flows [`files`] (read, parse) → [`validate`] (pure; every problem at once, nothing
//! sent while one remains) → [`plan`] (`GET` each client and compare, pure once fetched) →
//! [`report`] for `plan`, or `POST`/`PUT`/`DELETE` then [`report`] for `apply`. The Hydra calls
//! live in [`crate::ory::HydraClients`].
//!
//! Exit codes: 0 done, 1 invalid files or arguments (nothing was sent), 2 Hydra failed (the
//! report says exactly what was done before it did).

mod cli;
mod fields;
pub(crate) mod files;
mod plan;
mod report;
pub(crate) mod validate;

use std::io::Write;
use std::path::Path;

pub use cli::{ClientsArgs, ClientsCommand};

use crate::ory::{http_client, ClientObject, ClientsError, HydraClients};
use plan::{Action, Plan, Step};
use report::{Counts, Tense};
use validate::{ClientSpec, Secret};

/// How a run ended; [`Outcome::exit_code`] is the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Planned or applied.
    Done,
    /// The files (or arguments) are invalid; nothing was sent to Hydra.
    Invalid,
    /// Hydra could not be read or refused a change.
    HydraFailed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Invalid => 1,
            Outcome::HydraFailed => 2,
        }
    }
}

/// Runs `hera clients plan|apply`, writing the report to `out` and problems to `err`.
pub async fn run(command: &ClientsCommand, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    let args = command.args();
    let dir = args.dir.display().to_string();
    let specs = match load(&args.dir, &|name| std::env::var(name).ok()) {
        Ok(specs) => specs,
        Err(problems) => {
            for problem in &problems {
                line(err, &format!("error: {problem}"));
            }
            line(
                err,
                &format!(
                    "{} problem{} in {dir}; nothing was sent to Hydra.",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                ),
            );
            return Outcome::Invalid;
        }
    };
    let secrets: Vec<Secret> = specs.iter().filter_map(|s| s.secret.clone()).collect();
    let hydra = match args
        .admin_access
        .tls()
        .and_then(|tls| {
            http_client(
                args.connect_timeout(),
                args.timeout(),
                &tls,
                Some(args.admin_access.hydra_headers()),
            )
            .map_err(|e| e.to_string())
        })
        .and_then(|http| HydraClients::new(&args.hydra_admin_url, http).map_err(|e| e.to_string()))
    {
        Ok(hydra) => hydra,
        Err(error) => {
            line(
                err,
                &format!("error: cannot set up the Hydra client: {error}"),
            );
            return Outcome::HydraFailed;
        }
    };
    let plan = match make_plan(&hydra, specs, args).await {
        Ok(plan) => plan,
        Err(error) => {
            line(err, &format!("error: {}", report::redact(&error, &secrets)));
            line(err, "Nothing was changed.");
            return Outcome::HydraFailed;
        }
    };
    if command.is_apply() {
        apply(&hydra, &plan, &dir, out, err, &secrets).await
    } else {
        for step in &plan.steps {
            lines(out, report::step(step, Tense::Plan));
        }
        for id in &plan.deletions {
            line(out, &report::deletion(id, Tense::Plan));
        }
        line(out, &report::summary(plan.counts(), Tense::Plan, &dir));
        Outcome::Done
    }
}

/// Reads, parses and validates every file of `dir`; all problems, or the clients by id.
fn load(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<ClientSpec>, Vec<String>> {
    let texts = files::read_dir(dir).map_err(|problem| vec![problem.to_string()])?;
    let mut definitions = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in texts {
        match files::parse(&name, &text) {
            Ok(mut found) => definitions.append(&mut found),
            Err(problem) => problems.push(problem.to_string()),
        }
    }
    match validate::validate_all(definitions, env) {
        Ok(specs) if problems.is_empty() => Ok(specs),
        Ok(_) => Err(problems),
        Err(found) => {
            problems.extend(found.iter().map(ToString::to_string));
            Err(problems)
        }
    }
}

async fn make_plan(
    hydra: &HydraClients,
    specs: Vec<ClientSpec>,
    args: &ClientsArgs,
) -> Result<Plan, String> {
    let deletions = if args.prune {
        let listed = hydra
            .list()
            .await
            .map_err(|e| format!("could not list Hydra's clients: {}", chain(&e)))?;
        plan::prunable(&listed, &specs)
    } else {
        Vec::new()
    };
    let mut steps = Vec::with_capacity(specs.len());
    for spec in specs {
        let found = hydra.get(&spec.id).await.map_err(|e| {
            format!(
                "could not read client {:?} from Hydra: {}",
                spec.id,
                chain(&e)
            )
        })?;
        steps.push(plan::step(spec, found.as_ref(), args.replace_secrets));
    }
    Ok(Plan { steps, deletions })
}

/// Carries out a plan in order, printing each thing once Hydra has confirmed it. The first
/// failure stops the run, and the report then lists what was not attempted.
async fn apply(
    hydra: &HydraClients,
    plan: &Plan,
    dir: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
    secrets: &[Secret],
) -> Outcome {
    // Every change in the order it is made, to name what a failure leaves undone.
    let changes: Vec<String> = plan
        .steps
        .iter()
        .filter(|step| step.action != Action::Unchanged)
        .map(|step| step.spec.id.clone())
        .chain(plan.deletions.iter().map(|id| format!("{id} (delete)")))
        .collect();
    let mut done = Counts::default();

    for step in &plan.steps {
        match execute(hydra, step).await {
            Ok(note) => {
                done.add(&step.action);
                lines(out, report::step(step, Tense::Done));
                if let Some(note) = note {
                    line(out, &format!("    note: {note}"));
                }
            }
            Err(error) => {
                let verb = if step.action == Action::Create {
                    "create"
                } else {
                    "update"
                };
                let what = format!(
                    "could not {verb} client {:?} ({}): {}",
                    step.spec.id,
                    step.spec.source,
                    chain(&error)
                );
                return stopped(err, &what, done, &changes, secrets);
            }
        }
    }
    for id in &plan.deletions {
        match hydra.delete(id).await {
            // Gone already (someone deleted it since the plan was made): the goal is met.
            Ok(()) | Err(ClientsError::NotFound) => {
                done.deleted += 1;
                line(out, &report::deletion(id, Tense::Done));
            }
            Err(error) => {
                let what = format!("could not delete client {id:?}: {}", chain(&error));
                return stopped(err, &what, done, &changes, secrets);
            }
        }
    }
    line(out, &report::summary(done, Tense::Done, dir));
    Outcome::Done
}

/// Reports a failed change: what failed, how many changes were made before it, and which were
/// not attempted.
fn stopped(
    err: &mut dyn Write,
    what: &str,
    done: Counts,
    changes: &[String],
    secrets: &[Secret],
) -> Outcome {
    line(err, &format!("error: {}", report::redact(what, secrets)));
    let made = done.changes();
    let not_attempted = changes.get(made + 1..).unwrap_or_default();
    let not_attempted = if not_attempted.is_empty() {
        "none".to_owned()
    } else {
        not_attempted.join(", ")
    };
    line(
        err,
        &if made == 0 {
            format!("Stopped: nothing was changed; not attempted: {not_attempted}.")
        } else {
            format!(
                "Stopped after {made} change{}; not attempted: {not_attempted}. Run `hera \
                 clients plan` to see what is left.",
                if made == 1 { "" } else { "s" },
            )
        },
    );
    Outcome::HydraFailed
}

/// Sends one step. A create that finds the id taken (someone created it since the plan was
/// made: 409) replaces the client instead, and an update that finds it gone (404) creates it;
/// both send the secret, so the result is what the file describes. Returns a note for the
/// report when that happened.
async fn execute(hydra: &HydraClients, step: &Step) -> Result<Option<&'static str>, ClientsError> {
    let spec = &step.spec;
    match step.action {
        Action::Unchanged => Ok(None),
        Action::Create => match hydra.create(&body(spec, step.send_secret)).await {
            Err(ClientsError::Conflict) => {
                hydra.replace(&spec.id, &body(spec, true)).await?;
                Ok(Some(
                    "Hydra already had this client (it was created after the plan was made); \
                     it was replaced to match the file, secret included",
                ))
            }
            other => other.map(|()| None),
        },
        Action::Update(_) => match hydra.replace(&spec.id, &body(spec, step.send_secret)).await {
            Err(ClientsError::NotFound) => {
                hydra.create(&body(spec, true)).await?;
                Ok(Some(
                    "the client had been deleted since the plan was made; it was created again, \
                     secret included",
                ))
            }
            other => other.map(|()| None),
        },
    }
}

/// The JSON sent to Hydra, with the secret only when asked for.
fn body(spec: &ClientSpec, with_secret: bool) -> ClientObject {
    let mut body = spec.body.clone();
    if let (true, Some(secret)) = (with_secret, &spec.secret) {
        body.insert("client_secret".into(), secret.expose().into());
    }
    body
}

/// An error and its causes, `outer: inner: innermost` (causes already in the text are skipped).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Writes one line; a closed stdout or stderr must not crash the run half-way.
fn line(w: &mut dyn Write, text: &str) {
    let _ = writeln!(w, "{text}");
}

fn lines(w: &mut dyn Write, texts: Vec<String>) {
    for text in texts {
        line(w, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn shipped() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("hydra-clients")
    }

    /// Any variable a shipped file names gets a stand-in secret.
    fn stand_in(name: &str) -> Option<String> {
        Some(format!("stand-in-secret-for-{name}"))
    }

    fn shipped_specs() -> Vec<ClientSpec> {
        load(&shipped(), &stand_in).unwrap_or_else(|problems| panic!("{problems:#?}"))
    }

    fn by_id<'a>(specs: &'a [ClientSpec], id: &str) -> &'a ClientSpec {
        specs.iter().find(|s| s.id == id).unwrap()
    }

    #[test]
    fn every_file_shipped_in_hydra_clients_passes_the_validator_without_warnings() {
        let specs = shipped_specs();
        let files = std::fs::read_dir(shipped())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count();
        assert_eq!(specs.len(), files, "one client per shipped file");
        for spec in &specs {
            assert!(spec.warnings.is_empty(), "{}: {:?}", spec.id, spec.warnings);
        }
    }

    #[test]
    fn the_shipped_examples_are_the_four_kinds_the_readme_describes() {
        let specs = shipped_specs();
        let field = |id: &str, name: &str| by_id(&specs, id).body.get(name).cloned();

        // A first-party single-page app: public, code flow (PKCE), first_party, https only.
        assert_eq!(
            field("example-spa", "token_endpoint_auth_method"),
            Some(json!("none"))
        );
        assert_eq!(
            field("example-spa", "metadata"),
            Some(json!({"first_party": true, "managed_by": "hera"}))
        );
        assert!(by_id(&specs, "example-spa").secret.is_none());

        // A first-party server-side app: confidential, skip_consent.
        assert_eq!(field("example-account", "skip_consent"), Some(json!(true)));
        assert_eq!(
            by_id(&specs, "example-account")
                .secret
                .as_ref()
                .unwrap()
                .variable,
            "EXAMPLE_ACCOUNT_CLIENT_SECRET"
        );

        // A third-party app: confidential, nothing that skips consent.
        let third = by_id(&specs, "photo-printer");
        assert!(third.secret.is_some());
        assert_eq!(third.body.get("skip_consent"), None);
        assert_eq!(third.body["metadata"], json!({"managed_by": "hera"}));

        // A device-flow command-line tool: public, device-code grant, no redirect.
        assert_eq!(
            field("example-cli", "grant_types"),
            Some(json!([
                "urn:ietf:params:oauth:grant-type:device_code",
                "refresh_token"
            ]))
        );
        assert_eq!(field("example-cli", "redirect_uris"), None::<Value>);

        // The client of `hera bff`: confidential, its callback on the app's own origin.
        let bff = by_id(&specs, "example-shop-bff");
        assert_eq!(
            bff.secret.as_ref().unwrap().variable,
            "EXAMPLE_SHOP_BFF_CLIENT_SECRET"
        );
        assert_eq!(
            field("example-shop-bff", "redirect_uris"),
            Some(json!(["https://shop.example.com/api/callback"]))
        );
    }

    #[test]
    fn file_and_definition_problems_are_reported_together() {
        let dir = std::env::temp_dir().join(format!("hera-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.json"), "{\"client_id\": }").unwrap();
        std::fs::write(
            dir.join("b.json"),
            r#"{"client_id": "b", "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["https://b.example/cb"]}"#,
        )
        .unwrap();
        let problems = load(&dir, &stand_in).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].contains("a.json:1:15: invalid JSON"),
            "{problems:#?}"
        );
        assert!(
            problems[1].contains("b.json: scope is required"),
            "{problems:#?}"
        );
    }

    #[test]
    fn exit_codes_are_0_done_1_invalid_2_hydra() {
        assert_eq!(Outcome::Done.exit_code(), 0);
        assert_eq!(Outcome::Invalid.exit_code(), 1);
        assert_eq!(Outcome::HydraFailed.exit_code(), 2);
    }
}
