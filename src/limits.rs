//! The limits that stop a process from starting more threads, opening more
//! files or connecting more sockets on Linux, read before a demo reaches them.
//!
//! A Rust program cannot recover from starting one thread too many: past
//! `vm.max_map_count` memory mappings (65,530 by default, 4 per thread) a new
//! thread cannot map the guard page of its signal stack, panics where no panic
//! can unwind, and the whole process aborts with SIGABRT (here at 16,368
//! threads), whatever `Builder::spawn` returned to the caller. In a notebook
//! that kills the kernel and every variable. So a demo that starts thousands
//! of threads must know how many it may start before it starts them.
//!
//! [`Limits::read`] takes a snapshot of every limit that can refuse a thread
//! (or a file descriptor, or a local port); [`Limits::thread_headroom`],
//! [`Limits::fd_headroom`] and [`Limits::port_headroom`] are pure functions of
//! that snapshot that say how many more may be started safely, keeping a
//! margin, and which limit binds. [`raise_open_file_limit`] raises the soft
//! open-file limit to the hard one when a program needs more descriptors.
//!
//! ```
//! use asyncio_rs::limits::{Limit, Limits};
//!
//! // A snapshot, as `Limits::read()` returns one on Linux.
//! let limits = Limits {
//!     max_map_count: 65_530,
//!     maps_in_use: 42,
//!     threads_max: 192_730,
//!     pid_max: 4_194_304,
//!     tasks_on_system: 300,
//!     nproc: Some(96_365),
//!     user_threads: 120,
//!     mem_available: 20 << 30,
//!     nofile: Some(1_024),
//!     open_fds: 4,
//!     local_ports: Some((32_768, 60_999)),
//! };
//! let headroom = limits.thread_headroom();
//! assert_eq!(headroom.count, 15_860);
//! assert!(matches!(headroom.limit, Limit::MapCount { .. }));
//! assert_eq!(
//!     headroom.stopped_at(headroom.count).to_string(),
//!     "stopped at 15,860 threads: vm.max_map_count (65,530 mappings, 4 per thread, 42 in use)"
//! );
//! ```

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Memory mappings a new thread takes: its stack and guard page (glibc), and
/// the signal stack and its guard page that Rust's runtime sets up for
/// stack-overflow reports. Measured: 4.00 per thread over 10,000 threads.
pub const MAPS_PER_THREAD: u64 = 4;

/// Local ports kept free, for other programs' connections and for ports that
/// sockets hold by `bind`.
pub const PORTS_KEPT_FREE: u64 = 1_000;

/// What one sleeping thread costs in memory, rounded up: measured here about
/// 10 KiB resident (the touched pages of its 2 MiB stack, its signal stack)
/// plus a 16 KiB kernel stack and the kernel's bookkeeping.
pub const THREAD_MEMORY_BYTES: u64 = 64 * 1024;

/// A snapshot of the limits on starting threads and opening files, and of how
/// much of each is in use. The fields are public so that tests (and readers)
/// can build a snapshot by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `vm.max_map_count`: memory mappings one process may have.
    pub max_map_count: u64,
    /// Mappings this process has now (lines of `/proc/self/maps`).
    pub maps_in_use: u64,
    /// `kernel.threads-max`: threads on the whole system.
    pub threads_max: u64,
    /// `kernel.pid_max`: every thread takes a process id.
    pub pid_max: u64,
    /// Threads running on the whole system now (`/proc/loadavg`).
    pub tasks_on_system: u64,
    /// `RLIMIT_NPROC`, the soft limit on this user's processes and threads;
    /// `None` when unlimited. (The kernel exempts root; we count it anyway.)
    pub nproc: Option<u64>,
    /// Threads of this user now, or of the whole system where the user's own
    /// cannot be counted (an upper bound).
    pub user_threads: u64,
    /// `MemAvailable` of `/proc/meminfo`, in bytes.
    pub mem_available: u64,
    /// `RLIMIT_NOFILE`, the soft limit on open files; `None` when unlimited.
    pub nofile: Option<u64>,
    /// File descriptors this process has open now (`/proc/self/fd`).
    pub open_fds: u64,
    /// `net.ipv4.ip_local_port_range`, the lowest and highest local port for
    /// outgoing connections; `None` where it cannot be read.
    pub local_ports: Option<(u64, u64)>,
}

