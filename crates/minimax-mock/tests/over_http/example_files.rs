//! The example scenario and config files load and behave as documented.

use super::*;

fn example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

#[test]
fn shipped_examples_load() {
    let config = MockConfig::load(&example("mock-config.toml")).unwrap();
    assert_eq!(config.keys.len(), 2);
    assert_eq!(config.key("small-plan-key").and_then(|k| k.quota), Some(50));
    let scenario = Scenario::load(&example("scenario.toml")).unwrap();
    assert_eq!(scenario.seed, 42);
    assert_eq!(
        scenario.endpoints[0].sequence,
        vec![
            Action::Code(ErrorCode::RATE_LIMIT),
            Action::Code(ErrorCode::RATE_LIMIT),
            Action::Ok
        ]
    );
    let load = MockConfig::load(&example("load-config.toml")).unwrap();
    assert_eq!(load.keys[0].rpm, None);
}

#[test]
fn bad_files_are_explained() {
    let err = Scenario::from_toml("[[endpoint]]\nendpoint = \"nowhere\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown endpoint"), "{err}");
    let err = Scenario::from_toml("[[endpoint]]\nrandom = [{ action = 1002, probability = 0.8 }, { action = 1001, probability = 0.5 }]").unwrap_err().to_string();
    assert!(err.contains("add up to at most 1"), "{err}");
    let err = Scenario::from_toml("[[endpoint]]\nsequence = [\"explode\"]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown action"), "{err}");
    assert!(MockConfig::from_toml("keys = 5").is_err());
    assert!(
        MockConfig::from_toml("[[keys]]\nname = \"nameless\"").is_err(),
        "a key needs its key"
    );
    assert!(MockConfig::from_toml("[[keys]]\nkey = \"a\"\n[[keys]]\nkey = \"a\"").is_err());
    assert!(
        MockConfig::from_toml("[[keys]]\nkey = \"k\"\nrmp = 5").is_err(),
        "misspelt fields are rejected"
    );
}
