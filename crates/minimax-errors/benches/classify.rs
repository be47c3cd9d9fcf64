//! Classification speed: a typical error body, a chat success, a 4 MB T2A success.
//! Run with `cargo bench -p minimax-errors --bench classify`; figures go to docs/benchmarks.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use minimax_errors::{Endpoint, classify};
use std::hint::black_box;

fn error_body() -> Vec<u8> {
    br#"{"id":"0af3d1c2b4e5","choices":null,"base_resp":{"status_code":1002,"status_msg":"rate limit exceeded, retry later"}}"#
        .to_vec()
}

fn chat_success() -> Vec<u8> {
    let content = "MiniMax answers in plain text. ".repeat(150);
    format!(
        r#"{{"id":"0af3d1c2b4e5f6a7","choices":[{{"finish_reason":"stop","index":0,"message":{{"content":"{content}","role":"assistant","name":"MiniMax AI"}}}}],"created":1732700000,"model":"MiniMax-M2","object":"chat.completion","usage":{{"total_tokens":1234,"prompt_tokens":34,"completion_tokens":1200}},"input_sensitive":false,"output_sensitive":false,"base_resp":{{"status_code":0,"status_msg":""}}}}"#
    )
    .into_bytes()
}

fn t2a_success() -> Vec<u8> {
    let audio: String = (0..2 * 1024 * 1024)
        .map(|i| format!("{:02x}", (i * 31 % 251) as u8))
        .collect();
    format!(
        r#"{{"data":{{"audio":"{audio}","status":2,"ced":""}},"extra_info":{{"audio_length":131000,"audio_sample_rate":32000,"audio_size":2097152,"bitrate":128000,"word_count":520,"invisible_character_ratio":0,"usage_characters":520,"audio_format":"mp3","audio_channel":1}},"trace_id":"01b8bf9bb7433cc75c18eee6cfa8fe21","base_resp":{{"status_code":0,"status_msg":"success"}}}}"#
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let headers = [("Trace-Id", "01b8bf9bb7433cc75c18eee6cfa8fe21")];
    let cases = [
        ("error_body_150b", error_body(), Endpoint::Chat),
        ("chat_success_5kb", chat_success(), Endpoint::Chat),
        ("t2a_success_4mb", t2a_success(), Endpoint::T2a),
    ];
    let mut group = c.benchmark_group("classify");
    for (name, body, endpoint) in &cases {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| classify(black_box(body), 200, &headers, *endpoint))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
