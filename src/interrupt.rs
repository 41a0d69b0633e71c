//! Jupyter's interrupt button, in the kernel's cell process: the counterpart
//! of the `KeyboardInterrupt` that IPython raises in a running cell.
//!
//! # What the reader sees
//!
//! - A cell waiting in [`Runtime::run`](crate::runtime::Runtime::run) stops
//!   at once and prints `KeyboardInterrupt`: the future is dropped, which
//!   cancels the tasks it started through [`gather`](crate::gather::gather)
//!   (tasks started with `Runtime::spawn` go on, as `create_task`'s do). No
//!   panic message, no backtrace. The variables made by earlier cells are
//!   kept, and so is the runtime.
//! - A cell busy in code that never awaits (a blocking sleep, a CPU loop)
//!   cannot be stopped from outside its thread. A first press says so: the
//!   cell stops at its next `.await`. A second press ends the process, as
//!   plain evcxr does on every press, and says that every variable is lost;
//!   evcxr starts a fresh process for the next cell.
//! - Blocking loops of this crate (the threads of the demos) hold a
//!   [`Checking`] guard, ask [`requested`] between steps, stop starting
//!   work, finish what they started, and then call [`checkpoint`]: no
//!   "blocking" message for them.
//! - A press while no cell runs does nothing.
//!
//! # How it gets here
//!
//! The kernel is started with `SIGINT` ignored and `"interrupt_mode":
//! "signal"`, so that Jupyter's interrupt is a `SIGINT` to the kernel's whole
//! process group that evcxr_jupyter itself ignores. The process that runs the
//! cells inherits the ignored disposition; the first
//! [`Runtime`](crate::runtime::Runtime) made there
//! (evcxr's runtime process, `EVCXR_IS_RUNTIME`, with `SIGINT` ignored) takes
//! the signal over. Anywhere else (a program, a test, a kernel without that
//! launcher) nothing changes: Ctrl-C stays what it was.
//!
//! # One state for the whole process
//!
//! evcxr links a fresh copy of this crate into every cell, each with its own
//! statics, while a `SIGINT` handler is process-wide. So there is one
//! `Shared` state, made by the copy that installs the handler, leaked (it
//! lives as long as the process; evcxr never unloads a cell), and published
//! in an environment variable, `ASYNCIO_RS_INTERRUPTS`: the process id, the
//! state's address and its size. Every other copy finds it there (the process
//! id must be ours: a forked pool worker inherits the variable, not the
//! state's thread). Sharing one value between the copies is what evcxr
//! already does with every variable: each copy is the same compiled crate, so
//! the layouts agree; the size in the variable catches a crate rebuilt in
//! between. Cells run one at a time, so two copies never install at once.
//!
//! The handler only writes a byte to a pipe (what a signal handler may do).
//! A thread of the installing copy reads it and does the rest: it counts the
//! press and wakes every thread waiting in `Runtime::run`, which cancels its
//! task and, once the task is dropped, *answers* the press: it prints
//! `KeyboardInterrupt` (on standard output, which evcxr, unlike standard
//! error, delivers before it reports the cell done) and unwinds with a
//! [`KeyboardInterrupt`] payload through `resume_unwind`, which calls no
//! panic hook. evcxr's `catch_unwind` around the cell catches it, as it
//! catches a panic, and keeps the variables that earlier cells made (those
//! the cell itself defines are lost, even one assigned before the press:
//! evcxr stores them when the cell ends). A press is answered once, so one
//! press prints one message, however many copies and runtimes are involved.
//! A press not answered within [`GRACE`] is the blocking case: the thread
//! says so, and a press while it is still unanswered calls `_exit` (a press
//! sooner than that is a double click: the same interrupt). The thread knows
//! that no cell is running when the main thread is reading evcxr's next
//! command from standard input (Linux: `/proc/self/task/PID/syscall`).
//!
//! Where that cannot be known (macOS, `interrupt/macos.rs`), a press that
//! nothing answers within [`GRACE`] may have come between two cells: it is
//! forgotten with [`UNKNOWN_MESSAGE`], never held for the next cell, and never
//! ends the process. A run or a checking loop still stops at once.
//!
//! A pool worker is forked with the handler; the handler does nothing in a
//! process other than the one that installed it, so the workers live on until
//! the interrupted call's drop kills and reaps them.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::panic;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use tokio::task::{JoinError, JoinHandle};

/// How long a press may go unanswered before the reader is told that the
/// cell is blocking: well under the half second a reader waits for a stop.
pub const GRACE: Duration = Duration::from_millis(250);

