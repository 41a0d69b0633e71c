//! Reading the limits on macOS: `sysctl` for the system's settings,
//! `proc_pidinfo` for this process's threads, `getrlimit` for open files.
//!
//! What macOS does not give is left out of the snapshot and named in
//! [`Limits::not_measured`]: the memory available for new threads (macOS
//! keeps little memory free and counts the rest in several ways, none of
//! them Linux's `MemAvailable`), and the threads running on the whole system
//! (only root may look at every process), under `kern.num_threads`.
//!
//! [`snapshot`] puts the figures together; it is built for the tests on Linux
//! too, so that the snapshot a Mac gets is checked here.

#[cfg(target_vendor = "apple")]
use super::Error;
use super::Limits;

/// What [`read`] gets from the system, before it becomes a [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Figures {
    /// `kern.num_taskthreads`.
    pub task_threads: u64,
    /// `kern.num_threads`, or `None` if it cannot be read.
    pub system_threads: Option<u64>,
    /// This process's threads (`proc_pidinfo`).
    pub process_threads: u64,
    /// The soft `RLIMIT_NOFILE`.
    pub nofile_soft: u64,
    /// Entries of `/dev/fd`.
    pub open_fds: u64,
    /// `net.inet.ip.portrange.first` and `.last`.
    pub local_ports: Option<(u64, u64)>,
}

/// The snapshot made of `figures`.
pub(super) fn snapshot(figures: Figures) -> Limits {
    let system_threads = match figures.system_threads {
        Some(max) => format!(
            "threads running on the whole system, under kern.num_threads ({} threads)",
            crate::display::thousands(max)
        ),
        None => "threads running on the whole system, under kern.num_threads".to_string(),
    };
    Limits {
        max_map_count: None,
        maps_in_use: 0,
        threads_max: None,
        pid_max: None,
        tasks_on_system: 0,
        task_threads: Some(figures.task_threads),
        process_threads: figures.process_threads,
        nproc: None,
        user_threads: 0,
        mem_available: None,
        nofile: (figures.nofile_soft != libc::RLIM_INFINITY).then_some(figures.nofile_soft),
        open_fds: figures.open_fds,
        local_ports: figures.local_ports,
        not_measured: vec![system_threads, "memory available for threads".to_string()],
    }
}

#[cfg(target_vendor = "apple")]
pub(super) fn read() -> Result<Limits, Error> {
    let (nofile_soft, _) = super::rlimit::open_file_limits()?;
    let process_threads = crate::macos::task_info()
        .map_err(|source| read_error("proc_pidinfo (PROC_PIDTASKINFO)", source))?
        .pti_threadnum as u64;
    let local_ports = (sysctl(c"net.inet.ip.portrange.first").ok())
        .zip(sysctl(c"net.inet.ip.portrange.last").ok());
    Ok(snapshot(Figures {
        task_threads: sysctl(c"kern.num_taskthreads")?,
        system_threads: sysctl(c"kern.num_threads").ok(),
        process_threads,
        nofile_soft,
        open_fds: std::fs::read_dir("/dev/fd")
            .map_err(|source| read_error("/dev/fd", source))?
            .count() as u64,
        local_ports,
    }))
}

/// The soft and hard open-file limits; the hard one at most
/// `kern.maxfilesperproc`, since `setrlimit` refuses a soft limit above it
/// (and "unlimited", macOS's usual hard limit, above all).
#[cfg(target_vendor = "apple")]
pub(super) fn open_file_limits() -> Result<(u64, u64), Error> {
    let (soft, hard) = super::rlimit::open_file_limits()?;
    Ok((soft, hard.min(sysctl(c"kern.maxfilesperproc")?)))
}

#[cfg(target_vendor = "apple")]
fn sysctl(name: &std::ffi::CStr) -> Result<u64, Error> {
    crate::macos::sysctl(name)
        .map_err(|source| read_error(&format!("sysctl {}", name.to_string_lossy()), source))
}

#[cfg(target_vendor = "apple")]
fn read_error(what: &str, source: std::io::Error) -> Error {
    Error::Read {
        path: what.into(),
        source,
    }
}
