//! Audio files for voice cloning: format (from the content, not the name), size, and duration
//! against the purpose's limits. Reading the duration from a file needs the `audio` feature
//! ([`read_audio`]); the rules themselves work on facts from anywhere.

use super::check::Checker;
use super::rules::MAX_AUDIO_BYTES;
use super::{Target, Validation};
use crate::catalog::Requirement;
use crate::code::ErrorCode;
use crate::lang::Lang;
use serde::Serialize;
use serde_json::json;
use std::fmt;
use std::str::FromStr;

#[cfg(feature = "audio")]
pub use super::duration::{AudioError, read_audio};

/// What an uploaded audio file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioPurpose {
    /// The source of a voice clone: 10 s to 5 min (else 2037).
    VoiceClone,
    /// A clone prompt: shorter than 8 s (else 2048).
    PromptAudio,
}

impl AudioPurpose {
    /// The name MiniMax uses for the upload's `purpose` field.
    pub const fn as_str(self) -> &'static str {
        match self {
            AudioPurpose::VoiceClone => "voice_clone",
            AudioPurpose::PromptAudio => "prompt_audio",
        }
    }
}

impl fmt::Display for AudioPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`AudioPurpose`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown purpose {0:?}: expected voice_clone or prompt_audio")]
pub struct UnknownPurpose(pub String);

impl FromStr for AudioPurpose {
    type Err = UnknownPurpose;

    fn from_str(s: &str) -> Result<AudioPurpose, UnknownPurpose> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "voice_clone" => Ok(AudioPurpose::VoiceClone),
            "prompt_audio" => Ok(AudioPurpose::PromptAudio),
            _ => Err(UnknownPurpose(s.to_string())),
        }
    }
}

/// An audio container MiniMax accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    /// MPEG-1/2 Layer III.
    Mp3,
    /// MPEG-4 audio (AAC in an ISO base media file).
    M4a,
    /// RIFF WAVE.
    Wav,
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::M4a => "m4a",
            AudioFormat::Wav => "wav",
        })
    }
}

/// Recognises the container from the first bytes of the file (at least 12 for certainty).
pub fn sniff_format(head: &[u8]) -> Option<AudioFormat> {
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        Some(AudioFormat::Wav)
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some(AudioFormat::M4a)
    } else if head.starts_with(b"ID3") || is_mp3_frame_header(head) {
        Some(AudioFormat::Mp3)
    } else {
        None
    }
}

/// An MPEG audio Layer III frame header: 11 sync bits, a valid version, layer III, a valid
/// bitrate and sample rate index.
fn is_mp3_frame_header(head: &[u8]) -> bool {
    let [a, b, c, ..] = *head else { return false };
    let sync = a == 0xFF && b & 0xE0 == 0xE0;
    let version_ok = (b >> 3) & 0b11 != 0b01;
    let layer_iii = (b >> 1) & 0b11 == 0b01;
    let bitrate_ok = c >> 4 != 0b1111;
    let rate_ok = (c >> 2) & 0b11 != 0b11;
    sync && version_ok && layer_iii && bitrate_ok && rate_ok
}

/// What is known about an audio file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AudioFacts {
    /// Size in bytes.
    pub size_bytes: u64,
    /// The container, if it is one MiniMax accepts.
    pub format: Option<AudioFormat>,
    /// Duration in seconds, if it could be read.
    pub duration_secs: Option<f64>,
}

/// Checks an audio file's facts against the limits for `purpose`: format (2013), size (2013)
/// and duration (2037 for a voice-clone source, 2048 for prompt audio).
pub fn validate_audio(facts: &AudioFacts, purpose: AudioPurpose) -> Validation {
    let mut c = Checker::for_target(Target::Audio(purpose));
    if facts.format.is_none() {
        c.push(
            "file",
            json!(null),
            "format(mp3|m4a|wav)".to_string(),
            ErrorCode::INVALID_PARAMS,
            "文件不是 mp3、m4a 或 wav 音频（按文件内容判断）".to_string(),
            "the file is not mp3, m4a or wav audio (judged by its content)".to_string(),
        );
    }
    if facts.size_bytes > MAX_AUDIO_BYTES {
        let mb = facts.size_bytes as f64 / (1024.0 * 1024.0);
        c.push(
            "file",
            json!({ "bytes": facts.size_bytes }),
            format!("size<={MAX_AUDIO_BYTES}"),
            ErrorCode::INVALID_PARAMS,
            format!("文件大小 {mb:.1} MB，超过 20 MB 上限"),
            format!("the file is {mb:.1} MB, above the 20 MB limit"),
        );
    }
    if let Some(secs) = facts.duration_secs {
        check_duration(&mut c, purpose, secs);
    }
    c.finish()
}

