//! A TCP server on the loopback interface, for demos that need a network
//! without having one: it listens on `127.0.0.1`, on a port the system picks,
//! and answers each line it receives after a fixed delay that stands in for
//! the latency of a real network. [`LoopbackServer::start`] echoes the line;
//! [`LoopbackServer::answering`] sends back what a function of the line
//! returns (the process-pool demo's 64 KiB answers).
//!
//! The server runs on a [`Runtime`] of its own (one thread, one current-thread
//! tokio runtime), so any kind of client can talk to it: tokio tasks, or
//! threads making blocking `std::net` calls, or other processes. Each
//! connection is a task on that runtime and may carry any number of lines.
//! Dropping the [`LoopbackServer`] stops it: its thread ends, every
//! connection and the listening socket are closed, and the port is free
//! again.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//! use asyncio_rs::loopback::LoopbackServer;
//!
//! let server = LoopbackServer::start(Duration::from_millis(10)).unwrap();
//! let mut stream = TcpStream::connect(server.addr()).unwrap();
//! stream.write_all(b"hello\n").unwrap();
//! let mut answer = [0; 6];
//! stream.read_exact(&mut answer).unwrap();
//! assert_eq!(&answer, b"hello\n");
//! assert_eq!(server.answered(), 1);
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::sleep;

use crate::runtime::Runtime;

/// How many connections may wait to be accepted. Thousands of clients
/// connect at once in the network demo; the kernel caps this at
/// `net.core.somaxconn` (4,096 by default).
const BACKLOG: u32 = 65_535;

/// Room for a request line; the demo's lines are a few bytes long, and a
/// connection's buffer is memory that every one of thousands of connections
/// costs.
const LINE_BUFFER: usize = 256;

/// What a server sends back for each line it receives: a function of the
/// line, its `\n` included (a last line without one comes as it is).
type Answer = Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// A server on `127.0.0.1` that answers each line after a delay: an echo
/// server, or one that answers what a function says. Stops when dropped.
#[derive(Debug)]
pub struct LoopbackServer {
    addr: SocketAddr,
    answered: Arc<AtomicUsize>,
    /// Held for its `Drop`: it stops the event loop and cancels the server's
    /// tasks, which closes their sockets.
    _runtime: Runtime,
}

impl LoopbackServer {
    /// Starts listening on `127.0.0.1` on an ephemeral port; each line
    /// received is sent back `latency` later.
    pub fn start(latency: Duration) -> io::Result<LoopbackServer> {
        LoopbackServer::answering(latency, <[u8]>::to_vec)
    }

    /// Starts listening on `127.0.0.1` on an ephemeral port; `latency` after
    /// each line arrives, sends back `answer(line)` (the line with its `\n`).
    /// `answer` runs on the server's thread: keep it quick, or it delays the
    /// other connections.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::net::TcpStream;
    /// use std::time::Duration;
    /// use asyncio_rs::loopback::LoopbackServer;
    ///
    /// let shouting = |line: &[u8]| line.to_ascii_uppercase();
    /// let server = LoopbackServer::answering(Duration::from_millis(10), shouting).unwrap();
    /// let mut stream = TcpStream::connect(server.addr()).unwrap();
    /// stream.write_all(b"hello\n").unwrap();
    /// let mut answer = [0; 6];
    /// stream.read_exact(&mut answer).unwrap();
    /// assert_eq!(&answer, b"HELLO\n");
    /// ```
    pub fn answering<F>(latency: Duration, answer: F) -> io::Result<LoopbackServer>
    where
        F: Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
    {
        let runtime = Runtime::new()?;
        // The listener must be registered with the server's own runtime.
        let listener = runtime.run(async { listen() })?;
        let addr = listener.local_addr()?;
        let answered = Arc::new(AtomicUsize::new(0));
        runtime.spawn(serve(
            listener,
            latency,
            Arc::new(answer),
            Arc::clone(&answered),
        ));
        Ok(LoopbackServer {
            addr,
            answered,
            _runtime: runtime,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many lines the server has answered so far.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

fn listen() -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    socket.listen(BACKLOG)
}

/// Accepts connections for as long as the server's runtime lives, one task
/// per connection.
async fn serve(
    listener: TcpListener,
    latency: Duration,
    answer: Answer,
    answered: Arc<AtomicUsize>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // An error ends this connection only: the client sees it closed.
                let (answer, answered) = (Arc::clone(&answer), Arc::clone(&answered));
                tokio::spawn(reply(stream, latency, answer, answered));
            }
            // Out of descriptors, or a connection reset before it was
            // accepted: the pending clients can wait a moment, as a real
            // server makes them wait (they give up after their own timeout).
            Err(_) => sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Answers every line, `latency` after it arrived, until the client closes
/// the connection.
async fn reply(
    stream: TcpStream,
    latency: Duration,
    answer: Answer,
    answered: Arc<AtomicUsize>,
) -> io::Result<()> {
    let mut stream = BufReader::with_capacity(LINE_BUFFER, stream);
    let mut line = Vec::new();
    while stream.read_until(b'\n', &mut line).await? > 0 {
        sleep(latency).await;
        let reply = answer(&line);
        // Counted before it is sent, so that a client that has its answer
        // finds it counted.
        answered.fetch_add(1, Ordering::SeqCst);
        stream.write_all(&reply).await?;
        line.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    #[test]
    fn a_connection_carries_many_lines_each_after_the_latency() {
        let server = LoopbackServer::start(Duration::from_millis(50)).unwrap();
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        let start = std::time::Instant::now();
        for word in ["one\n", "two\n", "six\n"] {
            stream.write_all(word.as_bytes()).unwrap();
            let mut answer = [0; 4];
            stream.read_exact(&mut answer).unwrap();
            assert_eq!(&answer, word.as_bytes());
        }
        // A lower bound only: the server must not answer before its latency.
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert_eq!(server.answered(), 3);
    }

    #[test]
    fn an_answering_server_sends_what_its_function_returns_for_each_line() {
        let server = LoopbackServer::answering(Duration::from_millis(1), |line: &[u8]| {
            format!("{} bytes\n", line.len()).into_bytes()
        })
        .unwrap();
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        // Two lines in one write, then a last one without its newline.
        stream.write_all(b"a\nbcd\nef").unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answers = String::new();
        stream.read_to_string(&mut answers).unwrap();
        assert_eq!(answers, "2 bytes\n4 bytes\n2 bytes\n");
        assert_eq!(server.answered(), 3);
    }

    #[test]
    fn dropping_the_server_closes_its_port_and_its_connections() {
        let server = LoopbackServer::start(Duration::from_millis(1)).unwrap();
        let addr = server.addr();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let mut open = TcpStream::connect(addr).unwrap();
        drop(server);
        // The connection is closed from the server's side: end of stream.
        let mut rest = Vec::new();
        assert_eq!(open.read_to_end(&mut rest).unwrap_or(0), 0);
        let refused = TcpStream::connect(addr).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    }
}
