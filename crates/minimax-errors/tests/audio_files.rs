//! Durations read from real files: WAV written here with exact lengths, MP3 and M4A samples the
//! project made with ffmpeg (tests/data), and long MP3 streams built by repeating their frames.

#![cfg(feature = "audio")]

use minimax_errors::ErrorCode;
use minimax_errors::validate::audio::{AudioFormat, AudioPurpose, read_audio, validate_audio};
use std::io::Cursor;

/// A 16-bit mono PCM WAV of exactly `frames` samples at `rate` Hz.
fn wav(rate: u32, frames: u32) -> Vec<u8> {
    let data_len = frames * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.resize(44 + data_len as usize, 0);
    out
}

fn duration(bytes: Vec<u8>) -> f64 {
    let len = bytes.len() as u64;
    read_audio(Cursor::new(bytes), len)
        .unwrap()
        .duration_secs
        .unwrap()
}

fn codes(bytes: Vec<u8>, purpose: AudioPurpose) -> Vec<i64> {
    let len = bytes.len() as u64;
    let facts = read_audio(Cursor::new(bytes), len).unwrap();
    validate_audio(&facts, purpose)
        .errors()
        .map(|e| e.code.as_i64())
        .collect()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn wav_voice_clone_boundaries() {
    let rate = 8000;
    assert_eq!(
        codes(wav(rate, 79_920), AudioPurpose::VoiceClone),
        vec![ErrorCode::VOICE_DURATION.as_i64()]
    ); // 9.99 s
    assert_eq!(
        codes(wav(rate, 80_000), AudioPurpose::VoiceClone),
        Vec::<i64>::new()
    ); // 10 s
    assert_eq!(
        codes(wav(rate, 2_400_000), AudioPurpose::VoiceClone),
        Vec::<i64>::new()
    ); // 300 s
    assert_eq!(
        codes(wav(rate, 2_400_080), AudioPurpose::VoiceClone),
        vec![2037]
    ); // 300.01 s
}

#[test]
fn wav_prompt_audio_boundary() {
    assert!(codes(wav(16_000, 127_840), AudioPurpose::PromptAudio).is_empty()); // 7.99 s
    assert_eq!(
        codes(wav(16_000, 128_000), AudioPurpose::PromptAudio),
        vec![2048]
    ); // 8 s
}

#[test]
fn mp3_with_info_header_uses_it() {
    // LAME's Info tag gives the frame count and the encoder delay and padding: exactly 3 s.
    let d = duration(sample("tone-3s-xing.mp3"));
    assert!((d - 3.0).abs() < 0.01, "{d}");
    let d = duration(sample("tone-3s-id3.mp3"));
    assert!((d - 3.0).abs() < 0.01, "ID3v2 tag skipped: {d}");
}

#[test]
fn mp3_without_header_is_scanned_frame_by_frame() {
    // 86 frames of 576 samples at 16 kHz: 3.096 s, exactly what the frames hold.
    let one = sample("tone-3s-cbr.mp3");
    let d = duration(one.clone());
    assert!((d - 3.096).abs() < 0.001, "{d}");
    // Repeated frames: 97 copies = 300.312 s (over 5 min), 96 copies = 297.216 s (under).
    assert_eq!(codes(one.repeat(97), AudioPurpose::VoiceClone), vec![2037]);
    assert!(codes(one.repeat(96), AudioPurpose::VoiceClone).is_empty());
    assert_eq!(codes(one.repeat(3), AudioPurpose::PromptAudio), vec![2048]);
    assert!(codes(one.repeat(2), AudioPurpose::PromptAudio).is_empty());
}

#[test]
fn m4a_duration_from_the_container() {
    // The movie header's length, with the encoder's priming samples trimmed: exactly 3 s.
    let d = duration(sample("tone-3s.m4a"));
    assert!((d - 3.0).abs() < 0.001, "{d}");
    let d = duration(sample("silence-301s.m4a"));
    assert!((d - 301.0).abs() < 0.1, "{d}");
    assert_eq!(
        codes(sample("silence-301s.m4a"), AudioPurpose::VoiceClone),
        vec![2037]
    );
}

#[test]
fn format_comes_from_content_not_name() {
    let bytes = wav(8000, 8000);
    let len = bytes.len() as u64;
    let facts = read_audio(Cursor::new(bytes), len).unwrap();
    assert_eq!(facts.format, Some(AudioFormat::Wav));
    let err = read_audio(Cursor::new(b"OggS\0\x02 not supported".to_vec()), 20).unwrap_err();
    assert!(
        err.to_string().starts_with("not mp3, m4a or wav audio"),
        "{err}"
    );
    let err = read_audio(Cursor::new(Vec::new()), 0).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn broken_files_are_errors_not_panics() {
    let mut truncated = wav(8000, 8000);
    truncated.truncate(20);
    let len = truncated.len() as u64;
    assert!(read_audio(Cursor::new(truncated), len).is_err());
    let mut garbage = b"\x00\x00\x00\x18ftypM4A ".to_vec();
    garbage.extend((0..4000u32).map(|i| (i * 7919 % 251) as u8));
    let len = garbage.len() as u64;
    assert!(read_audio(Cursor::new(garbage), len).is_err());
    let mut fake_mp3 = vec![0xFF, 0xFB, 0x90, 0x64];
    fake_mp3.extend(std::iter::repeat_n(0x55, 1000));
    let len = fake_mp3.len() as u64;
    let _ = read_audio(Cursor::new(fake_mp3), len);
}
