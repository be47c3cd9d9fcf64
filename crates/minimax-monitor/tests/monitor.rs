//! The monitor: windows, success rates, alert rules with cooldown and resolution, bounded
//! memory, and the error log under concurrency, rotation and secrets.

use minimax_errors::{Endpoint, ErrorCode};
use minimax_monitor::{
    AlertRule, AlertStatus, ErrorLogConfig, Event, Monitor, MonitorConfig, Seen,
};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

const T0: u64 = 1_800_000_000_000; // a fixed "now", in Unix ms, on a minute boundary

fn monitor(rules: Vec<AlertRule>) -> Monitor {
    Monitor::new(MonitorConfig {
        rules,
        ..MonitorConfig::default()
    })
    .unwrap()
}

fn code(c: ErrorCode) -> Seen {
    Seen::Code(c)
}

#[test]
fn summary_counts_windows_and_success_rates() {
    let m = monitor(vec![]);
    // t2a: one call that recovered after a 1002, one first-try success; chat: one failure.
    m.record_at(
        &Event::attempt(Endpoint::T2a, code(ErrorCode::RATE_LIMIT), 1, false),
        T0,
    );
    m.record_at(
        &Event::attempt(Endpoint::T2a, Seen::Success, 2, true),
        T0 + 10,
    );
    m.record_at(
        &Event::attempt(Endpoint::T2a, Seen::Success, 1, true),
        T0 + 20,
    );
    m.record_at(
        &Event::attempt(Endpoint::Chat, code(ErrorCode::INVALID_API_KEY), 1, true),
        T0 - 30 * 60_000,
    );
    let s = m.summary_at(T0 + 1000);
    assert_eq!(s.total_errors, 2);
    assert_eq!(
        s.error_breakdown,
        [("1002".to_string(), 1), ("2049".to_string(), 1)].into()
    );
    assert_eq!(s.since_start.calls, 3);
    assert_eq!(
        (
            s.since_start.ok_first_try,
            s.since_start.ok_after_retries,
            s.since_start.failed
        ),
        (1, 1, 1)
    );
    assert_eq!(
        s.errors_last_minute,
        [("1002".to_string(), 1)].into(),
        "the 2049 was half an hour ago"
    );
    assert_eq!(s.errors_last_hour.len(), 2);
    let t2a = &s.endpoints["t2a"];
    assert_eq!(t2a.last_minute.success_rate_first_try, Some(0.5));
    assert_eq!(t2a.last_minute.success_rate, Some(1.0));
    assert_eq!(t2a.attempts, 3);
    assert_eq!(s.endpoints["chat"].last_minute.calls, 0);
    assert_eq!(s.endpoints["chat"].last_hour.success_rate, Some(0.0));
    assert_eq!(s.top_errors.len(), 2);
    // Two hours later the windows are empty; the totals stay.
    let later = m.summary_at(T0 + 2 * 3_600_000);
    assert!(later.errors_last_hour.is_empty() && later.last_minute.calls == 0);
    assert_eq!(later.total_errors, 2);
}

#[test]
fn memory_is_bounded_whatever_the_codes() {
    let m = monitor(vec![]);
    for i in 0..200_000u64 {
        let seen = code(ErrorCode::new(100_000 + (i % 5_000) as i64));
        m.record_at(
            &Event {
                trace_id: Some("t"),
                ..Event::attempt(Endpoint::Other, seen, 1, true)
            },
            T0 + i,
        );
    }
    let s = m.summary_at(T0 + 200_000);
    assert_eq!(s.total_errors, 200_000);
    assert!(
        s.error_breakdown.len() <= 101,
        "{} distinct entries",
        s.error_breakdown.len()
    );
    assert!(s.error_breakdown.contains_key("other"));
}

mod alerts {
    use super::*;

    fn burst(m: &Monitor, seen: Seen, n: u64, at: u64) {
        for i in 0..n {
            let trace = format!("trace-{at}-{i}");
            m.record_at(
                &Event {
                    trace_id: Some(&trace),
                    ..Event::attempt(Endpoint::T2a, seen, 1, false)
                },
                at + i,
            );
        }
    }

