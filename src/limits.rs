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

use crate::display::{self, thousands};

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
        display::evcxr_text(self);
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

#[cfg(target_os = "linux")]
mod linux;

#[cfg(test)]
mod tests;
