//! The catalog: every known MiniMax code, in one table.
//!
//! Each row gives the code's messages and solutions in Chinese and English, its category, its
//! retry policy, its log level, where it is documented, and any structured requirement. The
//! table is the only place a code's meaning lives; the [`ErrorCode`] constants are generated from
//! it. Chinese wording follows the original table for the original table.s 23 codes; English wording follows
//! MiniMax's official English table. Codes whose meaning depends on the endpoint have extra rows
//! in [`endpoint_meanings`].
//!
//! ```
//! use minimax_errors::{catalog, Category, Endpoint, ErrorCode};
//!
//! assert!(catalog::entries().count() >= 28);
//! let chat = ErrorCode::TOKEN_LIMIT.info_on(Endpoint::Chat);
//! let t2a = ErrorCode::TOKEN_LIMIT.info_on(Endpoint::T2a);
//! assert_eq!(chat.category, Category::InvalidRequest);
//! assert_eq!(t2a.category, Category::Throttling);
//! assert!(t2a.retry.is_some() && chat.retry.is_none());
//! ```

use crate::category::Category;
use crate::code::ErrorCode;
use crate::endpoint::Endpoint;
use crate::lang::{Lang, Text};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a retryable code is retried (the original sketch.s `retry_config`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Growth factor of the delay between retries (the original sketch.s `backoff`).
    pub backoff: f64,
}

/// The level at which an occurrence of the code is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Worth noting, not a problem by itself.
    Info,
    /// Expected now and then (throttling, content flags); a problem only in numbers.
    Warn,
    /// Something is wrong and someone should look.
    Error,
}

impl LogLevel {
    /// The lower-case name (`warn`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a row's facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The original error table this project started from.
    Original,
    /// MiniMax's official documentation (platform.minimax.io / platform.minimaxi.com).
    Official,
    /// Seen in live responses recorded by public client code; not documented.
    Observed,
    /// Not in the catalog at all (an unknown code).
    Unlisted,
}

impl Source {
    /// The lower-case name (`official`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Original => "original",
            Source::Official => "official",
            Source::Observed => "observed",
            Source::Unlisted => "unlisted",
        }
    }
}

/// A measurable requirement the documentation gives for avoiding a code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Requirement {
    /// Audio duration must be within `[min_secs, max_secs]` (2037: 10 s to 5 min).
    DurationBetween {
        /// Shortest allowed duration, in seconds, inclusive.
        min_secs: f64,
        /// Longest allowed duration, in seconds, inclusive.
        max_secs: f64,
    },
    /// Audio duration must be strictly below `max_secs` (2048: under 8 s).
    DurationBelow {
        /// The duration that is already too long, in seconds.
        max_secs: f64,
    },
    /// At most this share of the text may be invisible or illegal characters (1042: 10 %).
    MaxInvisibleRatio {
        /// The share, from 0 to 1, inclusive.
        ratio: f64,
    },
}

impl Requirement {
    /// Whether `value` (a duration in seconds, or a ratio) meets the requirement.
    pub fn admits(&self, value: f64) -> bool {
        match *self {
            Requirement::DurationBetween { min_secs, max_secs } => {
                (min_secs..=max_secs).contains(&value)
            }
            Requirement::DurationBelow { max_secs } => value < max_secs,
            Requirement::MaxInvisibleRatio { ratio } => value <= ratio,
        }
    }

    /// The requirement in words.
    pub fn describe(&self, lang: Lang) -> String {
        match (*self, lang) {
            (Requirement::DurationBetween { min_secs, max_secs }, Lang::Zh) => {
                format!(
                    "音频时长须在 {} 到 {} 之间",
                    secs_zh(min_secs),
                    secs_zh(max_secs)
                )
            }
            (Requirement::DurationBetween { min_secs, max_secs }, Lang::En) => {
                format!(
                    "audio duration between {} and {}",
                    secs_en(min_secs),
                    secs_en(max_secs)
                )
            }
            (Requirement::DurationBelow { max_secs }, Lang::Zh) => {
                format!("音频时长须小于 {}", secs_zh(max_secs))
            }
            (Requirement::DurationBelow { max_secs }, Lang::En) => {
                format!("audio shorter than {}", secs_en(max_secs))
            }
            (Requirement::MaxInvisibleRatio { ratio }, Lang::Zh) => {
                format!("不可见或非法字符不超过文本的 {}%", ratio * 100.0)
            }
            (Requirement::MaxInvisibleRatio { ratio }, Lang::En) => {
                format!("at most {}% invisible or illegal characters", ratio * 100.0)
            }
        }
    }
}

