//! "Async IO shines for IO-bound work such as network IO", measured: N
//! clients each send one request to a [`LoopbackServer`] that answers after
//! 100 ms, a stand-in for the latency of a real network. The clients run once
//! as N tokio tasks on one thread ([`tasks`]), once as N OS threads making
//! blocking `std::net` calls ([`threads`]). [`compare`] times both and
//! measures their peak memory.
//!
//! Both kinds of client spend nearly all their time waiting for the answer. A
//! waiting task is a small struct in the runtime's memory; a waiting thread
//! is a thread, with its stack, its kernel bookkeeping and its memory maps.
//!
//! Before it starts, [`compare`] makes sure both parts fit in the process's
//! limits, and runs fewer clients, saying which limit and why, rather than
//! fail half-way:
//!
//! - Open files (`RLIMIT_NOFILE`): with the server in the same process, each
//!   loopback connection costs two descriptors, the client's and the server's.
//!   If the soft limit is too low, it is raised to the hard limit first, as Go
//!   does for every program and as systemd advises for programs that need many
//!   descriptors (the low soft limit only protects old `select()` code, which
//!   tokio does not use). Past the hard limit only an administrator can help.
//! - Local ports (`net.ipv4.ip_local_port_range`): every client connected to
//!   the server holds one; each part has a server, and so a port, of its own.
//! - Memory maps (`vm.max_map_count`): each thread takes about four, and a
//!   Rust process that runs out aborts at once, with no `Err` from
//!   `thread::Builder::spawn` first. The thread clients stay well below that.
//!
//! ```
//! use asyncio_rs::demos::network;
//!
//! let comparison = network::compare(20).unwrap();
//! assert_eq!(comparison.tasks.answered, 20);
//! assert_eq!(comparison.threads.answered, 20);
//! println!("{comparison}"); // the table
//! ```

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::loopback::LoopbackServer;
use crate::runtime::Runtime;

/// How long the server waits before it answers: the network's latency.
pub const LATENCY: Duration = Duration::from_millis(100);

/// How long a client waits for its answer before it gives up, so that a
/// server that cannot keep up shows as an error, not a hang.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Descriptors per client: with the server in the same process, a loopback
/// connection has both of its ends here.
const FDS_PER_CLIENT: u64 = 2;

/// Descriptors kept free for everything else the process opens meanwhile
/// (`/proc` files, the runtimes' own descriptors, the notebook's kernel).
const FDS_KEPT_FREE: u64 = 64;

/// Local ports kept free for other programs' connections and for ports that
/// sockets hold by `bind`.
const PORTS_KEPT_FREE: u64 = 1_000;

/// Memory maps budgeted per thread: a thread takes 4 (its stack and the
/// signal stack, each with a guard page; measured here), and the budget
/// leaves half as much again for anything else the process maps meanwhile.
/// With the usual `vm.max_map_count` of 65,530 that allows about 10,800
/// threads, well below the 16,300 at which the process aborts.
const MAPS_PER_THREAD: u64 = 6;

/// One client's request, as a tokio task: connect, send a line, wait for the
/// server to send it back, and check that it did.
///
/// ```
/// use asyncio_rs::{demos::network, loopback::LoopbackServer, runtime::Runtime};
///
/// let server = LoopbackServer::start(network::LATENCY).unwrap();
/// let rt = Runtime::new().unwrap();
/// let addr = server.addr();
/// rt.run(network::ask(addr, 1)).unwrap();
/// assert_eq!(server.answered(), 1);
/// ```
pub async fn ask(addr: SocketAddr, id: usize) -> io::Result<()> {
    let request = format!("request {id}\n");
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = vec![0; request.len()];
    stream.read_exact(&mut answer).await?;
    check(&request, &answer)
}

/// The same request with blocking calls, for a client that is a thread.
///
/// ```
/// use asyncio_rs::{demos::network, loopback::LoopbackServer};
///
/// let server = LoopbackServer::start(network::LATENCY).unwrap();
/// network::ask_blocking(server.addr(), 1).unwrap();
/// assert_eq!(server.answered(), 1);
/// ```
pub fn ask_blocking(addr: SocketAddr, id: usize) -> io::Result<()> {
    let request = format!("request {id}\n");
    let mut stream = std::net::TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = vec![0; request.len()];
    stream.read_exact(&mut answer)?;
    check(&request, &answer)
}

