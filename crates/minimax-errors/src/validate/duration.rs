//! Reading an audio file's duration with symphonia, from the container's header when it gives
//! the length (WAV data size, MP4 `mdhd`, MP3 Xing/Info/VBRI) and otherwise by walking the MP3
//! frames, which reads each frame header but decodes nothing.

use super::audio::{AudioFacts, AudioFormat, sniff_format};
use std::io::{self, Read, Seek, SeekFrom};
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::units::TimeBase;

/// Why an audio file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// Reading the file failed.
    #[error("cannot read the audio: {0}")]
    Io(#[from] io::Error),
    /// The content is not mp3, m4a or wav.
    #[error("not mp3, m4a or wav audio (starts with {0})")]
    UnknownFormat(String),
    /// The container is recognised but broken.
    #[error("the {format} audio cannot be read: {detail}")]
    Unreadable {
        /// The container.
        format: AudioFormat,
        /// What went wrong.
        detail: String,
    },
}

/// Adapts any seekable reader of known length to symphonia's source trait.
struct Source<R> {
    inner: R,
    len: u64,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Source<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for Source<R> {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// Reads format, size and duration of an audio file of `size_bytes` bytes.
///
/// ```
/// use minimax_errors::validate::audio::{read_audio, AudioFormat};
/// // One second of 8 kHz, 16-bit mono silence, as a WAV file built in memory.
/// let mut wav = Vec::new();
/// let data_len: u32 = 16_000;
/// for part in [&b"RIFF"[..], &(36 + data_len).to_le_bytes(), b"WAVEfmt ", &16u32.to_le_bytes(),
///              &1u16.to_le_bytes(), &1u16.to_le_bytes(), &8000u32.to_le_bytes(),
///              &16000u32.to_le_bytes(), &2u16.to_le_bytes(), &16u16.to_le_bytes(), b"data",
///              &data_len.to_le_bytes()] {
///     wav.extend_from_slice(part);
/// }
/// wav.resize(44 + data_len as usize, 0);
/// let len = wav.len() as u64;
/// let facts = read_audio(std::io::Cursor::new(wav), len).unwrap();
/// assert_eq!(facts.format, Some(AudioFormat::Wav));
/// assert_eq!(facts.duration_secs, Some(1.0));
/// ```
pub fn read_audio<R>(mut reader: R, size_bytes: u64) -> Result<AudioFacts, AudioError>
where
    R: Read + Seek + Send + Sync + 'static,
{
    let mut head = [0u8; 12];
    let got = read_up_to(&mut reader, &mut head)?;
    reader.seek(SeekFrom::Start(0))?;
    let format = sniff_format(&head[..got])
        .ok_or_else(|| AudioError::UnknownFormat(hex_preview(&head[..got])))?;
    let trusted_header = format != AudioFormat::Mp3 || mp3_has_length_header(&mut reader)?;
    let movie_secs = if format == AudioFormat::M4a {
        mp4_movie_duration(&mut reader)?
    } else {
        None
    };
    let source = Source {
        inner: reader,
        len: size_bytes,
    };
    // Symphonia is pure Rust, but a panic deep in a demuxer on a hostile file must still end as
    // a one-line error for the user, not a crash.
    let duration = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        duration_of(source, format, trusted_header)
    }))
    .unwrap_or_else(|_| Err("the demuxer failed on this file".to_string()))
    .map_err(|detail| AudioError::Unreadable { format, detail })?;
    // symphonia 0.5 ignores the MP4 edit list, which trims the AAC encoder's priming samples, so
    // its track length runs about 64 ms long; the movie header's duration is the trimmed one.
    let duration = movie_secs.filter(|secs| *secs > 0.0).unwrap_or(duration);
    Ok(AudioFacts {
        size_bytes,
        format: Some(format),
        duration_secs: Some(duration),
    })
}

/// The duration in the MP4 movie header (`moov/mvhd`), if the file has one. Leaves the reader
/// at the start.
fn mp4_movie_duration<R: Read + Seek>(reader: &mut R) -> io::Result<Option<f64>> {
    let result = find_box(reader, 0, u64::MAX, b"moov").and_then(|moov| match moov {
        Some((start, end)) => find_box(reader, start, end, b"mvhd").and_then(|mvhd| match mvhd {
            Some((start, _)) => read_mvhd(reader, start),
            None => Ok(None),
        }),
        None => Ok(None),
    });
    reader.seek(SeekFrom::Start(0))?;
    // A damaged box structure is not an error here: symphonia will judge the file.
    Ok(result.unwrap_or(None))
}

