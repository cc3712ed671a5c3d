//! Receiving a publish body as it arrives. The request body is fed to `body::scan` on a blocking
//! thread. When the tarball's data begins after its version (npm, pnpm and yarn send
//! `_attachments` last), the version is checked at once (`Checks::head`) and the decoded tarball
//! streams on to the caller, who stores it, while the rest of the body is still read; the stream
//! ends only after the whole body was read and checked (`Checks::whole`), and otherwise fails,
//! so the blob store discards what it wrote and nothing is stored. A body whose data comes
//! before its version (not seen from any client) has its decoded tarball written to a temporary
//! file instead, published after the scan. Memory stays bounded either way.

use std::io::{BufReader, Read, Write};

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::body::{self, Base64, DataEvent, PublishBody};
use crate::error::{Error, Result};

/// The input buffer of the scanner: how much of the body is read at once.
const READ_BUFFER: usize = 256 << 10;

/// When the tarball begins, from the fields read so far: what it will be stored as.
pub type HeadCheck<H> = Box<dyn Fn(&Map<String, Value>) -> Result<H> + Send>;

/// The whole body, before the tarball's stream may end.
pub type WholeCheck = Box<dyn Fn(&PublishBody) -> Result<()> + Send>;

/// The checks of a publish, run on the scanning thread.
pub struct Checks<H> {
    pub head: HeadCheck<H>,
    pub whole: WholeCheck,
}

/// A body being received.
pub struct Receiving<H> {
    head: oneshot::Receiver<H>,
    tarball: Option<mpsc::Receiver<Result<Bytes>>>,
    forward: JoinHandle<Result<()>>,
    scan: JoinHandle<Result<Scanned>>,
}

/// A body read to its end.
pub struct Scanned {
    pub body: PublishBody,
    /// The decoded tarball, when its data came before its version and was not streamed.
    pub spooled: Option<std::fs::File>,
}

/// Starts reading `body` (refused past `max_size` bytes).
pub fn receive<H: Send + 'static>(
    body: axum::body::Body,
    max_size: u64,
    checks: Checks<H>,
) -> Receiving<H> {
    let (chunks, chunks_in) = mpsc::channel::<Bytes>(8);
    let forward = tokio::spawn(forward(body.into_data_stream(), chunks, max_size));
    let (head_out, head) = oneshot::channel();
    let (tarball_out, tarball) = mpsc::channel(4);
    let scan = tokio::task::spawn_blocking(move || {
        let input = BufReader::with_capacity(
            READ_BUFFER,
            ChannelReader {
                chunks: chunks_in,
                current: Bytes::new(),
            },
        );
        scan(input, checks, head_out, tarball_out)
    });
    Receiving {
        head,
        tarball: Some(tarball),
        forward,
        scan,
    }
}

impl<H> Receiving<H> {
    /// What the tarball streaming now belongs to, or `None` when the body was read without
    /// streaming one (no tarball, or its data came first, or the body was refused).
    pub async fn head(&mut self) -> Option<H> {
        (&mut self.head).await.ok()
    }

    /// The decoded tarball, once `head` answered (only once).
    pub fn tarball(&mut self) -> impl Stream<Item = Result<Bytes>> + Send + use<H> {
        let receiver = self.tarball.take();
        futures_util::stream::unfold(receiver, |receiver| async move {
            let mut receiver = receiver?;
            let item = receiver.recv().await?;
            Some((item, Some(receiver)))
        })
    }

    /// Waits for the end of the body; the error of the request body itself (too large, cut
    /// off) comes before the scan's.
    pub async fn finish(self) -> Result<Scanned> {
        // A tarball nobody takes any more must not hold the scan up.
        drop(self.tarball);
        let scanned = self.scan.await.map_err(Error::internal)?;
        self.forward.await.map_err(Error::internal)??;
        scanned
    }
}

/// Passes the request body on to the scanning thread, counting it against `max_size`.
async fn forward<S, E>(body: S, chunks: mpsc::Sender<Bytes>, max_size: u64) -> Result<()>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(crate::blobs::limited(body, max_size));
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if chunks.send(chunk).await.is_err() {
            // The scan stopped (and says why); the rest of the body is not needed.
            return Ok(());
        }
    }
    Ok(())
}