fn check(request: &str, answer: &[u8]) -> io::Result<()> {
    if answer == request.as_bytes() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "sent {request:?}, got {:?} back",
                String::from_utf8_lossy(answer)
            ),
        ))
    }
}

/// Runs `clients` concurrent [`ask`]s as tokio tasks and returns how many
/// were answered correctly: all of them, or the first error.
///
/// ```
/// use asyncio_rs::{demos::network, loopback::LoopbackServer, runtime::Runtime};
///
/// let server = LoopbackServer::start(network::LATENCY).unwrap();
/// let addr = server.addr();
/// let answered = Runtime::new().unwrap().run(network::tasks(addr, 10)).unwrap();
/// assert_eq!(answered, 10);
/// ```
pub async fn tasks(addr: SocketAddr, clients: usize) -> io::Result<usize> {
    let mut running = JoinSet::new();
    for id in 0..clients {
        running.spawn(timeout(TIMEOUT, ask(addr, id)));
    }
    let mut answered = 0;
    while let Some(joined) = running.join_next().await {
        joined
            .map_err(io::Error::other)?
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))??;
        answered += 1;
    }
    Ok(answered)
}

/// Runs `clients` concurrent [`ask_blocking`]s, one OS thread each, and
/// returns how many were answered correctly: all of them, or the first
/// error. If the system refuses a thread, the threads already started are
/// joined before the error is returned.
///
/// ```
/// use asyncio_rs::{demos::network, loopback::LoopbackServer};
///
/// let server = LoopbackServer::start(network::LATENCY).unwrap();
/// assert_eq!(network::threads(server.addr(), 10).unwrap(), 10);
/// ```
pub fn threads(addr: SocketAddr, clients: usize) -> io::Result<usize> {
    let mut running = Vec::with_capacity(clients);
    let mut refused = None;
    for id in 0..clients {
        match thread::Builder::new().spawn(move || ask_blocking(addr, id)) {
            Ok(handle) => running.push(handle),
            Err(error) => {
                refused = Some(io::Error::new(
                    error.kind(),
                    format!("the system refused thread {}: {error}", id + 1),
                ));
                break;
            }
        }
    }
    let mut answers = Vec::with_capacity(running.len());
    for handle in running {
        answers.push(
            handle
                .join()
                .map_err(|_| io::Error::other("a client thread panicked"))?,
        );
    }
    if let Some(error) = refused {
        return Err(error);
    }
    answers
        .into_iter()
        .try_fold(0, |answered, answer| answer.map(|()| answered + 1))
}

/// What stopped a part from running every client it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// The open-file limit (`RLIMIT_NOFILE`), with `open` descriptors
    /// already in use.
    OpenFiles { limit: u64, open: u64 },
    /// `vm.max_map_count`, with `in_use` maps already taken.
    MemoryMaps { max: u64, in_use: u64 },
    /// The range of local ports for outgoing connections
    /// (`net.ipv4.ip_local_port_range`): a client connected to the server
    /// holds one.
    LocalPorts { low: u64, high: u64 },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Limit::OpenFiles { limit, open } => write!(
                f,
                "the open-file limit (RLIMIT_NOFILE) is {}, {} are open, each client needs {} \
                 and {} are kept free",
                thousands(limit),
                thousands(open),
                FDS_PER_CLIENT,
                FDS_KEPT_FREE
            ),
            Limit::MemoryMaps { max, in_use } => write!(
                f,
                "vm.max_map_count is {}, {} maps are in use, and {} are budgeted per thread \
                 (a process that runs out aborts)",
                thousands(max),
                thousands(in_use),
                MAPS_PER_THREAD
            ),
            Limit::LocalPorts { low, high } => write!(
                f,
                "the local ports for connections (net.ipv4.ip_local_port_range) are {low} to \
                 {high}, each client holds one and {} are kept free",
                thousands(PORTS_KEPT_FREE)
            ),
        }
    }
}

/// How many clients fit in an open-file limit with `open` descriptors in use.
///
/// ```
/// use asyncio_rs::demos::network::clients_within_open_files;
///
/// // 2 descriptors per client, 64 kept free.
/// assert_eq!(clients_within_open_files(1_024, 10), 475);
/// assert_eq!(clients_within_open_files(50, 10), 0);
/// ```
pub fn clients_within_open_files(limit: u64, open: u64) -> usize {
    let free = limit.saturating_sub(open).saturating_sub(FDS_KEPT_FREE);
    usize::try_from(free / FDS_PER_CLIENT).unwrap_or(usize::MAX)
}