/// Printed when a cell stops at an interrupt: what Python prints.
pub const MESSAGE: &str = "KeyboardInterrupt";

/// Printed when a press finds the cell blocking its thread.
pub const BLOCKING_MESSAGE: &str = "Interrupt: this cell is running code that does not .await (it \
blocks its thread), so it cannot stop yet; it stops at its next .await. Interrupt again to stop \
it now: that ends the process, and every variable is lost.";

/// Printed where the system cannot tell a blocking cell from no cell at all
/// (macOS), when nothing answered a press within [`GRACE`].
pub const UNKNOWN_MESSAGE: &str = "Interrupt: nothing stopped. Either no cell is running, or this \
cell runs code that does not .await (it blocks its thread), which cannot be stopped on this \
system; to stop it, restart the kernel (every variable is lost).";

/// Printed before a second press ends the process.
pub const LOST_MESSAGE: &str = "Interrupted again: ending the process that runs the cells. Every \
variable is lost; the next cell starts in a fresh process (run the notebook's cells again from \
the top).";

/// The environment variable through which every copy of the crate finds the
/// one [`Shared`] state.
const VARIABLE: &str = "ASYNCIO_RS_INTERRUPTS";

/// The exit status after a second press: 128 + `SIGINT`, what a shell reports
/// for a program that Ctrl-C ended.
const EXIT_STATUS: i32 = 128 + libc::SIGINT;

/// How often the thread looks whether the blocking cell has ended by itself.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The payload of the unwind that ends an interrupted cell. evcxr's
/// `catch_unwind` stops it; elsewhere, `catch_unwind` finds it by type.
///
/// ```
/// use asyncio_rs::interrupt::KeyboardInterrupt;
///
/// let caught = std::panic::catch_unwind(|| {
///     std::panic::resume_unwind(Box::new(KeyboardInterrupt))
/// });
/// assert!(caught.unwrap_err().is::<KeyboardInterrupt>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyboardInterrupt;

impl fmt::Display for KeyboardInterrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MESSAGE)
    }
}

/// Whether the reader has pressed interrupt and the cell has not stopped yet.
/// Always `false` outside the kernel.
///
/// A blocking loop (threads, blocking sockets) holds a [`Checking`] while it
/// runs, asks between steps, stops starting work when it is `true`, finishes
/// what it started, then calls [`checkpoint`].
///
/// ```
/// use asyncio_rs::interrupt;
///
/// let checking = interrupt::checking();
/// let mut done = 0;
/// for _ in 0..3 {
///     if interrupt::requested() {
///         break;
///     }
///     done += 1;
/// }
/// drop(checking);
/// interrupt::checkpoint();
/// assert_eq!(done, 3);
/// ```
pub fn requested() -> bool {
    shared().is_some_and(|shared| shared.lock().pending.is_some())
}

/// Says, for as long as the returned guard lives, that the calling code asks
/// [`requested`] between its steps and ends with [`checkpoint`]: a press then
/// is not reported as blocking, since the code stops by itself, even while
/// it waits for the threads it started. See [`requested`].
pub fn checking() -> Checking {
    let shared = shared();
    if let Some(shared) = shared {
        shared.lock().checking += 1;
        shared.changed.notify_all();
    }
    Checking { shared }
}

/// The guard of [`checking`].
#[derive(Debug)]
#[must_use = "a press is reported as blocking once the guard is dropped"]
pub struct Checking {
    shared: Option<&'static Shared>,
}

impl Drop for Checking {
    fn drop(&mut self) {
        if let Some(shared) = self.shared {
            shared.lock().checking -= 1;
        }
    }
}

/// Ends the cell with `KeyboardInterrupt` if the reader has pressed
/// interrupt; does nothing otherwise: where Python would check for signals.
pub fn checkpoint() {
    if let Some(shared) = shared()
        && shared.lock().pending.is_some()
    {
        raise(shared);
    }
}

/// Takes `SIGINT` over if this is the kernel's cell process and no copy of
/// the crate has yet: every `Runtime` constructor calls it, so that a cell
/// that blocks after the first runtime can be interrupted.
pub(crate) fn enable() {
    shared();
}