/// The request body as a blocking reader (on the scanning thread).
struct ChannelReader {
    chunks: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Where decoded tarball bytes go.
enum Sink<H> {
    /// No data yet.
    Waiting(oneshot::Sender<H>),
    /// To the caller, as they come.
    Streaming,
    /// To a temporary file (the data came before the version).
    Spooling(std::fs::File),
}

fn scan<H>(
    input: impl std::io::BufRead,
    checks: Checks<H>,
    head_out: oneshot::Sender<H>,
    tarball: mpsc::Sender<Result<Bytes>>,
) -> Result<Scanned> {
    let mut sink = Some(Sink::Waiting(head_out));
    let mut base64 = Base64::default();
    let deliver = |sink: &mut Sink<H>, bytes: Bytes| -> Result<()> {
        match sink {
            Sink::Streaming => tarball
                .blocking_send(Ok(bytes))
                .map_err(|_| Error::internal("the tarball's upload stopped")),
            Sink::Spooling(file) => Ok(file.write_all(&bytes)?),
            Sink::Waiting(_) => Err(Error::internal("tarball bytes before its data began")),
        }
    };
    let mut handler = |event: DataEvent<'_>| -> Result<()> {
        match event {
            DataEvent::Start { fields, .. } => {
                sink = Some(match sink.take() {
                    Some(Sink::Waiting(head_out)) if fields.contains_key("versions") => {
                        // A refused send means the caller is gone; the next delivery says so.
                        let _ = head_out.send((checks.head)(fields)?);
                        Sink::Streaming
                    }
                    Some(Sink::Waiting(_)) => Sink::Spooling(tempfile::tempfile()?),
                    _ => return Err(Error::invalid("a publish holds exactly one tarball")),
                });
                Ok(())
            }
            DataEvent::Text(piece) => match base64.push(piece)? {
                Some(bytes) => deliver(sink.as_mut().expect("a sink"), bytes),
                None => Ok(()),
            },
        }
    };
    let scanned = body::scan(input, &mut handler).and_then(|body| {
        let mut sink = sink.take().expect("a sink");
        if let Some(bytes) = base64.finish()? {
            deliver(&mut sink, bytes)?;
        }
        (checks.whole)(&body)?;
        Ok((body, sink))
    });
    match scanned {
        Ok((body, Sink::Spooling(mut file))) => {
            use std::io::Seek;
            file.flush()?;
            file.rewind()?;
            Ok(Scanned {
                body,
                spooled: Some(file),
            })
        }
        // The tarball's stream ends here (the sender is dropped): the version may commit.
        Ok((body, _)) => Ok(Scanned {
            body,
            spooled: None,
        }),
        Err(e) => {
            // The store is told, so it discards what it wrote; the typed error goes to `finish`.
            let _ = tarball.blocking_send(Err(Error::invalid(e.to_string())));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    fn checks() -> Checks<String> {
        Checks {
            head: Box::new(|fields| {
                Ok(fields["versions"]
                    .as_object()
                    .and_then(|v| v.keys().next().cloned())
                    .unwrap_or_default())
            }),
            whole: Box::new(|body| match body.fields.get("bad") {
                Some(_) => Err(Error::invalid("bad body")),
                None => Ok(()),
            }),
        }
    }

    fn request(text: String) -> axum::body::Body {
        // Small pieces, as a network delivers them.
        let pieces: Vec<std::result::Result<Bytes, std::io::Error>> = text
            .into_bytes()
            .chunks(1000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        axum::body::Body::from_stream(futures_util::stream::iter(pieces))
    }

    async fn collect(stream: impl Stream<Item = Result<Bytes>>) -> Result<Vec<u8>> {
        let mut stream = std::pin::pin!(stream);
        let mut all = Vec::new();
        while let Some(chunk) = stream.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }

    fn content() -> (Vec<u8>, String) {
        let content: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&content);
        (content, encoded)
    }

    #[tokio::test]
    async fn data_after_the_version_streams() {
        let (content, encoded) = content();
        // Written by hand: serde_json would sort `_attachments` first.
        let text = format!(
            r#"{{"name":"x","versions":{{"1.0.0":{{}}}},"_attachments":{{"x-1.0.0.tgz":{{"data":"{encoded}"}}}}}}"#
        );
        let mut receiving = receive(request(text), u64::MAX, checks());
        assert_eq!(receiving.head().await.as_deref(), Some("1.0.0"));
        let tarball = collect(receiving.tarball()).await.unwrap();
        assert_eq!(tarball, content);
        let scanned = receiving.finish().await.unwrap();
        assert!(scanned.spooled.is_none());
        assert_eq!(
            scanned.body.attachments[0].decoded_len,
            Some(content.len() as u64)
        );
    }

    #[tokio::test]
    async fn a_body_refused_after_its_data_fails_the_stream() {
        let (_, encoded) = content();
        let text = format!(
            r#"{{"versions":{{"1.0.0":{{}}}},"_attachments":{{"x-1.0.0.tgz":{{"data":"{encoded}"}}}},"bad":1}}"#
        );
        let mut receiving = receive(request(text), u64::MAX, checks());
        assert!(receiving.head().await.is_some());
        assert!(
            collect(receiving.tarball()).await.is_err(),
            "the store must discard it"
        );
        let refused = receiving.finish().await;
        assert!(matches!(refused, Err(Error::Validation(m)) if m == "bad body"));
    }

    #[tokio::test]
    async fn data_before_the_version_is_spooled() {
        let (content, encoded) = content();
        let text = format!(
            r#"{{"_attachments":{{"x-1.0.0.tgz":{{"data":"{encoded}"}}}},"versions":{{"1.0.0":{{}}}}}}"#
        );
        let mut receiving = receive(request(text), u64::MAX, checks());
        assert!(receiving.head().await.is_none());
        let mut spooled = receiving.finish().await.unwrap().spooled.unwrap();
        let mut read = Vec::new();
        spooled.read_to_end(&mut read).unwrap();
        assert_eq!(read, content);
    }

    #[tokio::test]
    async fn oversize_bodies_are_refused_as_such() {
        let (_, encoded) = content();
        let text = format!(
            r#"{{"versions":{{"1.0.0":{{}}}},"_attachments":{{"x-1.0.0.tgz":{{"data":"{encoded}"}}}}}}"#
        );
        let mut receiving = receive(request(text), 5000, checks());
        if receiving.head().await.is_some() {
            assert!(collect(receiving.tarball()).await.is_err());
        }
        let refused = receiving.finish().await;
        assert!(
            matches!(refused, Err(Error::PayloadTooLarge(_))),
            "{:?}",
            refused.err()
        );
    }

    #[tokio::test]
    async fn bodies_without_tarballs_are_read_whole() {
        let text = json!({"name": "x", "versions": {"1.0.0": {"deprecated": "old"}}});
        let mut receiving = receive(request(text.to_string()), u64::MAX, checks());
        assert!(receiving.head().await.is_none());
        let scanned = receiving.finish().await.unwrap();
        assert!(scanned.body.attachments.is_empty() && scanned.spooled.is_none());
        assert_eq!(
            scanned.body.fields["versions"]["1.0.0"]["deprecated"],
            "old"
        );
    }
}
