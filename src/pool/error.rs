//! What can go wrong: building a pool ([`PoolError`]) and running one job
//! ([`JobError`]). A job's error is one item's result; the other items of the
//! same `map` go on.

use std::fmt;
use std::time::Duration;

/// Why [`Builder::build`](super::Builder::build) refused.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// `processes(0)`: a pool needs at least one worker process.
    #[error("a pool needs at least one process (processes was 0)")]
    NoProcesses,
    /// `child_concurrency(0)`: each worker must run at least one job at once.
    #[error("each worker needs a concurrency of at least 1 (child_concurrency was 0)")]
    NoConcurrency,
    /// Neither Linux nor macOS.
    #[error("the process pool works on Linux and macOS only")]
    Unsupported,
    /// The supervisor thread could not be started.
    #[error("could not start the pool's supervisor thread: {0}")]
    Io(#[from] std::io::Error),
}

/// Why one item has no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The function panicked on this item; the worker goes on with others.
    #[error("the job panicked: {0}")]
    Panicked(String),
    /// The job did not finish within the pool's timeout.
    #[error("the job did not finish within {0:?}")]
    TimedOut(Duration),
    /// The worker process running this item died.
    #[error("worker process {pid} {death} while it ran the job")]
    WorkerDied {
        /// The worker's process id.
        pid: u32,
        /// How it died.
        death: Death,
    },
    /// The item could not be serialized in the caller, or the result in the
    /// worker (or either could not be read back).
    #[error("serialization failed: {0}")]
    Serialization(String),
    /// No worker could be started for this item: `fork` failed, the
    /// initializer panicked, or each new worker died before it was ready.
    #[error("no worker could run the job: {0}")]
    NoWorker(String),
    /// The pool was closed (or dropped) before the job finished.
    #[error("the pool was closed before the job finished")]
    Closed,
}

/// How a worker process ended.
///
/// ```
/// use asyncio_rs::pool::{Death, JobError};
///
/// let error = JobError::WorkerDied { pid: 4540, death: Death::Signal(9) };
/// assert_eq!(error.to_string(), "worker process 4540 was killed by SIGKILL while it ran the job");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Death {
    /// Killed by a signal, such as `SIGKILL` (`kill -9`) or `SIGABRT` (abort).
    Signal(i32),
    /// Exited with this status.
    Exit(i32),
    /// Killed by the pool with `SIGKILL` because a job blocked its thread past
    /// the timeout.
    KilledForTimeout,
}

impl fmt::Display for Death {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Death::Signal(signal) => write!(f, "was killed by {}", signal_name(*signal)),
            Death::Exit(code) => write!(f, "exited with status {code}"),
            Death::KilledForTimeout => {
                write!(
                    f,
                    "was killed by the pool (SIGKILL) after a job blocked it past the timeout"
                )
            }
        }
    }
}

/// `SIGKILL` for 9, and so on; `signal 42` for the rest.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}
