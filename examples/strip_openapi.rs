//! Reduces an Ory OpenAPI 3.0 spec to what the tests' validator (`tests/support/openapi.rs`)
//! reads, for the copies in `tests/contract/`:
//!
//! ```text
//! cargo run --example strip_openapi -- <input spec> <project> <version> > tests/contract/<name>.json
//! cargo run --example strip_openapi -- hydra-api.json ory/hydra v26.2.0 > tests/contract/hydra-api.json
//! cargo run --example strip_openapi -- kratos-api.json ory/kratos v26.2.0 > tests/contract/kratos-api.json
//! ```
//!
//! Kept: every path and method with its parameters (`name`, `in`, `required`, `schema`), request
//! bodies, responses by status code with their media types and schemas, and every component
//! schema, response, request body and parameter. In schemas: `$ref`, `type`, `format`,
//! `nullable`, `enum`, `required`, `properties`, `additionalProperties`, `items`, `oneOf`,
//! `allOf`, `anyOf`, `not`, `discriminator`, `minimum`, `maximum`, `pattern` and the other
//! value constraints. Dropped: the prose and tooling around them (`description`, `summary`,
//! `title`, `example(s)`, `default`, `tags`, `security`, `externalDocs`, every `x-*` extension).
//! The input's own `info` is replaced by `x-hera-source` naming the project and version.
//!
//! The output is deterministic (keys sorted, two-space indentation, a final newline), so
//! regenerating from the same input gives the same file and a new Ory version gives a readable
//! diff. What was dropped is summarised on stderr.

use std::collections::BTreeMap;
use std::error::Error;
use std::process::ExitCode;

use serde_json::{Map, Value};

/// Schema keywords that constrain or shape a value (OpenAPI 3.0 schema object).
const SCHEMA_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "format",
    "nullable",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "oneOf",
    "allOf",
    "anyOf",
    "not",
    "discriminator",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "readOnly",
    "writeOnly",
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Counts what was dropped, by where it was and its name.
#[derive(Default)]
struct Dropped(BTreeMap<String, usize>);

impl Dropped {
    fn note(&mut self, place: &str, key: &str) {
        *self.0.entry(format!("{place}.{key}")).or_default() += 1;
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, project, version] = args.as_slice() else {
        eprintln!("usage: cargo run --example strip_openapi -- <input spec> <project> <version>");
        eprintln!("example: cargo run --example strip_openapi -- hydra-api.json ory/hydra v26.2.0 > tests/contract/hydra-api.json");
        return ExitCode::from(2);
    };
    match run(input, project, version) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strip_openapi: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &str, project: &str, version: &str) -> Result<(), Box<dyn Error>> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let spec: Value =
        serde_json::from_str(&text).map_err(|e| format!("{input} is not JSON: {e}"))?;
    let mut dropped = Dropped::default();
    let stripped = strip_document(&spec, project, version, &mut dropped)?;
    let mut out = serde_json::to_string_pretty(&sorted(stripped))?;
    out.push('\n');
    print!("{out}");
    eprintln!("strip_openapi: dropped from {input}:");
    for (what, count) in &dropped.0 {
        eprintln!("  {what}: {count}");
    }
    Ok(())
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

fn strip_document(
    spec: &Value,
    project: &str,
    version: &str,
    dropped: &mut Dropped,
) -> Result<Value, String> {
    let spec = object(spec, "the spec")?;
    let mut out = Map::new();
    for (key, value) in spec {
        match key.as_str() {
            "openapi" => {
                out.insert(key.clone(), value.clone());
            }
            "paths" => {
                out.insert(key.clone(), strip_paths(value, dropped)?);
            }
            "components" => {
                out.insert(key.clone(), strip_components(value, dropped)?);
            }
            other => dropped.note("(top level)", other),
        }
    }
    out.insert(
        "info".to_owned(),
        serde_json::json!({"title": project, "version": version}),
    );
    out.insert(
        "x-hera-source".to_owned(),
        serde_json::json!({"project": project, "version": version}),
    );
    Ok(Value::Object(out))
}

fn strip_paths(paths: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (path, item) in object(paths, "paths")? {
        let mut kept = Map::new();
        for (key, value) in object(item, path)? {
            if METHODS.contains(&key.as_str()) {
                kept.insert(key.clone(), strip_operation(value, dropped)?);
            } else if key == "parameters" {
                kept.insert(key.clone(), strip_parameters(value, dropped)?);
            } else {
                dropped.note("path item", key);
            }
        }
        out.insert(path.clone(), Value::Object(kept));
    }
    Ok(Value::Object(out))
}

