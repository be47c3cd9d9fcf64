//! The unmodified `openai` and `anthropic` Python SDKs through the proxy to the mock
//! (tests/sdk/clients.py). They live in a virtual environment under the target directory,
//! made on first use with pip (CI makes it beforehand); `MMERR_SDK_PYTHON` may name an
//! interpreter that has them instead.

use minimax_errors::{Endpoint, ErrorCode};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, KeyConfig, MockConfig, MockServer, Scenario};
use minimax_proxy::{ProxyConfig, ProxyServer, Upstream};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The SDK versions the checks were written against.
const SDKS: [&str; 2] = ["openai==3.57.0", "anthropic==2.14.0"];

fn sdk_python() -> PathBuf {
    if let Some(python) = std::env::var_os("MMERR_SDK_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import openai, anthropic"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed for the SDK tests");
        assert!(
            made.success(),
            "python3 -m venv failed (Debian: apt-get install python3-venv)"
        );
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(SDKS)
            .status()
            .unwrap();
        assert!(installed.success(), "pip could not install {SDKS:?}");
    }
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_work_unmodified_through_the_proxy() {
    let python = tokio::task::spawn_blocking(sdk_python).await.unwrap();
    let mut config = MockConfig::default();
    for (key, balance, rpm, quota) in [
        ("sk-api-broke", Some(0), None, None),
        ("sk-api-limited", None, Some(1800), None),
        ("sk-cp-spent-plan", None, None, Some(0)),
    ] {
        config.keys.push(KeyConfig {
            key: key.to_string(),
            name: key.to_string(),
            balance,
            rpm,
            burst: rpm.map(|_| 10),
            quota,
            ..KeyConfig::unlimited()
        });
    }
    // The first five Anthropic requests go through (message, stream, bad key, empty balance,
    // spent plan); then overloads and rate limits, which the proxy absorbs.
    let mut anthropic = vec![Action::Ok; 5];
    for _ in 0..4 {
        anthropic.extend([
            Action::Overloaded,
            Action::Code(ErrorCode::RATE_LIMIT),
            Action::Ok,
        ]);
    }
    let scenario =
        Scenario::new(5).with(EndpointFaults::on(Some(Endpoint::Anthropic)).sequence(anthropic));
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), config, scenario)
        .await
        .unwrap();
    let proxy = ProxyServer::start(ProxyConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        upstream: Upstream::Url(mock.url()),
        ..ProxyConfig::default()
    })
    .await
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/clients.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .env("PROXY", proxy.url())
        .env("MOCK", mock.url())
        .env("KEY", DEMO_KEY)
        .env("BROKE_KEY", "sk-api-broke")
        .env("LIMITED_KEY", "sk-api-limited")
        .env("QUOTA_KEY", "sk-cp-spent-plan")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_BASE_URL");
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(180),
        tokio::task::spawn_blocking(move || command.output().unwrap()),
    )
    .await
    .expect("the SDK checks took over 3 minutes")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok rate-limited run completes without failures"),
        "{stdout}"
    );
    proxy.stop().await;
}
