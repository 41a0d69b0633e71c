//! "Async IO shines for IO-bound work such as network IO", measured: N
//! clients each send one request to a [`LoopbackServer`] that answers after
//! 100 ms, a stand-in for the latency of a real network. The clients run once
//! as N tokio tasks on one thread ([`tasks`]), once as N OS threads making
//! blocking `std::net` calls ([`threads()`]). [`compare`] times both and
//! measures their peak memory.
//!
//! Both kinds of client spend nearly all their time waiting for the answer. A
//! waiting task is a small struct in the runtime's memory; a waiting thread
//! is a thread, with its stack, its kernel bookkeeping and its memory maps.
//!
//! Before it starts, [`compare`] makes sure both parts fit in the process's
//! limits ([`crate::limits`]), and runs fewer clients, saying which limit and
//! why, rather than fail half-way:
//!
//! - Open files (`RLIMIT_NOFILE`): with the server in the same process, each
//!   loopback connection costs two descriptors, the client's and the server's.
//!   If the soft limit is too low, it is raised to the hard limit first
//!   ([`limits::raise_open_file_limit`]). Past the hard limit only an
//!   administrator can help.
//! - Local ports (`net.ipv4.ip_local_port_range`): every client connected to
//!   the server holds one; each part has a server, and so a port, of its own.
//! - For the threads, the limits on threads ([`Limits::thread_headroom`]):
//!   above all memory maps (`vm.max_map_count`), of which each thread takes
//!   four; a Rust process that runs out aborts at once, with no `Err` from
//!   `thread::Builder::spawn` first.
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
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::Kind;
use crate::display::{self, thousands};
use crate::limits::{self, Headroom, Limit, Limits};
use crate::loopback::LoopbackServer;
use crate::memory::{self, Peak, mebibytes_or_not};
use crate::runtime::Runtime;
use crate::threads;

/// How long the server waits before it answers: the network's latency.
pub const LATENCY: Duration = Duration::from_millis(100);

/// How long a client waits for its answer before it gives up, so that a
/// server that cannot keep up shows as an error, not a hang.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Descriptors per client: with the server in the same process, a loopback
/// connection has both of its ends here.
const FDS_PER_CLIENT: u64 = 2;

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
/// error. The threads start as [`threads::start_and_join`] starts them: a
/// thread the system refuses, or Jupyter's interrupt, starts no more, and
/// those started are joined first.
///
/// ```
/// use asyncio_rs::{demos::network, loopback::LoopbackServer};
///
/// let server = LoopbackServer::start(network::LATENCY).unwrap();
/// assert_eq!(network::threads(server.addr(), 10).unwrap(), 10);
/// ```
pub fn threads(addr: SocketAddr, clients: usize) -> io::Result<usize> {
    let joined = threads::start_and_join(clients, |id| move || ask_blocking(addr, id));
    if let Some(error) = joined.refused {
        let message = format!(
            "the system refused thread {}: {error}",
            joined.results.len() + 1
        );
        return Err(io::Error::new(error.kind(), message));
    }
    let answers = joined.into_results("a client thread")?;
    answers
        .into_iter()
        .try_fold(0, |answered, answer| answer.map(|()| answered + 1))
}