    #[test]
    fn default_rule_fires_once_per_incident_and_resolves() {
        let m = monitor(AlertRule::defaults());
        burst(&m, code(ErrorCode::RATE_LIMIT), 10, T0);
        assert!(m.evaluate_at(T0 + 500).is_empty(), "10 is not more than 10");
        burst(&m, code(ErrorCode::RATE_LIMIT), 1, T0 + 600);
        let alerts = m.evaluate_at(T0 + 1000);
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(
            (a.status, a.code, a.count, a.threshold),
            (AlertStatus::Firing, Some(1002), 11, 10)
        );
        assert_eq!(a.meaning.en, "rate limit");
        assert_eq!(a.solution.zh, "请稍后再试");
        assert_eq!(a.sample_trace_ids.len(), 5);
        assert_eq!(a.sample_trace_ids[0], format!("trace-{}-0", T0 + 600));
        assert_eq!((a.first_seen_ms, a.last_seen_ms), (T0, T0));
        assert!(
            a.text(minimax_errors::Lang::En)
                .contains("11 events in 60 s")
        );
        // The incident goes on: no new alert, however many more errors.
        for s in 2..50 {
            burst(&m, code(ErrorCode::RATE_LIMIT), 20, T0 + s * 1000);
            assert!(m.evaluate_at(T0 + s * 1000 + 500).is_empty(), "second {s}");
        }
        // Quiet for a whole window, but the incident stays open for the cooldown (300 s from
        // its alert): an error that comes back within it is the same incident.
        assert!(m.evaluate_at(T0 + 49_000 + 61_000).is_empty());
        burst(&m, code(ErrorCode::RATE_LIMIT), 30, T0 + 200_000);
        assert!(m.evaluate_at(T0 + 200_500).is_empty());
        assert!(
            m.evaluate_at(T0 + 262_000).is_empty(),
            "quiet for a window, within the cooldown"
        );
        // Past the cooldown and quiet for a window: resolved, once, with the incident's figures.
        let resolved = m.evaluate_at(T0 + 302_000);
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].status, AlertStatus::Resolved);
        assert_eq!(
            resolved[0].count, 971,
            "the most in a window: 48 s of 20, and the first 11"
        );
        assert!(
            resolved[0].last_seen_ms >= T0 + 200_000,
            "{:?}",
            resolved[0]
        );
        assert!(m.evaluate_at(T0 + 303_000).is_empty());
        // A new incident after the notice alerts at once.
        burst(&m, code(ErrorCode::RATE_LIMIT), 30, T0 + 310_000);
        assert_eq!(m.evaluate_at(T0 + 310_500).len(), 1);
    }

    #[test]
    fn each_code_is_its_own_incident_and_account_errors_alert_at_once() {
        let m = monitor(AlertRule::defaults());
        burst(&m, code(ErrorCode::RATE_LIMIT), 11, T0);
        burst(&m, code(ErrorCode::TIMEOUT), 11, T0);
        burst(&m, code(ErrorCode::INSUFFICIENT_BALANCE), 1, T0);
        let mut alerts = m.evaluate_at(T0 + 500);
        alerts.sort_by(|a, b| a.rule.cmp(&b.rule).then(a.code.cmp(&b.code)));
        let fired: Vec<(String, Option<i64>)> =
            alerts.iter().map(|a| (a.rule.clone(), a.code)).collect();
        assert_eq!(
            fired,
            vec![
                ("balance-exhausted".to_string(), Some(1008)),
                ("error-burst".to_string(), Some(1001)),
                ("error-burst".to_string(), Some(1002))
            ]
        );
        assert_eq!(alerts[0].severity, minimax_errors::LogLevel::Error);
        assert_eq!(alerts[0].meaning.en, "insufficient balance");
    }

    #[test]
    fn a_category_alert_names_the_codes_it_saw_with_their_solutions() {
        let m = monitor(AlertRule::defaults());
        burst(&m, code(ErrorCode::UNAUTHORIZED), 2, T0);
        burst(&m, code(ErrorCode::INVALID_API_KEY), 1, T0);
        let alerts = m.evaluate_at(T0 + 500);
        let auth = alerts.iter().find(|a| a.rule == "auth-failure").unwrap();
        assert!(
            auth.meaning.en.contains("1004") && auth.meaning.en.contains("(2)"),
            "{}",
            auth.meaning.en
        );
        assert!(
            auth.meaning.en.contains("2049") && auth.meaning.en.contains("(1)"),
            "{}",
            auth.meaning.en
        );
        assert!(
            !auth.meaning.en.contains("see each code"),
            "{}",
            auth.meaning.en
        );
        assert!(
            auth.solution.en.contains("1004: Check the API key"),
            "{}",
            auth.solution.en
        );
        assert!(auth.solution.zh.contains("2049"), "{}", auth.solution.zh);
        // Counted to the second: printed without milliseconds.
        let text = auth.text(minimax_errors::Lang::En);
        assert!(!text.contains(".000Z"), "{text}");
    }

    #[test]
    fn hour_windows_and_custom_rules_from_toml() {
        let config = MonitorConfig::from_toml(
            r#"
            [[rules]]
            name = "throttled-hour"
            category = "throttling"
            threshold = 100
            window_secs = 3600
            cooldown_secs = 3600
            severity = "warn"
            "#,
        )
        .unwrap();
        let m = Monitor::new(config).unwrap();
        for minute in 0..30 {
            burst(
                &m,
                code(ErrorCode::RATE_GROWTH_LIMIT),
                3,
                T0 + minute * 60_000,
            );
        }
        assert!(
            m.evaluate_at(T0 + 30 * 60_000).is_empty(),
            "90 in the hour: not more than 100"
        );
        for minute in 30..40 {
            burst(&m, code(ErrorCode::RATE_LIMIT), 2, T0 + minute * 60_000);
        }
        let alerts = m.evaluate_at(T0 + 40 * 60_000);
        assert_eq!(
            alerts.len(),
            1,
            "1002 and 2045 are both throttling: 110 in the hour"
        );
        assert_eq!(
            (alerts[0].count, alerts[0].code, alerts[0].severity),
            (110, None, minimax_errors::LogLevel::Warn)
        );
        assert!(
            alerts[0].meaning.en.starts_with(
                "throttling errors: 1002 rate limit (20), 2045 rate growth limit (90)"
            ),
            "{}",
            alerts[0].meaning.en
        );
        // An hour without a throttle: resolved.
        let resolved = m.evaluate_at(T0 + 100 * 60_000);
        assert_eq!(
            resolved.iter().map(|a| a.status).collect::<Vec<_>>(),
            vec![AlertStatus::Resolved]
        );
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(
            MonitorConfig::from_toml("[[rules]]\nname = \"x\"\ncategory = \"weather\"").is_err()
        );
        assert!(MonitorConfig::from_toml("[[rules]]\nname = \"x\"\nwindow_secs = 0").is_err());
        assert!(MonitorConfig::from_toml("[[rules]]\nname = \"x\"\nthreshhold = 3").is_err());
        let two =
            MonitorConfig::from_toml("[[rules]]\nname = \"x\"\ncode = 1002\neach_code = true")
                .unwrap_err()
                .to_string();
        assert!(!two.contains('\n') && two.contains("at most one"), "{two}");
    }

    #[test]
    fn setup_failures_say_which_file() {
        let missing = std::path::Path::new("/nonexistent/monitor.toml");
        let error = MonitorConfig::load(missing).unwrap_err();
        assert!(matches!(error, minimax_monitor::ConfigError::Read { .. }));
        assert!(error.to_string().contains("/nonexistent/monitor.toml"));
        let config = MonitorConfig {
            error_log: Some(minimax_monitor::ErrorLogConfig {
                path: "/nonexistent/dir/errors.jsonl".into(),
                ..Default::default()
            }),
            ..MonitorConfig::default()
        };
        let error = Monitor::new(config).err().unwrap();
        assert!(
            matches!(error, minimax_monitor::ConfigError::ErrorLog { .. }),
            "{error}"
        );
    }
}

