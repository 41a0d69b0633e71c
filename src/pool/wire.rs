//! The frames that cross a worker's socket, in both directions.
//!
//! A frame is a 13-byte header (payload length `u32`, kind `u8`, id `u64`,
//! little-endian) and then the payload: an item or result encoded as JSON, or
//! the UTF-8 text of an error. The id is the item's index in its `map` call.
//! The parent reads with blocking I/O on threads of its own, the worker with
//! tokio, hence the two readers.

use std::io::{self, Read};
use tokio::io::{AsyncRead, AsyncReadExt};

const HEADER: usize = 13;
/// Larger payloads are refused: a garbled length must not allocate gigabytes.
pub(crate) const MAX_PAYLOAD: usize = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Parent to worker: run the function on this item.
    Job = 1,
    /// Worker to parent: the initializer ran, jobs are being served.
    Ready = 2,
    /// The job's result, encoded.
    Done = 3,
    /// The job panicked; the payload is the message.
    Panicked = 4,
    /// The job did not finish within the timeout.
    TimedOut = 5,
    /// The item or the result could not be (de)serialized; the payload says why.
    Failed = 6,
    /// The initializer panicked; the payload is the message.
    InitFailed = 7,
}

impl Kind {
    fn from_byte(byte: u8) -> io::Result<Kind> {
        Ok(match byte {
            1 => Kind::Job,
            2 => Kind::Ready,
            3 => Kind::Done,
            4 => Kind::Panicked,
            5 => Kind::TimedOut,
            6 => Kind::Failed,
            7 => Kind::InitFailed,
            _ => return Err(invalid(format!("unknown frame kind {byte}"))),
        })
    }
}

#[derive(Debug)]
pub(crate) struct Frame {
    pub kind: Kind,
    pub id: u64,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn new(kind: Kind, id: u64, payload: Vec<u8>) -> Frame {
        Frame { kind, id, payload }
    }

    /// A frame whose payload is a message.
    pub fn text(kind: Kind, id: u64, message: &str) -> Frame {
        Frame::new(kind, id, message.as_bytes().to_vec())
    }

    /// The payload read as text (error messages).
    pub fn message(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// Header and payload, ready to write.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER + self.payload.len());
        bytes.extend_from_slice(&(self.payload.len() as u32).to_le_bytes());
        bytes.push(self.kind as u8);
        bytes.extend_from_slice(&self.id.to_le_bytes());
        bytes.extend_from_slice(&self.payload);
        bytes
    }

    /// Reads one frame; `None` at end of stream.
    pub fn read(reader: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut header = [0; HEADER];
        match reader.read_exact(&mut header) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error),
        }
        let (kind, id, len) = parse(header)?;
        let mut payload = vec![0; len];
        reader.read_exact(&mut payload)?;
        Ok(Some(Frame::new(kind, id, payload)))
    }

    /// [`Frame::read`] for tokio.
    pub async fn read_async(reader: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<Frame>> {
        let mut header = [0; HEADER];
        match reader.read_exact(&mut header).await {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error),
        }
        let (kind, id, len) = parse(header)?;
        let mut payload = vec![0; len];
        reader.read_exact(&mut payload).await?;
        Ok(Some(Frame::new(kind, id, payload)))
    }
}

fn parse(header: [u8; HEADER]) -> io::Result<(Kind, u64, usize)> {
    let len = u32::from_le_bytes(header[0..4].try_into().unwrap()) as usize;
    let kind = Kind::from_byte(header[4])?;
    let id = u64::from_le_bytes(header[5..13].try_into().unwrap());
    if len > MAX_PAYLOAD {
        return Err(invalid(format!("frame of {len} bytes is too large")));
    }
    Ok((kind, id, len))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut bytes = Frame::new(Kind::Job, 7, vec![1, 2, 3]).encode();
        bytes.extend(Frame::text(Kind::Panicked, 8, "boom").encode());
        let mut reader = &bytes[..];
        let first = Frame::read(&mut reader).unwrap().unwrap();
        assert_eq!(
            (first.kind, first.id, first.payload),
            (Kind::Job, 7, vec![1, 2, 3])
        );
        let second = Frame::read(&mut reader).unwrap().unwrap();
        assert_eq!(
            (second.kind, second.id, second.message()),
            (Kind::Panicked, 8, "boom".into())
        );
        assert!(Frame::read(&mut reader).unwrap().is_none());
    }

    #[test]
    fn garbage_is_an_error() {
        let mut bytes = Frame::new(Kind::Job, 1, vec![]).encode();
        bytes[4] = 99;
        assert!(Frame::read(&mut &bytes[..]).is_err());
    }
}
