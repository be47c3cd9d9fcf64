//! `mmerr mock` as a process: it prints its address, serves real HTTP, logs each request
//! without the key, and stops cleanly on Ctrl-C (SIGINT).

mod common;

use assert_cmd::cargo::CommandCargoExt;
use std::io::{BufRead, Read};
use std::process::Command;

#[test]
fn serves_logs_and_stops_on_ctrl_c() {
    let (mut child, mut stdout, addr) = common::serve(
        &["mock", "--addr", "127.0.0.1:0", "--lang", "en"],
        "mmerr mock serving on ",
    );
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    assert_eq!(second.trim(), "demo key: mmerr-demo-key");

    let body =
        r#"{"model":"speech-2.8-hd","text":"hi","voice_setting":{"voice_id":"female-shaonv"}}"#;
    let answer = common::http_post(&addr, "/v1/t2a_v2", body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("trace-id:"),
        "{answer}"
    );
    assert!(answer.contains(r#""status_code":0"#), "{answer}");

    common::stop(&mut child, "-INT");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped after 1 requests"), "{rest}");
    let log = common::log_of(&mut child);
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
