//! macOS's side of [`super`]: errno, a pipe given its flags after it is
//! made, and no way to tell whether the main thread waits for evcxr's next
//! command.
//!
//! macOS has no `/proc`, and no call that names the system call a thread is
//! blocked in (`proc_pidinfo`'s thread info gives a run state only, which is
//! "waiting" for a cell in `thread::sleep` and for evcxr's loop reading its
//! standard input alike). So [`main_thread_is_idle`] says it does not know,
//! and a press that nothing answers is forgotten (see the module's doc).

use std::io;
use std::os::fd::RawFd;

/// This thread's `errno`, for the signal handler to keep it.
pub(super) fn errno() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno slot; async-signal-safe.
    unsafe { libc::__error() }
}

/// A pipe, both ends close-on-exec, the write end non-blocking: `[read, write]`.
/// macOS has no `pipe2`, so the flags are set after; until then a process
/// that another thread forks and execs could inherit it (a kernel's
/// compiler, say): harmless, the pipe only carries wake-ups.
pub(super) fn pipe() -> io::Result<[RawFd; 2]> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe writes two descriptors into the array we pass; fcntl only
    // changes the flags of those descriptors, which are ours.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let [read, write] = fds;
        let flags = libc::fcntl(write, libc::F_GETFL);
        if libc::fcntl(read, libc::F_SETFD, libc::FD_CLOEXEC) != 0
            || libc::fcntl(write, libc::F_SETFD, libc::FD_CLOEXEC) != 0
            || flags < 0
            || libc::fcntl(write, libc::F_SETFL, flags | libc::O_NONBLOCK) != 0
        {
            let error = io::Error::last_os_error();
            libc::close(read);
            libc::close(write);
            return Err(error);
        }
    }
    Ok(fds)
}

/// Not known on macOS: `None`.
pub(super) fn main_thread_is_idle() -> Option<bool> {
    None
}
