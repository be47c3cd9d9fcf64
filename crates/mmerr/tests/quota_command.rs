//! `mmerr quota` against `mmerr mock` with a subscription plan: used share, bar and reset per
//! window, in both languages and as JSON; a key without a plan; no key.

mod common;

use assert_cmd::cargo::CommandCargoExt;
use std::process::Command;

fn quota(url: &str, key: &str, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("mmerr")
        .unwrap()
        .args(["quota", "--base-url", url])
        .args(extra)
        .env("MINIMAX_API_KEY", key)
        .env_remove("MINIMAX_BASE_URL")
        .output()
        .unwrap()
}

#[test]
fn shows_each_window_used_and_when_it_resets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("plan.toml");
    std::fs::write(
        &config,
        "[[keys]]\nkey = \"mmerr-demo-key\"\nname = \"plan\"\nquota = 10\nweekly_quota = 100\n\n[[keys]]\nkey = \"sk-api-no-plan\"\nname = \"payg\"\n",
    )
    .unwrap();
    let (mut mock, _out, addr) = common::serve(
        &[
            "mock",
            "--addr",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
        "mmerr mock serving on ",
    );
    let chat = r#"{"model":"MiniMax-M2","messages":[{"role":"user","content":"hi"}]}"#;
    for _ in 0..3 {
        assert!(
            common::http_post(&addr, "/v1/text/chatcompletion_v2", chat)
                .contains("\"status_code\":0")
        );
    }
    let url = format!("http://{addr}");
    let en = quota(&url, "mmerr-demo-key", &["--lang", "en"]);
    assert!(en.status.success());
    let text = String::from_utf8_lossy(&en.stdout);
    assert!(
        text.contains("5-hour   30 % used  ███░░░░░░░  resets "),
        "{text}"
    );
    assert!(text.contains("weekly    3 % used"), "{text}");
    assert!(
        text.contains(", in 4 h 59 min") || text.contains(", in 5 h 0 min"),
        "{text}"
    );
    let zh = quota(&url, "mmerr-demo-key", &["--lang", "zh"]);
    let text = String::from_utf8_lossy(&zh.stdout);
    assert!(
        text.contains("已用  30 %") && text.contains("重置，还有"),
        "{text}"
    );
    let json = quota(&url, "mmerr-demo-key", &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["buckets"][0]["interval"]["remaining_percent"], 70.0);
    assert_eq!(value["key_kind"], "unknown");
    assert!(
        !String::from_utf8_lossy(&json.stdout).contains("mmerr-demo-key"),
        "the key is never shown"
    );

    let none = quota(&url, "sk-api-no-plan", &["--lang", "en"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&none.stdout)
            .contains("no active plan for this key (pay-as-you-go key")
    );
    common::stop(&mut mock, "-INT");

    let missing = Command::cargo_bin("mmerr")
        .unwrap()
        .args(["quota", "--key-env", "MMERR_TEST_NO_SUCH_VARIABLE"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("no key: set MMERR_TEST_NO_SUCH_VARIABLE")
    );
}
