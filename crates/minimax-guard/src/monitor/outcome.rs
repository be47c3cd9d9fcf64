//! What one attempt ended with, and the fixed index each outcome has in the monitor's tables
//! (so recording is array arithmetic, not map lookups).

use minimax_errors::{Category, ErrorCode, catalog};
use serde::Serialize;
use std::sync::LazyLock;

/// What an attempt ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seen {
    /// A successful answer.
    Success,
    /// MiniMax answered with this code.
    Code(ErrorCode),
    /// An answer that could not be read (gateway page, cut off, …).
    Malformed,
    /// No complete answer (connect error, timeout, connection lost).
    Transport,
}

impl Seen {
    /// The outcome's name in counters and logs: `"0"`, `"1002"`, `"malformed"`, `"transport"`.
    pub fn label(self) -> String {
        match self {
            Seen::Success => "0".to_string(),
            Seen::Code(code) => code.as_i64().to_string(),
            Seen::Malformed => "malformed".to_string(),
            Seen::Transport => "transport".to_string(),
        }
    }

    /// The same label without allocating (known codes and the fixed outcomes); `None` for a
    /// code outside the catalog.
    pub(crate) fn static_label(self) -> Option<&'static str> {
        static LABELS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
            // Built once from the catalog; a few dozen short strings live for the whole process.
            (0..OUTCOMES)
                .map(|i| at(i).map_or("other", |seen| &*Box::leak(seen.label().into_boxed_str())))
                .collect()
        });
        let i = index(self);
        (i != OTHER_CODE).then(|| LABELS[i])
    }

    /// Whether it is an error.
    pub fn is_error(self) -> bool {
        self != Seen::Success
    }

    /// The category alert rules group it under (unreadable answers and transport failures count
    /// as transient).
    pub fn category(self) -> Option<Category> {
        match self {
            Seen::Success => None,
            Seen::Code(code) => Some(code.info().category),
            Seen::Malformed | Seen::Transport => Some(Category::Transient),
        }
    }
}

/// Size of the outcome dimension: success, every catalog code, other codes, malformed, transport.
pub(crate) const OUTCOMES: usize = 40;

/// The catalog's codes, sorted, in the order of their indexes.
static KNOWN: LazyLock<Vec<ErrorCode>> =
    LazyLock::new(|| catalog::entries().map(|i| i.code).collect());

const SUCCESS: usize = 0;
pub(crate) const OTHER_CODE: usize = OUTCOMES - 3;
const MALFORMED: usize = OUTCOMES - 2;
const TRANSPORT: usize = OUTCOMES - 1;

/// The table index of an outcome.
pub(crate) fn index(seen: Seen) -> usize {
    match seen {
        Seen::Success => SUCCESS,
        Seen::Code(code) => KNOWN.binary_search(&code).map_or(OTHER_CODE, |i| i + 1),
        Seen::Malformed => MALFORMED,
        Seen::Transport => TRANSPORT,
    }
}

/// The outcome at a table index (`None` for the "other codes" slot, which holds many).
pub(crate) fn at(index: usize) -> Option<Seen> {
    match index {
        SUCCESS => Some(Seen::Success),
        MALFORMED => Some(Seen::Malformed),
        TRANSPORT => Some(Seen::Transport),
        OTHER_CODE => None,
        i => KNOWN.get(i - 1).map(|c| Seen::Code(*c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_has_its_own_slot() {
        assert!(
            KNOWN.len() + 4 <= OUTCOMES,
            "OUTCOMES must grow with the catalog"
        );
        for code in KNOWN.iter() {
            let i = index(Seen::Code(*code));
            assert_eq!(at(i), Some(Seen::Code(*code)));
        }
        assert_eq!(index(Seen::Code(ErrorCode::new(777))), OTHER_CODE);
        for seen in [Seen::Success, Seen::Malformed, Seen::Transport] {
            assert_eq!(at(index(seen)), Some(seen));
        }
    }
}