/// How many clients can be connected to one server address at once, with
/// local ports `low` to `high`.
///
/// ```
/// use asyncio_rs::demos::network::clients_within_local_ports;
///
/// // Linux's default range; 1,000 ports kept free.
/// assert_eq!(clients_within_local_ports(32_768, 60_999), 27_232);
/// ```
pub fn clients_within_local_ports(low: u64, high: u64) -> usize {
    let ports = (high + 1).saturating_sub(low);
    usize::try_from(ports.saturating_sub(PORTS_KEPT_FREE)).unwrap_or(usize::MAX)
}

/// How many more threads stay well clear of `vm.max_map_count`, with
/// `in_use` maps taken.
///
/// ```
/// use asyncio_rs::demos::network::threads_within_memory_maps;
///
/// // 6 maps budgeted per thread.
/// assert_eq!(threads_within_memory_maps(65_530, 1_000), 10_755);
/// ```
pub fn threads_within_memory_maps(max: u64, in_use: u64) -> usize {
    usize::try_from(max.saturating_sub(in_use) / MAPS_PER_THREAD).unwrap_or(usize::MAX)
}

/// The soft limit a process that wants room for `clients` should set, if
/// any: the hard limit, when the soft one is too low, it is lower than the
/// hard one, and `open` descriptors are in use.
///
/// ```
/// use asyncio_rs::demos::network::raised_open_file_limit;
///
/// // systemd's defaults: soft 1,024, hard 524,288.
/// assert_eq!(raised_open_file_limit(1_024, 524_288, 10, 10_000), Some(524_288));
/// assert_eq!(raised_open_file_limit(1_024, 524_288, 10, 100), None);
/// ```
pub fn raised_open_file_limit(soft: u64, hard: u64, open: u64, clients: usize) -> Option<u64> {
    (clients_within_open_files(soft, open) < clients && soft < hard).then_some(hard)
}

/// How one kind of client did.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// How many clients were asked for.
    pub requested: usize,
    /// How many ran: fewer than requested when `limit` stopped the rest.
    pub clients: usize,
    /// How many requests were answered correctly.
    pub answered: usize,
    /// Wall time from the first client's start to the last answer.
    pub elapsed: Duration,
    /// The process's resident memory when the part started, in bytes.
    pub start_rss: u64,
    /// The highest resident memory during the part (`VmHWM`, reset at its
    /// start), in bytes.
    pub peak_rss: u64,
    /// The limit that kept `clients` below `requested`, if one did.
    pub limit: Option<Limit>,
}

impl Part {
    /// Answered requests per second.
    pub fn requests_per_second(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64()
    }
}

/// Both parts of the demo, side by side. Prints as a table; under evcxr a
/// cell that ends with it shows the same table.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The clients as tokio tasks on one thread.
    pub tasks: Part,
    /// The clients as OS threads.
    pub threads: Part,
    /// The soft open-file limit before and after, if [`compare`] raised it.
    pub raised_open_files: Option<(u64, u64)>,
}

impl Comparison {
    /// evcxr's display protocol: the table as `text/plain`.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} clients, one request each, answered after {} ms by a server on 127.0.0.1",
            thousands(self.tasks.requested as u64),
            LATENCY.as_millis()
        )?;
        writeln!(f)?;
        write!(
            f,
            "{:<12} {:>8} {:>9} {:>8} {:>11} {:>10} {:>12}",
            "clients as", "clients", "requests", "seconds", "requests/s", "peak RSS", "above start"
        )?;
        let rows = [("tokio tasks", &self.tasks), ("OS threads", &self.threads)];
        for (name, part) in rows {
            write!(
                f,
                "\n{:<12} {:>8} {:>9} {:>8.2} {:>11} {:>10} {:>12}",
                name,
                thousands(part.clients as u64),
                thousands(part.answered as u64),
                part.elapsed.as_secs_f64(),
                thousands(part.requests_per_second().round() as u64),
                mebibytes(part.peak_rss),
                mebibytes(part.peak_rss.saturating_sub(part.start_rss)),
            )?;
        }
        let caps = rows.iter().filter_map(|(name, part)| {
            let limit = part.limit.as_ref()?;
            Some(format!(
                "{name}: {} of {} clients ran, because {limit}.",
                thousands(part.clients as u64),
                thousands(part.requested as u64)
            ))
        });
        let raise = self.raised_open_files.map(|(before, after)| {
            format!(
                "The soft open-file limit was raised from {} to the hard limit, {}.",
                thousands(before),
                thousands(after)
            )
        });
        let notes: Vec<String> = caps.chain(raise).collect();
        if !notes.is_empty() {
            writeln!(f)?;
        }
        for note in notes {
            write!(f, "\n{note}")?;
        }
        Ok(())
    }
}