/// One limit, with the figures that make it bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// `vm.max_map_count`, [`MAPS_PER_THREAD`] mappings per thread.
    MapCount { max: u64, in_use: u64 },
    /// `kernel.threads-max`.
    ThreadsMax { max: u64, in_use: u64 },
    /// `kernel.pid_max`.
    PidMax { max: u64, in_use: u64 },
    /// `RLIMIT_NPROC`.
    Nproc { max: u64, in_use: u64 },
    /// `MemAvailable`, `per_thread` bytes for each thread.
    Memory { available: u64, per_thread: u64 },
    /// `RLIMIT_NOFILE`, `per_item` descriptors for each item.
    OpenFiles {
        max: u64,
        in_use: u64,
        per_item: u64,
    },
    /// `net.ipv4.ip_local_port_range`, `low` to `high`: a connection holds
    /// one, and [`PORTS_KEPT_FREE`] are kept free.
    LocalPorts { low: u64, high: u64 },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Limit::MapCount { max, in_use } => write!(
                f,
                "vm.max_map_count ({} mappings, {MAPS_PER_THREAD} per thread, {} in use)",
                thousands(max),
                thousands(in_use)
            ),
            Limit::ThreadsMax { max, in_use } => write!(
                f,
                "kernel.threads-max ({} threads on the system, {} running)",
                thousands(max),
                thousands(in_use)
            ),
            Limit::PidMax { max, in_use } => write!(
                f,
                "kernel.pid_max ({} process ids, {} in use)",
                thousands(max),
                thousands(in_use)
            ),
            Limit::Nproc { max, in_use } => write!(
                f,
                "RLIMIT_NPROC ({} processes and threads for this user, {} running)",
                thousands(max),
                thousands(in_use)
            ),
            Limit::Memory {
                available,
                per_thread,
            } => write!(
                f,
                "available memory ({} MiB, {} KiB per thread)",
                thousands(available >> 20),
                thousands(per_thread >> 10)
            ),
            Limit::OpenFiles {
                max,
                in_use,
                per_item,
            } => write!(
                f,
                "RLIMIT_NOFILE ({} open files, {per_item} per item, {} open)",
                thousands(max),
                thousands(in_use)
            ),
            Limit::LocalPorts { low, high } => write!(
                f,
                "net.ipv4.ip_local_port_range (ports {low} to {high}, one per connection, {} kept \
                 free)",
                thousands(PORTS_KEPT_FREE)
            ),
        }
    }
}

/// How many more threads (or items) may be started safely, and the limit that
/// allows the fewest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headroom {
    /// How many more, after the safety margin.
    pub count: u64,
    /// The limit that binds.
    pub limit: Limit,
}

impl Headroom {
    /// The reason to give after starting `started` and stopping there.
    ///
    /// ```
    /// use asyncio_rs::limits::{Headroom, Limit};
    ///
    /// let headroom = Headroom { count: 100, limit: Limit::PidMax { max: 1_000, in_use: 872 } };
    /// assert_eq!(
    ///     headroom.stopped_at(100).to_string(),
    ///     "stopped at 100 threads: kernel.pid_max (1,000 process ids, 872 in use)"
    /// );
    /// ```
    pub fn stopped_at(&self, started: u64) -> Stopped {
        Stopped {
            started,
            limit: self.limit.clone(),
        }
    }
}

/// A run of threads that stopped short of what was asked, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stopped at {} threads: {limit}", thousands(*started))]
pub struct Stopped {
    /// Threads started before stopping.
    pub started: u64,
    /// The limit that would have been crossed.
    pub limit: Limit,
}

