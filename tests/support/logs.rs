//! Captures everything Hera logs during the tests (JSON lines, at the production default
//! level), so tests can check audit events and that no secret ever reaches a log.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, OnceLock};

static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        if std::env::var_os("TEST_LOG").is_some() {
            io::stderr().write_all(bytes)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once per test binary.
pub fn init() {
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter("info")
            .with_writer(move || Capture(writer.clone()))
            .try_init();
        buffer
    });
}

/// Everything logged so far by every test in this binary.
pub fn captured() -> String {
    let buffer = BUFFER.get().expect("logs::init was called");
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// The captured JSON lines that mention `needle`.
pub fn lines_with(needle: &str) -> Vec<serde_json::Value> {
    captured()
        .lines()
        .filter(|line| line.contains(needle))
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}