/// Runs the demo: `clients` tokio tasks, then `clients` OS threads, each
/// client sending one request to a [`LoopbackServer`]; each part has a
/// server of its own, stopped when the part ends. Each part runs as many clients as the
/// process's limits allow (see the module's documentation), and says so
/// when that is fewer.
///
/// # Errors
///
/// `clients` of 0; a `/proc` file that cannot be read (this runs on Linux);
/// a client that fails or gets no answer in 30 s.
pub fn compare(clients: usize) -> io::Result<Comparison> {
    if clients == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "compare needs at least one client",
        ));
    }
    let raised_open_files = raise_open_file_limit(clients)?;
    let rt = Runtime::new()?;
    // A server for each part: a port of its own, so that no connection of
    // the first part is in the way of the second, and memory of its own.
    let tasks = {
        let server = LoopbackServer::start(LATENCY)?;
        let addr = server.addr();
        let (fit, limit) = tightest([open_file_room()?, local_port_room()?]);
        measure(clients, fit, limit, |n| rt.run(tasks(addr, n)))?
    };
    let threads = {
        let server = LoopbackServer::start(LATENCY)?;
        let addr = server.addr();
        let rooms = [open_file_room()?, local_port_room()?, memory_map_room()?];
        let (fit, limit) = tightest(rooms);
        measure(clients, fit, limit, |n| threads(addr, n))?
    };
    Ok(Comparison {
        tasks,
        threads,
        raised_open_files,
    })
}

/// Runs `run` with as many clients as fit, and measures it.
fn measure(
    requested: usize,
    fit: usize,
    limit: Limit,
    run: impl FnOnce(usize) -> io::Result<usize>,
) -> io::Result<Part> {
    let clients = requested.min(fit);
    reset_peak_rss()?;
    let start_rss = status_bytes("VmRSS")?;
    let start = Instant::now();
    let answered = run(clients)?;
    let elapsed = start.elapsed();
    Ok(Part {
        requested,
        clients,
        answered,
        elapsed,
        start_rss,
        peak_rss: status_bytes("VmHWM")?,
        limit: (clients < requested).then_some(limit),
    })
}

/// Raises the soft open-file limit to the hard one if `clients` need more
/// than the soft one allows; returns the old and new soft limits if it did.
fn raise_open_file_limit(clients: usize) -> io::Result<Option<(u64, u64)>> {
    let (soft, hard) = open_file_limit()?;
    let Some(raised) = raised_open_file_limit(soft, hard, open_descriptors()?, clients) else {
        return Ok(None);
    };
    let limit = libc::rlimit {
        rlim_cur: raised,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Some((soft, raised)))
}

/// The soft and hard open-file limits (`RLIMIT_NOFILE`).
fn open_file_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// The limit that allows the fewest clients, and how many it allows.
fn tightest<const N: usize>(rooms: [(usize, Limit); N]) -> (usize, Limit) {
    rooms
        .into_iter()
        .min_by_key(|(fit, _)| *fit)
        .expect("at least one limit")
}

/// How many clients fit in the open-file limit now, and that limit.
fn open_file_room() -> io::Result<(usize, Limit)> {
    let (soft, _) = open_file_limit()?;
    let open = open_descriptors()?;
    let limit = Limit::OpenFiles { limit: soft, open };
    Ok((clients_within_open_files(soft, open), limit))
}

/// How many descriptors this process has open (the entries of
/// `/proc/self/fd`).
fn open_descriptors() -> io::Result<u64> {
    Ok(fs::read_dir("/proc/self/fd")?.count() as u64)
}