/// Why the limits could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not Linux: the limits live elsewhere, and starting threads blindly is
    /// what this module exists to avoid.
    #[error(
        "reading thread limits is only implemented for Linux (/proc); not starting threads blindly"
    )]
    Unsupported,
    /// A file of `/proc` could not be read.
    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file of `/proc` said something unexpected.
    #[error("could not find {what} in {}", path.display())]
    Parse { path: PathBuf, what: &'static str },
    /// `getrlimit` or `setrlimit` failed.
    #[error("could not {action} RLIMIT_NOFILE: {source}")]
    Rlimit {
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

impl Limits {
    /// Reads the limits and what is in use now, from `/proc`.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// let limits = asyncio_rs::limits::Limits::read().unwrap();
    /// assert!(limits.maps_in_use < limits.max_map_count);
    /// # }
    /// ```
    #[cfg(target_os = "linux")]
    pub fn read() -> Result<Limits, Error> {
        linux::read()
    }

    /// Not Linux: a clear error rather than starting threads blindly.
    #[cfg(not(target_os = "linux"))]
    pub fn read() -> Result<Limits, Error> {
        Err(Error::Unsupported)
    }

    /// How many more threads this process may start safely, and which limit
    /// binds. Each limit keeps a margin (1/32 of it, at least a few hundred),
    /// for the mappings, threads and memory that the rest of the program (a
    /// notebook kernel loading the next cell, say) still needs.
    pub fn thread_headroom(&self) -> Headroom {
        self.each_thread_limit()
            .into_iter()
            .min_by_key(|headroom| headroom.count)
            .expect("at least four limits")
    }

    /// The room for threads under each limit (`RLIMIT_NPROC` last, and only
    /// if set): what [`Limits::thread_headroom`] takes the least of.
    pub fn each_thread_limit(&self) -> Vec<Headroom> {
        let per_thread = THREAD_MEMORY_BYTES;
        [
            (
                spare(self.max_map_count, self.maps_in_use, 1024) / MAPS_PER_THREAD,
                Limit::MapCount {
                    max: self.max_map_count,
                    in_use: self.maps_in_use,
                },
            ),
            (
                spare(self.threads_max, self.tasks_on_system, 256),
                Limit::ThreadsMax {
                    max: self.threads_max,
                    in_use: self.tasks_on_system,
                },
            ),
            (
                spare(self.pid_max, self.tasks_on_system, 256),
                Limit::PidMax {
                    max: self.pid_max,
                    in_use: self.tasks_on_system,
                },
            ),
            (
                // Keep an eighth of the available memory, at least 256 MiB.
                self.mem_available
                    .saturating_sub((self.mem_available / 8).max(256 << 20))
                    / per_thread,
                Limit::Memory {
                    available: self.mem_available,
                    per_thread,
                },
            ),
        ]
        .into_iter()
        .chain(self.nproc.map(|max| {
            (
                spare(max, self.user_threads, 256),
                Limit::Nproc {
                    max,
                    in_use: self.user_threads,
                },
            )
        }))
        .map(|(count, limit)| Headroom { count, limit })
        .collect()
    }

    /// How many more items, each holding `per_item` file descriptors (a
    /// socket: 1; a client and the server's end of its connection in one
    /// process: 2), this process may open safely under `RLIMIT_NOFILE`.
    /// `None` when the limit is unlimited.
    ///
    /// ```
    /// use asyncio_rs::limits::{Limit, Limits};
    ///
    /// let limits = Limits { nofile: Some(1_024), open_fds: 10, ..Limits::unlimited() };
    /// let headroom = limits.fd_headroom(2).unwrap();
    /// assert_eq!(headroom.count, 379); // (1,024 - 10 - 256 spare) / 2
    /// assert_eq!(
    ///     headroom.limit.to_string(),
    ///     "RLIMIT_NOFILE (1,024 open files, 2 per item, 10 open)"
    /// );
    /// ```
    pub fn fd_headroom(&self, per_item: u64) -> Option<Headroom> {
        let max = self.nofile?;
        Some(Headroom {
            count: spare(max, self.open_fds, 256) / per_item.max(1),
            limit: Limit::OpenFiles {
                max,
                in_use: self.open_fds,
                per_item,
            },
        })
    }

    /// How many more connections to one server address fit in the local
    /// ports (`net.ipv4.ip_local_port_range`), [`PORTS_KEPT_FREE`] kept free:
    /// past that `connect` fails with `EADDRNOTAVAIL`. `None` when the range
    /// is not known.
    ///
    /// ```
    /// use asyncio_rs::limits::Limits;
    ///
    /// // Linux's default range.
    /// let limits = Limits { local_ports: Some((32_768, 60_999)), ..Limits::unlimited() };
    /// let headroom = limits.port_headroom().unwrap();
    /// assert_eq!(headroom.count, 27_232);
    /// assert_eq!(
    ///     headroom.limit.to_string(),
    ///     "net.ipv4.ip_local_port_range (ports 32768 to 60999, one per connection, 1,000 kept free)"
    /// );
    /// ```
    pub fn port_headroom(&self) -> Option<Headroom> {
        let (low, high) = self.local_ports?;
        let ports = (high + 1).saturating_sub(low);
        Some(Headroom {
            count: ports.saturating_sub(PORTS_KEPT_FREE),
            limit: Limit::LocalPorts { low, high },
        })
    }

    /// The soft open-file limit to set, if any, so that `items` more items of
    /// `per_item` descriptors each fit: the hard limit `hard`, when
    /// [`Limits::fd_headroom`] is too small under the soft one and the hard
    /// one is higher.
    ///
    /// ```
    /// use asyncio_rs::limits::Limits;
    ///
    /// // systemd's defaults: soft 1,024, hard 524,288.
    /// let limits = Limits { nofile: Some(1_024), open_fds: 10, ..Limits::unlimited() };
    /// assert_eq!(limits.raised_open_file_limit(524_288, 2, 10_000), Some(524_288));
    /// assert_eq!(limits.raised_open_file_limit(524_288, 2, 100), None);
    /// ```
    pub fn raised_open_file_limit(&self, hard: u64, per_item: u64, items: u64) -> Option<u64> {
        let soft = self.nofile?;
        let room = self.fd_headroom(per_item)?.count;
        (room < items && soft < hard).then_some(hard)
    }

    /// A snapshot in which nothing is in use and nothing is limited (but
    /// memory, at 1 TiB): a start for a test's fake limits, with
    /// `..Limits::unlimited()`.
    pub fn unlimited() -> Limits {
        Limits {
            max_map_count: u64::MAX,
            maps_in_use: 0,
            threads_max: u64::MAX,
            pid_max: u64::MAX,
            tasks_on_system: 0,
            nproc: None,
            user_threads: 0,
            mem_available: 1 << 40,
            nofile: None,
            open_fds: 0,
            local_ports: None,
        }
    }
}

impl fmt::Display for Limits {
    /// Each limit, and the room for threads under it; then the one that binds.
    ///
    /// ```
    /// use asyncio_rs::limits::Limits;
    ///
    /// let limits = Limits { max_map_count: 65_530, maps_in_use: 1_000, ..Limits::unlimited() };
    /// let text = limits.to_string();
    /// let first = text.lines().next().unwrap().trim_start();
    /// assert!(first.starts_with("15,620 more threads under vm.max_map_count (65,530 mappings"));
    /// assert!(text.ends_with("room for 15,620 more threads: vm.max_map_count binds first"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let each = self.each_thread_limit();
        let counts: Vec<String> = (each.iter())
            .map(|room| match room.count {
                count if count > 1 << 48 => "unlimited".to_string(),
                count => thousands(count),
            })
            .collect();
        let width = counts.iter().map(String::len).max().unwrap_or(0);
        for (count, room) in counts.iter().zip(&each) {
            writeln!(f, "{count:>width$} more threads under {}", room.limit)?;
        }
        let binding = self.thread_headroom();
        let name = binding.limit.to_string();
        let name = name.split(" (").next().unwrap_or_default();
        write!(
            f,
            "room for {} more threads: {name} binds first",
            thousands(binding.count)
        )
    }
}

impl Limits {
    /// evcxr's rich display: the same text as `Display`.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

/// Raises the soft open-file limit (`RLIMIT_NOFILE`) to the hard one if
/// `items` more items of `per_item` descriptors each need more room than the
/// soft one leaves ([`Limits::raised_open_file_limit`]); returns the old and
/// the new soft limit if it did. That is what Go does for every program at
/// start-up, and what systemd advises for programs that need many
/// descriptors: its low default soft limit, 1,024, only protects old
/// `select()` code, which tokio does not use. Past the hard limit only an
/// administrator can help.
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// // Three descriptors fit under any soft limit: nothing to raise.
/// assert_eq!(asyncio_rs::limits::raise_open_file_limit(1, 3).unwrap(), None);
/// # }
/// ```
#[cfg(target_os = "linux")]
pub fn raise_open_file_limit(per_item: u64, items: u64) -> Result<Option<(u64, u64)>, Error> {
    let (soft, hard) = linux::open_file_limits()?;
    let limits = Limits {
        nofile: Some(soft),
        ..Limits::read()?
    };
    match limits.raised_open_file_limit(hard, per_item, items) {
        Some(raised) => linux::set_open_file_limit(raised, hard).map(|()| Some((soft, raised))),
        None => Ok(None),
    }
}

/// Not Linux: a clear error.
#[cfg(not(target_os = "linux"))]
pub fn raise_open_file_limit(_per_item: u64, _items: u64) -> Result<Option<(u64, u64)>, Error> {
    Err(Error::Unsupported)
}

/// What is left of `max` after `in_use` and a margin of 1/32 of `max`, at
/// least `min_margin`.
fn spare(max: u64, in_use: u64, min_margin: u64) -> u64 {
    max.saturating_sub(in_use)
        .saturating_sub((max / 32).max(min_margin))
}

/// `15800` as `15,800`, as the messages print counts.
///
/// ```
/// assert_eq!(asyncio_rs::limits::thousands(1_000_000), "1,000,000");
/// assert_eq!(asyncio_rs::limits::thousands(999), "999");
/// ```
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{Error, Limits};
    use std::fs;
    use std::path::Path;

    pub(super) fn read() -> Result<Limits, Error> {
        let limits = text("/proc/self/limits")?;
        let tasks_on_system = tasks_on_system()?;
        Ok(Limits {
            max_map_count: number("/proc/sys/vm/max_map_count")?,
            maps_in_use: text("/proc/self/maps")?.lines().count() as u64,
            threads_max: number("/proc/sys/kernel/threads-max")?,
            pid_max: number("/proc/sys/kernel/pid_max")?,
            tasks_on_system,
            nproc: soft_limit(&limits, "Max processes")?,
            user_threads: user_threads().unwrap_or(tasks_on_system),
            mem_available: mem_available()?,
            nofile: soft_limit(&limits, "Max open files")?,
            open_fds: fs::read_dir("/proc/self/fd")
                .map_err(|source| read_error("/proc/self/fd", source))?
                .count() as u64,
            local_ports: local_ports(),
        })
    }

    /// `net.ipv4.ip_local_port_range`: two numbers, or `None`.
    fn local_ports() -> Option<(u64, u64)> {
        let range = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
        let mut numbers = range.split_whitespace().map(|number| number.parse().ok());
        Some((numbers.next()??, numbers.next()??))
    }

    /// The soft and hard open-file limits, as `getrlimit` gives them.
    pub(super) fn open_file_limits() -> Result<(u64, u64), Error> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct we pass and nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(rlimit_error("read"));
        }
        Ok((limit.rlim_cur, limit.rlim_max))
    }

    /// Sets the soft open-file limit to `soft`, keeping the hard one.
    pub(super) fn set_open_file_limit(soft: u64, hard: u64) -> Result<(), Error> {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we pass and nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(rlimit_error("raise"));
        }
        Ok(())
    }

    fn rlimit_error(action: &'static str) -> Error {
        Error::Rlimit {
            action,
            source: std::io::Error::last_os_error(),
        }
    }

    fn read_error(path: &str, source: std::io::Error) -> Error {
        Error::Read {
            path: path.into(),
            source,
        }
    }

    fn parse_error(path: &str, what: &'static str) -> Error {
        Error::Parse {
            path: path.into(),
            what,
        }
    }

    fn text(path: &str) -> Result<String, Error> {
        fs::read_to_string(path).map_err(|source| read_error(path, source))
    }

    fn number(path: &str) -> Result<u64, Error> {
        text(path)?
            .trim()
            .parse()
            .map_err(|_| parse_error(path, "a number"))
    }

    /// The soft limit of a line of `/proc/self/limits`; `None` if unlimited.
    fn soft_limit(limits: &str, name: &'static str) -> Result<Option<u64>, Error> {
        let soft = limits
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(|| parse_error("/proc/self/limits", name))?;
        if soft == "unlimited" {
            return Ok(None);
        }
        soft.parse()
            .map(Some)
            .map_err(|_| parse_error("/proc/self/limits", name))
    }

    /// The fourth field of `/proc/loadavg`, `running/total`: every thread of
    /// every process on the system.
    fn tasks_on_system() -> Result<u64, Error> {
        let path = "/proc/loadavg";
        text(path)?
            .split_whitespace()
            .nth(3)
            .and_then(|field| field.split_once('/'))
            .and_then(|(_, total)| total.parse().ok())
            .ok_or_else(|| parse_error(path, "the number of threads"))
    }

    fn mem_available() -> Result<u64, Error> {
        let path = "/proc/meminfo";
        field(&text(path)?, "MemAvailable:")
            .map(|kib| kib * 1024)
            .ok_or_else(|| parse_error(path, "MemAvailable"))
    }

    /// The first number after `name` on its line.
    fn field(text: &str, name: &str) -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Threads of every process whose real user is ours (RLIMIT_NPROC counts
    /// by real user id). `None` if `/proc` cannot be listed.
    fn user_threads() -> Option<u64> {
        let real_uid = |status: &str| field(status, "Uid:");
        let ours = real_uid(&fs::read_to_string("/proc/self/status").ok()?)?;
        let mut threads = 0;
        for entry in fs::read_dir("/proc").ok()?.flatten() {
            let is_pid = entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|byte| byte.is_ascii_digit()));
            // A process may exit while we look: skip it.
            let Some(status) = is_pid
                .then(|| fs::read_to_string(Path::new(&entry.path()).join("status")).ok())
                .flatten()
            else {
                continue;
            };
            if real_uid(&status) == Some(ours) {
                threads += field(&status, "Threads:").unwrap_or(1);
            }
        }
        Some(threads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine_like_this_one() -> Limits {
        Limits {
            max_map_count: 65_530,
            maps_in_use: 30,
            threads_max: 192_730,
            pid_max: 32_768,
            tasks_on_system: 137,
            nproc: Some(96_365),
            user_threads: 137,
            mem_available: 22 << 30,
            nofile: Some(20_000),
            open_fds: 4,
            local_ports: Some((32_768, 60_999)),
        }
    }

    #[test]
    fn the_map_count_binds_here_at_about_15_800_threads() {
        let headroom = machine_like_this_one().thread_headroom();
        // (65,530 - 30 - 2,047 spare) / 4
        assert_eq!(headroom.count, 15_863);
        assert_eq!(
            headroom.limit,
            Limit::MapCount {
                max: 65_530,
                in_use: 30
            }
        );
    }

    #[test]
    fn a_kernel_with_many_mappings_has_less_room() {
        let limits = Limits {
            maps_in_use: 20_030,
            ..machine_like_this_one()
        };
        assert_eq!(limits.thread_headroom().count, 10_863);
    }

    #[test]
    fn each_limit_can_bind() {
        let base = machine_like_this_one();
        let cases = [
            (
                Limits {
                    threads_max: 5_000,
                    ..base.clone()
                },
                Limit::ThreadsMax {
                    max: 5_000,
                    in_use: 137,
                },
                5_000 - 137 - 256,
            ),
            (
                Limits {
                    pid_max: 10_000,
                    ..base.clone()
                },
                Limit::PidMax {
                    max: 10_000,
                    in_use: 137,
                },
                10_000 - 137 - 312,
            ),
            (
                Limits {
                    nproc: Some(4_096),
                    user_threads: 1_000,
                    ..base.clone()
                },
                Limit::Nproc {
                    max: 4_096,
                    in_use: 1_000,
                },
                4_096 - 1_000 - 256,
            ),
            (
                Limits {
                    mem_available: 1 << 30,
                    ..base.clone()
                },
                Limit::Memory {
                    available: 1 << 30,
                    per_thread: THREAD_MEMORY_BYTES,
                },
                ((1 << 30) - (256 << 20)) / THREAD_MEMORY_BYTES,
            ),
        ];
        for (limits, limit, count) in cases {
            assert_eq!(limits.thread_headroom(), Headroom { count, limit });
        }
    }

    #[test]
    fn no_room_at_all_is_zero_not_an_underflow() {
        let limits = Limits {
            maps_in_use: 70_000,
            ..machine_like_this_one()
        };
        assert_eq!(limits.thread_headroom().count, 0);
        let limits = Limits {
            nofile: Some(100),
            open_fds: 200,
            ..machine_like_this_one()
        };
        assert_eq!(limits.fd_headroom(1).unwrap().count, 0);
    }

    #[test]
    fn unlimited_nproc_and_nofile_do_not_bind() {
        let limits = Limits {
            max_map_count: u64::MAX,
            nproc: None,
            ..machine_like_this_one()
        };
        assert!(matches!(
            limits.thread_headroom().limit,
            Limit::PidMax { .. }
        ));
        assert_eq!(Limits::unlimited().fd_headroom(1), None);
    }

    #[test]
    fn the_reasons_read_well() {
        let stopped = Stopped {
            started: 15_800,
            limit: Limit::MapCount {
                max: 65_530,
                in_use: 1_234,
            },
        };
        assert_eq!(
            stopped.to_string(),
            "stopped at 15,800 threads: vm.max_map_count (65,530 mappings, 4 per thread, 1,234 in use)"
        );
        let memory = Limit::Memory {
            available: 3 << 30,
            per_thread: THREAD_MEMORY_BYTES,
        };
        assert_eq!(
            memory.to_string(),
            "available memory (3,072 MiB, 64 KiB per thread)"
        );
    }

    #[test]
    fn the_local_ports_limit_connections() {
        let with_ports = |low, high| Limits {
            local_ports: Some((low, high)),
            ..Limits::unlimited()
        };
        let count = |low, high| with_ports(low, high).port_headroom().unwrap().count;
        assert_eq!(count(32_768, 60_999), 27_232);
        assert_eq!(count(1_024, 65_535), 63_512);
        assert_eq!(count(60_000, 60_500), 0);
        assert_eq!(count(61_000, 60_000), 0);
        assert_eq!(Limits::unlimited().port_headroom(), None);
        assert_eq!(
            with_ports(32_768, 60_999).port_headroom().unwrap().limit,
            Limit::LocalPorts {
                low: 32_768,
                high: 60_999
            }
        );
        assert_eq!(
            Limit::LocalPorts {
                low: 32_768,
                high: 60_999
            }
            .to_string(),
            "net.ipv4.ip_local_port_range (ports 32768 to 60999, one per connection, 1,000 kept free)"
        );
    }

    #[test]
    fn the_soft_open_file_limit_is_raised_only_when_needed_and_possible() {
        let soft = |nofile| Limits {
            nofile: Some(nofile),
            open_fds: 25,
            ..Limits::unlimited()
        };
        // Enough room already: leave it alone.
        assert_eq!(soft(20_000).raised_open_file_limit(20_000, 2, 1_000), None);
        // Too low, and the hard limit is higher: raise to the hard limit,
        // even if that is still not enough (the part is then capped).
        assert_eq!(
            soft(1_024).raised_open_file_limit(4_096, 2, 10_000),
            Some(4_096)
        );
        // Too low, and the hard limit is the soft one: nothing to raise.
        assert_eq!(soft(20_000).raised_open_file_limit(20_000, 2, 10_000), None);
        // Unlimited already: nothing to raise.
        assert_eq!(
            Limits::unlimited().raised_open_file_limit(u64::MAX, 2, 10_000),
            None
        );
    }

    #[test]
    fn open_file_room_for_clients_of_two_descriptors() {
        // 10,000 clients need 20,000 descriptors, plus those in use and the
        // margin: a hard limit of 20,000, as here, is not enough.
        let limits = Limits {
            nofile: Some(20_000),
            open_fds: 25,
            ..Limits::unlimited()
        };
        // (20,000 - 25 - 625 spare) / 2
        assert_eq!(limits.fd_headroom(2).unwrap().count, 9_675);
        let full = Limits {
            nofile: Some(1_024),
            open_fds: 1_024,
            ..Limits::unlimited()
        };
        assert_eq!(full.fd_headroom(2).unwrap().count, 0);
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(65_530), "65,530");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_machine_s_limits_are_read() {
        let limits = Limits::read().unwrap();
        assert!(limits.max_map_count > 0 && limits.maps_in_use > 0);
        assert!(limits.tasks_on_system >= 1 && limits.user_threads >= 1);
        assert!(limits.open_fds >= 3);
        assert!(limits.mem_available > 0);
        assert!(limits.thread_headroom().count > 0);
        assert!(limits.port_headroom().unwrap().count > 0);
        let (soft, hard) = linux::open_file_limits().unwrap();
        assert!(soft <= hard);
        assert_eq!(limits.nofile, (soft != libc::RLIM_INFINITY).then_some(soft));
    }
}
