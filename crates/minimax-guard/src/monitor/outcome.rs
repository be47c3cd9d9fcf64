//! What one attempt ended with, and the fixed index each outcome has in the monitor's tables
//! (so recording is array arithmetic, not map lookups).

use minimax_errors::{Category, CodeInfo, Endpoint, ErrorCode, catalog};
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
        let i = index(self, Endpoint::Other);
        (i != OTHER_CODE).then(|| LABELS[i])
    }

    /// Whether it is an error.
    pub fn is_error(self) -> bool {
        self != Seen::Success
    }
}

/// Size of the outcome dimension: success, every catalog code, every endpoint-specific meaning,
/// other codes, malformed, transport.
pub(crate) const OUTCOMES: usize = 40;

/// The catalog's codes, sorted, in the order of their indexes.
static KNOWN: LazyLock<Vec<ErrorCode>> =
    LazyLock::new(|| catalog::entries().map(|i| i.code).collect());
/// The endpoint-specific meanings (1039 as the TPM throttle on T2A, …), each its own slot after
/// the codes, so that a category rule counts 1039 from T2A as throttling and from chat as an
/// invalid request.
static VARIANTS: LazyLock<Vec<CodeInfo>> = LazyLock::new(|| catalog::endpoint_meanings().collect());

const SUCCESS: usize = 0;
pub(crate) const OTHER_CODE: usize = OUTCOMES - 3;
const MALFORMED: usize = OUTCOMES - 2;
const TRANSPORT: usize = OUTCOMES - 1;

/// The table index of an outcome on an endpoint.
pub(crate) fn index(seen: Seen, endpoint: Endpoint) -> usize {
    match seen {
        Seen::Success => SUCCESS,
        Seen::Code(code) => match VARIANTS
            .iter()
            .position(|v| v.code == code && v.endpoints.contains(&endpoint))
        {
            Some(variant) => 1 + KNOWN.len() + variant,
            None => KNOWN.binary_search(&code).map_or(OTHER_CODE, |i| i + 1),
        },
        Seen::Malformed => MALFORMED,
        Seen::Transport => TRANSPORT,
    }
}

/// The catalog row behind a slot (the endpoint-specific one for a variant slot).
pub(crate) fn info_at(index: usize) -> Option<CodeInfo> {
    match index {
        SUCCESS | OTHER_CODE | MALFORMED | TRANSPORT => None,
        i if i <= KNOWN.len() => Some(KNOWN[i - 1].info()),
        i => VARIANTS.get(i - 1 - KNOWN.len()).copied(),
    }
}

/// The outcome at a table index (`None` for the "other codes" slot, which holds many).
pub(crate) fn at(index: usize) -> Option<Seen> {
    match index {
        SUCCESS => Some(Seen::Success),
        MALFORMED => Some(Seen::Malformed),
        TRANSPORT => Some(Seen::Transport),
        _ => info_at(index).map(|info| Seen::Code(info.code)),
    }
}

/// The category alert rules group a slot under (unreadable answers and transport failures count
/// as transient; codes outside the catalog as unknown).
pub(crate) fn category_at(index: usize) -> Option<Category> {
    match index {
        SUCCESS => None,
        MALFORMED | TRANSPORT => Some(Category::Transient),
        OTHER_CODE => Some(Category::Unknown),
        i => info_at(i).map(|info| info.category),
    }
}

/// The category of an outcome on an endpoint, for metrics.
pub(crate) fn category(seen: Seen, endpoint: Endpoint) -> Option<Category> {
    category_at(index(seen, endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_has_its_own_slot() {
        assert!(
            KNOWN.len() + VARIANTS.len() + 4 <= OUTCOMES,
            "OUTCOMES must grow with the catalog"
        );
        for code in KNOWN.iter() {
            let i = index(Seen::Code(*code), Endpoint::Other);
            assert_eq!(at(i), Some(Seen::Code(*code)));
        }
        assert_eq!(
            index(Seen::Code(ErrorCode::new(777)), Endpoint::Chat),
            OTHER_CODE
        );
        for seen in [Seen::Success, Seen::Malformed, Seen::Transport] {
            assert_eq!(at(index(seen, Endpoint::T2a)), Some(seen));
        }
    }

    #[test]
    fn endpoint_meanings_have_their_own_slots() {
        let on_chat = index(Seen::Code(ErrorCode::TOKEN_LIMIT), Endpoint::Chat);
        let on_t2a = index(Seen::Code(ErrorCode::TOKEN_LIMIT), Endpoint::T2a);
        assert_ne!(on_chat, on_t2a);
        assert_eq!(at(on_chat), Some(Seen::Code(ErrorCode::TOKEN_LIMIT)));
        assert_eq!(at(on_t2a), Some(Seen::Code(ErrorCode::TOKEN_LIMIT)));
        assert_eq!(category_at(on_chat), Some(Category::InvalidRequest));
        assert_eq!(category_at(on_t2a), Some(Category::Throttling));
        assert_eq!(
            category(Seen::Code(ErrorCode::TOKEN_LIMIT), Endpoint::FileRetrieve),
            Some(Category::Throttling)
        );
    }
}
