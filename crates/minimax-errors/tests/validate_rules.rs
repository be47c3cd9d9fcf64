//! Every validation rule at its boundary: the last passing value and the first failing one.

use minimax_errors::ErrorCode;
use minimax_errors::validate::{Api, Severity, Validation, validate_json};
use serde_json::{Value, json};

fn check(api: Api, body: Value) -> Validation {
    validate_json(api, body.to_string().as_bytes()).expect("valid JSON")
}

/// The (field, code) of every error.
fn errors(v: &Validation) -> Vec<(String, i64)> {
    v.errors()
        .map(|e| (e.field.clone(), e.code.as_i64()))
        .collect()
}

fn one_error(api: Api, body: Value, field: &str, code: ErrorCode) {
    let v = check(api, body.clone());
    assert_eq!(
        errors(&v),
        vec![(field.to_string(), code.as_i64())],
        "{body}"
    );
}

fn passes(api: Api, body: Value) {
    let v = check(api, body.clone());
    assert!(v.is_valid(), "{body}: {:?}", v.violations);
}

/// Sets `path` (dot separated) in `base` to `value`.
fn with(mut base: Value, path: &str, value: Value) -> Value {
    let mut slot = &mut base;
    for key in path.split('.') {
        slot = slot
            .as_object_mut()
            .unwrap()
            .entry(key)
            .or_insert(json!({}));
    }
    *slot = value;
    base
}

mod chat {
    use super::*;

    fn base() -> Value {
        json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "hi"}]})
    }

    #[test]
    fn valid_request() {
        passes(Api::Chat, base());
        passes(
            Api::Chat,
            with(
                with(base(), "temperature", json!(1.0)),
                "top_p",
                json!(0.01),
            ),
        );
    }

    #[test]
    fn token_limits() {
        passes(Api::Chat, with(base(), "max_tokens", json!(1)));
        one_error(
            Api::Chat,
            with(base(), "max_tokens", json!(0)),
            "max_tokens",
            ErrorCode::INVALID_PARAMS,
        );
        passes(
            Api::Chat,
            with(base(), "max_completion_tokens", json!(204_800)),
        );
        one_error(
            Api::Chat,
            with(base(), "max_completion_tokens", json!(204_801)),
            "max_completion_tokens",
            ErrorCode::TOKEN_LIMIT,
        );
        one_error(
            Api::Chat,
            with(base(), "max_tokens", json!(10.5)),
            "max_tokens",
            ErrorCode::INVALID_PARAMS,
        );
    }

    #[test]
    fn sampling_ranges() {
        for field in ["temperature", "top_p"] {
            passes(Api::Chat, with(base(), field, json!(1)));
            passes(Api::Chat, with(base(), field, json!(0.0001)));
            one_error(
                Api::Chat,
                with(base(), field, json!(0)),
                field,
                ErrorCode::INVALID_PARAMS,
            );
            one_error(
                Api::Chat,
                with(base(), field, json!(1.0001)),
                field,
                ErrorCode::INVALID_PARAMS,
            );
        }
        passes(Api::Chat, with(base(), "n", json!(1)));
        one_error(
            Api::Chat,
            with(base(), "n", json!(2)),
            "n",
            ErrorCode::INVALID_PARAMS,
        );
    }

    #[test]
    fn messages_and_roles() {
        one_error(
            Api::Chat,
            with(base(), "messages", json!([])),
            "messages",
            ErrorCode::INVALID_PARAMS,
        );
        let body = with(
            base(),
            "messages",
            json!([{"role":"system","content":"s"},{"role":"robot","content":"x"},{"content":"y"}]),
        );
        let v = check(Api::Chat, body);
        assert_eq!(
            errors(&v),
            vec![
                ("messages[1].role".to_string(), 2013),
                ("messages[2].role".to_string(), 2013)
            ]
        );
    }

    #[test]
    fn unknown_model_is_a_warning_only() {
        let v = check(Api::Chat, with(base(), "model", json!("my-finetune")));
        assert!(v.is_valid());
        assert_eq!(v.violations.len(), 1);
        assert_eq!(v.violations[0].severity, Severity::Warning);
        // Without a known limit, a huge max_tokens is not flagged.
        assert!(
            check(
                Api::Chat,
                with(
                    with(base(), "model", json!("x")),
                    "max_tokens",
                    json!(9_999_999)
                )
            )
            .is_valid()
        );
        one_error(
            Api::Chat,
            with(base(), "model", json!("")),
            "model",
            ErrorCode::INVALID_PARAMS,
        );
    }

    #[test]
    fn every_violation_is_reported() {
        let body = json!({"model":"MiniMax-M1","messages":[],"temperature":2,"top_p":0,"n":3,"max_tokens":0});
        let fields: Vec<String> = errors(&check(Api::Chat, body))
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            ["messages", "max_tokens", "temperature", "top_p", "n"]
        );
    }

    #[test]
    fn wrong_types_and_non_json() {
        let v = check(Api::Chat, with(base(), "temperature", json!("hot")));
        assert_eq!(errors(&v), vec![("temperature".to_string(), 2013)]);
        assert_eq!(v.violations[0].rule, "type");
        let v = check(Api::Chat, json!([1, 2]));
        assert_eq!(errors(&v), vec![("(body)".to_string(), 2013)]);
        assert!(validate_json(Api::Chat, b"{not json").is_err());
    }
}

