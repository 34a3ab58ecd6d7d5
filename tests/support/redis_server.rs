//! A real `redis-server` for the BFF's Redis store: started on a free loopback port with
//! persistence off, killed when dropped. A machine without Redis fails the test with a message
//! saying how to install it; the test is never skipped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

/// How long Redis may take to accept connections.
const STARTUP: Duration = Duration::from_secs(10);

pub struct RedisServer {
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                .args(["--dir", &std::env::temp_dir().to_string_lossy()])
                .args(["--loglevel", "warning"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let mut child = match child {
                Ok(child) => child,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                    "redis-server is not installed; the BFF's Redis tests need a real Redis. \
                     Install it with `apt-get install -y redis-server` (.ci/run does)."
                ),
                Err(error) => panic!("cannot start redis-server: {error}"),
            };
            let deadline = Instant::now() + STARTUP;
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!("redis-server exited with {status}");
                    break;
                }
                if ping(port) {
                    return RedisServer {
                        url: format!("redis://127.0.0.1:{port}"),
                        child,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            if last_error.is_empty() {
                last_error = format!("redis-server did not answer within {STARTUP:?}");
            }
        }
        panic!("{last_error}");
    }
}

impl RedisServer {
    /// How many keys Redis holds (`DBSIZE`).
    pub fn dbsize(&self) -> usize {
        let port = Url::parse(&self.url).unwrap().port().unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        stream.write_all(b"DBSIZE\r\n").unwrap();
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while !answer.ends_with(b"\r\n") {
            stream.read_exact(&mut byte).unwrap();
            answer.push(byte[0]);
        }
        let text = String::from_utf8(answer).unwrap();
        text.trim()
            .strip_prefix(':')
            .unwrap_or_else(|| panic!("DBSIZE answered {text:?}"))
            .parse()
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
}