/// Waits on the caller's thread for `task`, a task of a runtime driven by
/// another thread. On an interrupt, cancels the task, waits until it is
/// dropped (at its next `.await`), then ends the cell with
/// `KeyboardInterrupt`: its output, if it finished in between, is dropped
/// with it.
///
/// Outside the kernel it only waits.
pub(crate) fn join<T>(mut task: JoinHandle<T>) -> Result<T, JoinError> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let shared = shared();
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let waiter = shared.map(|shared| Waiter::new(shared, waker.clone()));
    let mut context = Context::from_waker(&waker);
    let mut cancelled = false;
    loop {
        if let Poll::Ready(result) = Pin::new(&mut task).poll(&mut context) {
            match (cancelled, shared) {
                (true, Some(shared)) => {
                    drop(waiter);
                    match result {
                        // A task that was itself interrupted (a nested run),
                        // or a real panic: it goes on up as it is.
                        Err(error) if error.is_panic() => {
                            answer(shared);
                            panic::resume_unwind(error.into_panic())
                        }
                        _ => raise(shared),
                    }
                }
                _ => return result,
            }
        }
        if !cancelled && waiter.as_ref().is_some_and(Waiter::pressed) {
            task.abort();
            cancelled = true;
            continue;
        }
        thread::park();
    }
}