fn strip_operation(operation: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (key, value) in object(operation, "an operation")? {
        match key.as_str() {
            "operationId" => {
                out.insert(key.clone(), value.clone());
            }
            "parameters" => {
                out.insert(key.clone(), strip_parameters(value, dropped)?);
            }
            "requestBody" => {
                out.insert(key.clone(), strip_request_body(value, dropped)?);
            }
            "responses" => {
                let mut responses = Map::new();
                for (status, response) in object(value, "responses")? {
                    responses.insert(status.clone(), strip_response(response, dropped)?);
                }
                out.insert(key.clone(), Value::Object(responses));
            }
            other => dropped.note("operation", other),
        }
    }
    Ok(Value::Object(out))
}

fn strip_parameters(parameters: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let list = parameters
        .as_array()
        .ok_or("parameters is not a JSON array")?;
    list.iter()
        .map(|parameter| strip_parameter(parameter, dropped))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn strip_parameter(parameter: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (key, value) in object(parameter, "a parameter")? {
        match key.as_str() {
            "$ref" | "name" | "in" | "required" | "style" | "explode" | "allowEmptyValue" => {
                out.insert(key.clone(), value.clone());
            }
            "schema" => {
                out.insert(key.clone(), strip_schema(value, dropped)?);
            }
            other => dropped.note("parameter", other),
        }
    }
    Ok(Value::Object(out))
}

fn strip_request_body(body: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (key, value) in object(body, "a request body")? {
        match key.as_str() {
            "$ref" | "required" => {
                out.insert(key.clone(), value.clone());
            }
            "content" => {
                out.insert(key.clone(), strip_content(value, dropped)?);
            }
            other => dropped.note("request body", other),
        }
    }
    Ok(Value::Object(out))
}

fn strip_response(response: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (key, value) in object(response, "a response")? {
        match key.as_str() {
            "$ref" => {
                out.insert(key.clone(), value.clone());
            }
            "content" => {
                out.insert(key.clone(), strip_content(value, dropped)?);
            }
            other => dropped.note("response", other),
        }
    }
    Ok(Value::Object(out))
}

/// `{media type: {schema}}`: every media type is kept (a validator tells "no JSON body
/// documented" from "no body"), each with its schema only.
fn strip_content(content: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (media_type, media) in object(content, "content")? {
        let mut kept = Map::new();
        for (key, value) in object(media, media_type)? {
            if key == "schema" {
                kept.insert(key.clone(), strip_schema(value, dropped)?);
            } else {
                dropped.note("media type", key);
            }
        }
        out.insert(media_type.clone(), Value::Object(kept));
    }
    Ok(Value::Object(out))
}

fn strip_components(components: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    let mut out = Map::new();
    for (kind, entries) in object(components, "components")? {
        let strip: fn(&Value, &mut Dropped) -> Result<Value, String> = match kind.as_str() {
            "schemas" => strip_schema,
            "responses" => strip_response,
            "requestBodies" => strip_request_body,
            "parameters" => strip_parameter,
            other => {
                dropped.note("components", other);
                continue;
            }
        };
        let mut kept = Map::new();
        for (name, entry) in object(entries, kind)? {
            kept.insert(name.clone(), strip(entry, dropped)?);
        }
        out.insert(kind.clone(), Value::Object(kept));
    }
    Ok(Value::Object(out))
}

fn strip_schema(schema: &Value, dropped: &mut Dropped) -> Result<Value, String> {
    // `true`/`false` and other non-object schemas are kept as they are.
    let Some(schema) = schema.as_object() else {
        return Ok(schema.clone());
    };
    let mut out = Map::new();
    for (key, value) in schema {
        if !SCHEMA_KEYWORDS.contains(&key.as_str()) {
            dropped.note("schema", key);
            continue;
        }
        let kept = match key.as_str() {
            "properties" => {
                let mut properties = Map::new();
                for (name, property) in object(value, "properties")? {
                    properties.insert(name.clone(), strip_schema(property, dropped)?);
                }
                Value::Object(properties)
            }
            "items" | "not" | "additionalProperties" => strip_schema(value, dropped)?,
            "oneOf" | "allOf" | "anyOf" => Value::Array(
                value
                    .as_array()
                    .ok_or_else(|| format!("{key} is not a JSON array"))?
                    .iter()
                    .map(|branch| strip_schema(branch, dropped))
                    .collect::<Result<_, _>>()?,
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), kept);
    }
    Ok(Value::Object(out))
}

/// The same value with every object's keys in sorted order, whatever map type serde_json uses.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
