//! Reading what the user gives: a file, or standard input for `-` or nothing.

use crate::style::cannot_read;
use anyhow::{Context, bail};
use minimax_errors::Lang;
use std::io::Read;
use std::path::Path;

/// What is read: the response (`check`) or the request (`validate`).
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// A MiniMax answer.
    Response,
    /// A request body.
    Request,
}

/// Reads the whole input, refusing anything over `max` bytes rather than filling memory.
pub fn read_all(path: Option<&Path>, max: u64, what: Input, lang: Lang) -> anyhow::Result<Vec<u8>> {
    let stdin = match (what, lang) {
        (Input::Response, Lang::En) => "the response from standard input",
        (Input::Request, Lang::En) => "the request from standard input",
        (Input::Response, Lang::Zh) => "标准输入中的响应",
        (Input::Request, Lang::Zh) => "标准输入中的请求",
    };
    let mut input = Vec::new();
    let read = match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| cannot_read(lang, &path.display().to_string()))?;
            file.take(max + 1).read_to_end(&mut input)
        }
        None => std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut input),
    };
    read.with_context(|| match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => cannot_read(lang, &path.display().to_string()),
        None => cannot_read(lang, stdin),
    })?;
    if input.len() as u64 > max {
        match lang {
            Lang::Zh => bail!("输入大于 {} MiB，不予读取", max >> 20),
            Lang::En => bail!(
                "the input is larger than {} MiB; refusing to read it whole",
                max >> 20
            ),
        }
    }
    Ok(input)
}
