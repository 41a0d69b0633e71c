//! Linux's side of [`super`]: errno, a pipe made with its flags at once, and
//! whether the main thread waits for evcxr's next command, read from `/proc`.

use std::io;
use std::os::fd::RawFd;

/// This thread's `errno`, for the signal handler to keep it.
pub(super) fn errno() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno slot; async-signal-safe.
    unsafe { libc::__errno_location() }
}

/// A pipe, both ends close-on-exec, the write end non-blocking: `[read, write]`.
pub(super) fn pipe() -> io::Result<[RawFd; 2]> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fds)
}

/// Whether the process's main thread, evcxr's, waits for the next cell: it
/// reads its command from standard input (`read(0, …)` in
/// `/proc/self/task/PID/syscall`). `Some(false)` when that cannot be read.
pub(super) fn main_thread_is_idle() -> Option<bool> {
    let path = format!("/proc/self/task/{}/syscall", std::process::id());
    Some(std::fs::read_to_string(path).is_ok_and(|syscall| {
        let mut fields = syscall.split_whitespace();
        fields.next() == Some(&libc::SYS_read.to_string()) && fields.next() == Some("0x0")
    }))
}
