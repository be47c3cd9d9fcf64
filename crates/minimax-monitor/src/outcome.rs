//! What one attempt ended with, and the fixed index each outcome has in the monitor's tables
//! (so recording is array arithmetic, not map lookups).

use minimax_errors::{Category, CodeInfo, Endpoint, ErrorCode, catalog};
pub use minimax_guard::observer::Seen;
use std::sync::LazyLock;

/// Size of the outcome dimension: success, every catalog code, every endpoint-specific meaning,
/// other codes, malformed, transport, failing fast, paced past the deadline, caller gone.
pub(crate) const OUTCOMES: usize = 43;

/// The catalog's codes, sorted, in the order of their indexes.
static KNOWN: LazyLock<Vec<ErrorCode>> =
    LazyLock::new(|| catalog::entries().map(|i| i.code).collect());
/// The endpoint-specific meanings (1039 as the TPM throttle on T2A, …), each its own slot after
/// the codes, so that a category rule counts 1039 from T2A as throttling and from chat as an
/// invalid request.
static VARIANTS: LazyLock<Vec<CodeInfo>> = LazyLock::new(|| catalog::endpoint_meanings().collect());

const SUCCESS: usize = 0;
pub(crate) const OTHER_CODE: usize = OUTCOMES - 6;
const MALFORMED: usize = OUTCOMES - 5;
const TRANSPORT: usize = OUTCOMES - 4;
const FAILING_FAST: usize = OUTCOMES - 3;
const PACED_PAST_DEADLINE: usize = OUTCOMES - 2;
const CLIENT_GONE: usize = OUTCOMES - 1;

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
        Seen::FailingFast => FAILING_FAST,
        Seen::PacedPastDeadline => PACED_PAST_DEADLINE,
        Seen::ClientGone => CLIENT_GONE,
        // An outcome newer than this monitor is counted with the codes it does not know.
        _ => OTHER_CODE,
    }
}

/// The catalog row behind a slot (the endpoint-specific one for a variant slot).
pub(crate) fn info_at(index: usize) -> Option<CodeInfo> {
    match index {
        SUCCESS | OTHER_CODE | MALFORMED | TRANSPORT | FAILING_FAST | PACED_PAST_DEADLINE
        | CLIENT_GONE => None,
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
        FAILING_FAST => Some(Seen::FailingFast),
        PACED_PAST_DEADLINE => Some(Seen::PacedPastDeadline),
        CLIENT_GONE => Some(Seen::ClientGone),
        _ => info_at(index).map(|info| Seen::Code(info.code)),
    }
}

/// The category alert rules group a slot under (unreadable answers and transport failures count
/// as transient; codes outside the catalog as unknown; calls failing fast are not errors of
/// their own: the code that opened the breaker was counted when it came; a caller gone is
/// nobody's error at MiniMax).
pub(crate) fn category_at(index: usize) -> Option<Category> {
    match index {
        SUCCESS | FAILING_FAST | PACED_PAST_DEADLINE | CLIENT_GONE => None,
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
            KNOWN.len() + VARIANTS.len() + 7 <= OUTCOMES,
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
        for seen in [
            Seen::Success,
            Seen::Malformed,
            Seen::Transport,
            Seen::FailingFast,
            Seen::PacedPastDeadline,
            Seen::ClientGone,
        ] {
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
