//! The command line, run as a user would: arguments in, text and exit status out.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

fn mmerr() -> Command {
    let mut cmd = Command::cargo_bin("mmerr").unwrap();
    for var in [
        "LC_ALL",
        "LC_MESSAGES",
        "CLICOLOR_FORCE",
        "CLICOLOR",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LANG", "en_US.UTF-8");
    cmd
}

/// Runs the command, checks its exit status, and parses what it printed as JSON.
fn json_output(cmd: &mut Command, status: i32) -> serde_json::Value {
    let out = cmd.assert().code(status).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

mod explain {
    use super::*;

    #[test]
    fn explains_a_known_code() {
        mmerr()
            .args(["explain", "1002"])
            .assert()
            .success()
            .stdout(predicate::str::contains("1002 RATE_LIMIT  rate limit"))
            .stdout(predicate::str::contains(
                "what to do  Retry later, at a lower request rate.",
            ))
            .stdout(predicate::str::contains("yes: up to 5 retries"))
            .stdout(predicate::str::contains("throttling"));
    }

    #[test]
    fn bare_code_is_shorthand_and_names_work() {
        let short = stdout_of(mmerr().arg("2049"));
        let long = stdout_of(mmerr().args(["explain", "INVALID_API_KEY"]));
        assert_eq!(short, long);
        assert!(short.contains("no: retrying cannot help"), "{short}");
    }

    #[test]
    fn shorthand_takes_names_and_follows_global_options() {
        let long = stdout_of(mmerr().args(["explain", "1039", "--lang", "zh"]));
        for args in [
            &["--lang", "zh", "1039"][..],
            &["--lang=zh", "TOKEN_LIMIT"],
            &["TOKEN_LIMIT", "--lang", "zh"],
        ] {
            assert_eq!(stdout_of(mmerr().args(args)), long, "{args:?}");
        }
        // A command is never read as a code.
        mmerr().arg("list").assert().success();
    }

    #[test]
    fn zero_is_success() {
        mmerr()
            .arg("0")
            .assert()
            .success()
            .stdout(predicate::str::contains("success"))
            .stdout(predicate::str::contains("contact").not());
        let v = json_output(mmerr().args(["explain", "0", "--json"]), 0);
        assert_eq!(v["success"], true);
    }

    #[test]
    fn chinese_output_is_chinese() {
        let list = stdout_of(mmerr().args(["list", "--lang", "zh"]));
        assert!(list.contains("错误码") && list.contains("名称"), "{list}");
        assert!(!list.contains(" on t2a"), "{list}");
        let explained =
            stdout_of(mmerr().args(["explain", "1039", "--endpoint", "t2a", "--lang", "zh"]));
        assert!(!explained.contains("其他接口  其他接口"), "{explained}");
        let mut check = mmerr();
        check
            .args(["check", "--lang", "zh"])
            .write_stdin("<html><title>502 Bad Gateway</title></html>");
        let err = String::from_utf8(check.output().unwrap().stderr).unwrap();
        assert!(
            err.contains("无法解析的响应") && err.contains("可以重试"),
            "{err}"
        );
    }

    #[test]
    fn speaks_chinese_by_flag_and_by_locale() {
        let by_flag = stdout_of(mmerr().args(["1008", "--lang", "zh"]));
        assert!(
            by_flag.contains("余额不足") && by_flag.contains("请充值账户余额"),
            "{by_flag}"
        );
        let by_locale = stdout_of(mmerr().arg("1008").env("LANG", "zh_CN.UTF-8"));
        assert_eq!(by_flag, by_locale);
        let c_locale = stdout_of(mmerr().arg("1008").env("LANG", "C"));
        assert!(c_locale.contains("insufficient balance"));
    }

    #[test]
    fn endpoint_changes_the_meaning() {
        let chat = stdout_of(mmerr().args(["explain", "1039", "--endpoint", "chat"]));
        let t2a = stdout_of(mmerr().args(["explain", "1039", "--endpoint", "t2a"]));
        assert!(
            chat.contains("no: retrying cannot help")
                && chat.contains("t2a, t2a-async, file-retrieve:"),
            "{chat}"
        );
        assert!(
            t2a.contains("tokens per minute") && t2a.contains("yes: up to 2 retries"),
            "{t2a}"
        );
    }

    #[test]
    fn json_report_is_stable_and_scrubbed() {
        let out = stdout_of(mmerr().args([
            "explain",
            "2037",
            "--json",
            "--context",
            r#"{"file_id":"f1","api_key":"sk-api-secret0123456789abcdef"}"#,
        ]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["error_code"], 2037);
        assert_eq!(v["retry"], false);
        assert_eq!(v["category"], "invalid_request");
        assert_eq!(v["requirements"]["min_secs"], 10.0);
        assert_eq!(v["requirements"]["max_secs"], 300.0);
        assert_eq!(v["context"]["file_id"], "f1");
        assert!(!out.contains("secret0123456789"), "{out}");
    }

    #[test]
    fn verbose_adds_the_full_report() {
        let out = stdout_of(mmerr().args(["explain", "1026", "-v", "--context", "user 42 prompt"]));
        assert!(
            out.contains("details:") && out.contains("\"suggestion\""),
            "{out}"
        );
        assert!(out.contains("\"note\": \"user 42 prompt\""), "{out}");
    }

    #[test]
    fn unknown_code_is_one_line_and_exit_1() {
        mmerr().arg("424242").assert().code(1).stdout("").stderr(
            predicate::str::is_match(r"^mmerr: 424242 is not a known MiniMax code; [^\n]+\n$")
                .unwrap(),
        );
        let v = json_output(mmerr().args(["explain", "424242", "--json"]), 1);
        assert_eq!(
            (v["known"].clone(), v["category"].clone()),
            (false.into(), "unknown".into())
        );
    }

    #[test]
    fn bad_arguments_exit_2() {
        mmerr()
            .args(["explain", "ten"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not an error code"));
        mmerr()
            .args(["1002", "--lang", "fr"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("unknown language"));
        mmerr()
            .args(["explain", "1002", "--endpoint", "/v9/x"])
            .assert()
            .code(2);
        mmerr()
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("explain"));
    }

    #[test]
    fn no_colour_when_piped() {
        let out = stdout_of(mmerr().arg("1002"));
        assert!(!out.contains('\u{1b}'), "{out:?}");
        let forced = stdout_of(mmerr().arg("1002").env("CLICOLOR_FORCE", "1"));
        assert!(
            forced.contains('\u{1b}'),
            "colour can be forced: {forced:?}"
        );
        let no_color = stdout_of(
            mmerr()
                .arg("1002")
                .env("CLICOLOR_FORCE", "1")
                .env("NO_COLOR", "1"),
        );
        assert!(!no_color.contains('\u{1b}'), "NO_COLOR wins: {no_color:?}");
    }
}

mod list {
    use super::*;

    #[test]
    fn lists_every_code() {
        let out = stdout_of(mmerr().arg("list"));
        for code in ["1000", "1013", "2056", "2064", "20132"] {
            assert!(out.contains(code), "{code} missing");
        }
    }

    #[test]
    fn json_and_category_filter() {
        let out = stdout_of(mmerr().args(["list", "--json", "--category", "throttling"]));
        let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
        let codes: Vec<i64> = v.iter().map(|e| e["code"].as_i64().unwrap()).collect();
        assert_eq!(codes, vec![1002, 1041, 2045, 1039]);
        assert!(v.iter().all(|e| e["retryable"] == true));
        mmerr()
            .args(["list", "--category", "nonsense"])
            .assert()
            .code(2);
        mmerr()
            .args(["list", "--json", "--markdown"])
            .assert()
            .code(2);
    }
}

mod check {
    use super::*;

    fn check_stdin(input: &[u8], args: &[&str]) -> assert_cmd::assert::Assert {
        mmerr()
            .arg("check")
            .args(args)
            .write_stdin(input.to_vec())
            .assert()
    }

    #[test]
    fn native_error_exits_1_with_explanation() {
        let body = br#"{"base_resp":{"status_code":2049,"status_msg":"invalid api key"},"trace_id":"tr-77"}"#;
        check_stdin(body, &[])
            .code(1)
            .stdout(predicate::str::contains("2049 INVALID_API_KEY"))
            .stdout(predicate::str::contains("invalid api key"))
            .stdout(predicate::str::contains("tr-77"));
    }

    #[test]
    fn success_exits_0() {
        check_stdin(
            br#"{"id":"c1","base_resp":{"status_code":0,"status_msg":""}}"#,
            &["-"],
        )
        .success()
        .stdout(predicate::str::contains("success"));
    }

    #[test]
    fn reads_a_file_and_curl_head() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(
            b"HTTP/2 529\r\ncontent-type: application/json\r\ntrace-id: hdr-1\r\n\r\n{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy (2064)\"}}",
        )
        .unwrap();
        let v = json_output(mmerr().args(["check", "--json"]).arg(file.path()), 1);
        assert_eq!(v["result"]["outcome"], "api_error");
        assert_eq!(v["result"]["code"], 2064);
        assert_eq!(v["result"]["http_status"], 529);
        assert_eq!(v["result"]["trace_id"], "hdr-1");
        assert_eq!(v["report"]["retry"], true);
    }

    #[test]
    fn endpoint_and_status_flags() {
        let body = br#"{"base_resp":{"status_code":1039,"status_msg":"tpm"}}"#;
        check_stdin(body, &["--endpoint", "/v1/t2a_v2"])
            .code(1)
            .stdout(predicate::str::contains("tokens per minute"));
        let no_code = br#"{"message":"slow down"}"#;
        check_stdin(no_code, &["--status", "429"])
            .code(1)
            .stdout(predicate::str::contains("1002 RATE_LIMIT"));
    }

    #[test]
    fn stream_error_mid_way() {
        let body = b"data: {\"data\":{\"audio\":\"aa\",\"status\":1},\"base_resp\":{\"status_code\":0}}\n\ndata: {\"base_resp\":{\"status_code\":2054,\"status_msg\":\"voice not exist\"}}\n\n";
        check_stdin(body, &["--endpoint", "t2a"])
            .code(1)
            .stdout(predicate::str::contains("2054 VOICE_NOT_FOUND"))
            .stdout(predicate::str::contains("error after 1 data events"));
    }

    #[test]
    fn unreadable_responses_exit_2_with_one_line() {
        let one_line = predicate::str::is_match(r"^mmerr: [^\n]+\n$").unwrap();
        check_stdin(
            b"<html><title>502 Bad Gateway</title></html>",
            &["--status", "502"],
        )
        .code(2)
        .stdout("")
        .stderr(one_line.clone())
        .stderr(
            predicate::str::contains("502 Bad Gateway")
                .and(predicate::str::contains("worth a retry")),
        );
        check_stdin(b"", &[]).code(2).stderr(one_line.clone());
        check_stdin(b"\xff\xfe\xfd not utf-8 \x00", &[])
            .code(2)
            .stderr(one_line.clone());
        check_stdin(b"{\"base_resp\":{\"status_code\":0},\"data\":\"abc", &[])
            .code(2)
            .stderr(one_line.clone())
            .stderr(predicate::str::contains("cut off"));
        check_stdin(b"HTTP/1.1 200 OK\r\nx: y", &[])
            .code(2)
            .stderr(one_line.clone());
        mmerr()
            .args(["check", "/no/such/file.json"])
            .assert()
            .code(2)
            .stderr(one_line.clone())
            .stderr(predicate::str::contains("cannot read /no/such/file.json"));
        let dir = tempfile::tempdir().unwrap();
        mmerr()
            .arg("check")
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(one_line)
            .stderr(predicate::str::contains(dir.path().display().to_string()));
    }

    #[test]
    fn input_past_the_limit_is_refused_in_one_line() {
        let zeros = vec![0u8; (64 << 20) + 1];
        check_stdin(&zeros, &[])
            .code(2)
            .stderr(predicate::str::is_match(r"^mmerr: [^\n]+\n$").unwrap())
            .stderr(predicate::str::contains("larger than 64 MiB"));
    }

    #[test]
    fn keys_in_answers_are_never_printed() {
        let key = "sk-api-0123456789abcdefABCDEF0123";
        let body =
            format!(r#"{{"base_resp":{{"status_code":1004,"status_msg":"bad key {key}"}}}}"#);
        let mut cmd = mmerr();
        cmd.args(["check", "--json"]).write_stdin(body.clone());
        let out = cmd.assert().code(1).get_output().stdout.clone();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains(key) && text.contains("[REDACTED]"), "{text}");
        let mut cmd = mmerr();
        cmd.arg("check").write_stdin(body);
        assert!(!stdout_of(&mut cmd).contains(key));
        let page = format!("Internal error for key {key}");
        check_stdin(page.as_bytes(), &["--status", "500"])
            .code(2)
            .stderr(predicate::str::contains(key).not());
    }

    #[test]
    fn a_stream_without_its_end_marker_is_cut_off() {
        let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"one \"}}]}\n\n";
        check_stdin(body, &["--endpoint", "chat"])
            .code(2)
            .stderr(predicate::str::contains("cut off after 1 data events"));
    }

    #[test]
    fn big_body_is_fine() {
        let audio = "0f".repeat(3 * 1024 * 1024);
        let body = format!(
            r#"{{"data":{{"audio":"{audio}","status":2}},"base_resp":{{"status_code":0,"status_msg":"success"}}}}"#
        );
        check_stdin(body.as_bytes(), &["--endpoint", "t2a"]).success();
    }
}

mod validate {
    use super::*;

    fn data(name: &str) -> String {
        format!(
            "{}/../minimax-errors/tests/data/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn valid_request_exits_0() {
        let body = r#"{"model":"MiniMax-M2","messages":[{"role":"user","content":"hi"}],"temperature":0.7}"#;
        mmerr()
            .args(["validate", "--api", "chat"])
            .write_stdin(body)
            .assert()
            .success()
            .stdout("✓ chat request is valid\n");
    }

    #[test]
    fn violations_exit_1_with_every_one_listed() {
        let body = r#"{"model":"speech-2.8-hd","text":"hi","voice_setting":{"voice_id":"v","speed":9,"vol":0},"audio_setting":{"channel":5}}"#;
        let assert = mmerr()
            .args(["validate", "--api", "t2a", "-"])
            .write_stdin(body)
            .assert()
            .code(1);
        let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert!(out.starts_with("✗ t2a request: 3 violations\n"), "{out}");
        for field in [
            "voice_setting.speed",
            "voice_setting.vol",
            "audio_setting.channel",
        ] {
            assert!(out.contains(field), "{field} missing: {out}");
        }
    }

    #[test]
    fn json_output_and_chinese() {
        let body = r#"{"file_id":1,"voice_id":"short"}"#;
        let v = json_output(
            mmerr()
                .args(["validate", "--api", "voice-clone", "--json"])
                .write_stdin(body),
            1,
        );
        assert_eq!(v["valid"], false);
        assert_eq!(v["violations"][0]["field"], "voice_id");
        assert_eq!(v["violations"][0]["code"], 2013);
        let zh = stdout_of(
            mmerr()
                .args(["validate", "--api", "voice-clone", "--lang", "zh"])
                .write_stdin(body),
        );
        assert!(zh.contains("voice_id 须为 8 到 256 个字符"), "{zh}");
    }

    #[test]
    fn unusable_input_exits_2() {
        let one_line = predicate::str::is_match(r"^mmerr: [^\n]+\n$").unwrap();
        mmerr()
            .args(["validate", "--api", "chat"])
            .write_stdin("{oops")
            .assert()
            .code(2)
            .stderr(one_line.clone());
        mmerr()
            .args(["validate", "--api", "chat"])
            .write_stdin(b"\xff\xfe".to_vec())
            .assert()
            .code(2)
            .stderr(one_line.clone());
        mmerr()
            .args(["validate", "/no/such.json", "--api", "t2a"])
            .assert()
            .code(2)
            .stderr(one_line.clone());
        mmerr()
            .arg("validate")
            .write_stdin("{}")
            .assert()
            .code(2)
            .stderr(one_line.clone());
        mmerr()
            .args(["validate", "--api", "music"])
            .assert()
            .code(2);
        mmerr()
            .args([
                "validate",
                "audio",
                "/no/such.mp3",
                "--purpose",
                "voice_clone",
            ])
            .assert()
            .code(2)
            .stderr(one_line);
        mmerr()
            .args([
                "validate",
                "audio",
                &data("tone-3s.m4a"),
                "--purpose",
                "nonsense",
            ])
            .assert()
            .code(2);
    }

    #[test]
    fn audio_files() {
        mmerr()
            .args([
                "validate",
                "audio",
                &data("tone-3s.m4a"),
                "--purpose",
                "prompt_audio",
            ])
            .assert()
            .success()
            .stdout(
                predicate::str::contains("format m4a")
                    .and(predicate::str::contains("duration 3.00 s")),
            );
        mmerr()
            .args([
                "validate",
                "audio",
                &data("silence-301s.m4a"),
                "--purpose",
                "voice_clone",
            ])
            .assert()
            .code(1)
            .stdout(predicate::str::contains("2037"));
        // Not audio at all, whatever the name says: a format violation.
        let mut fake = tempfile::Builder::new().suffix(".mp3").tempfile().unwrap();
        fake.write_all(b"this is text, not audio").unwrap();
        mmerr()
            .args(["validate", "audio", "--purpose", "voice_clone"])
            .arg(fake.path())
            .assert()
            .code(1)
            .stdout(predicate::str::contains("not mp3, m4a or wav"));
        // A broken container is unreadable input.
        let mut broken = tempfile::NamedTempFile::new().unwrap();
        broken.write_all(b"RIFF\x10\x00\x00\x00WAVEjunk").unwrap();
        mmerr()
            .args(["validate", "audio", "--purpose", "voice_clone"])
            .arg(broken.path())
            .assert()
            .code(2);
    }
}

mod demo {
    use super::*;

    #[test]
    fn demo_sends_requests_through_the_guard_and_sums_up() {
        let s = json_output(mmerr().args(["demo", "--requests", "100", "--json"]), 0);
        let n = |k: &str| s[k].as_u64().unwrap();
        assert_eq!(n("requests"), 100);
        assert_eq!(n("succeeded_first_try") + n("recovered") + n("failed"), 100);
        assert!(
            n("recovered") > 0 && n("retries_for_recovered") >= n("recovered"),
            "{s}"
        );
        let failures = s["failures"].as_array().unwrap();
        let has = |endpoint: &str, outcome: &str, ended: &str| {
            failures.iter().any(|f| {
                f["endpoint"] == endpoint && f["outcome"] == outcome && f["ended"] == ended
            })
        };
        assert!(has("chat", "1026", "not_retryable"), "{s}");
        assert!(has("t2a", "2013", "not_sent"), "{s}");
        assert!(has("t2a", "2054", "not_retryable"), "{s}");
        let sent = n("calls_to_minimax");
        assert!((96..=130).contains(&sent), "{sent} calls for 100 requests");
        // The account's limit is met by pacing, not by throttles: the pace found for text is
        // within the account's limit and few 1002s were answered.
        let text = s["pacing"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == "text")
            .unwrap_or_else(|| panic!("{s}"));
        let rpm = text["rpm"].as_f64().unwrap();
        assert!(rpm > 0.0 && rpm <= n("account_rpm") as f64 * 1.2, "{s}");
        let throttles: u64 = s["errors_met"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|codes| codes["1002"].as_u64())
            .sum();
        assert!(throttles <= 5, "{throttles} throttles: {s}");
        // The subscription key's window: once spent, the rest is held, not sent.
        let plan = &s["plan"];
        let p = |k: &str| plan[k].as_u64().unwrap();
        assert_eq!(p("refused"), 1, "one 2056, then held: {plan}");
        assert_eq!(
            p("succeeded") + p("refused") + p("held"),
            p("requests"),
            "{plan}"
        );
        assert!(p("held") >= 8, "{plan}");
        assert!(plan["resets"].as_str().unwrap().ends_with('Z'), "{plan}");
    }

    #[test]
    fn human_summary() {
        let out = stdout_of(mmerr().args(["demo", "--requests", "50"]));
        assert!(
            out.starts_with("mmerr demo: 50 requests through minimax-guard"),
            "{out}"
        );
        for part in [
            "succeeded",
            "calls to MiniMax",
            "paced",
            "errors met",
            "failed requests, by reason",
        ] {
            assert!(out.contains(part), "{part}: {out}");
        }
        mmerr().args(["demo", "--requests", "5"]).assert().code(2);
    }

    #[test]
    fn through_the_proxy_only_what_cannot_succeed_fails() {
        let s = json_output(
            mmerr().args(["demo", "--proxy", "--requests", "100", "--json"]),
            0,
        );
        let (straight, proxied) = (&s["straight"], &s["through_proxy"]);
        let n = |side: &serde_json::Value, k: &str| side[k].as_u64().unwrap();
        assert_eq!(n(straight, "succeeded") + n(straight, "failed"), 100);
        assert_eq!(n(proxied, "succeeded") + n(proxied, "failed"), 100);
        assert!(
            n(straight, "failed") > 20,
            "the SDK-style client alone meets the faults: {s}"
        );
        // Only the sensitive inputs (1026) fail through the proxy.
        assert_eq!(proxied["failures"].as_object().unwrap().len(), 1, "{s}");
        assert_eq!(n(&proxied["failures"], "1026"), n(proxied, "failed"), "{s}");
        assert!(n(proxied, "calls_to_minimax") <= 130, "{s}");
        let out = stdout_of(mmerr().args(["demo", "--proxy", "--requests", "20", "--lang", "zh"]));
        assert!(out.contains("经 mmerr proxy"), "{out}");
    }
}

mod report {
    use super::*;

    fn log_file() -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let lines = [
            r#"{"ts":"2026-11-27T04:10:04.000Z","code":1002,"outcome":"1002","endpoint":"t2a","trace_id":"t-1","attempt":1,"final":false,"context":{"api_key":"[REDACTED]"}}"#,
            r#"{"ts":"2026-11-27T04:40:00.000Z","code":1002,"outcome":"1002","endpoint":"t2a","trace_id":"t-2","attempt":2,"final":true}"#,
            r#"{"ts":"2026-11-27T06:05:00.000Z","code":2049,"outcome":"2049","endpoint":"chat","trace_id":"sk-api-leaked0123456789abcdef","attempt":1,"final":true}"#,
            r#"{"ts":"2026-11-27T06:06:00.000Z","code":null,"outcome":"transport","endpoint":"chat","attempt":1,"final":false}"#,
            "this line is not JSON",
            r#"{"ts":"yesterday","code":1002}"#,
        ];
        file.write_all(lines.join("\n").as_bytes()).unwrap();
        file
    }

    #[test]
    fn tables_chart_and_malformed_lines() {
        let file = log_file();
        let out = stdout_of(mmerr().arg("report").arg(file.path()));
        assert!(out.starts_with("mmerr report: 1 file, 6 lines, 4 error events (2026-11-27 04:10:04 – 2026-11-27 06:06:00 UTC), 2 of them the end of a failed call, 2 malformed lines"), "{out}");
        assert!(out.contains("t-1, t-2"), "trace ids per code: {out}");
        assert!(
            out.contains("1002 ") && out.contains("50.0%") && out.contains("rate limit"),
            "{out}"
        );
        assert!(
            out.contains("2026-11-27 05:00"),
            "empty hours are charted too: {out}"
        );
        assert!(out.contains("█"), "{out}");
        assert!(out.contains(":5: "), "the bad line is named: {out}");
        assert!(!out.contains("leaked0123456789"), "{out}");
        let zh = stdout_of(mmerr().args(["report", "--lang", "zh"]).arg(file.path()));
        assert!(
            zh.contains("按错误码") && zh.contains("请求频率超限"),
            "{zh}"
        );
    }

    #[test]
    fn json_and_time_range() {
        let file = log_file();
        let v = json_output(
            mmerr()
                .args([
                    "report",
                    "--json",
                    "--since",
                    "2026-11-27T05:00:00Z",
                    "--until",
                    "2026-11-27T06:05:30Z",
                ])
                .arg(file.path()),
            0,
        );
        assert_eq!(
            (
                v["events"].as_u64(),
                v["outside_range"].as_u64(),
                v["malformed"].as_u64()
            ),
            (Some(1), Some(3), Some(2))
        );
        assert_eq!(v["outcomes"]["2049"]["count"], 1);
        assert_eq!(v["outcomes"]["2049"]["trace_ids"][0], "[REDACTED]");
        assert_eq!(v["final_failures"], 1);
        assert_eq!(
            v["hours"]["2026-11-27T06:00:00Z"], 1,
            "hours keyed by time: {v}"
        );
        // An age is relative to now: nothing in this old log is younger than a day... unless
        // the clock is before 2026-11-28; either way the command works.
        mmerr()
            .args(["report", "--since", "24h"])
            .arg(file.path())
            .assert()
            .success();
    }

    #[test]
    fn a_short_incident_is_charted_by_the_minute() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for minute in [10, 10, 11, 13] {
            writeln!(file, r#"{{"ts":"2026-11-27T04:{minute}:05.000Z","code":1002,"endpoint":"chat","final":false}}"#).unwrap();
        }
        let out = stdout_of(mmerr().arg("report").arg(file.path()));
        assert!(out.contains("errors per minute"), "{out}");
        assert!(
            out.contains("2026-11-27 04:12"),
            "empty minutes are charted too: {out}"
        );
        assert!(!out.contains("errors per hour"), "{out}");
    }

    #[test]
    fn html_page_is_self_contained() {
        let file = log_file();
        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("report.html");
        mmerr()
            .arg("report")
            .arg(file.path())
            .arg("--html")
            .arg(&html)
            .assert()
            .success();
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.starts_with("<!doctype html>"));
        assert!(
            page.contains("<svg") && page.contains("<rect class=\"bar\""),
            "has the chart"
        );
        assert!(page.contains("<td>1002</td>") && page.contains("rate limit"));
        assert!(
            !page.contains("src=\"http") && !page.contains("href=\"http"),
            "no outside resources"
        );
        assert!(!page.contains("leaked0123456789"));
    }

    #[test]
    fn a_file_that_is_not_an_error_log_is_named() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let noise: Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(7919) % 251) as u8)
            .collect();
        file.write_all(&noise).unwrap();
        mmerr()
            .arg("report")
            .arg(file.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is not an error log"));
    }

    #[test]
    fn bad_input() {
        let one_line = predicate::str::is_match(r"^mmerr: [^\n]+\n$").unwrap();
        mmerr()
            .args(["report", "/no/such.jsonl"])
            .assert()
            .code(2)
            .stderr(one_line.clone());
        let file = log_file();
        mmerr()
            .args(["report", "--since", "last tuesday"])
            .arg(file.path())
            .assert()
            .code(2)
            .stderr(one_line);
        mmerr().arg("report").assert().code(2);
        // A file of nothing but garbage is not an error log; garbage lines among events are
        // counted (see tables_chart_and_malformed_lines).
        let mut junk = tempfile::NamedTempFile::new().unwrap();
        junk.write_all(&[0xff, 0x00, 0xfe, b'\n', 0x80, 0x81])
            .unwrap();
        mmerr()
            .args(["report", "--json"])
            .arg(junk.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not an error log"));
    }
}

mod plan_window {
    use super::*;

    #[test]
    fn check_says_when_a_spent_window_resets() {
        let body = r#"{"type":"error","error":{"type":"rate_limit_error","message":"usage limit exceeded, weekly usage limit reached for Coding Plan Max (0/0 used), resets at 2099-01-05T00:00:00Z (2056)"}}"#;
        let out = stdout_of(
            mmerr()
                .args([
                    "check",
                    "--status",
                    "429",
                    "--endpoint",
                    "anthropic",
                    "--lang",
                    "en",
                ])
                .write_stdin(body),
        );
        assert!(
            out.contains("window       resets at 2099-01-05 00:00 UTC, in "),
            "{out}"
        );
        let json = json_output(
            mmerr()
                .args([
                    "check",
                    "--status",
                    "429",
                    "--endpoint",
                    "anthropic",
                    "--json",
                ])
                .write_stdin(body),
            1,
        );
        let window = &json["report"]["plan_window"];
        assert_eq!(window["window"], "weekly");
        assert_eq!(window["plan"], "Coding Plan Max");
        assert_eq!(window["resets_at"], 4_071_254_400i64);
    }
}

mod spent_window_bench {
    use super::*;

    #[test]
    fn the_guard_sends_nothing_to_a_spent_window() {
        let rows = json_output(mmerr().args(["bench", "spent-window", "--json"]), 0);
        let after = |policy: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|r| r["policy"] == policy)
                .unwrap_or_else(|| panic!("{policy}: {rows}"))["calls_after_first_2056"]
                .as_u64()
                .unwrap()
        };
        assert_eq!(after("guard"), 0, "{rows}");
        assert!(after("openai") > 1000, "{rows}");
    }
}

#[test]
fn bench_fleet_without_redis_server_says_so_in_one_line() {
    let output = mmerr()
        .args(["bench", "fleet", "--requests", "100"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("redis-server"), "{stderr}");
}

#[test]
fn a_state_that_is_not_redis_is_a_bad_argument() {
    mmerr()
        .args(["proxy", "--state", "postgres://127.0.0.1/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected in-process or a redis:// URL",
        ));
}