/// How many client threads fit under `vm.max_map_count`, given the maps
/// this process has now (`/proc/self/maps`), and that limit.
fn memory_map_room() -> io::Result<(usize, Limit)> {
    let max = read_numbers("/proc/sys/vm/max_map_count")?[0];
    let in_use = fs::read_to_string("/proc/self/maps")?.lines().count() as u64;
    let limit = Limit::MemoryMaps { max, in_use };
    Ok((threads_within_memory_maps(max, in_use), limit))
}

/// How many clients can connect to one server at once: one local port each,
/// from `net.ipv4.ip_local_port_range`.
fn local_port_room() -> io::Result<(usize, Limit)> {
    let range = read_numbers("/proc/sys/net/ipv4/ip_local_port_range")?;
    let &[low, high] = range.as_slice() else {
        return Err(io::Error::other("ip_local_port_range is not two numbers"));
    };
    let limit = Limit::LocalPorts { low, high };
    Ok((clients_within_local_ports(low, high), limit))
}

/// The whitespace-separated numbers of a `/proc/sys` file.
fn read_numbers(path: &str) -> io::Result<Vec<u64>> {
    fs::read_to_string(path)?
        .split_whitespace()
        .map(|number| number.parse().map_err(io::Error::other))
        .collect()
}

/// Resets the process's peak resident memory (`VmHWM`) to its current
/// resident memory: Linux does that when "5" is written to
/// `/proc/self/clear_refs`.
fn reset_peak_rss() -> io::Result<()> {
    fs::write("/proc/self/clear_refs", "5").map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot reset the peak memory through /proc/self/clear_refs: {error}"),
        )
    })
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix(" kB")?.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| io::Error::other(format!("no {field} in /proc/self/status")))
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Bytes as mebibytes with one decimal.
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_clients_as_tasks_and_as_threads_all_get_their_answers() {
        let server = LoopbackServer::start(LATENCY).unwrap();
        let addr = server.addr();
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.run(tasks(addr, 50)).unwrap(), 50);
        assert_eq!(threads(addr, 50).unwrap(), 50);
        // Every request reached the server once.
        assert_eq!(server.answered(), 100);
    }

    #[test]
    fn compare_runs_both_parts_and_counts_every_request() {
        let comparison = compare(50).unwrap();
        for part in [&comparison.tasks, &comparison.threads] {
            assert_eq!((part.requested, part.clients, part.answered), (50, 50, 50));
            assert_eq!(part.limit, None);
            assert!(
                part.elapsed >= LATENCY,
                "no answer comes before the latency"
            );
            assert!(part.peak_rss >= part.start_rss && part.start_rss > 0);
        }
        let table = comparison.to_string();
        assert!(
            table.contains("\ntokio tasks        50        50 "),
            "{table}"
        );
        assert!(
            table.contains("\nOS threads         50        50 "),
            "{table}"
        );
    }

    #[test]
    fn no_clients_is_an_error() {
        let error = compare(0).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_wrong_answer_is_an_error() {
        let error = check("request 1\n", b"request 2\n").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            error.to_string(),
            r#"sent "request 1\n", got "request 2\n" back"#
        );
    }

    #[test]
    fn a_client_without_a_server_fails_instead_of_hanging() {
        let addr = LoopbackServer::start(LATENCY).unwrap().addr(); // dropped: closed
        let rt = Runtime::new().unwrap();
        assert!(rt.run(tasks(addr, 3)).is_err());
        assert!(threads(addr, 3).is_err());
    }

    #[test]
    fn open_file_room_with_fake_limits() {
        // 10,000 clients need 20,000 descriptors, plus those in use and the
        // reserve: a hard limit of 20,000, as here, is not enough.
        assert_eq!(clients_within_open_files(20_000, 25), 9_955);
        assert_eq!(clients_within_open_files(1_024, 1_024), 0);
        assert_eq!(clients_within_open_files(0, 5), 0);
        assert_eq!(
            clients_within_open_files(u64::MAX, 0),
            usize::try_from((u64::MAX - FDS_KEPT_FREE) / 2).unwrap()
        );
    }

    #[test]
    fn the_soft_limit_is_raised_only_when_needed_and_possible() {
        // Enough room already: leave it alone.
        assert_eq!(raised_open_file_limit(20_000, 20_000, 25, 1_000), None);
        // Too low, and the hard limit is higher: raise to the hard limit,
        // even if that is still not enough (the part is then capped).
        assert_eq!(
            raised_open_file_limit(1_024, 4_096, 25, 10_000),
            Some(4_096)
        );
        // Too low, and the hard limit is the soft one: nothing to raise.
        assert_eq!(raised_open_file_limit(20_000, 20_000, 25, 10_000), None);
    }

    #[test]
    fn thread_room_with_fake_map_counts() {
        assert_eq!(threads_within_memory_maps(65_530, 0), 10_921);
        assert_eq!(threads_within_memory_maps(65_530, 65_530), 0);
        assert_eq!(threads_within_memory_maps(100, 500), 0);
        // Well below the abort at about 4 maps per thread.
        assert!(threads_within_memory_maps(65_530, 0) * 4 < 65_530 * 3 / 4);
    }

    fn part(clients: usize, limit: Option<Limit>) -> Part {
        Part {
            requested: 10_000,
            clients,
            answered: clients,
            elapsed: Duration::from_millis(500),
            start_rss: 10 * 1024 * 1024,
            peak_rss: 42 * 1024 * 1024 + 512 * 1024,
            limit,
        }
    }

    #[test]
    fn the_table_names_the_limits_that_capped_a_part() {
        let comparison = Comparison {
            tasks: part(10_000, None),
            threads: part(
                9_000,
                Some(Limit::MemoryMaps {
                    max: 65_530,
                    in_use: 11_530,
                }),
            ),
            raised_open_files: Some((1_024, 524_288)),
        };
        assert_eq!(
            comparison.to_string(),
            "\
10,000 clients, one request each, answered after 100 ms by a server on 127.0.0.1

clients as    clients  requests  seconds  requests/s   peak RSS  above start
tokio tasks    10,000    10,000     0.50      20,000   42.5 MiB     32.5 MiB
OS threads      9,000     9,000     0.50      18,000   42.5 MiB     32.5 MiB

OS threads: 9,000 of 10,000 clients ran, because vm.max_map_count is 65,530, 11,530 maps \
are in use, and 6 are budgeted per thread (a process that runs out aborts).
The soft open-file limit was raised from 1,024 to the hard limit, 524,288."
        );
    }

    #[test]
    fn the_tightest_limit_wins() {
        let files = Limit::OpenFiles {
            limit: 20_000,
            open: 25,
        };
        let ports = Limit::LocalPorts {
            low: 32_768,
            high: 60_999,
        };
        let rooms = [(9_955, files.clone()), (27_232, ports.clone())];
        assert_eq!(tightest(rooms), (9_955, files));
        assert_eq!(tightest([(5, ports.clone())]), (5, ports));
    }

    #[test]
    fn local_port_room_with_fake_ranges() {
        assert_eq!(clients_within_local_ports(32_768, 60_999), 27_232);
        assert_eq!(clients_within_local_ports(1_024, 65_535), 63_512);
        assert_eq!(clients_within_local_ports(60_000, 60_500), 0);
        assert_eq!(clients_within_local_ports(61_000, 60_000), 0);
        let limit = Limit::LocalPorts {
            low: 32_768,
            high: 60_999,
        };
        assert_eq!(
            limit.to_string(),
            "the local ports for connections (net.ipv4.ip_local_port_range) are 32768 to 60999, \
             each client holds one and 1,000 are kept free"
        );
    }

    #[test]
    fn an_open_file_limit_reads_as_a_reason() {
        let limit = Limit::OpenFiles {
            limit: 20_000,
            open: 25,
        };
        assert_eq!(
            limit.to_string(),
            "the open-file limit (RLIMIT_NOFILE) is 20,000, 25 are open, each client needs 2 \
             and 64 are kept free"
        );
    }

    #[test]
    fn the_proc_readers_read_this_process() {
        assert!(status_bytes("VmRSS").unwrap() > 0);
        reset_peak_rss().unwrap();
        assert!(status_bytes("VmHWM").unwrap() > 0);
        assert!(open_descriptors().unwrap() >= 3);
        let (_, maps) = memory_map_room().unwrap();
        assert!(matches!(maps, Limit::MemoryMaps { max, in_use } if max > 0 && in_use > 0));
        let (ports_fit, _) = local_port_room().unwrap();
        assert!(ports_fit > 0);
        let (soft, hard) = open_file_limit().unwrap();
        assert!(soft <= hard);
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(65_530), "65,530");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