fn secs_zh(secs: f64) -> String {
    if secs >= 60.0 && secs % 60.0 == 0.0 {
        format!("{}分钟", secs / 60.0)
    } else {
        format!("{secs}秒")
    }
}

fn secs_en(secs: f64) -> String {
    if secs >= 60.0 && secs % 60.0 == 0.0 {
        format!("{} min", secs / 60.0)
    } else {
        format!("{secs} s")
    }
}

/// Everything the catalog knows about one code (in one meaning).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CodeInfo {
    /// The code.
    pub code: ErrorCode,
    /// The name of its [`ErrorCode`] constant (`RATE_LIMIT`).
    pub name: &'static str,
    /// The code as text (`"1002"`), for labels that must not allocate; empty for codes
    /// outside the catalog.
    #[serde(skip)]
    pub label: &'static str,
    /// What it means.
    pub message: Text,
    /// What to do about it.
    pub solution: Text,
    /// What kind of failure it is.
    pub category: Category,
    /// How it is retried; `None` means a retry cannot help.
    pub retry: Option<RetryPolicy>,
    /// The level at which it is logged.
    pub log_level: LogLevel,
    /// Where the facts come from.
    pub source: Source,
    /// A measurable requirement for avoiding it.
    pub requirement: Option<Requirement>,
    /// The original sketch.s extra `action` (1008: top up).
    pub action: Option<Text>,
    /// The original sketch.s extra `suggestion` (1026: avoid sensitive words).
    pub suggestion: Option<Text>,
    /// The endpoints this meaning is specific to; empty for the default meaning.
    pub endpoints: &'static [Endpoint],
    /// Whether the code means something else on some endpoints (see [`endpoint_meanings`]).
    pub endpoint_dependent: bool,
}

impl CodeInfo {
    /// Whether a retry can help.
    pub const fn is_retryable(&self) -> bool {
        self.retry.is_some()
    }
}

/// The fields every row shares unless it says otherwise.
const BASE: CodeInfo = CodeInfo {
    code: ErrorCode::SUCCESS,
    name: "",
    label: "",
    message: text("", ""),
    solution: text("", ""),
    category: Category::Unknown,
    retry: None,
    log_level: LogLevel::Error,
    source: Source::Original,
    requirement: None,
    action: None,
    suggestion: None,
    endpoints: &[],
    endpoint_dependent: false,
};

