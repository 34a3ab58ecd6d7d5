//! The layers run one way, read from the code's own paths.
//!
//! Every `crate::…` and `super::…` path in `src/` is an edge from the module that writes it to
//! the module it names. The rules:
//! - `model` uses nothing else of Hera's;
//! - `domain` uses only `model`;
//! - `ory` and the shared pieces (`telemetry`, `metrics`, `timing`, `secrets`, `urls`, `web`) use only
//!   `model` and the shared pieces, never `domain` or a role;
//! - the roles (`server`, `session_api`, `bff`, `clients`) use the layers below them and the
//!   shared pieces, never another role;
//! - only `app`, `cli`, `main` and `lib` (and the test-only `properties`) may use everything;
//! - no cycles: neither between top-level modules nor between the modules inside one (a parent
//!   module's `pub use` is followed to the child that defines the name).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const ROLES: [&str; 4] = ["server", "session_api", "bff", "clients"];
const SHARED: [&str; 6] = ["telemetry", "metrics", "timing", "secrets", "urls", "web"];
const ROOTS: [&str; 5] = ["app", "cli", "main", "lib", "properties"];

/// A module path, `["server", "routes", "login"]`.
type ModPath = Vec<String>;

struct Source {
    module: ModPath,
    /// Code with comments and string literals blanked out.
    code: String,
    is_mod_file: bool,
}

fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    collect(root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: ModPath = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let is_mod_file = module.last().is_some_and(|last| last == "mod");
            if is_mod_file {
                module.pop();
            }
            let text = fs::read_to_string(&path).unwrap();
            Source {
                module,
                code: strip(&text),
                is_mod_file,
            }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The code without comments, string and char literals (so `"crate::x"` in a message or a doc
/// comment is not an edge).
fn strip(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == '*' && bytes[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&bytes, i)
        {
            // Raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= bytes.len() {
                    break;
                }
                if bytes[j] == '"' && (0..hashes).all(|k| bytes.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && bytes.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < bytes.len() && bytes[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Every path the code names, as written: `crate::a::b::C`, `super::x`, including each item of
/// a `{…}` group.
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        for start in ["crate::", "super::"] {
            let s: Vec<char> = start.chars().collect();
            if chars[i..].starts_with(&s) && !prev_is_ident(&chars, i) {
                let first = start.trim_end_matches(':').to_owned();
                expand(&chars, i + s.len(), vec![first], &mut found);
            }
        }
        i += 1;
    }
    found
}

/// Reads path segments from `at`; `{a::b, c}` groups fan out.
fn expand(chars: &[char], mut at: usize, mut prefix: Vec<String>, found: &mut Vec<Vec<String>>) {
    loop {
        let mut segment = String::new();
        while at < chars.len() && (chars[at].is_alphanumeric() || chars[at] == '_') {
            segment.push(chars[at]);
            at += 1;
        }
        if !segment.is_empty() {
            prefix.push(segment);
        }
        if chars[at..].starts_with(&[':', ':']) {
            at += 2;
            if chars.get(at) == Some(&'{') {
                let end = matching(chars, at);
                for item in split_top(&chars[at + 1..end]) {
                    let item: Vec<char> = item.trim().chars().collect();
                    if !item.is_empty() {
                        expand(&item, 0, prefix.clone(), found);
                    }
                }
                return;
            }
            continue;
        }
        found.push(prefix);
        return;
    }
}

fn matching(chars: &[char], open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in chars.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    chars.len()
}

fn split_top(chars: &[char]) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0;
    for &c in chars {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        items.last_mut().unwrap().push(c);
    }
    items
}

struct Crate {
    modules: BTreeSet<ModPath>,
    /// Module → the modules it uses (resolved, each the longest existing module path).
    edges: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

fn load(root: &Path) -> Crate {
    let sources = sources(root);
    let modules: BTreeSet<ModPath> = sources.iter().map(|s| s.module.clone()).collect();
    let mut reexports = BTreeMap::new();
    for source in sources.iter().filter(|s| s.is_mod_file) {
        for line in source.code.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("pub use ") else {
                continue;
            };
            let rest = rest.trim_end_matches(';');
            let full = if rest.starts_with("crate::") || rest.starts_with("super::") {
                continue;
            } else {
                format!("self::{rest}")
            };
            let chars: Vec<char> = full.chars().collect();
            let mut found = Vec::new();
            expand(&chars, "self::".len(), vec!["self".into()], &mut found);
            for path in found {
                let Some(child) = path.get(1) else { continue };
                let mut child_module = source.module.clone();
                child_module.push(child.clone());
                if !modules.contains(&child_module) {
                    continue;
                }
                let name = path
                    .last()
                    .unwrap()
                    .split(" as ")
                    .last()
                    .unwrap()
                    .trim()
                    .to_owned();
                reexports.insert((source.module.clone(), name), child_module);
            }
        }
    }
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for source in &sources {
        let targets = edges.entry(source.module.clone()).or_default();
        for path in paths(&source.code) {
            let absolute = absolute(&source.module, &path);
            if let Some(target) = resolve(&modules, &reexports, &absolute) {
                if target != source.module {
                    targets.insert(target);
                }
            }
        }
    }
    Crate { modules, edges }
}

/// `crate::a::b` → `[a, b]`; `super::x` from `server::routes::login` → `[server, routes, x]`.
fn absolute(module: &ModPath, path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = Vec::new();
    let mut rest = path;
    if rest.first().is_some_and(|p| p == "crate") {
        rest = &rest[1..];
    } else {
        // `super` of module `a::b` is `a`, whether `a::b` is `a/b.rs` or `a/b/mod.rs`.
        base = module.clone();
        while rest.first().is_some_and(|p| p == "super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().cloned());
    base
}

/// The longest module prefix of `path`, following a parent's `pub use` of the next name.
fn resolve(
    modules: &BTreeSet<ModPath>,
    reexports: &BTreeMap<(ModPath, String), ModPath>,
    path: &[String],
) -> Option<ModPath> {
    let mut best: Option<ModPath> = None;
    for len in 1..=path.len() {
        let prefix = path[..len].to_vec();
        if modules.contains(&prefix) {
            best = Some(prefix.clone());
            if let Some(next) = path.get(len) {
                if let Some(child) = reexports.get(&(prefix, next.clone())) {
                    best = Some(child.clone());
                    break;
                }
            }
        } else {
            break;
        }
    }
    best
}

fn top(module: &ModPath) -> &str {
    module.first().map(String::as_str).unwrap_or("lib")
}

/// Where `from` may not go, or `None`.
fn broken_rule(from: &str, to: &str) -> Option<&'static str> {
    if from == to || ROOTS.contains(&from) {
        return None;
    }
    let is_shared = |m: &str| SHARED.contains(&m);
    let is_role = |m: &str| ROLES.contains(&m);
    match from {
        "model" => Some("model uses nothing else of Hera's"),
        "domain" if to != "model" => Some("domain uses only model"),
        "domain" => None,
        "ory" if !(to == "model" || is_shared(to)) => {
            Some("ory uses only model and the shared pieces")
        }
        m if is_shared(m) && !(to == "model" || is_shared(to)) => {
            Some("a shared piece uses only model and the other shared pieces")
        }
        m if is_role(m) && is_role(to) => Some("a role never uses another role"),
        m if is_role(m) && ROOTS.contains(&to) => Some("a role never uses app or cli"),
        _ => None,
    }
}

fn violations(krate: &Crate) -> Vec<String> {
    let mut found = Vec::new();
    for (from, targets) in &krate.edges {
        for to in targets {
            if let Some(rule) = broken_rule(top(from), top(to)) {
                found.push(format!(
                    "{} uses {}: {rule}",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    found
}

/// Cycles between top-level modules, and between the children of one module (each child with
/// everything below it as one node).
fn cycles(krate: &Crate) -> Vec<String> {
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, targets) in &krate.edges {
        for to in targets {
            // The deepest common parent, and the child of it on each side.
            let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
            let (Some(a), Some(b)) = (from.get(common), to.get(common)) else {
                continue;
            };
            graphs
                .entry(from[..common].to_vec())
                .or_default()
                .entry(a.clone())
                .or_default()
                .insert(b.clone());
        }
    }
    let mut found = Vec::new();
    for (parent, graph) in &mut graphs {
        let name = if parent.is_empty() {
            "crate".to_owned()
        } else {
            parent.join("::")
        };
        // Report every cycle: after each, drop its closing edge and look again.
        while let Some(cycle) = find_cycle(graph) {
            found.push(format!("cycle in {name}: {}", cycle.join(" → ")));
            let (from, to) = (&cycle[cycle.len() - 2], &cycle[cycle.len() - 1]);
            if let Some(targets) = graph.get_mut(from) {
                targets.remove(to);
            }
        }
    }
    found
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn dependencies_run_one_way() {
    let krate = load(&src());
    assert!(krate.modules.len() > 40, "the scan found the modules");
    assert!(
        krate.edges[&vec!["server".to_owned(), "routes".to_owned(), "login".to_owned()]]
            .contains(&vec!["domain".to_owned(), "login".to_owned()]),
        "the scan reads edges"
    );
    let broken = violations(&krate);
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

#[test]
fn there_are_no_module_cycles() {
    let krate = load(&src());
    let found = cycles(&krate);
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

/// The checks themselves: each rule catches what it is for, on a small tree written here.
mod the_checks {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Crate {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hera-layers-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, code) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, code).unwrap();
        }
        let krate = load(&dir);
        let _ = fs::remove_dir_all(&dir);
        krate
    }

    #[test]
    fn domain_importing_ory_is_caught() {
        let krate = tree(&[
            ("lib.rs", "pub mod domain; pub mod model; pub mod ory;"),
            ("model/mod.rs", "pub struct Client;"),
            ("ory/mod.rs", "pub struct HydraAdmin;"),
            ("domain/mod.rs", "pub mod login;"),
            (
                "domain/login.rs",
                "use crate::ory::HydraAdmin;\nuse crate::model::Client;",
            ),
        ]);
        let broken = violations(&krate);
        assert_eq!(broken, ["domain::login uses ory: domain uses only model"]);
    }

    #[test]
    fn a_role_importing_another_role_is_caught() {
        let krate = tree(&[
            ("lib.rs", ""),
            ("bff/mod.rs", "use crate::server::{State, routes::x};"),
            ("server/mod.rs", "pub mod routes;"),
            ("server/routes.rs", ""),
        ]);
        let broken = violations(&krate);
        assert!(
            broken.contains(&"bff uses server: a role never uses another role".to_owned()),
            "{broken:?}"
        );
    }

    #[test]
    fn a_module_cycle_is_caught_also_through_super_and_a_reexport() {
        let krate = tree(&[
            ("lib.rs", ""),
            (
                "server/mod.rs",
                "pub mod routes;\npub mod views;\npub use views::Page;",
            ),
            ("server/routes.rs", "use super::Page;"),
            (
                "server/views.rs",
                "fn f() { crate::server::routes::render(); }",
            ),
        ]);
        assert_eq!(cycles(&krate), ["cycle in server: routes → views → routes"]);
    }

    #[test]
    fn paths_in_comments_and_strings_are_not_edges() {
        let krate = tree(&[
            ("lib.rs", ""),
            (
                "model/mod.rs",
                "// crate::ory::X\n/// [`crate::ory::Y`]\nconst S: &str = \"crate::ory::Z\";",
            ),
            ("ory/mod.rs", ""),
        ]);
        assert!(violations(&krate).is_empty());
    }
}