/// The code a purpose's duration rule answers with; the rule itself is the catalog's
/// requirement for that code (one owner: validation and the mock both read it there).
fn duration_code(purpose: AudioPurpose) -> ErrorCode {
    match purpose {
        AudioPurpose::VoiceClone => ErrorCode::VOICE_DURATION,
        AudioPurpose::PromptAudio => ErrorCode::PROMPT_AUDIO_TOO_LONG,
    }
}

fn check_duration(c: &mut Checker, purpose: AudioPurpose, secs: f64) {
    let code = duration_code(purpose);
    let Some(requirement) = code.info().requirement else {
        return;
    };
    if requirement.admits(secs) {
        return;
    }
    let shown = (secs * 100.0).round() / 100.0;
    let rule = match requirement {
        Requirement::DurationBetween { min_secs, max_secs } => {
            format!("duration[{min_secs},{max_secs}]")
        }
        Requirement::DurationBelow { max_secs } => format!("duration<{max_secs}"),
        Requirement::MaxInvisibleRatio { .. } => return,
    };
    let (what_zh, what_en) = match purpose {
        AudioPurpose::VoiceClone => ("语音克隆源音频", "voice clone source audio"),
        AudioPurpose::PromptAudio => ("提示音频", "prompt audio"),
    };
    c.push(
        "duration",
        json!(secs),
        rule,
        code,
        format!(
            "{what_zh}时长 {shown} 秒，不符合要求：{}",
            requirement.describe(Lang::Zh)
        ),
        format!(
            "{what_en} is {shown} s long; required: {}",
            requirement.describe(Lang::En)
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(secs: f64) -> AudioFacts {
        AudioFacts {
            size_bytes: 1000,
            format: Some(AudioFormat::Wav),
            duration_secs: Some(secs),
        }
    }

    fn codes(v: &Validation) -> Vec<i64> {
        v.errors().map(|e| e.code.as_i64()).collect()
    }

    #[test]
    fn voice_clone_duration_boundaries() {
        let purpose = AudioPurpose::VoiceClone;
        assert_eq!(codes(&validate_audio(&facts(9.99), purpose)), vec![2037]);
        assert!(validate_audio(&facts(10.0), purpose).is_valid());
        assert!(validate_audio(&facts(300.0), purpose).is_valid());
        assert_eq!(codes(&validate_audio(&facts(300.01), purpose)), vec![2037]);
    }

    #[test]
    fn prompt_audio_duration_boundaries() {
        let purpose = AudioPurpose::PromptAudio;
        assert!(validate_audio(&facts(7.99), purpose).is_valid());
        assert_eq!(codes(&validate_audio(&facts(8.0), purpose)), vec![2048]);
    }

    #[test]
    fn size_and_format() {
        let mut f = facts(20.0);
        f.size_bytes = MAX_AUDIO_BYTES;
        assert!(validate_audio(&f, AudioPurpose::VoiceClone).is_valid());
        f.size_bytes = MAX_AUDIO_BYTES + 1;
        f.format = None;
        let v = validate_audio(&f, AudioPurpose::VoiceClone);
        assert_eq!(v.errors().count(), 2);
        assert!(
            v.violations
                .iter()
                .all(|v| v.code == ErrorCode::INVALID_PARAMS)
        );
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(
            sniff_format(b"RIFF\x24\x08\x00\x00WAVEfmt "),
            Some(AudioFormat::Wav)
        );
        assert_eq!(
            sniff_format(b"\x00\x00\x00\x20ftypM4A \x00\x00"),
            Some(AudioFormat::M4a)
        );
        assert_eq!(
            sniff_format(b"ID3\x04\x00\x00\x00\x00\x00\x00"),
            Some(AudioFormat::Mp3)
        );
        assert_eq!(
            sniff_format(&[0xFF, 0xFB, 0x90, 0x64]),
            Some(AudioFormat::Mp3)
        );
        assert_eq!(
            sniff_format(&[0xFF, 0xFD, 0x90, 0x64]),
            None,
            "layer II is not mp3"
        );
        assert_eq!(sniff_format(b"OggS\x00\x02"), None);
        assert_eq!(sniff_format(b""), None);
    }
}
