//! How output looks: styles (colour only on a terminal; `anstream` drops it when piped or when
//! `NO_COLOR` is set) and the labels in both languages.

use anstyle::{AnsiColor, Style};
use minimax_errors::{Category, Lang};

/// Bold, for codes and headings.
pub const BOLD: Style = Style::new().bold();
/// Dimmed, for labels.
pub const DIM: Style = Style::new().dimmed();
/// Green: success, retried.
pub const GOOD: Style = AnsiColor::Green.on_default();
/// Yellow: retried but worth watching.
pub const WARN: Style = AnsiColor::Yellow.on_default();
/// Red: fails for good.
pub const BAD: Style = AnsiColor::Red.on_default().bold();

/// The colour a category is shown in.
pub fn category_style(category: Category) -> Style {
    match category {
        Category::Transient | Category::Throttling => WARN,
        Category::Unknown => DIM,
        _ => BAD,
    }
}

/// The labels of human-readable output.
pub struct Labels {
    pub code: &'static str,
    pub name: &'static str,
    pub meaning: &'static str,
    pub solution: &'static str,
    pub category: &'static str,
    pub retry: &'static str,
    pub log_level: &'static str,
    pub source: &'static str,
    pub action: &'static str,
    pub suggestion: &'static str,
    pub requirement: &'static str,
    pub context: &'static str,
    pub trace_id: &'static str,
    pub server_message: &'static str,
    pub resets: &'static str,
    pub http: &'static str,
    pub stream: &'static str,
    pub elsewhere: &'static str,
    pub details: &'static str,
    pub yes_retries: &'static str,
    pub no_retry: &'static str,
    pub unknown_code: &'static str,
    pub unknown_hint: &'static str,
    pub success: &'static str,
    pub retryable: &'static str,
    pub not_retryable: &'static str,
    pub unreadable: &'static str,
    pub success_code: &'static str,
}

/// The labels in `lang`.
pub fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

static EN: Labels = Labels {
    code: "code",
    name: "name",
    meaning: "meaning",
    solution: "what to do",
    category: "category",
    retry: "retry",
    log_level: "log level",
    source: "source",
    action: "action",
    suggestion: "suggestion",
    requirement: "requirement",
    context: "context",
    trace_id: "trace id",
    server_message: "server said",
    resets: "window",
    http: "HTTP status",
    stream: "stream",
    elsewhere: "on other endpoints",
    details: "details",
    yes_retries: "yes: up to {n} retries, delay growing ×{b}",
    no_retry: "no: retrying cannot help",
    unknown_code: "not in the catalog",
    unknown_hint: "is not a known MiniMax code; contact MiniMax support with the trace id (`mmerr list` shows every known code)",
    success: "success",
    retryable: "worth a retry",
    not_retryable: "not worth a retry",
    unreadable: "unreadable response",
    success_code: "0 means success: the call went through; there is nothing to do",
};

static ZH: Labels = Labels {
    code: "错误码",
    name: "名称",
    meaning: "含义",
    solution: "解决方法",
    category: "分类",
    retry: "重试",
    log_level: "日志级别",
    source: "来源",
    action: "操作",
    suggestion: "建议",
    requirement: "要求",
    context: "上下文",
    trace_id: "Trace-Id",
    server_message: "服务端消息",
    resets: "额度窗口",
    http: "HTTP 状态码",
    stream: "流式响应",
    elsewhere: "其他接口",
    details: "详细信息",
    yes_retries: "是：最多重试 {n} 次，间隔按 ×{b} 增长",
    no_retry: "否：重试无法解决",
    unknown_code: "不在错误码表中",
    unknown_hint: "不是已知的 MiniMax 错误码，请携带 Trace-Id 联系技术支持（`mmerr list` 列出所有已知错误码）",
    success: "成功",
    retryable: "可以重试",
    not_retryable: "不应重试",
    unreadable: "无法解析的响应",
    success_code: "0 表示成功：调用已完成，无需处理",
};

/// "cannot read PATH" in `lang`.
pub fn cannot_read(lang: Lang, what: &str) -> String {
    match lang {
        Lang::Zh => format!("无法读取 {what}"),
        Lang::En => format!("cannot read {what}"),
    }
}

/// "cannot write PATH" in `lang`.
pub fn cannot_write(lang: Lang, what: &str) -> String {
    match lang {
        Lang::Zh => format!("无法写入 {what}"),
        Lang::En => format!("cannot write {what}"),
    }
}

/// Logs of a serving command (`mock`, `proxy`) on standard error, at `MMERR_LOG`'s level (info by
/// default), in colour only on a terminal.
pub fn log_to_stderr() {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_ansi(colour)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MMERR_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
