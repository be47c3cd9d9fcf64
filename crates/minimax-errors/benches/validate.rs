//! Validation speed: a 10,000-character T2A request, and the duration of 5-minute MP3 files
//! (with a Xing/Info header, and without one, which needs a walk over every frame).
//! Run with `cargo bench -p minimax-errors --bench validate`; figures go to docs/benchmarks.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use minimax_errors::validate::audio::read_audio;
use minimax_errors::validate::{Api, T2aRequest, VoiceSetting, validate_t2a, validate_value};
use std::hint::black_box;
use std::io::Cursor;

fn t2a_request() -> T2aRequest {
    // Mixed Chinese, English, punctuation and pause markers: 9,999 characters.
    let unit = "今天天气很好，我们去公园散步吧。The weather is lovely today <#0.5#> let's go. ";
    let mut text: String = unit.chars().cycle().take(9_999).collect();
    text.truncate(
        text.char_indices()
            .nth(9_999)
            .map_or(text.len(), |(i, _)| i),
    );
    T2aRequest {
        model: "speech-2.8-hd".to_string(),
        text,
        voice_setting: Some(VoiceSetting {
            voice_id: Some("male-qn-qingse".to_string()),
            speed: Some(1.0),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Five minutes of 128 kbps, 44.1 kHz CBR frames (287 copies of a 1.045 s sample made with ffmpeg).
fn mp3_without_header() -> Vec<u8> {
    let one_second = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/tone-1s-44k-128k.mp3"
    ))
    .unwrap();
    one_second.repeat(287)
}

/// The same frames behind a LAME Info frame whose frame count covers them all.
fn mp3_with_header() -> Vec<u8> {
    let with_info = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/tone-3s-xing.mp3"
    ))
    .unwrap();
    // The Info frame is the first frame of the 16 kHz sample: 16 kbps MPEG-2 frames are 72 bytes
    // (144 * 16000 / 16000 / 2 rounded: 72). Its frame count sits 8 bytes after "Info".
    let info_frame_len = 72;
    let mut out = with_info[..info_frame_len].to_vec();
    let body = with_info[info_frame_len..].repeat(97);
    let frames = (body.len() / info_frame_len) as u32;
    let at = memchr::memmem::find(&out, b"Info").unwrap() + 8;
    out[at..at + 4].copy_from_slice(&frames.to_be_bytes());
    out.extend_from_slice(&body);
    out
}

fn bench(c: &mut Criterion) {
    let request = t2a_request();
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(request.text.chars().count() as u64));
    group.bench_function("t2a_10k_chars_typed", |b| {
        b.iter(|| validate_t2a(black_box(&request)))
    });
    let json = serde_json::to_value(&request).unwrap();
    group.bench_function("t2a_10k_chars_json", |b| {
        b.iter(|| validate_value(Api::T2a, black_box(json.clone())))
    });
    group.finish();

    let mut group = c.benchmark_group("audio_duration");
    for (name, bytes) in [
        ("mp3_5min_frame_scan", mp3_without_header()),
        ("mp3_5min_info_header", mp3_with_header()),
    ] {
        // Leaked so each iteration reads the same bytes without copying them.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let len = bytes.len() as u64;
        let secs = read_audio(Cursor::new(bytes), len)
            .unwrap()
            .duration_secs
            .unwrap();
        println!("{name}: {len} bytes, {secs:.2} s");
        group.throughput(Throughput::Bytes(len));
        group.bench_function(name, |b| {
            b.iter(|| read_audio(Cursor::new(black_box(bytes)), len))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