/// Completes when the reader presses interrupt, from its first poll on (a
/// press still pending counts): what a future run on the caller's own thread
/// races against, as [`join`] does for a task. Never completes outside the
/// kernel.
pub(crate) fn pressed() -> impl Future<Output = ()> {
    let mut waiter: Option<Waiter> = None;
    std::future::poll_fn(move |context| {
        let Some(shared) = shared() else {
            return Poll::Pending;
        };
        let waiter = waiter.get_or_insert_with(|| Waiter::new(shared, context.waker().clone()));
        waiter.set_waker(context.waker());
        if waiter.pressed() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// Ends the cell with [`KeyboardInterrupt`] after [`pressed`] completed,
/// answering the press.
pub(crate) fn stop() -> ! {
    match shared() {
        Some(shared) => raise(shared),
        None => panic::resume_unwind(Box::new(KeyboardInterrupt)),
    }
}

/// Answers the pending press, if any, and unwinds with [`KeyboardInterrupt`].
fn raise(shared: &Shared) -> ! {
    if answer(shared) {
        // What the cell printed without a newline goes first.
        let _ = io::Write::flush(&mut io::stdout());
        say(MESSAGE);
    }
    panic::resume_unwind(Box::new(KeyboardInterrupt))
}

/// Marks the pending press answered; returns whether there was one.
fn answer(shared: &Shared) -> bool {
    let answered = shared.lock().pending.take().is_some();
    shared.changed.notify_all();
    answered
}

/// Prints `message` as one line on standard output, in one `write`: no
/// lock, no buffer of any copy of std (the process may end right after), and
/// whole between other lines.
///
/// Standard output, not standard error: evcxr reads a cell's standard output
/// up to the end of the cell before it reports the cell done; what the cell
/// writes on standard error last can reach Jupyter after the cell is over,
/// when no page shows it any more.
fn say(message: &str) {
    let line = format!("{message}\n");
    // SAFETY: writes from a live buffer. A failed write has no better place
    // to go.
    unsafe { libc::write(libc::STDOUT_FILENO, line.as_ptr().cast(), line.len()) };
}

/// The process-wide state, one for every copy of the crate.
#[derive(Debug)]
struct Shared {
    /// The process that installed the handler; a forked child is another.
    pid: u32,
    /// Whether the main thread waits for evcxr's next command; `None` where
    /// that cannot be known (see the module's doc).
    idle: fn() -> Option<bool>,
    state: Mutex<State>,
    /// Signalled when a press is answered or code starts checking.
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Presses so far, answered or not.
    presses: u64,
    /// When the press that no cell has answered yet came: a press
    /// [`GRACE`] later, while it is still pending, ends the process.
    pending: Option<Instant>,
    /// How many [`Checking`] guards live: code that stops by itself.
    checking: usize,
    /// What waits for a press (a thread in `join`, a [`pressed`] future),
    /// to wake on a press.
    waiters: Vec<(u64, Waker)>,
    next_waiter: u64,
}

impl State {
    /// A press is pending, and no code that checks for it is running.
    fn blocked(&self) -> bool {
        self.pending.is_some() && self.checking == 0
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the thread does with each press.
    fn press(&self) {
        let mut state = self.lock();
        let idle = (self.idle)();
        if idle == Some(true) {
            state.pending = None;
            return;
        }
        if let Some(pressed) = state.pending {
            if pressed.elapsed() < GRACE {
                // A double click: the cell has not had the time to answer
                // the first press.
                return;
            }
            say(LOST_MESSAGE);
            // SAFETY: ends the process at once, running nothing of it: other
            // threads may hold any lock (the cell's own included).
            unsafe { libc::_exit(EXIT_STATUS) };
        }
        state.presses += 1;
        state.pending = Some(Instant::now());
        for (_, waiter) in &state.waiters {
            waiter.wake_by_ref();
        }
        let (state, _) = self
            .changed
            .wait_timeout_while(state, GRACE, |state| state.blocked())
            .unwrap_or_else(PoisonError::into_inner);
        if state.blocked() {
            match idle {
                Some(_) => say(BLOCKING_MESSAGE),
                None => forget(state),
            }
        }
    }

    /// Forgets a pending press once the cell has ended without answering it
    /// (a blocking cell that ran to its end).
    fn forget_if_idle(&self) {
        let mut state = self.lock();
        if state.pending.is_some() && (self.idle)() == Some(true) {
            state.pending = None;
        }
    }
}

/// Drops a press that nothing answered and that may have come between two
/// cells, where that cannot be known: it must not stop the next cell.
fn forget(mut state: MutexGuard<'_, State>) {
    state.pending = None;
    drop(state);
    say(UNKNOWN_MESSAGE);
}

/// A wait in [`join`] or [`pressed`], registered for the presses to wake it.
struct Waiter {
    shared: &'static Shared,
    id: u64,
    /// Presses before this wait began: a later one interrupts it. A press
    /// still pending counts as later (a blocking cell that reaches its
    /// `.await`).
    seen: u64,
}

impl Waiter {
    fn new(shared: &'static Shared, waker: Waker) -> Waiter {
        let mut state = shared.lock();
        let id = state.next_waiter;
        state.next_waiter += 1;
        state.waiters.push((id, waker));
        let seen = state.presses - u64::from(state.pending.is_some());
        Waiter { shared, id, seen }
    }

    /// Wakes `waker` from now on, if it is another than the registered one.
    fn set_waker(&self, waker: &Waker) {
        let mut state = self.shared.lock();
        if let Some((_, registered)) = state.waiters.iter_mut().find(|(id, _)| *id == self.id)
            && !registered.will_wake(waker)
        {
            registered.clone_from(waker);
        }
    }

    fn pressed(&self) -> bool {
        self.shared.lock().presses > self.seen
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.shared.lock().waiters.retain(|(id, _)| *id != self.id);
    }
}

/// The process's interrupt state, installing the handler on first use if
/// this process is the kernel's cell process under a launcher that ignores
/// `SIGINT`. `None` elsewhere.
fn shared() -> Option<&'static Shared> {
    // Per copy of the crate: the lookup is made once per cell at most.
    static SHARED: OnceLock<Option<&'static Shared>> = OnceLock::new();
    SHARED
        .get_or_init(|| find().or_else(|| wanted().then(install).and_then(Result::ok)))
        .filter(|shared| shared.pid == std::process::id())
}

/// The state another copy of the crate published, if it was this process.
fn find() -> Option<&'static Shared> {
    let published = std::env::var(VARIABLE).ok()?;
    let mut fields = published.split(':');
    let pid: u32 = fields.next()?.parse().ok()?;
    let address = usize::from_str_radix(fields.next()?, 16).ok()?;
    let size: usize = fields.next()?.parse().ok()?;
    if pid != std::process::id() || size != size_of::<Shared>() || address == 0 {
        return None;
    }
    // SAFETY: this process published a leaked `Shared` at that address; the
    // size guards against another build of the crate.
    Some(unsafe { &*(address as *const Shared) })
}

/// Whether to take `SIGINT` over: in evcxr's runtime process, when it was
/// started with the signal ignored (by the kernel's launcher).
fn wanted() -> bool {
    crate::display::in_notebook_kernel() && sigint_is_ignored()
}

fn sigint_is_ignored() -> bool {
    // SAFETY: reads the current action only.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

/// The write end of the pipe, for the handler of the copy that installed it.
static WAKE: AtomicI32 = AtomicI32::new(-1);
/// The process that installed the handler.
static OWNER: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_sigint(_: libc::c_int) {
    // SAFETY: getpid and write are async-signal-safe; errno is restored.
    unsafe {
        let errno = *os::errno();
        if libc::getpid() == OWNER.load(Ordering::Relaxed) {
            let fd = WAKE.load(Ordering::Relaxed);
            libc::write(fd, b"!".as_ptr().cast(), 1);
        }
        *os::errno() = errno;
    }
}

/// Makes the state, its thread and the pipe, publishes the state and
/// installs the handler.
fn install() -> io::Result<&'static Shared> {
    // The write end never blocks the handler.
    let [read, write] = os::pipe()?;
    let shared: &'static Shared = Box::leak(Box::new(Shared {
        pid: std::process::id(),
        idle: os::main_thread_is_idle,
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    }));
    thread::Builder::new()
        .name("interrupts".to_string())
        .spawn(move || watch(shared, read))?;
    WAKE.store(write, Ordering::Relaxed);
    OWNER.store(std::process::id() as i32, Ordering::Relaxed);
    let published = format!(
        "{}:{:x}:{}",
        shared.pid,
        shared as *const Shared as usize,
        size_of::<Shared>()
    );
    // SAFETY: set once per process, from the cell's thread, while cells run
    // one at a time. Other threads of the kernel's process read the
    // environment through std, under std's lock.
    unsafe { std::env::set_var(VARIABLE, published) };
    // SAFETY: the handler only calls async-signal-safe functions. SA_RESTART
    // keeps the other threads' system calls from failing with EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(shared)
}

