//! The supervisor: one long-lived thread per pool that forks every worker,
//! and the table of live workers that reaping and closing share.
//!
//! Why a thread of its own: Linux's `PR_SET_PDEATHSIG`, which kills a worker
//! when its parent goes, fires when the *thread* that forked it exits, not
//! the process. Forking from whichever thread calls `map` (a tokio worker, a
//! notebook cell's thread) would kill workers when that thread ends. The
//! supervisor lives as long as the pool, and when the whole process dies
//! (a Jupyter interrupt kills evcxr's process) every worker gets `SIGKILL`.
//! (macOS has no such call: see `platform.rs`.)
//!
//! Why fork is sound here: after `fork` only the forking thread exists in the
//! child, and any lock another thread held stays locked there. The supervisor
//! thread holds nothing, is inside no tokio runtime, takes Rust's stdout and
//! stderr locks (flushed) around the fork, and the child never returns into
//! the parent's code: it moves its socket and two pipes to fds 3, 1 and 2,
//! closes every other inherited fd (the kernel's stdout pipe, other workers'
//! sockets, the parent runtimes' epoll fds), runs the job loop on a fresh
//! runtime and ends with `_exit`. glibc resets its malloc locks in the child.

use super::error::Death;
use super::platform;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// What a worker runs after the fork: its end of the socket in, exit status out.
pub(crate) type Body = Arc<dyn Fn(OwnedFd) -> i32 + Send + Sync>;

/// A freshly forked worker, as the parent sees it.
pub(crate) struct Spawned {
    pub pid: u32,
    pub socket: UnixStream,
    pub stdout: File,
    pub stderr: File,
}

struct Request {
    body: Body,
    reply: mpsc::Sender<io::Result<Spawned>>,
}

#[derive(Default)]
struct Table {
    closed: bool,
    live: BTreeSet<u32>,
}

#[derive(Default)]
struct Shared {
    table: Mutex<Table>,
    reaped: Condvar,
}

pub(crate) struct Supervisor {
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
    shared: Arc<Shared>,
}