mod error_log {
    use super::*;

    fn lines(path: &std::path::Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_lose_no_line_and_leak_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("errors.jsonl");
        let config = MonitorConfig {
            error_log: Some(ErrorLogConfig {
                path: path.clone(),
                max_bytes: u64::MAX,
                keep: 1,
            }),
            rules: vec![],
            ..MonitorConfig::default()
        };
        let m = Monitor::new(config).unwrap();
        let key = "sk-api-logged-secret-0123456789abcdef";
        let tasks: Vec<_> = (0..100)
            .map(|t| {
                let m = m.clone();
                tokio::spawn(async move {
                    let context = json!({"task": t, "api_key": key, "headers": {"Authorization": format!("Bearer {key}")}, "note": format!("called with {key}")});
                    for i in 0..1000 {
                        let trace = format!("{t}-{i}");
                        m.record(&Event { trace_id: Some(&trace), context: Some(&context), latency: Duration::from_millis(3), ..Event::attempt(Endpoint::T2a, Seen::Code(ErrorCode::RATE_LIMIT), 1, false) });
                        if i % 100 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // Successes are not errors: nothing logged for them.
        m.record(&Event::attempt(Endpoint::T2a, Seen::Success, 1, true));
        m.error_log().unwrap().flush_within(Duration::from_secs(60));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(key), "the key reached the log");
        // A burst larger than the queue: recording never waits, so what the writer could not
        // take is dropped and counted; every other line is there, once, whole.
        let lines = lines(&path);
        let dropped = m
            .error_log()
            .unwrap()
            .dropped()
            .queue_full
            .load(Ordering::Relaxed);
        assert_eq!(lines.len() as u64 + dropped, 100_000);
        assert!(
            lines.len() >= 65_536,
            "at least the queue's worth: {}",
            lines.len()
        );
        let mut traces: Vec<&str> = lines
            .iter()
            .map(|l| l["trace_id"].as_str().unwrap())
            .collect();
        traces.sort_unstable();
        traces.dedup();
        assert_eq!(traces.len(), lines.len(), "no line twice");
        let first = &lines[0];
        assert_eq!(first["code"], 1002);
        assert_eq!(first["endpoint"], "t2a");
        assert_eq!(first["context"]["api_key"], "[REDACTED]");
        assert!(first["ts"].as_str().unwrap().ends_with('Z'));
    }

    fn monitor_logging_to(path: &std::path::Path, max_bytes: u64) -> Monitor {
        Monitor::new(MonitorConfig {
            error_log: Some(ErrorLogConfig {
                path: path.to_path_buf(),
                max_bytes,
                keep: 1,
            }),
            rules: vec![],
            ..MonitorConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn steady_load_loses_nothing_and_lines_reach_the_disk_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("errors.jsonl");
        let m = monitor_logging_to(&path, u64::MAX);
        for round in 0..5 {
            for i in 0..2_000 {
                let trace = format!("{round}-{i}");
                m.record(&Event {
                    trace_id: Some(&trace),
                    ..Event::attempt(Endpoint::Chat, Seen::Transport, 1, true)
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // No flush asked for: the writer flushes on its own within a second.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(lines(&path).len(), 10_000);
        assert_eq!(
            m.error_log()
                .unwrap()
                .dropped()
                .queue_full
                .load(Ordering::Relaxed),
            0
        );
        // And when the log is dropped, what is queued is written first.
        for _ in 0..100 {
            m.record(&Event::attempt(Endpoint::Chat, Seen::Malformed, 1, true));
        }
        drop(m);
        assert_eq!(lines(&path).len(), 10_100);
    }

    /// Runs a command a test needs as root (`mount`, `chattr`); `false` where it cannot run
    /// (not root), which fails the test under CI, where it always can.
    fn as_root(program: &str, args: &[&str]) -> bool {
        let ran = std::process::Command::new(program)
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ran || std::env::var_os("CI").is_none(),
            "{program} {args:?} failed"
        );
        if !ran {
            eprintln!("skipped: {program} {args:?} needs root");
        }
        ran
    }

    /// A small tmpfs: a disk that fills up. Unmounted when dropped.
    struct SmallDisk(tempfile::TempDir);

    impl SmallDisk {
        fn mount(size: &str) -> Option<SmallDisk> {
            let dir = tempfile::tempdir().unwrap();
            let at = dir.path().to_str().unwrap();
            as_root(
                "mount",
                &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", at],
            )
            .then_some(SmallDisk(dir))
        }
    }

    impl Drop for SmallDisk {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg(self.0.path())
                .status();
        }
    }

    #[test]
    fn a_full_disk_leaves_only_whole_lines_and_every_lost_line_counted() {
        let Some(disk) = SmallDisk::mount("64k") else {
            return;
        };
        let path = disk.0.path().join("errors.jsonl");
        let m = monitor_logging_to(&path, u64::MAX);
        let total = 3_000;
        for i in 0..total {
            let trace = format!("trace-{i}");
            m.record(&Event {
                trace_id: Some(&trace),
                ..Event::attempt(Endpoint::Chat, Seen::Transport, 1, true)
            });
        }
        let flushed = m.flush().unwrap();
        assert!(flushed.complete, "{flushed:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'), "a partial line at the cut");
        let lines = lines(&path);
        assert_eq!(lines.len() as u64, flushed.written, "{flushed:?}");
        assert!(flushed.unwritable > 0, "the disk filled: {flushed:?}");
        assert!(flushed.written > 0, "what fitted was kept: {flushed:?}");
        assert_eq!(
            flushed.written + flushed.unwritable + flushed.queue_full,
            total,
            "every line written or counted: {flushed:?}"
        );
    }

    #[test]
    fn a_read_only_directory_with_many_rotations_kept_is_tried_once_a_second_not_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("errors.jsonl");
        let m = Monitor::new(MonitorConfig {
            error_log: Some(ErrorLogConfig {
                path: path.clone(),
                max_bytes: 4_000,
                keep: 1_000,
            }),
            rules: vec![],
            ..MonitorConfig::default()
        })
        .unwrap();
        for _ in 0..20 {
            m.record(&Event::attempt(Endpoint::Chat, Seen::Transport, 1, true));
        }
        m.flush();
        let at = dir.path().to_str().unwrap();
        // Immutable: not even root may rename or create in it.
        if !as_root("chattr", &["+i", at]) {
            return;
        }
        let total = 64_000;
        let started = std::time::Instant::now();
        for _ in 0..total {
            m.record(&Event::attempt(Endpoint::Chat, Seen::Transport, 1, true));
        }
        let flushed = m.flush().unwrap();
        let drained = started.elapsed();
        as_root("chattr", &["-i", at]);
        eprintln!(
            "{total} lines into a read-only directory (keep = 1000) drained in {drained:?}: {flushed:?}"
        );
        assert!(flushed.complete, "{flushed:?}");
        assert_eq!(
            flushed.written + flushed.unwritable + flushed.queue_full,
            total + 20,
            "{flushed:?}"
        );
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size <= 4_000, "{size} bytes");
    }

    #[test]
    fn rotates_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("errors.jsonl");
        let config = MonitorConfig {
            error_log: Some(ErrorLogConfig {
                path: path.clone(),
                max_bytes: 4_000,
                keep: 2,
            }),
            rules: vec![],
            ..MonitorConfig::default()
        };
        let m = Monitor::new(config).unwrap();
        for _ in 0..100 {
            m.record(&Event::attempt(Endpoint::Chat, Seen::Transport, 1, true));
        }
        m.flush();
        let rotated = |n: u32| std::path::PathBuf::from(format!("{}.{n}", path.display()));
        assert!(rotated(1).exists() && rotated(2).exists() && !rotated(3).exists());
        for file in [path.clone(), rotated(1), rotated(2)] {
            let size = std::fs::metadata(&file).unwrap().len();
            assert!(size <= 4_000, "{} is {size} bytes", file.display());
            assert!(lines(&file).iter().all(|l| l["outcome"] == "transport"));
        }
    }
}

#[test]
fn the_shipped_example_configuration_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/monitor.toml");
    let config = MonitorConfig::load(&path).unwrap();
    assert_eq!(
        config.rules,
        AlertRule::defaults(),
        "the example spells out the defaults"
    );
    assert_eq!(config.sinks.webhooks.len(), 2);
    assert_eq!(config.lang, minimax_errors::Lang::Zh);
    assert!(
        config
            .sinks
            .email
            .is_some_and(|e| !format!("{e:?}").contains("app-password"))
    );
}

#[test]
fn a_code_counts_in_the_category_its_endpoint_gives_it() {
    let rule = AlertRule {
        name: "throttled".into(),
        watch: minimax_monitor::Watch::Category(minimax_errors::Category::Throttling),
        threshold: 2,
        ..AlertRule::default()
    };
    let m = monitor(vec![rule]);
    // 1039 on chat is a request error: no throttling alert, however many.
    for i in 0..5 {
        m.record_at(
            &Event::attempt(Endpoint::Chat, code(ErrorCode::TOKEN_LIMIT), 1, true),
            T0 + i,
        );
    }
    assert!(m.evaluate_at(T0 + 100).is_empty());
    // 1039 on T2A is the TPM throttle.
    for i in 0..3 {
        m.record_at(
            &Event::attempt(Endpoint::T2a, code(ErrorCode::TOKEN_LIMIT), 1, false),
            T0 + 200 + i,
        );
    }
    let alerts = m.evaluate_at(T0 + 300);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 3);
    // The summary still shows one 1039 row holding both.
    assert_eq!(m.summary_at(T0 + 400).error_breakdown["1039"], 8);
}

#[test]
fn each_code_alert_on_t2a_speaks_of_the_throttle() {
    let m = monitor(AlertRule::defaults());
    for i in 0..11 {
        m.record_at(
            &Event::attempt(Endpoint::T2a, code(ErrorCode::TOKEN_LIMIT), 1, false),
            T0 + i,
        );
    }
    let alerts = m.evaluate_at(T0 + 500);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].meaning.en, "tokens per minute (TPM) rate limit");
    assert_eq!(alerts[0].severity, minimax_errors::LogLevel::Warn);
}

mod plan_windows {
    use super::*;

    #[tokio::test]
    async fn a_window_nearly_spent_raises_one_alert_that_says_when_it_resets() {
        let mut config = minimax_mock::MockConfig::default();
        config.keys.push(minimax_mock::KeyConfig {
            key: "sk-cp-watched".to_string(),
            name: "plan".to_string(),
            quota: Some(10),
            ..minimax_mock::KeyConfig::unlimited()
        });
        let server = minimax_mock::MockServer::start(
            "127.0.0.1:0".parse().unwrap(),
            config,
            minimax_mock::Scenario::default(),
        )
        .await
        .unwrap();
        let client = minimax_guard::MiniMaxClient::builder()
            .base_url(server.url())
            .api_key(minimax_guard::ApiKey::new("sk-cp-watched"))
            .build()
            .unwrap();
        let request = minimax_errors::validate::ChatRequest::user("MiniMax-M2", "hi");
        for _ in 0..9 {
            client.chat(&request).await.unwrap();
        }
        let monitor = Monitor::new(MonitorConfig {
            plan: Some(minimax_monitor::plan::PlanWatch::default()),
            ..MonitorConfig::default()
        })
        .unwrap();
        monitor.check_plan(&client).await.unwrap();
        let alerts = monitor.evaluate();
        let plan: Vec<_> = alerts.iter().filter(|a| a.rule == "plan-window").collect();
        assert_eq!(plan.len(), 1, "{alerts:?}");
        assert_eq!(plan[0].threshold, 80, "90 % used passes 80, not 95");
        assert!(
            plan[0]
                .text(minimax_errors::Lang::En)
                .contains("resets at "),
            "{}",
            plan[0].text(minimax_errors::Lang::En)
        );
        monitor.check_plan(&client).await.unwrap();
        assert!(
            monitor.evaluate().iter().all(|a| a.rule != "plan-window"),
            "once per threshold per window"
        );
        // A key without a plan: 1004, and no alert.
        let no_plan = minimax_guard::MiniMaxClient::builder()
            .base_url(server.url())
            .api_key(minimax_guard::ApiKey::new(minimax_mock::DEMO_KEY))
            .build()
            .unwrap();
        let error = monitor.check_plan(&no_plan).await.unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::UNAUTHORIZED));
    }
}
