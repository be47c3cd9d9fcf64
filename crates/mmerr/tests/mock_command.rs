//! `mmerr mock` as a process: it prints its address, serves real HTTP, logs each request
//! without the key, and stops cleanly on Ctrl-C (SIGINT).

use assert_cmd::cargo::CommandCargoExt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn http_post(addr: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer mmerr-demo-key\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serves_logs_and_stops_on_ctrl_c() {
    let mut child = Command::cargo_bin("mmerr")
        .unwrap()
        .args(["mock", "--addr", "127.0.0.1:0", "--lang", "en"])
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("mmerr mock serving on ")
        .expect(&first)
        .to_string();
    let addr = url.strip_prefix("http://").unwrap();
    assert!(
        !addr.ends_with(":0"),
        "port 0 is replaced by the port picked: {addr}"
    );
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    assert_eq!(second.trim(), "demo key: mmerr-demo-key");

    let body =
        r#"{"model":"speech-2.8-hd","text":"hi","voice_setting":{"voice_id":"female-shaonv"}}"#;
    let answer = http_post(addr, "/v1/t2a_v2", body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("trace-id:"),
        "{answer}"
    );
    assert!(answer.contains(r#""status_code":0"#), "{answer}");

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "mmerr mock did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped after 1 requests"), "{rest}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("endpoint=\"t2a\"") || log.contains("endpoint=t2a"),
        "{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a log that is not a terminal: {log}"
    );
    assert!(log.contains("outcome=\"success\""), "{log}");
    assert!(
        !log.contains("mmerr-demo-key"),
        "the key is never logged: {log}"
    );
}

#[test]
fn refuses_non_loopback_without_the_flag() {
    Command::cargo_bin("mmerr")
        .unwrap()
        .args(["mock", "--addr", "0.0.0.0:0"])
        .output()
        .map(|out| {
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.starts_with("mmerr: 0.0.0.0 is not a loopback address"),
                "{err}"
            );
        })
        .unwrap();
}

#[test]
fn bad_configuration_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, "[[endpoint]]\nsequence = [\"explode\"]\n").unwrap();
    let out = Command::cargo_bin("mmerr")
        .unwrap()
        .args(["mock", "--addr", "127.0.0.1:0", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown action"), "{err}");
}