mod t2a {
    use super::*;

    fn base() -> Value {
        json!({"model":"speech-2.8-hd","text":"你好，世界","voice_setting":{"voice_id":"male-qn-qingse","speed":1,"vol":1,"pitch":0},
               "audio_setting":{"sample_rate":32000,"bitrate":128000,"format":"mp3","channel":1}})
    }

    #[test]
    fn valid_request() {
        passes(Api::T2a, base());
        passes(
            Api::T2a,
            with(
                base(),
                "text",
                json!("pause here <#0.5#> and <#99.99#> then <#0.01#>"),
            ),
        );
    }

    #[test]
    fn text_length() {
        passes(Api::T2a, with(base(), "text", json!("字".repeat(9_999))));
        one_error(
            Api::T2a,
            with(base(), "text", json!("字".repeat(10_000))),
            "text",
            ErrorCode::INVALID_PARAMS,
        );
        passes(
            Api::T2aAsync,
            with(base(), "text", json!("a".repeat(50_000))),
        );
        one_error(
            Api::T2aAsync,
            with(base(), "text", json!("a".repeat(50_001))),
            "text",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::T2a,
            with(base(), "text", json!("")),
            "text",
            ErrorCode::INVALID_PARAMS,
        );
    }

    #[test]
    fn invisible_ratio_boundary() {
        // 10 % exactly passes; 10.01 % fails with 1042.
        let ten = format!("{}{}", "a".repeat(9_000), "\u{200B}".repeat(1_000));
        passes(Api::T2aAsync, with(base(), "text", json!(ten)));
        let over = format!("{}{}", "a".repeat(8_999), "\u{200B}".repeat(1_001));
        let v = check(Api::T2aAsync, with(base(), "text", json!(over)));
        assert_eq!(errors(&v), vec![("text".to_string(), 1042)]);
        assert_eq!(v.violations[0].value["invisible"], 1_001);
        assert!(
            v.violations[0].message_en.contains("10.01%"),
            "{}",
            v.violations[0].message_en
        );
    }

    #[test]
    fn pause_markers() {
        for bad in ["<#0#>", "<#100#>", "<#0.001#>", "<#abc#>", "<##>"] {
            one_error(
                Api::T2a,
                with(base(), "text", json!(format!("a {bad} b"))),
                "text(pause 1)",
                ErrorCode::INVALID_PARAMS,
            );
        }
    }

    #[test]
    fn voice_setting_ranges() {
        for (field, good, bad) in [
            ("voice_setting.speed", [0.5, 2.0], [0.49, 2.01]),
            ("voice_setting.vol", [0.01, 10.0], [0.0, 10.01]),
            ("voice_setting.pitch", [-12.0, 12.0], [-13.0, 13.0]),
        ] {
            for v in good {
                passes(Api::T2a, with(base(), field, json!(v)));
            }
            for v in bad {
                one_error(
                    Api::T2a,
                    with(base(), field, json!(v)),
                    field,
                    ErrorCode::INVALID_PARAMS,
                );
            }
        }
        one_error(
            Api::T2a,
            with(base(), "voice_setting.pitch", json!(1.5)),
            "voice_setting.pitch",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::T2a,
            with(base(), "voice_setting.voice_id", json!("")),
            "voice_setting.voice_id",
            ErrorCode::INVALID_PARAMS,
        );
        let mut weights = base();
        weights.as_object_mut().unwrap().remove("voice_setting");
        weights["timber_weights"] = json!([{"voice_id":"a","weight":1}]);
        passes(Api::T2a, weights);
    }

    #[test]
    fn audio_setting_enumerations() {
        for (field, good, bad) in [
            ("audio_setting.sample_rate", json!(44100), json!(48000)),
            ("audio_setting.bitrate", json!(32000), json!(96000)),
            ("audio_setting.format", json!("opus"), json!("ogg")),
            ("audio_setting.channel", json!(2), json!(3)),
        ] {
            passes(Api::T2a, with(base(), field, good));
            one_error(
                Api::T2a,
                with(base(), field, bad),
                field,
                ErrorCode::INVALID_PARAMS,
            );
        }
        one_error(
            Api::T2a,
            with(base(), "model", json!("speech-03")),
            "model",
            ErrorCode::INVALID_PARAMS,
        );
    }
}

