//! `mmerr proxy` as a process in front of `mmerr mock`: it prints its address, guards what
//! passes through, logs each request without the key, and drains and stops on SIGTERM.

mod common;

use std::io::Read;

#[test]
fn serves_in_front_of_the_mock_and_stops_on_sigterm() {
    // Its output stays open: a closed pipe would end it at its next line.
    let (mut mock, _mock_out, mock_addr) =
        common::serve(&["mock", "--addr", "127.0.0.1:0"], "mmerr mock serving on ");
    let upstream = format!("http://{mock_addr}");
    let (mut proxy, mut stdout, addr) = common::serve(
        &[
            "proxy",
            "--addr",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
            "--lang",
            "en",
        ],
        "mmerr proxy serving on ",
    );
    let chat = r#"{"model":"MiniMax-M2","messages":[{"role":"user","content":"hi"}]}"#;
    let answer = common::http_post(&addr, "/v1/chat/completions", chat);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("x-mmerr-attempts: 1"), "{answer}");
    assert!(answer.contains("You said: hi"), "{answer}");
    // A request that breaks the rules never reaches MiniMax.
    let hot =
        r#"{"model":"MiniMax-M2","temperature":5,"messages":[{"role":"user","content":"hi"}]}"#;
    let refused = common::http_post(&addr, "/v1/chat/completions", hot);
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    assert!(refused.contains("(2013)"), "{refused}");

    common::stop(&mut proxy, "-TERM");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("upstream http://127.0.0.1:"), "{rest}");
    assert!(rest.trim_end().ends_with("stopped"), "{rest}");
    let log = common::log_of(&mut proxy);
    assert!(log.contains("status=200"), "{log}");
    assert!(
        !log.contains("mmerr-demo-key"),
        "the key is never logged: {log}"
    );
    common::stop(&mut mock, "-INT");
}

#[test]
fn refuses_a_bad_upstream_in_one_line() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mmerr"))
        .args([
            "proxy",
            "--addr",
            "127.0.0.1:0",
            "--upstream",
            "ftp://example",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("expected intl, china or an http(s) URL"),
        "{error}"
    );
    assert_eq!(error.trim().lines().count(), 1, "{error}");
}