const fn text(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

const fn retry(max_retries: u32, backoff: f64) -> Option<RetryPolicy> {
    Some(RetryPolicy {
        max_retries,
        backoff,
    })
}

/// One table generates the `ErrorCode` constants and the lookup rows, so they cannot drift.
macro_rules! catalog {
    ($(
        $(#[$doc:meta])*
        $num:literal $name:ident { $($field:ident : $value:expr),* $(,)? }
    )+) => {
        impl ErrorCode {
            $( $(#[$doc])* pub const $name: ErrorCode = ErrorCode::new($num); )+
        }

        /// Every known code in its default meaning, sorted by code.
        static ENTRIES: &[CodeInfo] = &[
            $( CodeInfo {
                code: ErrorCode::new($num),
                name: stringify!($name),
                label: stringify!($num),
                $($field: $value,)*
                ..BASE
            }, )+
        ];
    };
}

catalog! {
    /// 1000: unknown or default system error. Original table; official "unknown error". Retry
    /// config from the seed (3 retries, backoff 1.5).
    1000 UNKNOWN_ERROR {
        message: text("未知错误/系统默认错误", "unknown error"),
        solution: text("请稍后再试", "Retry later."),
        category: Category::Transient,
        retry: retry(3, 1.5),
    }
    /// 1001: request timeout. Original table; official "request timeout". Original config (3, 2.0).
    1001 TIMEOUT {
        message: text("请求超时", "request timeout"),
        solution: text("请稍后再试", "Retry later."),
        category: Category::Transient,
        retry: retry(3, 2.0),
        log_level: LogLevel::Warn,
    }
    /// 1002: requests per minute (RPM) limit. Original table; official "rate limit". Original config (5, 2.0).
    1002 RATE_LIMIT {
        message: text("请求频率超限", "rate limit"),
        solution: text("请稍后再试", "Retry later, at a lower request rate."),
        category: Category::Throttling,
        retry: retry(5, 2.0),
        log_level: LogLevel::Warn,
    }
    /// 1004: not authorized, token does not match the group, or cookie missing. Original table; official.
    1004 UNAUTHORIZED {
        message: text("未授权/Token不匹配/Cookie缺失", "not authorized / token not match group / cookie is missing"),
        solution: text("请检查API Key", "Check the API key (and that it belongs to this group and region)."),
        category: Category::Auth,
    }
    /// 1008: insufficient balance. Original table (with the `action` extra); official.
    1008 INSUFFICIENT_BALANCE {
        message: text("余额不足", "insufficient balance"),
        solution: text("请检查您的账户余额", "Check your account balance."),
        category: Category::Billing,
        action: Some(text("请充值账户余额", "Top up the account balance.")),
    }
    /// 1013: internal service error. Official (chat, voice clone and file pages).
    1013 INTERNAL_SERVICE_ERROR {
        message: text("服务内部错误", "internal service error"),
        solution: text("请稍后再试", "Retry later."),
        category: Category::Transient,
        retry: retry(3, 2.0),
        source: Source::Official,
    }
    /// 1024: internal error. Original table ("retry later"; the seed's mapper lacks it); official.
    1024 INTERNAL_ERROR {
        message: text("内部错误", "internal error"),
        solution: text("请稍后再试", "Retry later."),
        category: Category::Transient,
        retry: retry(3, 2.0),
    }
    /// 1026: input flagged as sensitive. Original table (with the `suggestion` extra); official.
    1026 INPUT_SENSITIVE {
        message: text("输入内容涉敏", "input sensitive"),
        solution: text("请调整输入内容", "Change the input."),
        category: Category::Content,
        log_level: LogLevel::Warn,
        suggestion: Some(text("尝试调整输入内容，避免敏感词汇", "Rephrase the input to avoid sensitive words.")),
    }
    /// 1027: output flagged as sensitive. Original table; official. On video query: the generated
    /// video was flagged (see [`endpoint_meanings`]).
    1027 OUTPUT_SENSITIVE {
        message: text("输出内容涉敏", "output sensitive"),
        solution: text("请调整输入内容", "Change the input so the output is not flagged."),
        category: Category::Content,
        log_level: LogLevel::Warn,
        endpoint_dependent: true,
    }
    /// 1033: system error or downstream service error. Original table ("retry later"); official.
    1033 SYSTEM_ERROR {
        message: text("系统错误/下游服务错误", "system error / downstream service failure"),
        solution: text("请稍后再试", "Retry later."),
        category: Category::Transient,
        retry: retry(3, 2.0),
    }
    /// 1039: token limit. Original table; official. On chat a request error (fix `max_tokens`); on
    /// T2A and file retrieval the TPM throttle (see [`endpoint_meanings`]), which takes the seed's
    /// retry config (2, 1.0).
    1039 TOKEN_LIMIT {
        message: text("Token限制", "token limit"),
        solution: text("请调整max_tokens", "Lower max_tokens / max_completion_tokens or shorten the input."),
        category: Category::InvalidRequest,
        log_level: LogLevel::Warn,
        endpoint_dependent: true,
    }
    /// 1041: connection limit. Original table ("contact us"); official says to contact support if it
    /// persists, so a short paced retry is worth it.
    1041 CONNECTION_LIMIT {
        message: text("连接数限制", "connection limit"),
        solution: text("请联系我们", "Reduce concurrent connections; contact MiniMax support if it persists."),
        category: Category::Throttling,
        retry: retry(2, 2.0),
        log_level: LogLevel::Warn,
    }
    /// 1042: invisible or illegal characters above 10 % of the text. Original table; official.
    1042 INVISIBLE_CHARACTERS {
        message: text("不可见字符比例超限/非法字符超过10%", "invisible character ratio limit"),
        solution: text("请检查输入内容，是否包含不可见字符或非法字符", "Remove invisible or illegal characters from the text."),
        category: Category::InvalidRequest,
        requirement: Some(Requirement::MaxInvisibleRatio { ratio: 0.10 }),
    }
    /// 1043: ASR similarity check failed (voice clone `text_validation`). Original table; official.
    1043 ASR_SIMILARITY_FAILED {
        message: text("ASR相似度检查失败", "ASR similarity check failed"),
        solution: text("请检查file_id与text_validation匹配度", "Make text_validation match what is spoken in the file_id audio."),
        category: Category::InvalidRequest,
    }
    /// 1044: clone prompt similarity check failed. Original table; official.
    1044 CLONE_PROMPT_SIMILARITY_FAILED {
        message: text("克隆提示词相似度检查失败", "clone prompt similarity check failed"),
        solution: text("请检查克隆提示音频和提示词", "Make prompt_text match what is spoken in prompt_audio."),
        category: Category::InvalidRequest,
    }
    /// 2013: invalid parameters. Original table; official.
    2013 INVALID_PARAMS {
        message: text("参数错误", "invalid params"),
        solution: text("请检查请求参数", "Check the request parameters."),
        category: Category::InvalidRequest,
    }
    /// 2037: voice duration too short or too long (10 s to 5 min). Original table (with the
    /// `requirements` extra); official.
    2037 VOICE_DURATION {
        message: text("语音时长不符合要求(太长或太短)", "voice duration too short / too long"),
        solution: text("请检查voice_clone file_id文件时长，最少应不低于10秒，最长应不超过5分钟", "Use source audio between 10 seconds and 5 minutes long."),
        category: Category::InvalidRequest,
        requirement: Some(Requirement::DurationBetween { min_secs: 10.0, max_secs: 300.0 }),
    }
    /// 2038: voice cloning disabled for this user (identity verification missing). Original table; official.
    2038 VOICE_CLONE_DISABLED {
        message: text("用户语音克隆功能被禁用", "voice cloning disabled for this user"),
        solution: text("使用语音克隆功能需要完成账户身份认证，请根据您的使用需求在账户系管理》账户信息中进行个人或企业认证", "Complete identity verification (personal or business) under Account Management > Account Info."),
        category: Category::Permission,
    }
    /// 2039: duplicate voice_id. Original table; official.
    2039 DUPLICATE_VOICE_ID {
        message: text("语音克隆voice_id重复", "duplicate voice_id"),
        solution: text("请修改voice_id，确保未和已有voice_id重复", "Choose a voice_id that is not already in use."),
        category: Category::Conflict,
    }
    /// 2042: no access to this voice_id. Original table; official.
    2042 VOICE_ACCESS_DENIED {
        message: text("无权访问该voice_id", "no access to this voice_id"),
        solution: text("请确认是否为该voice_id创建者", "Use a voice_id created by this account."),
        category: Category::Permission,
    }
    /// 2045: the request rate grew too fast. Original table ("avoid sudden surges"); official.
    /// Waiting and ramping smoothly clears it, so it is retried, paced.
    2045 RATE_GROWTH_LIMIT {
        message: text("请求频率增长超限", "rate growth limit"),
        solution: text("请避免请求骤增骤减情况", "Avoid sudden rises and drops in request rate; ramp up smoothly."),
        category: Category::Throttling,
        retry: retry(3, 2.0),
        log_level: LogLevel::Warn,
    }
    /// 2048: prompt audio too long (must be under 8 s). Original table; official.
    2048 PROMPT_AUDIO_TOO_LONG {
        message: text("语音克隆提示音频太长", "prompt audio too long"),
        solution: text("请调整prompt_audio音频文件时长（＜8s）", "Use prompt_audio shorter than 8 seconds."),
        category: Category::InvalidRequest,
        requirement: Some(Requirement::DurationBelow { max_secs: 8.0 }),
    }
    /// 2049: invalid API key. Original table; official.
    2049 INVALID_API_KEY {
        message: text("无效的API Key", "invalid API key"),
        solution: text("请检查API Key", "Check the API key (and that it belongs to this region's host)."),
        category: Category::Auth,
    }
    /// 2054: the voice id does not exist. Observed (HTTP 200; also mid-stream on T2A).
    2054 VOICE_NOT_FOUND {
        message: text("voice_id不存在", "voice id does not exist"),
        solution: text("请检查voice_id是否正确，或先完成语音克隆", "Check the voice_id, or clone the voice first."),
        category: Category::NotFound,
        source: Source::Observed,
    }
    /// 2056: usage limit of the plan exceeded for the current window. Official (English table).
    /// A quick retry is useless: the window is 5 hours.
    2056 USAGE_LIMIT_EXCEEDED {
        message: text("用量超出套餐限制", "usage limit exceeded"),
        solution: text("请等待下一个5小时用量窗口，或升级套餐", "Wait for the next 5-hour usage window, or upgrade the plan."),
        category: Category::Quota,
        log_level: LogLevel::Warn,
        source: Source::Official,
    }
    /// 2061: the current plan does not support this model. Observed (HTTP 200).
    2061 MODEL_NOT_IN_PLAN {
        message: text("当前套餐不支持该模型", "current plan does not support this model"),
        solution: text("请更换模型或升级套餐", "Use a model the plan includes, or upgrade the plan."),
        category: Category::Permission,
        source: Source::Observed,
    }
    /// 2064: server cluster under high load. Observed (HTTP 529 `overloaded_error` on
    /// compatible endpoints).
    2064 SERVER_OVERLOADED {
        message: text("服务集群负载过高", "server cluster under high load"),
        solution: text("请稍后再试", "Retry shortly."),
        category: Category::Transient,
        retry: retry(3, 2.0),
        log_level: LogLevel::Warn,
        source: Source::Observed,
    }
    /// 20132: invalid voice clone samples or voice_id. Original table; official.
    20132 INVALID_VOICE_SAMPLE {
        message: text("语音克隆样本或voice_id参数错误", "invalid samples or voice_id"),
        solution: text("请检查Voice Cloning 接口下的 file_id 和 T2A v2，T2A Large v2 接口下的 voice_id 参数", "Check file_id on Voice Cloning and voice_id on T2A v2 / T2A Large v2."),
        category: Category::InvalidRequest,
    }
}

/// Meanings that only hold on some endpoints; they take precedence over the default row there.
static ENDPOINT_MEANINGS: &[CodeInfo] = &[
    // 1039 on T2A and file retrieval: official docs call it the TPM rate limit. The seed's retry
    // config for 1039 (2 retries, backoff 1.0) applies here, where a retry can help.
    CodeInfo {
        code: ErrorCode::TOKEN_LIMIT,
        name: "TOKEN_LIMIT",
        message: text(
            "每分钟Token数(TPM)超限",
            "tokens per minute (TPM) rate limit",
        ),
        solution: text(
            "请降低每分钟发送的字符数，稍后再试",
            "Send fewer characters per minute; retry after a pause.",
        ),
        category: Category::Throttling,
        retry: retry(2, 1.0),
        log_level: LogLevel::Warn,
        source: Source::Official,
        endpoints: &[Endpoint::T2a, Endpoint::T2aAsync, Endpoint::FileRetrieve],
        endpoint_dependent: true,
        ..BASE
    },
    // 1027 on video query: official, the generated video was flagged.
    CodeInfo {
        code: ErrorCode::OUTPUT_SENSITIVE,
        name: "OUTPUT_SENSITIVE",
        message: text("生成的视频涉敏", "generated video flagged as sensitive"),
        solution: text(
            "请调整提示词后重新生成",
            "Change the prompt and generate again.",
        ),
        category: Category::Content,
        log_level: LogLevel::Warn,
        source: Source::Official,
        endpoints: &[Endpoint::VideoQuery],
        endpoint_dependent: true,
        ..BASE
    },
];

/// The answer for codes the catalog does not know, as the seed gives it.
const UNKNOWN: CodeInfo = CodeInfo {
    name: "UNKNOWN_CODE",
    message: text("未知错误码", "unknown error code"),
    solution: text(
        "请联系技术支持",
        "Contact MiniMax support with the trace id.",
    ),
    category: Category::Unknown,
    source: Source::Unlisted,
    ..BASE
};

/// Every known code in its default meaning, sorted by code.
pub fn entries() -> impl Iterator<Item = CodeInfo> {
    ENTRIES.iter().copied()
}

/// The endpoint-specific meanings, for codes whose meaning depends on the endpoint.
pub fn endpoint_meanings() -> impl Iterator<Item = CodeInfo> {
    ENDPOINT_MEANINGS.iter().copied()
}

/// The default meaning of `code`, if the catalog knows it.
pub fn lookup(code: ErrorCode) -> Option<CodeInfo> {
    ENTRIES
        .binary_search_by_key(&code, |info| info.code)
        .ok()
        .map(|index| ENTRIES[index])
}

/// The meaning of `code` specific to `endpoint`, if it has one.
pub fn lookup_on(code: ErrorCode, endpoint: Endpoint) -> Option<CodeInfo> {
    ENDPOINT_MEANINGS
        .iter()
        .find(|info| info.code == code && info.endpoints.contains(&endpoint))
        .copied()
}

/// The catalog's answer for a code it does not know.
pub(crate) fn unknown(code: ErrorCode) -> CodeInfo {
    CodeInfo { code, ..UNKNOWN }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_CODES: [i64; 23] = [
        1000, 1001, 1002, 1004, 1008, 1024, 1026, 1027, 1033, 1039, 1041, 1042, 1043, 1044, 2013,
        20132, 2037, 2038, 2039, 2042, 2045, 2048, 2049,
    ];

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(
            ENTRIES.windows(2).all(|w| w[0].code < w[1].code),
            "ENTRIES must be sorted by code"
        );
        for code in SEED_CODES {
            let info = lookup(ErrorCode::new(code)).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(info.source, Source::Original, "{code}");
        }
        for code in [1013, 2056] {
            assert_eq!(
                lookup(ErrorCode::new(code)).map(|i| i.source),
                Some(Source::Official)
            );
        }
        for code in [2054, 2061, 2064] {
            assert_eq!(
                lookup(ErrorCode::new(code)).map(|i| i.source),
                Some(Source::Observed)
            );
        }
        assert_eq!(ENTRIES.len(), 28);
    }

    #[test]
    fn every_row_is_filled_in_both_languages() {
        for info in entries().chain(endpoint_meanings()) {
            for t in [info.message, info.solution] {
                assert!(!t.zh.is_empty() && !t.en.is_empty(), "{:?}", info.code);
            }
            assert_ne!(info.category, Category::Unknown, "{:?}", info.code);
            assert_eq!(ErrorCode::from_name(info.name), Some(info.code));
        }
    }

    #[test]
    fn seed_retry_configuration_is_kept() {
        let cfg = |code: ErrorCode| code.info().retry.map(|r| (r.max_retries, r.backoff));
        assert_eq!(cfg(ErrorCode::UNKNOWN_ERROR), Some((3, 1.5)));
        assert_eq!(cfg(ErrorCode::TIMEOUT), Some((3, 2.0)));
        assert_eq!(cfg(ErrorCode::RATE_LIMIT), Some((5, 2.0)));
        let t2a = ErrorCode::TOKEN_LIMIT.info_on(Endpoint::T2a).retry;
        assert_eq!(t2a.map(|r| (r.max_retries, r.backoff)), Some((2, 1.0)));
    }

    #[test]
    fn retry_follows_category() {
        // Only transient faults and throttles are retried; everything else can never succeed as is.
        for info in entries().chain(endpoint_meanings()) {
            let expect = matches!(info.category, Category::Transient | Category::Throttling);
            assert_eq!(info.is_retryable(), expect, "{:?}", info.code);
        }
    }

    #[test]
    fn endpoint_meanings_override_only_their_endpoints() {
        assert_eq!(
            ErrorCode::TOKEN_LIMIT
                .info_on(Endpoint::FileRetrieve)
                .category,
            Category::Throttling
        );
        assert_eq!(
            ErrorCode::TOKEN_LIMIT
                .info_on(Endpoint::ChatCompatible)
                .category,
            Category::InvalidRequest
        );
        assert_eq!(
            ErrorCode::TOKEN_LIMIT.info_on(Endpoint::Other).category,
            Category::InvalidRequest
        );
        let video = ErrorCode::OUTPUT_SENSITIVE.info_on(Endpoint::VideoQuery);
        assert!(video.message.en.contains("video"));
        for info in endpoint_meanings() {
            assert!(lookup(info.code).is_some_and(|d| d.endpoint_dependent));
        }
    }

    #[test]
    fn requirements_are_structured() {
        assert_eq!(
            ErrorCode::VOICE_DURATION.info().requirement,
            Some(Requirement::DurationBetween {
                min_secs: 10.0,
                max_secs: 300.0
            })
        );
        let req = ErrorCode::PROMPT_AUDIO_TOO_LONG
            .info()
            .requirement
            .map(|r| r.describe(Lang::En));
        assert_eq!(req.as_deref(), Some("audio shorter than 8 s"));
        let req = ErrorCode::VOICE_DURATION
            .info()
            .requirement
            .map(|r| r.describe(Lang::Zh));
        assert_eq!(req.as_deref(), Some("音频时长须在 10秒 到 5分钟 之间"));
        let req = ErrorCode::INVISIBLE_CHARACTERS
            .info()
            .requirement
            .map(|r| r.describe(Lang::En));
        assert_eq!(
            req.as_deref(),
            Some("at most 10% invisible or illegal characters")
        );
    }
}
