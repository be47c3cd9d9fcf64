//! MiniMax's account limits: which endpoints share one (limits are per model family, per
//! account) and the documented figures, the starting point of any client that paces itself.
//!
//! ```
//! use minimax_errors::{Endpoint, LimitGroup};
//! let group = Endpoint::ChatCompatible.limit_group();
//! assert_eq!(group, LimitGroup::Text);
//! assert_eq!(group.documented().rpm, 500.0);
//! assert_eq!(LimitGroup::Speech.documented().tpm, Some(20_000));
//! ```

use crate::endpoint::Endpoint;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Endpoints that share one limit of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LimitGroup {
    /// Chat in every dialect (native, OpenAI- and Anthropic-compatible).
    Text,
    /// Text to speech, plain and async: requests and characters per minute.
    Speech,
    /// Voice cloning.
    VoiceClone,
    /// File upload and retrieval.
    Files,
    /// Video generation.
    Video,
    /// Image generation.
    Image,
    /// Music generation.
    Music,
    /// Anything else (task queries, unknown paths).
    Other,
}

/// A group's limits as MiniMax documents them for a paying international account.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DocumentedLimits {
    /// Requests per minute.
    pub rpm: f64,
    /// Characters (T2A) per minute, where the group has such a limit.
    pub tpm: Option<u64>,
}

const GROUPS: [(LimitGroup, &str, DocumentedLimits); 8] = [
    (LimitGroup::Text, "text", limits(500.0, None)),
    (LimitGroup::Speech, "speech", limits(60.0, Some(20_000))),
    (LimitGroup::VoiceClone, "voice-clone", limits(60.0, None)),
    // Not documented: the voice-clone figure, as uploads feed cloning.
    (LimitGroup::Files, "files", limits(60.0, None)),
    (LimitGroup::Video, "video", limits(5.0, None)),
    (LimitGroup::Image, "image", limits(10.0, None)),
    (LimitGroup::Music, "music", limits(120.0, None)),
    // Task queries and unknown paths: nothing documented; a polling rate.
    (LimitGroup::Other, "other", limits(120.0, None)),
];

const fn limits(rpm: f64, tpm: Option<u64>) -> DocumentedLimits {
    DocumentedLimits { rpm, tpm }
}

impl LimitGroup {
    /// Every group.
    pub fn all() -> impl Iterator<Item = LimitGroup> {
        GROUPS.iter().map(|(g, _, _)| *g)
    }

    /// The group's name (`text`, `speech`, …).
    pub fn as_str(self) -> &'static str {
        GROUPS
            .iter()
            .find(|(g, _, _)| *g == self)
            .map_or("other", |r| r.1)
    }

    /// The documented limits (MiniMax-M2 text: 500 RPM; T2A: 60 RPM and 20,000 characters per
    /// minute; voice cloning 60; video 5; image 10; music 120).
    pub fn documented(self) -> DocumentedLimits {
        GROUPS
            .iter()
            .find(|(g, _, _)| *g == self)
            .map_or(limits(60.0, None), |r| r.2)
    }
}

impl Endpoint {
    /// The limit this endpoint's requests count against.
    pub fn limit_group(self) -> LimitGroup {
        match self {
            Endpoint::Chat | Endpoint::ChatCompatible | Endpoint::Anthropic => LimitGroup::Text,
            Endpoint::T2a | Endpoint::T2aAsync => LimitGroup::Speech,
            Endpoint::VoiceClone => LimitGroup::VoiceClone,
            Endpoint::FileUpload | Endpoint::FileRetrieve => LimitGroup::Files,
            Endpoint::Video => LimitGroup::Video,
            Endpoint::Image => LimitGroup::Image,
            Endpoint::Music => LimitGroup::Music,
            Endpoint::VideoQuery | Endpoint::Other => LimitGroup::Other,
        }
    }
}

impl fmt::Display for LimitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no limit group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown limit group {0:?}: expected text, speech, voice-clone, files, video, image, music or other"
)]
pub struct UnknownLimitGroup(pub String);

impl FromStr for LimitGroup {
    type Err = UnknownLimitGroup;

    fn from_str(s: &str) -> Result<LimitGroup, UnknownLimitGroup> {
        let name = s.trim().to_ascii_lowercase().replace('_', "-");
        GROUPS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(g, _, _)| *g)
            .ok_or_else(|| UnknownLimitGroup(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_group_and_names_read_back() {
        for endpoint in Endpoint::all() {
            let group = endpoint.limit_group();
            assert_eq!(group.as_str().parse::<LimitGroup>(), Ok(group));
        }
        assert_eq!(LimitGroup::all().count(), GROUPS.len());
        assert!("weather".parse::<LimitGroup>().is_err());
    }
}
