//! Clients that send too slowly are cut off; stopping does not wait for stalls.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn quick_timeouts() -> MockConfig {
    MockConfig {
        keys: vec![KeyConfig {
            max_concurrent: Some(1),
            ..KeyConfig::default()
        }],
        header_timeout_ms: 300,
        body_timeout_ms: 300,
        ..config()
    }
}

#[tokio::test]
async fn half_sent_headers_are_dropped_and_the_server_keeps_serving() {
    let server = start(quick_timeouts(), Scenario::default()).await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        socket
            .write_all(b"POST /v1/text/chatcompletion_v2 HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        sockets.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    for socket in &mut sockets {
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
        // Closed (possibly after a 408): never left hanging.
        assert!(
            matches!(read, Ok(Ok(_)) | Ok(Err(_))),
            "a half-sent request still holds its socket"
        );
    }
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
}

#[tokio::test]
async fn connections_that_send_nothing_or_only_the_http2_preface_are_closed_when_idle() {
    let config = MockConfig {
        idle_timeout_ms: 300,
        ..config()
    };
    let server = start(config, Scenario::default()).await;
    let mut sockets = Vec::new();
    for n in 0..40 {
        let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        if n % 2 == 1 {
            socket
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .await
                .unwrap();
        }
        sockets.push(socket);
    }
    let opened = std::time::Instant::now();
    for socket in &mut sockets {
        let mut buf = [0u8; 256];
        loop {
            let read = tokio::time::timeout(Duration::from_secs(3), socket.read(&mut buf)).await;
            match read {
                // HTTP/2's settings, sent in answer to the preface.
                Ok(Ok(n)) if n > 0 => continue,
                Ok(_) => break,
                Err(_) => panic!("an idle connection is still open after 3 s"),
            }
        }
    }
    assert!(opened.elapsed() < Duration::from_secs(3));
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_2013_and_frees_the_keys_slot() {
    let server = start(quick_timeouts(), Scenario::default()).await;
    let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    socket
        .write_all(format!("POST /v1/text/chatcompletion_v2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"model\":").as_bytes())
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), socket.read(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(
        text.contains("2013") && text.contains("not received in time"),
        "{text}"
    );
    // The key allows one request at a time: its slot is free again.
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
}

#[tokio::test]
async fn stopping_does_not_wait_for_an_injected_stall() {
    let scenario = Scenario::new(8).with(
        EndpointFaults::on(Some(Endpoint::Chat))
            .sequence([Action::Stall])
            .stall_ms(60_000),
    );
    let server = start(config(), scenario).await;
    let url = format!("{}/v1/text/chatcompletion_v2", server.url());
    let stalled = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(DEMO_KEY)
            .body("{}")
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped in {:?}",
        started.elapsed()
    );
    assert!(
        stalled.await.unwrap().is_err(),
        "the stalled request is dropped"
    );
}
