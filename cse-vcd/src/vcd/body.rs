//! Reading answer bodies into memory with a bound, for the vCD and vCenter
//! clients alike. Every answer is read whole before it is parsed, so an
//! unbounded read would let one answer take the server's memory. That matters
//! most for guest files: a tenant has root in its cluster VMs and can make a
//! script's output or its kubeconfig as large as it likes. vCD's and vCenter's
//! own documents are bounded by [`MAX_ANSWER_BYTES`], far above the largest
//! legitimate one (a query page of 128 records is about 130 KB).

/// The largest vCD or vCenter document read (64 MiB).
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// How much of an unwanted body is read so its connection can be reused; a
/// longer one is dropped unread (its connection is closed instead).
const MAX_DRAINED_BYTES: u64 = 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The connection failed or timed out while reading.
    Transport(reqwest::Error),
    /// The body is longer than the limit (stated by `Content-Length`, or met
    /// while reading): nothing past the limit was read.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
}

/// The body's bytes, refused past `limit` bytes.
pub async fn read_bytes(mut response: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    let stated = response.content_length();
    if stated.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let capacity = usize::try_from(stated.unwrap_or(0).min(limit)).unwrap_or(0);
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        let length = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
        if length > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The body as text, refused past `limit` bytes; bytes that are not UTF-8
/// become U+FFFD (as `reqwest::Response::text` does).
pub async fn read_text(response: reqwest::Response, limit: u64) -> Result<String, BodyError> {
    let bytes = read_bytes(response, limit).await?;
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()))
}

/// Reads and drops a body nobody needs, so its connection goes back to the
/// pool; past [`MAX_DRAINED_BYTES`] the rest is left and the connection closes.
pub async fn drain(mut response: reqwest::Response) {
    let mut read = 0u64;
    while let Ok(Some(chunk)) = response.chunk().await {
        read = read.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if read > MAX_DRAINED_BYTES {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use futures::stream;

    /// A server answering `GET /stated/{n}` with `n` bytes and a
    /// `Content-Length`, `GET /streamed/{n}` with `n` bytes in 1 KiB chunks
    /// and no length, and `GET /not-utf8` with `a`, 0xFF, `b`; its address.
    async fn serve() -> std::net::SocketAddr {
        use axum::extract::Path;
        use axum::routing::get;
        let app = axum::Router::new()
            .route(
                "/stated/{n}",
                get(|Path(n): Path<usize>| async move { "é".repeat(n / 2) }),
            )
            .route(
                "/streamed/{n}",
                get(|Path(n): Path<usize>| async move {
                    let chunks = (0..n.div_ceil(1024)).map(move |i| {
                        let length = (n - i * 1024).min(1024);
                        Ok::<_, std::io::Error>(vec![b'x'; length])
                    });
                    Body::from_stream(stream::iter(chunks))
                }),
            )
            .route(
                "/not-utf8",
                get(|| async { Body::from(vec![b'a', 0xff, b'b']) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        address
    }

    async fn get(address: std::net::SocketAddr, path: &str) -> reqwest::Response {
        reqwest::get(format!("http://{address}{path}"))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn bodies_up_to_the_limit_are_read_whole() {
        let address = serve().await;
        let text = read_text(get(address, "/stated/4096").await, 4096)
            .await
            .unwrap();
        assert_eq!(text, "é".repeat(2048));
        let bytes = read_bytes(get(address, "/streamed/5000").await, 5000)
            .await
            .unwrap();
        assert_eq!(bytes, vec![b'x'; 5000]);
    }

    #[tokio::test]
    async fn bodies_past_the_limit_are_refused_whether_stated_or_streamed() {
        let address = serve().await;
        for path in ["/stated/4098", "/streamed/4097", "/streamed/1000000"] {
            match read_bytes(get(address, path).await, 4096).await {
                Err(BodyError::TooLarge { limit: 4096 }) => {}
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn text_that_is_not_utf8_is_read_lossily() {
        let address = serve().await;
        let text = read_text(get(address, "/not-utf8").await, 16)
            .await
            .unwrap();
        assert_eq!(text, "a\u{fffd}b");
    }
}
