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
    /// The TOML is malformed or names something unknown.
    #[error("{}", .0.to_string().replace('\n', " "))]
    Toml(#[from] toml::de::Error),
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