mod voice_clone {
    use super::*;

    fn base() -> Value {
        json!({"file_id": 123456789, "voice_id": "MyVoice01"})
    }

    #[test]
    fn voice_id_rules() {
        for good in [
            "Abcdefgh",
            &format!("A{}", "b".repeat(255)),
            "a-b_c-d9",
            "Z1234567",
        ] {
            passes(Api::VoiceClone, with(base(), "voice_id", json!(good)));
        }
        for bad in [
            "Abcdefg",
            &format!("A{}", "b".repeat(256)),
            "1bcdefgh",
            "Abcdefg-",
            "Abcdefg_",
            "Abc defg",
            "Abcdéfgh",
        ] {
            one_error(
                Api::VoiceClone,
                with(base(), "voice_id", json!(bad)),
                "voice_id",
                ErrorCode::INVALID_PARAMS,
            );
        }
    }

    #[test]
    fn preview_text_needs_model_and_length() {
        passes(
            Api::VoiceClone,
            with(
                with(base(), "text", json!("t".repeat(1000))),
                "model",
                json!("speech-02-hd"),
            ),
        );
        one_error(
            Api::VoiceClone,
            with(
                with(base(), "text", json!("t".repeat(1001))),
                "model",
                json!("speech-02-hd"),
            ),
            "text",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::VoiceClone,
            with(base(), "text", json!("hello")),
            "model",
            ErrorCode::INVALID_PARAMS,
        );
    }

    #[test]
    fn text_validation_accuracy_and_prompt() {
        passes(
            Api::VoiceClone,
            with(base(), "text_validation", json!("v".repeat(200))),
        );
        one_error(
            Api::VoiceClone,
            with(base(), "text_validation", json!("v".repeat(201))),
            "text_validation",
            ErrorCode::INVALID_PARAMS,
        );
        passes(Api::VoiceClone, with(base(), "accuracy", json!(0)));
        passes(Api::VoiceClone, with(base(), "accuracy", json!(1)));
        one_error(
            Api::VoiceClone,
            with(base(), "accuracy", json!(1.01)),
            "accuracy",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::VoiceClone,
            with(base(), "accuracy", json!(-0.01)),
            "accuracy",
            ErrorCode::INVALID_PARAMS,
        );
        passes(
            Api::VoiceClone,
            with(
                base(),
                "clone_prompt",
                json!({"prompt_audio": 5, "prompt_text": "hi"}),
            ),
        );
        one_error(
            Api::VoiceClone,
            with(base(), "clone_prompt", json!({"prompt_audio": 5})),
            "clone_prompt.prompt_text",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::VoiceClone,
            with(base(), "clone_prompt", json!({"prompt_text": "hi"})),
            "clone_prompt.prompt_audio",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::VoiceClone,
            json!({"voice_id": "MyVoice01"}),
            "file_id",
            ErrorCode::INVALID_PARAMS,
        );
    }
}

mod media {
    use super::*;

    #[test]
    fn video_prompt() {
        passes(
            Api::Video,
            json!({"model":"MiniMax-Hailuo-02","prompt":"p".repeat(2000)}),
        );
        one_error(
            Api::Video,
            json!({"model":"MiniMax-Hailuo-02","prompt":"p".repeat(2001)}),
            "prompt",
            ErrorCode::INVALID_PARAMS,
        );
    }

    #[test]
    fn image_prompt_n_and_dimensions() {
        let base = json!({"model":"image-01","prompt":"a cat","n":1,"width":1024,"height":768});
        passes(Api::Image, base.clone());
        passes(
            Api::Image,
            with(base.clone(), "prompt", json!("p".repeat(1500))),
        );
        one_error(
            Api::Image,
            with(base.clone(), "prompt", json!("p".repeat(1501))),
            "prompt",
            ErrorCode::INVALID_PARAMS,
        );
        passes(Api::Image, with(base.clone(), "n", json!(9)));
        one_error(
            Api::Image,
            with(base.clone(), "n", json!(10)),
            "n",
            ErrorCode::INVALID_PARAMS,
        );
        one_error(
            Api::Image,
            with(base.clone(), "n", json!(0)),
            "n",
            ErrorCode::INVALID_PARAMS,
        );
        for (field, good, bad) in [("width", 512, 504), ("height", 2048, 2056)] {
            passes(Api::Image, with(base.clone(), field, json!(good)));
            one_error(
                Api::Image,
                with(base.clone(), field, json!(bad)),
                field,
                ErrorCode::INVALID_PARAMS,
            );
        }
        one_error(
            Api::Image,
            with(base, "width", json!(1020)),
            "width",
            ErrorCode::INVALID_PARAMS,
        );
    }
}