/// Prints one line when a part of [`compare`] ends.
fn progress(kind: Kind, part: &Part) {
    println!(
        "{kind}: {} of {} clients answered in {:.2} s",
        thousands(part.answered as u64),
        thousands(part.requested as u64),
        part.elapsed.as_secs_f64()
    );
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
    /// The process's resident memory when the part started and at its peak
    /// while it ran (`VmHWM`, reset at its start).
    pub memory: Peak,
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
        display::evcxr_text(self);
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
                mebibytes_or_not(part.memory.peak),
                mebibytes_or_not(part.memory.added()),
            )?;
        }
        let caps = rows.iter().filter_map(|(name, part)| {
            let limit = part.limit.as_ref()?;
            Some(format!(
                "{name}: {} of {} clients ran, because of {limit}.",
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
/// `clients` of 0; limits or memory that cannot be read (this runs on
/// Linux); a client that fails or gets no answer in 30 s.
pub fn compare(clients: usize) -> io::Result<Comparison> {
    if clients == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "compare needs at least one client",
        ));
    }
    let raised_open_files =
        limits::raise_open_file_limit(FDS_PER_CLIENT, clients as u64).map_err(io::Error::other)?;
    let rt = Runtime::new()?;
    // A server for each part: a port of its own, so that no connection of
    // the first part is in the way of the second, and memory of its own.
    let tasks = {
        let server = LoopbackServer::start(LATENCY)?;
        let addr = server.addr();
        let room = room_for(&read_limits()?, Kind::Tasks);
        measure(clients, room, |n| rt.run(tasks(addr, n)))?
    };
    // A line as each part ends, so that a cell running both is never silent for long.
    progress(Kind::Tasks, &tasks);
    let threads = {
        let server = LoopbackServer::start(LATENCY)?;
        let addr = server.addr();
        let room = room_for(&read_limits()?, Kind::Threads);
        measure(clients, room, |n| threads(addr, n))?
    };
    progress(Kind::Threads, &threads);
    Ok(Comparison {
        tasks,
        threads,
        raised_open_files,
    })
}

/// The room for clients of `kind` under `limits`, and the limit that binds:
/// two descriptors and a local port per client, and for threads the limits
/// on threads too. `None` when nothing limits them.
fn room_for(limits: &Limits, kind: Kind) -> Option<Headroom> {
    let threads = (kind == Kind::Threads).then(|| limits.thread_headroom());
    (limits.fd_headroom(FDS_PER_CLIENT).into_iter())
        .chain(limits.port_headroom())
        .chain(threads)
        .min_by_key(|room| room.count)
}

/// The limits now, as an `io::Error` if they cannot be read (not Linux).
fn read_limits() -> io::Result<Limits> {
    Limits::read().map_err(io::Error::other)
}

/// Runs `run` with as many clients as fit in `room`, and measures it.
fn measure(
    requested: usize,
    room: Option<Headroom>,
    run: impl FnOnce(usize) -> io::Result<usize>,
) -> io::Result<Part> {
    let (clients, limit) = match room {
        // Below `requested`, the count fits in a usize.
        Some(room) if room.count < requested as u64 => (room.count as usize, Some(room.limit)),
        _ => (requested, None),
    };
    let ((answered, elapsed), memory) = memory::peak_of(|| {
        let start = Instant::now();
        let answered = run(clients);
        (answered, start.elapsed())
    })
    .map_err(|error| io::Error::new(error.kind(), format!("could not measure memory: {error}")))?;
    Ok(Part {
        requested,
        clients,
        answered: answered?,
        elapsed,
        memory,
        limit,
    })
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
            assert!(part.memory.peak.unwrap() >= part.memory.before && part.memory.before > 0);
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

    fn part(clients: usize, limit: Option<Limit>) -> Part {
        Part {
            requested: 10_000,
            clients,
            answered: clients,
            elapsed: Duration::from_millis(500),
            memory: Peak {
                before: 10 * 1024 * 1024,
                peak: Some(42 * 1024 * 1024 + 512 * 1024),
            },
            limit,
        }
    }

    #[test]
    fn the_table_names_the_limits_that_capped_a_part() {
        let comparison = Comparison {
            tasks: part(10_000, None),
            threads: part(
                9_000,
                Some(Limit::MapCount {
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

OS threads: 9,000 of 10,000 clients ran, because of vm.max_map_count (65,530 mappings, 4 per \
thread, 11,530 in use).
The soft open-file limit was raised from 1,024 to the hard limit, 524,288."
        );
    }

    #[test]
    fn the_tightest_limit_wins_and_only_threads_count_thread_limits() {
        let limits = Limits {
            nofile: Some(20_000),
            open_fds: 25,
            local_ports: Some((32_768, 60_999)),
            max_map_count: Some(65_530),
            maps_in_use: 30,
            ..Limits::unlimited()
        };
        let files = limits.fd_headroom(2).unwrap();
        assert_eq!(room_for(&limits, Kind::Tasks), Some(files.clone()));
        assert_eq!(room_for(&limits, Kind::Threads), Some(files));
        // A machine with more descriptors: the ports bind the tasks, and the
        // memory maps the threads, the same rule as for sleeping threads.
        let many_files = Limits {
            nofile: Some(1 << 20),
            ..limits
        };
        let ports = many_files.port_headroom().unwrap();
        assert_eq!(ports.count, 27_232);
        assert_eq!(room_for(&many_files, Kind::Tasks), Some(ports));
        let maps = many_files.thread_headroom();
        assert_eq!(room_for(&many_files, Kind::Threads), Some(maps.clone()));
        // (65,530 - 30 - 2,047 spare) / 4 maps: short of the abort at about
        // 16,300 threads.
        assert_eq!(maps.count, 15_863);
        assert!(matches!(maps.limit, Limit::MapCount { .. }));
        assert_eq!(room_for(&Limits::unlimited(), Kind::Tasks), None);
    }

    #[test]
    fn a_part_runs_as_many_clients_as_fit_and_names_the_limit() {
        let limit = Limit::LocalPorts { low: 1, high: 10 };
        let room = Headroom {
            count: 3,
            limit: limit.clone(),
        };
        let part = measure(5, Some(room.clone()), Ok).unwrap();
        assert_eq!((part.requested, part.clients, part.answered), (5, 3, 3));
        assert_eq!(part.limit, Some(limit));
        let part = measure(3, Some(room), Ok).unwrap();
        assert_eq!((part.clients, part.limit), (3, None));
        assert_eq!(measure(4, None, Ok).unwrap().clients, 4);
    }
}
