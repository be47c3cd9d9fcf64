//! Reading what the user gives: a file, or standard input for `-` or nothing.

use anyhow::{Context, bail};
use std::io::Read;
use std::path::Path;

/// Reads the whole input, refusing anything over `max` bytes rather than filling memory.
pub fn read_all(path: Option<&Path>, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut input = Vec::new();
    let read = match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            file.take(max + 1).read_to_end(&mut input)
        }
        None => std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut input),
    };
    read.with_context(|| match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => format!("cannot read {}", path.display()),
        None => format!("cannot read the {what} from standard input"),
    })?;
    if input.len() as u64 > max {
        bail!(
            "the {what} is larger than {} MiB; refusing to read it whole",
            max >> 20
        );
    }
    Ok(input)
}
