//! # minimax-mock
//!
//! A local MiniMax look-alike server: real HTTP on real sockets, both error dialects, account
//! limits per key, voices and files, and fault injection from a seeded scenario, so clients and
//! applications can be tested against MiniMax's failures without waiting for real outages.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use minimax_mock::{Action, EndpointFaults, MockConfig, MockServer, Scenario};
//! use minimax_errors::{Endpoint, ErrorCode};
//!
//! // Rate-limited twice, then fine.
//! let scenario = Scenario::new(7).with(
//!     EndpointFaults::on(Some(Endpoint::T2a))
//!         .sequence([Action::Code(ErrorCode::RATE_LIMIT), Action::Code(ErrorCode::RATE_LIMIT), Action::Ok]),
//! );
//! let addr = "127.0.0.1:0".parse().unwrap();
//! let server = MockServer::start(addr, MockConfig::default(), scenario).await.unwrap();
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! assert_eq!(server.stats().requests, 0);
//! server.stop().await.unwrap();
//! # });
//! ```

#![warn(missing_docs)]

mod app;
mod chat;
pub mod config;
mod files;
pub mod limits;
mod plan;
mod reply;
pub mod scenario;
mod server;
pub mod sim;
mod speech;
pub mod stats;

pub use config::{DEMO_KEY, KeyConfig, MockConfig, RpmMode, SensitiveWords};
pub use scenario::{Action, EndpointFaults, Latency, Scenario, Weighted};
pub use server::MockServer;
pub use stats::{EndpointStats, Stats};

/// A silent 16-bit mono 8 kHz WAV file of `secs` seconds: a voice sample to upload in tests and
/// demos (the mock reads its duration like any other audio).
pub fn silent_wav(secs: f64) -> Vec<u8> {
    let frames = (secs * 8000.0).round() as u32;
    let data_len = frames * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    for part in [
        &b"RIFF"[..],
        &(36 + data_len).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
        &8000u32.to_le_bytes(),
        &16000u32.to_le_bytes(),
        &2u16.to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &data_len.to_le_bytes(),
    ] {
        out.extend_from_slice(part);
    }
    out.resize(44 + data_len as usize, 0);
    out
}
