//! What can go wrong setting the monitor up and delivering an alert, as types a caller can
//! match on.

use minimax_guard::transport::TransportFailure;
use std::path::PathBuf;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or names something unknown: where, and why (see
    /// [`toml_error_text`]).
    #[error("{0}")]
    Toml(String),
    /// A rule is out of bounds.
    #[error("{0}")]
    Rule(String),
    /// The error log could not be opened.
    #[error("cannot open the error log {path}: {source}")]
    ErrorLog {
        /// The log's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The email sink's addresses or server are wrong.
    #[error("{0}")]
    Email(String),
    /// `/metrics` cannot be served.
    #[error("cannot serve metrics on {addr}: {reason}")]
    Metrics {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Why an alert was not delivered (it is retried).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The receiver could not be reached or did not answer in full.
    #[error("{0}")]
    Transport(#[from] TransportFailure),
    /// The receiver answered with an HTTP error status.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// A chat robot answered HTTP 200 with its own error code.
    #[error("the receiver answered code {code}: {message}")]
    Refused {
        /// The robot's code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// No answer within the send timeout.
    #[error("no answer within {0:.1} s")]
    Timeout(f64),
    /// A local file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Anything else (an SMTP failure, a sink of your own), scrubbed of secrets.
    #[error("{0}")]
    Other(String),
}

impl SendError {
    /// Any other failure, with secrets scrubbed from its text.
    pub fn other(text: impl std::fmt::Display) -> SendError {
        SendError::Other(minimax_errors::scrub::scrub_text(&text.to_string()).into_owned())
    }
}

/// A TOML error on one line, as "line 3, column 9: invalid type: …", without the source line
/// toml quotes (it may hold a key or a password), and with anything shaped like a key scrubbed
/// from the message (serde quotes the value it refused).
pub fn toml_error_text(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().replace('\n', " ");
    let message = minimax_errors::scrub::scrub_text(message.trim());
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before
                .rfind('\n')
                .map_or(before.len(), |n| before.len() - n - 1)
                + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::MonitorConfig;

    #[test]
    fn a_toml_error_names_the_place_not_the_secret_on_it() {
        let text = "lang = \"en\"\nevaluate_every_ms = \"sk-api-0123456789abcdef0123456789\"\n";
        let error = MonitorConfig::from_toml(text).unwrap_err().to_string();
        assert!(error.starts_with("line 2, column 21: "), "{error}");
        assert!(!error.contains("0123456789abcdef"), "{error}");
        assert!(!error.contains('\n'), "{error}");
    }
}
