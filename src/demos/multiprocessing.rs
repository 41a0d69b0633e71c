//! The pieces of the "Mixing multiprocessing and async IO" section: a job
//! that waits on the network and then works the CPU, as the original's
//! `aiomultiprocess` example fetched pages.
//!
//! [`slow_server`] starts a loopback server that answers each request after a
//! delay (the waiting), [`fetch`] asks it, and [`digest`] hashes the answer
//! over and over (the CPU work). [`kill`] is `kill -9`, for the cell that
//! kills a worker. The notebook defines its own async function
//! from them and maps it over a [`crate::pool::Pool`]; the
//! `asyncio_multiprocessing` example times [`digest`] alone, against
//! aiomultiprocess running `examples/asyncio_multiprocessing.py`.
//!
//! ```
//! use asyncio_rs::demos::multiprocessing::{digest, fetch, slow_server};
//! use asyncio_rs::runtime::Runtime;
//! use std::time::Duration;
//!
//! let rt = Runtime::new().unwrap();
//! let address = rt.run(slow_server(Duration::from_millis(10))).unwrap();
//! let answer = rt.run(async move { fetch(address, 7).await }).unwrap();
//! assert_eq!(answer.len(), 64 * 1024);
//! assert_eq!(digest(&answer, 1).len(), 64);
//! ```

use sha2::{Digest, Sha256};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many bytes each answer has.
pub const ANSWER_BYTES: usize = 64 * 1024;

/// The answer to request `n`: 64 KiB that depend on `n`. Python computes the
/// same bytes (`examples/asyncio_multiprocessing.py`).
pub fn answer(n: u32) -> Vec<u8> {
    (0..ANSWER_BYTES as u64)
        .map(|i| ((i * 31 + u64::from(n)) % 251) as u8)
        .collect()
}

/// Starts a server on 127.0.0.1 that reads a request number (4 bytes) and,
/// after `delay`, answers with [`answer`]. It runs as a task on the current
/// runtime (call it inside `rt.run`) until that runtime stops, and serves any
/// number of clients at once.
pub async fn slow_server(delay: Duration) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0; 4];
                if client.read_exact(&mut request).await.is_ok() {
                    tokio::time::sleep(delay).await;
                    let _ = client.write_all(&answer(u32::from_le_bytes(request))).await;
                }
            });
        }
    });
    Ok(address)
}

/// Asks the server at `address` for answer `n` and waits for all of it.
pub async fn fetch(address: SocketAddr, n: u32) -> io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(address).await?;
    server.write_all(&n.to_le_bytes()).await?;
    let mut answer = Vec::with_capacity(ANSWER_BYTES);
    server.read_to_end(&mut answer).await?;
    Ok(answer)
}

/// Sends `SIGKILL` to process `pid`, as `kill -9 pid` in a terminal would: the
/// notebook kills a pool worker with it to show what the pool does then.
pub fn kill(pid: u32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("not a process id"))?;
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
    fn the_server_answers_after_its_delay() {
        let rt = crate::runtime::Runtime::new().unwrap();
        let address = rt.run(slow_server(Duration::from_millis(50))).unwrap();
        let (first, second) =
            rt.run(async move { tokio::join!(fetch(address, 1), fetch(address, 2)) });
        assert_eq!(first.unwrap(), answer(1));
        assert_eq!(second.unwrap(), answer(2));
    }
}
