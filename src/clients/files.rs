//! Reading a client folder: every `*.json` file holds one Hydra `OAuth2Client` object, or an
//! array of them as `hydra import oauth2-client` takes.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Where a client definition came from: a file, and its position when the file holds an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub index: Option<usize>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            None => f.write_str(&self.file),
            Some(index) => write!(f, "{}[{index}]", self.file),
        }
    }
}

/// One client object as written in a file.
#[derive(Debug, Clone)]
pub struct Definition {
    pub source: Source,
    pub object: Map<String, Value>,
}

/// A file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// `file`, `file:line:column` or `file[index]`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// The `*.json` files directly inside `dir`, sorted by name, with their text.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, FileProblem> {
    let problem = |message: String| FileProblem {
        location: dir.display().to_string(),
        message,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| problem(format!("cannot read the folder: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| problem(format!("cannot read the folder: {e}")))?
            .path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(problem(
            "holds no *.json client files (refusing to treat an empty folder as \"no clients\")"
                .into(),
        ));
    }
    paths
        .into_iter()
        .map(|path| {
            let name = path.display().to_string();
            std::fs::read_to_string(&path)
                .map(|text| (name.clone(), text))
                .map_err(|e| FileProblem {
                    location: name,
                    message: format!("cannot read the file: {e}"),
                })
        })
        .collect()
}

/// The client objects in one file's text. Syntax errors carry their line and column; a key
/// written twice in one object is refused, so a reviewer never reads one value while Hydra
/// gets another.
pub fn parse(file: &str, text: &str) -> Result<Vec<Definition>, FileProblem> {
    let Strict(value) = serde_json::from_str::<Strict>(text).map_err(|e| {
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = e.to_string();
        FileProblem {
            location: format!("{file}:{}:{}", e.line(), e.column()),
            message: format!(
                "invalid JSON: {}",
                message.strip_suffix(&suffix).unwrap_or(&message)
            ),
        }
    })?;
    let problem = |location: String, message: String| FileProblem { location, message };
    match value {
        Value::Object(object) => Ok(vec![Definition {
            source: Source {
                file: file.to_owned(),
                index: None,
            },
            object,
        }]),
        Value::Array(items) if items.is_empty() => Err(problem(
            file.to_owned(),
            "the array holds no client objects".into(),
        )),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let source = Source {
                    file: file.to_owned(),
                    index: Some(index),
                };
                match item {
                    Value::Object(object) => Ok(Definition { source, object }),
                    other => Err(problem(
                        source.to_string(),
                        format!("expected a client object, found {}", kind(&other)),
                    )),
                }
            })
            .collect(),
        other => Err(problem(
            file.to_owned(),
            format!(
                "expected a client object or an array of them, found {}",
                kind(&other)
            ),
        )),
    }
}

/// The JSON type of a value, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value whose objects never repeat a key.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key `{key}` appears twice")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse("c.json", text).unwrap_err().to_string()
    }

    #[test]
    fn a_single_object_is_one_client() {
        let clients = parse("c.json", r#"{"client_id": "a"}"#).unwrap();
        assert_eq!(clients.len(), 1);
        assert_eq!(clients[0].source.to_string(), "c.json");
        assert_eq!(clients[0].object["client_id"], "a");
    }

    #[test]
    fn an_array_as_hydra_import_takes_is_several_clients_numbered_by_position() {
        let clients = parse("c.json", r#"[{"client_id": "a"}, {"client_id": "b"}]"#).unwrap();
        let sources: Vec<String> = clients.iter().map(|c| c.source.to_string()).collect();
        assert_eq!(sources, ["c.json[0]", "c.json[1]"]);
    }

    #[test]
    fn syntax_errors_name_the_line_and_column() {
        let cases = [
            (
                "{\n  \"client_id\": \"a\",\n}",
                "c.json:3:1: invalid JSON: trailing comma",
            ),
            ("{\"a\": tru}", "c.json:1:10: invalid JSON: expected ident"),
            ("", "c.json:1:0: invalid JSON: EOF while parsing a value"),
            (
                "{\"client_id\": \"a\"} {}",
                "c.json:1:20: invalid JSON: trailing characters",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_key_written_twice_is_refused_with_its_position() {
        let message = error("{\n  \"skip_consent\": false,\n  \"skip_consent\": true\n}");
        assert!(message.starts_with("c.json:3:"), "{message}");
        assert!(
            message.contains("the key `skip_consent` appears twice"),
            "{message}"
        );
        let nested = error(r#"{"metadata": {"a": 1, "a": 2}}"#);
        assert!(nested.contains("the key `a` appears twice"), "{nested}");
    }

    #[test]
    fn anything_but_objects_is_refused() {
        let cases = [
            (
                "\"x\"",
                "c.json: expected a client object or an array of them, found a string",
            ),
            ("[]", "c.json: the array holds no client objects"),
            (
                "[{}, 3]",
                "c.json[1]: expected a client object, found a number",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected, "{text}");
        }
    }
}
