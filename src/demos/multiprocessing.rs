//! The pieces of the "Mixing multiprocessing and async IO" section: a job
//! that waits on the network and then works the CPU, as the original's
//! `aiomultiprocess` example fetched pages.
//!
//! A [`LoopbackServer`](crate::loopback::LoopbackServer) that answers with
//! [`reply`] stands in for the network: after its delay (the waiting) it
//! answers the request line `"n\n"` with [`answer`]`(n)`, 64 KiB. [`fetch`]
//! asks it, and [`digest`] hashes the answer over and over (the CPU work).
//! [`kill`] is `kill -9`, for the cell that kills a worker. The notebook
//! defines its own async function from them and maps it over a
//! [`crate::pool::Pool`], whose worker processes connect to the server in the
//! kernel's process over TCP; the `asyncio_multiprocessing` example times
//! [`digest`] alone, against aiomultiprocess running
//! `examples/asyncio_multiprocessing.py`.
//!
//! ```
//! use asyncio_rs::demos::multiprocessing::{digest, fetch, reply};
//! use asyncio_rs::loopback::LoopbackServer;
//! use asyncio_rs::runtime::Runtime;
//! use std::time::Duration;
//!
//! let server = LoopbackServer::answering(Duration::from_millis(10), reply).unwrap();
//! let rt = Runtime::new().unwrap();
//! let answer = rt.run(fetch(server.addr(), 7)).unwrap();
//! assert_eq!(answer.len(), 64 * 1024);
//! assert_eq!(digest(&answer, 1).len(), 64);
//! ```

use sha2::{Digest, Sha256};
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many bytes each answer has.
pub const ANSWER_BYTES: usize = 64 * 1024;

/// The answer to request `n`: 64 KiB that depend on `n`. Python computes the
/// same bytes (`examples/asyncio_multiprocessing.py`).
pub fn answer(n: u32) -> Vec<u8> {
    (0..ANSWER_BYTES as u64)
        .map(|i| ((i * 31 + u64::from(n)) % 251) as u8)
        .collect()
}

/// What the server answers to a request line: [`answer`]`(n)` to `"n\n"`,
/// and to a line that is not a request number a line that says so (which
/// [`fetch`] reports as an error). Give it to
/// [`LoopbackServer::answering`](crate::loopback::LoopbackServer::answering).
///
/// ```
/// use asyncio_rs::demos::multiprocessing::{answer, reply};
///
/// assert_eq!(reply(b"7\n"), answer(7));
/// assert_eq!(reply(b"seven\n"), b"not a request number: \"seven\"\n");
/// ```
pub fn reply(request: &[u8]) -> Vec<u8> {
    let line = String::from_utf8_lossy(request);
    let line = line.trim_end_matches(['\r', '\n']);
    match line.parse() {
        Ok(n) => answer(n),
        Err(_) => format!("not a request number: {line:?}\n").into_bytes(),
    }
}

/// Asks the server at `address` (a `LoopbackServer` answering with
/// [`reply`]) for answer `n`, on a connection of its own, and waits for all
/// of it. An answer that is not [`ANSWER_BYTES`] long is an `InvalidData`
/// error that quotes its start.
pub async fn fetch(address: SocketAddr, n: u32) -> io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(address).await?;
    server.write_all(format!("{n}\n").as_bytes()).await?;
    // One request per connection: once it has answered, the server finds no
    // more requests and closes the connection, which ends the answer.
    server.shutdown().await?;
    let mut answer = Vec::with_capacity(ANSWER_BYTES);
    server.read_to_end(&mut answer).await?;
    if answer.len() != ANSWER_BYTES {
        let start = String::from_utf8_lossy(&answer[..answer.len().min(80)]).into_owned();
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the server at {address} answered request {n} with {} bytes, not {ANSWER_BYTES}: {start:?}",
                answer.len()
            ),
        ));
    }
    Ok(answer)
}

/// Sends `SIGKILL` to process `pid`, as `kill -9 pid` in a terminal would: the
/// notebook kills a pool worker with it to show what the pool does then.
pub fn kill(pid: u32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("not a process id"))?;
    // SAFETY: kill takes no memory of ours. Which process gets the signal
    // is the caller's choice, as with `kill -9`: a pid the reader took from
    // `pool.workers()` moments before, a live worker of the pool.
    if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// CPU work: hashes `data` with SHA-256 `rounds` times, each round writing
/// the digest over the first 32 bytes (fewer if `data` is shorter), and
/// returns the last digest in hex.
/// About 40 µs a round for 64 KiB with the CPU's SHA instructions.
pub fn digest(data: &[u8], rounds: u32) -> String {
    let mut buffer = data.to_vec();
    let mut digest = Sha256::digest(&buffer);
    let head = buffer.len().min(32);
    for _ in 1..rounds {
        buffer[..head].copy_from_slice(&digest[..head]);
        digest = Sha256::digest(&buffer);
    }
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::LoopbackServer;
    use std::io::{Read, Write};
    use std::time::Duration;

    /// What `examples/asyncio_multiprocessing.py` computes, from CPython.
    fn cpython_digest(n: u32, rounds: u32) -> String {
        let script = format!(
            "import hashlib\n\
             buffer = bytearray((i * 31 + {n}) % 251 for i in range(64 * 1024))\n\
             last = hashlib.sha256(buffer).digest()\n\
             for _ in range(1, {rounds}):\n    buffer[:32] = last\n    last = hashlib.sha256(buffer).digest()\n\
             print(last.hex())"
        );
        let output = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .expect("python3 is needed for the reference digests");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn digests_match_cpython() {
        for (n, rounds) in [(0, 1), (3, 2), (15, 25)] {
            assert_eq!(
                digest(&answer(n), rounds),
                cpython_digest(n, rounds),
                "n={n} rounds={rounds}"
            );
        }
    }

    #[test]
    fn short_data_is_hashed_too() {
        assert_eq!(
            digest(b"abc", 1),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digest(b"abc", 3).len(), 64);
    }

    #[test]
    fn the_server_answers_each_request_after_its_delay() {
        let server = LoopbackServer::answering(Duration::from_millis(50), reply).unwrap();
        let address = server.addr();
        let rt = crate::runtime::Runtime::new().unwrap();
        let start = std::time::Instant::now();
        let (first, second) =
            rt.run(async move { tokio::join!(fetch(address, 1), fetch(address, 2)) });
        // A lower bound only: the server must not answer before its delay.
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(first.unwrap(), answer(1));
        assert_eq!(second.unwrap(), answer(2));
        assert_eq!(server.answered(), 2);
    }

    #[test]
    fn a_wrong_answer_or_no_server_is_a_clear_error() {
        let rt = crate::runtime::Runtime::new().unwrap();
        // An echo server answers "7\n": two bytes.
        let echo = LoopbackServer::start(Duration::ZERO).unwrap();
        let error = rt.run(fetch(echo.addr(), 7)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            error.to_string(),
            format!(
                "the server at {} answered request 7 with 2 bytes, not 65536: \"7\\n\"",
                echo.addr()
            )
        );
        let address = LoopbackServer::answering(Duration::ZERO, reply)
            .unwrap()
            .addr(); // dropped: closed
        let error = rt.run(fetch(address, 7)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn a_bad_request_is_answered_with_a_line_that_says_so() {
        let server = LoopbackServer::answering(Duration::ZERO, reply).unwrap();
        let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
        stream.write_all(b"-1\n12x\n").unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answers = String::new();
        stream.read_to_string(&mut answers).unwrap();
        assert_eq!(
            answers,
            "not a request number: \"-1\"\nnot a request number: \"12x\"\n"
        );
    }
}
