//! What the pool does differently on Linux and macOS, in one place: how a
//! worker dies with its parent, how it closes the descriptors it inherited,
//! and how writing to a dead worker's socket stays an error, not `SIGPIPE`.
//!
//! Linux has a call for each: `PR_SET_PDEATHSIG`, `close_range`,
//! `MSG_NOSIGNAL`. macOS has none of the three (its code is type-checked
//! here, not run): a worker watches its parent from a thread of its own
//! ([`watch_parent`]: it exits within [`PARENT_POLL`] of the parent's
//! death), closes what `/dev/fd` lists ([`close_listed`]), and the parent's
//! end of each socket is marked `SO_NOSIGPIPE`. [`watch_parent`] and
//! [`close_listed`] are tested on Linux too.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
#[cfg(target_vendor = "apple")]
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How often a worker on macOS looks whether its parent is still there.
pub(super) const PARENT_POLL: Duration = Duration::from_millis(100);

/// The exit status of a worker whose parent died.
pub(super) const ORPHANED: i32 = 1;

/// `send`'s flags for the parent's writes to a worker.
#[cfg(target_os = "linux")]
pub(super) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// `send`'s flags for the parent's writes to a worker: the socket itself is
/// marked ([`no_sigpipe`]).
#[cfg(target_vendor = "apple")]
pub(super) const SEND_FLAGS: libc::c_int = 0;

/// A pipe, both ends close-on-exec.
pub(super) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    #[cfg(target_os = "linux")]
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0;
    // SAFETY: pipe writes two descriptors into the array we pass. macOS has
    // no pipe2: close-on-exec is set after, and the pool forks from its own
    // thread, so only another thread's fork and exec in between (a cell
    // running a command) could inherit these ends; they carry a worker's
    // output only.
    #[cfg(target_vendor = "apple")]
    let made = unsafe { libc::pipe(fds.as_mut_ptr()) } == 0;
    if !made {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just made and are owned by nothing else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(target_vendor = "apple")]
    for fd in fds {
        // SAFETY: sets a flag of a descriptor we own.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(ends)
}

/// Marks the parent's end of a worker's socket so that writing to it once
/// the worker is dead fails with `EPIPE` instead of raising `SIGPIPE`.
#[cfg(target_vendor = "apple")]
pub(super) fn no_sigpipe(socket: &UnixStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one int from `on`, whose size we pass.
    let status = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NOSIGPIPE,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if status != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Linux: `MSG_NOSIGNAL` on every write does it.
#[cfg(target_os = "linux")]
pub(super) fn no_sigpipe(_: &std::os::unix::net::UnixStream) -> io::Result<()> {
    Ok(())
}

/// In a worker just forked: makes it die with `parent` (the process that
/// forked it); false if `parent` is already gone.
///
/// # Safety
///
/// Only in the child of a `fork`, before anything else runs there.
#[cfg(target_os = "linux")]
pub(super) unsafe fn die_with(parent: libc::pid_t) -> bool {
    // SAFETY: prctl sets this process's death signal; getppid reads. If the
    // parent died before prctl, getppid is no longer it.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 && libc::getppid() == parent }
}

/// In a worker just forked: makes it die with `parent` ([`watch_parent`]);
/// false if `parent` is already gone or the thread cannot start.
///
/// # Safety
///
/// Only in the child of a `fork`, before anything else runs there.
#[cfg(target_vendor = "apple")]
pub(super) unsafe fn die_with(parent: libc::pid_t) -> bool {
    // SAFETY: getppid only reads.
    let alive = unsafe { libc::getppid() } == parent;
    alive && watch_parent(parent).is_ok()
}

/// Starts a thread that ends this process with [`ORPHANED`] once its parent
/// is no longer `parent` (it died: the process was given to another), looking
/// every [`PARENT_POLL`]. macOS's stand-in for `PR_SET_PDEATHSIG`.
#[cfg_attr(not(target_vendor = "apple"), allow(dead_code))]
pub(super) fn watch_parent(parent: libc::pid_t) -> io::Result<()> {
    std::thread::Builder::new()
        .name("parent watch".to_string())
        .spawn(move || {
            loop {
                std::thread::sleep(PARENT_POLL);
                // SAFETY: getppid only reads; _exit ends the process without
                // running any of its code (the job thread may hold any lock).
                unsafe {
                    if libc::getppid() != parent {
                        libc::_exit(ORPHANED);
                    }
                }
            }
        })
        .map(drop)
}

/// Closes every descriptor from `first` up.
///
/// # Safety
///
/// Only in a worker just forked, where nothing owns those descriptors any
/// more.
pub(super) unsafe fn close_from(first: RawFd) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: close_range closes descriptors only.
        let done = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as libc::c_uint,
                libc::c_uint::MAX,
                0,
            )
        };
        if done == 0 {
            return;
        }
        // Kernels before 5.9: the open fds are listed in /proc.
        // SAFETY: as this function's.
        unsafe { close_listed(first, "/proc/self/fd") };
    }
    // SAFETY: as this function's.
    #[cfg(target_vendor = "apple")]
    unsafe {
        close_listed(first, "/dev/fd")
    };
}

/// Closes every descriptor from `first` up that `dir` (`/proc/self/fd`,
/// `/dev/fd`) lists, once the listing is done and its own descriptor closed.
///
/// # Safety
///
/// As [`close_from`]'s.
unsafe fn close_listed(first: RawFd, dir: &str) {
    let open: Vec<RawFd> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in open.into_iter().filter(|&fd| fd >= first) {
        // SAFETY: the caller owns every descriptor from `first` up.
        unsafe { libc::close(fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `child` in a forked process and returns its exit status.
    fn in_a_child(child: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child only runs `child` and ends with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = child();
            // SAFETY: ends the child without running the test harness's code.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "{status}");
        libc::WEXITSTATUS(status)
    }

    #[test]
    fn a_watched_parent_that_is_gone_ends_the_worker() {
        // A parent that is not ours: as if ours had died.
        let code = in_a_child(|| {
            // SAFETY: getppid only reads.
            let not_the_parent = unsafe { libc::getppid() } + 1;
            if watch_parent(not_the_parent).is_err() {
                return 10;
            }
            std::thread::sleep(PARENT_POLL * 50);
            11
        });
        assert_eq!(code, ORPHANED);
        // Its own parent, alive: the worker runs to its end.
        let code = in_a_child(|| {
            // SAFETY: getppid only reads.
            watch_parent(unsafe { libc::getppid() }).map_or(10, |()| {
                std::thread::sleep(PARENT_POLL * 3);
                0
            })
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn what_dev_fd_lists_is_closed() {
        let (read, write) = pipe().unwrap();
        let (first, second) = (
            std::os::fd::AsRawFd::as_raw_fd(&read),
            std::os::fd::AsRawFd::as_raw_fd(&write),
        );
        let code = in_a_child(|| {
            let lowest = first.min(second);
            // SAFETY: in the child, which owns its copies and uses none.
            unsafe { close_listed(lowest, "/dev/fd") };
            // SAFETY: F_GETFD only reads; -1 for a closed descriptor.
            let open = |fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
            i32::from(open(first) || open(second) || !open(2))
        });
        assert_eq!(code, 0);
    }
}
