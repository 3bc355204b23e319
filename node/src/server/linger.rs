//! Reading the rest of a refused request's body before answering.
//!
//! A request refused before its body is read (a bad signature, a POST form whose policy does
//! not allow it, a missing bucket) leaves unread bytes in the socket. When the connection then
//! closes, the kernel sends a reset instead of a clean close, and the client, still writing
//! its body, sees "broken pipe" and never reads the answer that explains the refusal. So the
//! server discards what is left of a small body first (at most [`MAX_BYTES`], for at most
//! [`MAX_WAIT`]); a larger one is not worth the bandwidth, and its client gets the reset.
//! Discarding holds no memory beyond one frame.

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The most of a refused request's remaining body the server reads and discards.
pub const MAX_BYTES: u64 = 8 << 20;
/// The longest the server spends discarding it.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

type Slot = Arc<Mutex<Option<Incoming>>>;

/// A request body that, dropped before its end, leaves itself to its [`Linger`].
pub struct LingerBody {
    inner: Option<Incoming>,
    slot: Slot,
}

/// Where an unfinished request body waits to be discarded once the answer is ready.
pub struct Linger(Slot);

/// Wraps `req`'s body so that what its handler leaves unread can be discarded afterwards.
pub fn wrap(req: http::Request<Incoming>) -> (Linger, http::Request<LingerBody>) {
    let slot = Slot::default();
    let req = req.map(|b| LingerBody {
        inner: Some(b),
        slot: slot.clone(),
    });
    (Linger(slot), req)
}

impl Linger {
    /// Reads and discards what the handler left of the body, if it is small enough.
    pub async fn discard(self) {
        let Some(mut body) = self.0.lock().expect("linger slot").take() else {
            return;
        };
        if body.size_hint().lower() > MAX_BYTES {
            return;
        }
        let read = async {
            let mut seen = 0u64;
            while seen <= MAX_BYTES {
                match http_body_util::BodyExt::frame(&mut body).await {
                    Some(Ok(f)) => seen += f.data_ref().map_or(0, |d| d.len() as u64),
                    Some(Err(_)) | None => return,
                }
            }
        };
        let _ = tokio::time::timeout(MAX_WAIT, read).await;
    }
}

impl Drop for LingerBody {
    fn drop(&mut self) {
        if let Some(b) = self.inner.take().filter(|b| !b.is_end_stream()) {
            *self.slot.lock().expect("linger slot") = Some(b);
        }
    }
}

impl Body for LingerBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.inner.as_mut() {
            Some(b) => Pin::new(b).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}
