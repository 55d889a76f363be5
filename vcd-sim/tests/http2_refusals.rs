//! HTTP/2 refusals: a POST the simulator refuses before reading its body (401
//! without a session, 413 over the length limit, 404 for an unknown path)
//! reaches an HTTP/2 client as its status, and the stream is not reset ahead
//! of the client's upload.
//!
//! The client is the `h2` crate (the HTTP/2 layer under hyper and reqwest)
//! over TLS with ALPN `h2`, driven the way curl sends a POST: request headers
//! first, the body after. Each exchange reads the whole answer, makes a PING
//! round trip (so any `RST_STREAM` the server sent behind the answer has
//! arrived), then checks the stream was not reset and sends the body. hyper's
//! own client tolerates a reset behind a complete answer (RFC 9113 §8.1), so
//! it cannot show the failure curl showed; this client can.

mod common;

use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use common::{ACCEPT, TestSim, start_with};
use h2::client::SendRequest;
use h2::{PingPong, RecvStream, SendStream};
use http::{Method, Request, StatusCode};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use vcd_sim::SimBuilder;

const NO_VAPP: &str = "/api/vApp/vapp-00000000-0000-0000-0000-000000000001/power/action/powerOn";
const NO_VDC_COMPOSE: &str = "/api/vdc/00000000-0000-0000-0000-000000000002/action/composeVApp";

/// One HTTP/2 connection to the simulator.
struct H2 {
    base: String,
    send: SendRequest<Bytes>,
    ping: PingPong,
}

async fn connect(sim: &TestSim) -> H2 {
    let pem = sim.handle.cert_pem.as_deref().expect("HTTPS simulator");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(sim.handle.addr)
        .await
        .unwrap();
    let host = ServerName::try_from(sim.handle.addr.ip().to_string()).unwrap();
    let tls = connector.connect(host, tcp).await.unwrap();
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "the simulator offers HTTP/2"
    );
    let (send, mut connection) = h2::client::handshake(tls).await.unwrap();
    let ping = connection.ping_pong().expect("a ping handle");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    H2 {
        base: sim.handle.base_url.clone(),
        send,
        ping,
    }
}

/// The answer to one exchange.
struct Answer {
    status: StatusCode,
    body: String,
}

/// `Some(reason)` when the peer has reset the stream.
async fn reset_of(stream: &mut SendStream<Bytes>) -> Option<String> {
    futures::future::poll_fn(|cx| {
        Poll::Ready(match stream.poll_reset(cx) {
            Poll::Ready(Ok(reason)) => Some(format!("RST_STREAM({reason:?})")),
            Poll::Ready(Err(e)) => Some(format!("stream error: {e}")),
            Poll::Pending => None,
        })
    })
    .await
}

async fn read_all(mut body: RecvStream) -> String {
    let mut text = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("the answer's body arrives whole");
        body.flow_control().release_capacity(chunk.len()).unwrap();
        text.extend_from_slice(&chunk);
    }
    String::from_utf8_lossy(&text).into_owned()
}

