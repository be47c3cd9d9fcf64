//! The tokio runtime of the commands that serve or send requests.

use anyhow::Context;

/// A multi-threaded runtime with I/O and time.
pub fn multi_thread() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")
}