/// The thread: one press per byte from the handler.
fn watch(shared: &'static Shared, read: RawFd) {
    let mut byte = [0u8; 64];
    loop {
        let pending = shared.lock().pending.is_some();
        let mut poll = libc::pollfd {
            fd: read,
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout = if pending {
            IDLE_POLL.as_millis() as libc::c_int
        } else {
            -1
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, timeout) };
        if ready <= 0 {
            shared.forget_if_idle();
            continue;
        }
        // SAFETY: reads into `byte`; the read end is ours. Several presses
        // read at once count as one: the reader pressed while nothing could
        // answer yet.
        let read_bytes = unsafe { libc::read(read, byte.as_mut_ptr().cast(), byte.len()) };
        if read_bytes > 0 {
            shared.press();
        }
    }
}

// What differs between systems: errno, a pipe with its flags, whether the
// main thread waits for evcxr's next command.
#[cfg(target_os = "linux")]
#[path = "interrupt/linux.rs"]
mod os;
#[cfg(target_vendor = "apple")]
#[path = "interrupt/macos.rs"]
mod os;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_the_kernel_nothing_is_installed() {
        // The test process is not evcxr's runtime process.
        assert!(shared().is_none());
        assert!(!requested());
        checkpoint();
    }

    /// A state as `install` makes it, with `idle` for the main thread.
    fn shared_with(idle: fn() -> Option<bool>) -> &'static Shared {
        Box::leak(Box::new(Shared {
            pid: std::process::id(),
            idle,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }))
    }

    #[test]
    fn where_idleness_is_unknown_an_unanswered_press_is_forgotten_and_never_ends_the_process() {
        // macOS's case, run here: nothing answers either press.
        let shared = shared_with(|| None);
        shared.press();
        assert_eq!(shared.lock().pending, None, "held for the next cell");
        thread::sleep(GRACE);
        // Where idleness is known this second press would call _exit.
        shared.press();
        let state = shared.lock();
        assert_eq!((state.presses, state.pending), (2, None));
    }

    #[test]
    fn where_idleness_is_unknown_a_checking_loop_still_gets_the_press() {
        let shared = shared_with(|| None);
        shared.lock().checking += 1;
        shared.press();
        assert!(shared.lock().pending.is_some());
    }

    #[test]
    fn where_idleness_is_known_a_blocking_cell_s_press_is_held_and_an_idle_one_dropped() {
        let blocking = shared_with(|| Some(false));
        blocking.press();
        assert!(blocking.lock().pending.is_some());
        let idle = shared_with(|| Some(true));
        idle.press();
        let state = idle.lock();
        assert_eq!((state.presses, state.pending), (0, None));
    }

    #[test]
    fn the_payload_prints_what_python_prints() {
        assert_eq!(KeyboardInterrupt.to_string(), "KeyboardInterrupt");
    }

    #[test]
    fn a_published_state_of_another_process_or_build_is_not_used() {
        // find() reads the variable only: a value naming another process is
        // refused before its address is touched.
        let other = format!("{}:1000:{}", std::process::id() + 1, size_of::<Shared>());
        // SAFETY: the tests of this module are the only readers of VARIABLE.
        unsafe { std::env::set_var(VARIABLE, other) };
        assert!(find().is_none());
        let wrong_size = format!("{}:1000:{}", std::process::id(), size_of::<Shared>() + 8);
        // SAFETY: as above.
        unsafe { std::env::set_var(VARIABLE, wrong_size) };
        assert!(find().is_none());
        // SAFETY: as above.
        unsafe { std::env::remove_var(VARIABLE) };
    }
}
