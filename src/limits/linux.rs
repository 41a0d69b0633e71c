//! Reading the limits from `/proc` and `getrlimit`.

use std::fs;
use std::path::Path;

use super::{Error, Limits};
use crate::procfs::{field, value};

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
    let soft = value(limits, name).ok_or_else(|| parse_error("/proc/self/limits", name))?;
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