/// Finds a box of type `kind` among the boxes from `start` to `end`; returns its content range.
fn find_box<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    end: u64,
    kind: &[u8; 4],
) -> io::Result<Option<(u64, u64)>> {
    let mut at = start;
    // A bound on the walk, so a hostile file cannot keep it going.
    for _ in 0..256 {
        if at.saturating_add(8) > end {
            return Ok(None);
        }
        reader.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 8];
        if read_up_to(reader, &mut header)? < 8 {
            return Ok(None);
        }
        let mut size = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let mut header_len = 8;
        if size == 1 {
            let mut large = [0u8; 8];
            if read_up_to(reader, &mut large)? < 8 {
                return Ok(None);
            }
            size = u64::from_be_bytes(large);
            header_len = 16;
        }
        let box_end = if size == 0 {
            end
        } else {
            at.saturating_add(size)
        };
        if size != 0 && size < header_len {
            return Ok(None);
        }
        if &header[4..8] == kind {
            return Ok(Some((at + header_len, box_end)));
        }
        at = box_end;
    }
    Ok(None)
}

/// Reads timescale and duration from an `mvhd` box's content.
fn read_mvhd<R: Read + Seek>(reader: &mut R, start: u64) -> io::Result<Option<f64>> {
    reader.seek(SeekFrom::Start(start))?;
    let mut content = [0u8; 32];
    let got = read_up_to(reader, &mut content)?;
    let be32 = |at: usize| {
        u32::from_be_bytes([
            content[at],
            content[at + 1],
            content[at + 2],
            content[at + 3],
        ])
    };
    let (timescale, duration) = match content[0] {
        0 if got >= 20 => (be32(12), u64::from(be32(16))),
        1 if got >= 32 => (be32(20), u64::from(be32(24)) << 32 | u64::from(be32(28))),
        _ => return Ok(None),
    };
    // All ones means "unknown" in the MP4 format.
    let unknown = duration == u64::from(u32::MAX) || duration == u64::MAX;
    Ok((timescale > 0 && !unknown).then(|| duration as f64 / f64::from(timescale)))
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn hex_preview(head: &[u8]) -> String {
    if head.is_empty() {
        return "nothing: the file is empty".to_string();
    }
    head.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The duration in seconds; `trusted_header` says whether the container's length is exact.
fn duration_of<R: Read + Seek + Send + Sync + 'static>(
    source: Source<R>,
    format: AudioFormat,
    trusted_header: bool,
) -> Result<f64, String> {
    let stream = MediaSourceStream::new(Box::new(source), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(&format.to_string());
    let probed = symphonia::default::get_probe()
        // Gapless: take the encoder delay and padding of a LAME header off the length.
        .format(
            &hint,
            stream,
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| e.to_string())?;
    let mut reader = probed.format;
    let track = reader.default_track().ok_or("no audio track")?;
    let track_id = track.id;
    let params = &track.codec_params;
    let time_base = params
        .time_base
        .or_else(|| {
            params
                .sample_rate
                .filter(|r| *r > 0)
                .map(|r| TimeBase::new(1, r))
        })
        .ok_or("no sample rate or time base")?;
    if trusted_header && let Some(frames) = params.n_frames {
        return seconds(frames, time_base);
    }
    // No length in the container: add up the frames' durations (headers only, no decoding).
    let mut total: u64 = 0;
    loop {
        match reader.next_packet() {
            Ok(packet) if packet.track_id() == track_id => total = total.saturating_add(packet.dur),
            Ok(_) => {}
            Err(symphonia::core::errors::Error::IoError(e))
                if e.kind() == io::ErrorKind::UnexpectedEof =>
            {
                break;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    seconds(total, time_base)
}

fn seconds(ticks: u64, base: TimeBase) -> Result<f64, String> {
    if base.numer == 0 || base.denom == 0 {
        return Err("invalid time base".to_string());
    }
    Ok(ticks as f64 * f64::from(base.numer) / f64::from(base.denom))
}

/// Whether the first MP3 frame carries a Xing, Info or VBRI header, the only MP3 headers that
/// give the exact length; without one symphonia only estimates it from the bitrate. Leaves the
/// reader at the start.
fn mp3_has_length_header<R: Read + Seek>(reader: &mut R) -> io::Result<bool> {
    let mut id3 = [0u8; 10];
    let got = read_up_to(reader, &mut id3)?;
    let mut frame_start = 0u64;
    if got == 10 && id3.starts_with(b"ID3") {
        // ID3v2 size: four 7-bit "syncsafe" bytes, plus the 10-byte header and an optional footer.
        let size = id3[6..10]
            .iter()
            .fold(0u64, |acc, b| (acc << 7) | u64::from(b & 0x7F));
        let footer = if id3[5] & 0x10 != 0 { 10 } else { 0 };
        frame_start = 10 + size + footer;
    }
    reader.seek(SeekFrom::Start(frame_start))?;
    // The tag sits after the frame header and side information: at most 36 bytes in (Xing/Info)
    // or exactly 36 (VBRI).
    let mut frame = [0u8; 48];
    let got = read_up_to(reader, &mut frame)?;
    reader.seek(SeekFrom::Start(0))?;
    let frame = &frame[..got];
    Ok([&b"Xing"[..], b"Info", b"VBRI"]
        .iter()
        .any(|tag| memchr::memmem::find(frame, tag).is_some()))
}
