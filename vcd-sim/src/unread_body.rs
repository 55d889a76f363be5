//! Answering before the request body is read, the way a real vCD does it.
//!
//! The simulator refuses some requests before it reads their body: a 401 for a
//! missing or unknown session, a 413 for a body over the length limit, a 404
//! for an unknown path. Under HTTP/2 that used to reach clients such as curl
//! as "Stream error in the HTTP/2 framing layer" instead of the status. The
//! cause: the handler dropped the unread body, and when hyper then finished
//! the response, h2 closed the half-open stream with `RST_STREAM(NO_ERROR)`
//! right behind it (h2 `maybe_cancel`). RFC 9113 §8.1 allows that, but a
//! client still uploading its body (curl sends HEADERS, then DATA) takes the
//! reset as a failure of the whole exchange, about half of the time for small
//! bodies (a race with the upload) and every time for bodies larger than what
//! fits in one flight. HTTP/1.1 was not affected.
//!
//! [`keep_unread_body`] wraps every request body. If the handler drops it
//! before its end, the rest is kept and read to its end (up to
//! [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`]), while the response goes out, so
//! the stream ends normally and the client sees the status. A body beyond the
//! limit is released only once the whole response has been handed to the
//! connection: h2 then sends `RST_STREAM(NO_ERROR)` after a complete response,
//! the RFC's way of asking a client to stop sending, never a `CANCEL` ahead
//! of it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt as _;
use http_body::{Body as HttpBody, Frame, SizeHint};
use parking_lot::Mutex;
use tokio::sync::oneshot;

/// Most unread request bytes read (and discarded) after an early answer.
pub const DRAIN_LIMIT: u64 = 8 * 1024 * 1024;

/// Longest time spent reading an unread body after an early answer.
pub const DRAIN_TIME: Duration = Duration::from_secs(30);

/// Where a dropped, unfinished request body goes until the middleware takes it.
enum Slot {
    /// The request is still being handled.
    Open(Option<Body>),
    /// The handler has answered; a body dropped later is simply dropped.
    Closed,
}

/// The request body as handlers see it: the original, which on drop before its
/// end is handed back to [`keep_unread_body`] instead of being dropped.
struct Guarded {
    inner: Option<Body>,
    ended: bool,
    slot: Arc<Mutex<Slot>>,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_else(|| SizeHint::with_exact(0))
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        if self.ended || inner.is_end_stream() {
            return;
        }
        if let Slot::Open(kept) = &mut *self.slot.lock() {
            *kept = Some(inner);
        }
    }
}

/// The response body: tells the drain when hyper is done with the response
/// (it drops the body once its last frame is handed to the connection).
struct SignalOnDrop {
    inner: Body,
    done: Option<oneshot::Sender<()>>,
}

impl HttpBody for SignalOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

/// Middleware of the serving layer (every listener, every route): keeps and
/// reads the unread rest of a request body after an early answer.
pub async fn keep_unread_body(req: Request, next: Next) -> Response {
    let slot = Arc::new(Mutex::new(Slot::Open(None)));
    let (parts, body) = req.into_parts();
    let guarded = Guarded {
        inner: Some(body),
        ended: false,
        slot: Arc::clone(&slot),
    };
    let response = next
        .run(Request::from_parts(parts, Body::new(guarded)))
        .await;
    let unread = match std::mem::replace(&mut *slot.lock(), Slot::Closed) {
        Slot::Open(unread) => unread,
        Slot::Closed => None,
    };
    let Some(unread) = unread else {
        return response;
    };
    let (done, response_sent) = oneshot::channel();
    tokio::spawn(drain(unread, response_sent));
    response.map(|inner| {
        Body::new(SignalOnDrop {
            inner,
            done: Some(done),
        })
    })
}

/// Reads `body` to its end (bounded); when it cannot, holds it until the
/// response is sent, so the stream is never reset ahead of the answer.
async fn drain(body: Body, response_sent: oneshot::Receiver<()>) {
    if body.size_hint().lower() > DRAIN_LIMIT {
        let _ = response_sent.await;
        return;
    }
    let mut data = body.into_data_stream();
    let ended = tokio::time::timeout(DRAIN_TIME, read_to_end(&mut data))
        .await
        .unwrap_or(false);
    if !ended {
        let _ = response_sent.await;
    }
}

/// Discards the body's data; `false` past [`DRAIN_LIMIT`] bytes. A read
/// error (the client reset the stream, the connection dropped) ends it too.
async fn read_to_end(data: &mut BodyDataStream) -> bool {
    let mut read: u64 = 0;
    while let Some(chunk) = data.next().await {
        match chunk {
            Ok(chunk) => {
                read += chunk.len() as u64;
                if read > DRAIN_LIMIT {
                    return false;
                }
            }
            Err(_) => return true,
        }
    }
    true
}