impl H2 {
    /// Sends the headers of `POST path` (declaring `content_length`), reads
    /// the whole answer, checks the stream was not reset ahead of the upload,
    /// then uploads `body` and checks the exchange ended without a reset.
    async fn post_body_after_answer(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        content_length: u64,
        body: Bytes,
    ) -> Answer {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{path}", self.base))
            .header("accept", ACCEPT)
            .header("content-type", "application/xml")
            .header("content-length", content_length.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut send = self.send.clone().ready().await.unwrap();
        let (answer, mut upload) = send.send_request(req.body(()).unwrap(), false).unwrap();
        let answer = answer
            .await
            .expect("the status arrives, not a stream error");
        let status = answer.status();
        let text = read_all(answer.into_body()).await;
        self.ping.ping(h2::Ping::opaque()).await.unwrap();
        assert_eq!(
            reset_of(&mut upload).await,
            None,
            "POST {path} ({status}): the stream was reset while the client still had its body to send"
        );
        upload
            .send_data(body, true)
            .expect("the upload goes out on the open stream");
        self.ping.ping(h2::Ping::opaque()).await.unwrap();
        assert_eq!(
            reset_of(&mut upload).await,
            None,
            "POST {path} ({status}): the stream ended in a reset"
        );
        Answer { status, body: text }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_refused_posts_get_their_status_over_http2() {
    let sim = start_with(SimBuilder::new().https(true)).await;
    let mut h2 = connect(&sim).await;
    let small = Bytes::from_static(b"<ComposeVAppParams name=\"x\"/>");
    let len = small.len() as u64;
    for round in 0..25 {
        for (path, headers, expected) in [
            (NO_VAPP, &[][..], StatusCode::UNAUTHORIZED),
            ("/api/sessions", &[][..], StatusCode::UNAUTHORIZED),
            (
                NO_VAPP,
                &[("x-vcloud-authorization", "not-a-token")][..],
                StatusCode::UNAUTHORIZED,
            ),
            ("/api/cse", &[][..], StatusCode::NOT_FOUND),
        ] {
            let a = h2
                .post_body_after_answer(path, headers, len, small.clone())
                .await;
            assert_eq!(a.status, expected, "round {round}, POST {path}: {}", a.body);
            assert!(a.body.contains("<Error"), "{}", a.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_kb_unauthenticated_post_gets_401_over_http2() {
    let sim = start_with(SimBuilder::new().https(true)).await;
    let mut h2 = connect(&sim).await;
    let big = Bytes::from(vec![b'x'; 200 * 1024]);
    for _ in 0..3 {
        let a = h2
            .post_body_after_answer(NO_VAPP, &[], big.len() as u64, big.clone())
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
        assert!(a.body.contains("majorErrorCode=\"401\""), "{}", a.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_over_the_length_limit_gets_413_and_the_connection_stays_usable() {
    let sim = start_with(SimBuilder::new().https(true)).await;
    let mut h2 = connect(&sim).await;
    let declared = vcd_sim::rest::MAX_BODY as u64 + 1;
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("{}{NO_VDC_COMPOSE}", h2.base))
        .header("accept", ACCEPT)
        .header("content-length", declared.to_string())
        .body(())
        .unwrap();
    let mut send = h2.send.clone().ready().await.unwrap();
    let (answer, mut upload) = send.send_request(req, false).unwrap();
    upload
        .send_data(Bytes::from(vec![b'x'; 64 * 1024]), false)
        .unwrap();
    let answer = answer
        .await
        .expect("the status arrives, not a stream error");
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let text = read_all(answer.into_body()).await;
    assert!(text.contains("length limit"), "{text}");
    h2.ping.ping(h2::Ping::opaque()).await.unwrap();
    // Too much to read and discard: after the complete answer the server may
    // ask the client to stop sending, but only without error (RFC 9113 §8.1).
    if let Some(reset) = reset_of(&mut upload).await {
        assert_eq!(reset, "RST_STREAM(NO_ERROR)");
    }
    // the connection is still good
    let a = h2
        .post_body_after_answer(NO_VAPP, &[], 4, Bytes::from_static(b"<x/>"))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hrefs_over_http2_carry_the_host_and_port() {
    let sim = start_with(SimBuilder::new().https(true)).await;
    let h2 = connect(&sim).await;
    // HTTP/2 sends no Host header, only :authority
    let req = Request::builder()
        .uri(format!("{}/api/versions", h2.base))
        .body(())
        .unwrap();
    let mut send = h2.send.clone().ready().await.unwrap();
    let (answer, _) = send.send_request(req, true).unwrap();
    let answer = answer.await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let text = read_all(answer.into_body()).await;
    assert!(
        text.contains(&format!("{}/api/sessions", h2.base)),
        "hrefs name {}: {text}",
        h2.base
    );
}