impl Supervisor {
    pub fn start() -> io::Result<Supervisor> {
        let shared = Arc::new(Shared::default());
        let (requests, incoming) = mpsc::channel::<Request>();
        let thread = thread::Builder::new()
            .name("pool-supervisor".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || {
                    for request in incoming {
                        let _ = request.reply.send(fork_worker(&shared, &request.body));
                    }
                }
            })?;
        Ok(Supervisor {
            requests: Mutex::new(Some(requests)),
            thread: Mutex::new(Some(thread)),
            shared,
        })
    }

    /// Forks a worker that runs `body`, on the supervisor thread.
    pub fn fork(&self, body: Body) -> io::Result<Spawned> {
        let (reply, answer) = mpsc::channel();
        let sent = lock(&self.requests)
            .as_ref()
            .is_some_and(|requests| requests.send(Request { body, reply }).is_ok());
        if !sent {
            return Err(io::Error::other("the pool is closed"));
        }
        answer
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the pool's supervisor thread is gone")))
    }

    /// Waits for worker `pid` to end, reaps it and says how it died.
    pub fn reap(&self, pid: u32) -> Death {
        // Wait without reaping first: until it is reaped, the pid cannot be
        // reused, so `close` may still signal every pid in the table.
        loop {
            // SAFETY: siginfo_t is a plain C struct, for which all zeroes
            // is a valid value.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let flags = libc::WEXITED | libc::WNOWAIT;
            // SAFETY: waitid writes only the siginfo_t we pass, which lives
            // through the call.
            if unsafe { libc::waitid(libc::P_PID, pid, &mut info, flags) } == 0 {
                break;
            }
            if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
        let mut table = lock(&self.shared.table);
        let death = wait_pid(pid);
        table.live.remove(&pid);
        self.shared.reaped.notify_all();
        death
    }

    /// Sends `SIGKILL` to worker `pid` unless it has been reaped, and says
    /// whether it did. A pid is free for another process to take the moment
    /// its process is reaped; [`Supervisor::reap`] reaps under the table's
    /// lock and takes the pid out of the table before releasing it, so a pid
    /// still in the table under that lock is our worker (running, or a
    /// zombie that ignores the signal), never a stranger that took its pid.
    pub fn kill(&self, pid: u32) -> bool {
        let table = lock(&self.shared.table);
        if !table.live.contains(&pid) {
            return false;
        }
        // SAFETY: kill takes no memory of ours; `pid` names our unreaped
        // child, which the lock held here keeps unreaped.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        true
    }

    /// The pids of the workers alive now.
    pub fn live(&self) -> Vec<u32> {
        lock(&self.shared.table).live.iter().copied().collect()
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.shared.table).closed
    }

    /// Refuses new workers, kills the live ones with `SIGKILL` and waits until
    /// they are reaped: afterwards no process of this pool is left.
    pub fn close(&self) {
        let mut table = lock(&self.shared.table);
        table.closed = true;
        for &pid in &table.live {
            // SAFETY: kill takes no memory of ours. Every pid in the table
            // is our unreaped child while we hold its lock (see `kill`).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        // Each worker's reader thread reaps it; should one not get there in
        // time, reap it here.
        let (mut table, _) = self
            .shared
            .reaped
            .wait_timeout_while(table, Duration::from_secs(10), |table| {
                !table.live.is_empty()
            })
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for pid in std::mem::take(&mut table.live) {
            wait_pid(pid);
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.close();
        lock(&self.requests).take();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reaps `pid` (blocking) and decodes its status.
fn wait_pid(pid: u32) -> Death {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes only `status`, which lives through the call.
        let reaped = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        if reaped == pid as libc::pid_t {
            break;
        }
        if reaped == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return Death::Exit(-1);
    }
    if libc::WIFSIGNALED(status) {
        Death::Signal(libc::WTERMSIG(status))
    } else {
        Death::Exit(libc::WEXITSTATUS(status))
    }
}

/// Runs on the supervisor thread.
fn fork_worker(shared: &Shared, body: &Body) -> io::Result<Spawned> {
    let (parent_end, child_end) = UnixStream::pair()?; // both close-on-exec
    platform::no_sigpipe(&parent_end)?;
    let (stdout_read, stdout_write) = platform::pipe()?;
    let (stderr_read, stderr_write) = platform::pipe()?;
    // SAFETY: getpid takes nothing and cannot fail.
    let parent = unsafe { libc::getpid() };

    let mut table = lock(&shared.table);
    if table.closed {
        return Err(io::Error::other("the pool is closed"));
    }
    // No other thread may hold Rust's stdout or stderr lock at the fork, nor
    // leave bytes in stdout's buffer for the child to print again.
    let stdout = io::stdout();
    let mut stdout_lock = stdout.lock();
    let _ = stdout_lock.flush();
    let stderr = io::stderr();
    let stderr_lock = stderr.lock();

    // SAFETY: see the module's documentation. Of the locks this thread
    // holds (the table's, Rust's stdout and stderr), the child releases the
    // two it uses and never touches the table; it runs only `child`, which
    // never returns into our code and ends with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(stdout_lock);
        drop(stderr_lock);
        let fds = [
            child_end.into_raw_fd(),
            stdout_write.into_raw_fd(),
            stderr_write.into_raw_fd(),
        ];
        child(parent, fds, body);
    }
    drop(stderr_lock);
    drop(stdout_lock);
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    table.live.insert(pid as u32);
    drop(table);
    Ok(Spawned {
        pid: pid as u32,
        socket: parent_end,
        stdout: File::from(stdout_read),
        stderr: File::from(stderr_read),
    })
}

/// The worker process, from the fork to `_exit`. Never returns into the
/// parent's code, never drops what it inherited.
fn child(parent: libc::pid_t, [socket, stdout, stderr]: [RawFd; 3], body: &Body) -> ! {
    // SAFETY: plain system calls on fds and numbers, no memory of ours but
    // the C string literal. The fds moved here are the child's own copies;
    // nothing in the child uses the ones close_from closes (no Rust object
    // of the parent's is dropped or used after the fork: we never return).
    unsafe {
        // Die with the supervisor thread, and so with the parent process
        // (macOS: with the parent process).
        if !platform::die_with(parent) {
            libc::_exit(platform::ORPHANED);
        }
        // Writing to a socket or pipe whose reader has gone is an error, not
        // death by SIGPIPE.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        // Move each fd out of the way first, then into place: 0 /dev/null,
        // 1 and 2 the pipes to the parent, 3 the socket.
        let sources = [null, stdout, stderr, socket].map(|fd| libc::fcntl(fd, libc::F_DUPFD, 10));
        for (target, source) in sources.into_iter().enumerate() {
            if source < 0 || libc::dup2(source, target as RawFd) < 0 {
                libc::_exit(1);
            }
        }
        platform::close_from(4);
        libc::fcntl(3, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let code = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: fd 3 is the socket, moved there above; nothing else owns it.
        body(unsafe { OwnedFd::from_raw_fd(3) })
    }))
    .unwrap_or(101);
    // SAFETY: _exit ends the process at once, running nothing of ours.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_signalled_until_it_is_reaped_and_never_after() {
        let supervisor = Supervisor::start().unwrap();
        // One that ends at once, reaped as its reader thread reaps it: its
        // pid is free for any process to take, so no signal goes to it.
        let ended = supervisor.fork(Arc::new(|_| 0)).unwrap();
        assert_eq!(supervisor.reap(ended.pid), Death::Exit(0));
        assert!(!supervisor.kill(ended.pid));
        // One that runs: signalled, and it dies of it.
        let running = supervisor
            .fork(Arc::new(|_| {
                thread::sleep(Duration::from_secs(30));
                0
            }))
            .unwrap();
        assert!(supervisor.kill(running.pid));
        assert_eq!(supervisor.reap(running.pid), Death::Signal(libc::SIGKILL));
        assert!(supervisor.live().is_empty());
    }
}
