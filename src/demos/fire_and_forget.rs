//! "Async IO shines for read/write operations in a fire-and-forget style,
//! without worrying about a lock for whatever you're reading/writing to": the
//! original's second example of IO-bound work, in three parts.
//!
//! 1. **Fire-and-forget writes.** Many writers each hand a line over and go
//!    on at once, without waiting for it to be written. Among tokio tasks the
//!    usual shape is one task that owns the file, fed through a channel
//!    ([`tasks`]); threads need a lock around the file ([`threads_locked`])
//!    or the same channel to a thread that owns it ([`threads_channel`]).
//!    [`check`] reads the file back: every line whole, once, in its writer's
//!    order. [`compare_writes`] does all three in a temporary directory,
//!    removed afterwards.
//! 2. **No lock.** Tasks on one thread can share state through
//!    `Rc<RefCell<_>>` ([`local_count`]): a task gives up the thread only at
//!    an `.await`, so no other task can run in the middle of an update that
//!    has none. Threads run at the same time: they need `Arc<Mutex<_>>`
//!    ([`threads_count`]), and Rust refuses to send an `Rc` to another thread
//!    at compile time. [`compare_counts`] times both.
//! 3. **What "without worrying" leaves out.** The `.await` is where other
//!    tasks run, so an update that reads, awaits, then writes loses updates
//!    under async IO too ([`read_await_write`]). The fixes: no `.await`
//!    between the read and the write ([`read_write_await`]), or a
//!    `tokio::sync::Mutex` held across it ([`locked_across`]). A `RefCell`
//!    borrow held across an `.await` is the same mistake in another form
//!    ([`borrow_across_await`]): the next task's borrow panics. [`race`] runs
//!    each on a paused clock, so what is lost is the same on every run.
//!
//! Tasks that share an `Rc` are not `Send`: they run on a `LocalSet`, on a
//! one-thread runtime of their own ([`on_one_thread`]), not on a
//! [`Runtime`]'s event loop, which takes only `Send` futures.
//!
//! ```
//! use asyncio_rs::demos::fire_and_forget::{self, Update};
//!
//! let counts = fire_and_forget::compare_counts(10, 100).unwrap();
//! assert_eq!((counts.tasks.count, counts.threads.count), (1_000, 1_000));
//! let lost = fire_and_forget::race(Update::ReadAwaitWrite, 3, 2).unwrap();
//! assert_eq!(lost.outcome, Ok(2)); // of 6
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc as std_mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::task::{JoinSet, LocalSet, yield_now};
use tokio::time::sleep;

use crate::limits::thousands;
use crate::runtime::Runtime;
use crate::timeline::{Recorder, Timeline};

/// The line that writer `writer` writes `n`th.
///
/// ```
/// assert_eq!(asyncio_rs::demos::fire_and_forget::line(7, 0), "writer 7 line 0\n");
/// ```
pub fn line(writer: usize, n: usize) -> String {
    format!("writer {writer} line {n}\n")
}

/// `writers` tokio tasks each hand `lines_each` lines to the task that owns
/// the file at `path`, through a channel: `send` returns at once, so each
/// writer goes on with its work (here a `yield_now`, where the other writers
/// run) without waiting for the write. Returns how many lines were written,
/// once all are in the file; or the first error writing it.
///
/// ```
/// use asyncio_rs::{demos::fire_and_forget, runtime::Runtime};
///
/// let path = std::env::temp_dir().join(format!("doc-tasks-{}", std::process::id()));
/// let rt = Runtime::new().unwrap();
/// assert_eq!(rt.run(fire_and_forget::tasks(path.clone(), 10, 10)).unwrap(), 100);
/// assert!(fire_and_forget::check(&path, 10, 10).unwrap().is_complete());
/// std::fs::remove_file(path).unwrap();
/// ```
pub async fn tasks(path: PathBuf, writers: usize, lines_each: usize) -> io::Result<u64> {
    let (lines, received) = mpsc::unbounded_channel();
    let owner = tokio::spawn(own_the_file(path, received));
    for writer in 0..writers {
        let lines = lines.clone();
        tokio::spawn(async move {
            for n in 0..lines_each {
                if lines.send(line(writer, n)).is_err() {
                    return; // The owner stopped: its error says why.
                }
                yield_now().await;
            }
        });
    }
    drop(lines); // The owner ends when every writer has dropped its sender.
    owner.await.map_err(io::Error::other)?
}

/// The task that owns the file: writes each line it receives, whole, in the
/// order received, and flushes when every sender is gone.
async fn own_the_file(path: PathBuf, mut lines: UnboundedReceiver<String>) -> io::Result<u64> {
    let mut file = BufWriter::new(tokio::fs::File::create(path).await?);
    let mut written = 0;
    while let Some(line) = lines.recv().await {
        file.write_all(line.as_bytes()).await?;
        written += 1;
    }
    file.flush().await?;
    Ok(written)
}

/// `writers` OS threads each write `lines_each` lines to the file at `path`,
/// one line per turn of the lock around it. Returns how many lines were
/// written, or the first error.
///
/// ```
/// use asyncio_rs::demos::fire_and_forget;
///
/// let path = std::env::temp_dir().join(format!("doc-locked-{}", std::process::id()));
/// assert_eq!(fire_and_forget::threads_locked(&path, 10, 10).unwrap(), 100);
/// assert!(fire_and_forget::check(&path, 10, 10).unwrap().is_complete());
/// std::fs::remove_file(path).unwrap();
/// ```
pub fn threads_locked(path: &Path, writers: usize, lines_each: usize) -> io::Result<u64> {
    let file = Arc::new(Mutex::new(io::BufWriter::new(fs::File::create(path)?)));
    let written = on_threads(writers, |writer| {
        let file = Arc::clone(&file);
        move || {
            for n in 0..lines_each {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                file.write_all(line(writer, n).as_bytes())?;
            }
            Ok(lines_each as u64)
        }
    })?;
    let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
    file.flush()?;
    Ok(written.into_iter().sum())
}

/// `writers` OS threads each hand `lines_each` lines to a thread that owns
/// the file at `path`, through a channel, as [`tasks`] does. Returns how many
/// lines were written, or the first error.
///
/// ```
/// use asyncio_rs::demos::fire_and_forget;
///
/// let path = std::env::temp_dir().join(format!("doc-channel-{}", std::process::id()));
/// assert_eq!(fire_and_forget::threads_channel(&path, 10, 10).unwrap(), 100);
/// assert!(fire_and_forget::check(&path, 10, 10).unwrap().is_complete());
/// std::fs::remove_file(path).unwrap();
/// ```
pub fn threads_channel(path: &Path, writers: usize, lines_each: usize) -> io::Result<u64> {
    let (lines, received) = std_mpsc::channel::<String>();
    let file = fs::File::create(path)?;
    let owner = thread::Builder::new().spawn(move || {
        let mut file = io::BufWriter::new(file);
        let mut written = 0;
        for line in received {
            file.write_all(line.as_bytes())?;
            written += 1;
        }
        file.flush()?;
        Ok::<u64, io::Error>(written)
    })?;
    let sent = on_threads(writers, |writer| {
        let lines = lines.clone();
        move || {
            for n in 0..lines_each {
                if lines.send(line(writer, n)).is_err() {
                    break; // The owner stopped: its error says why.
                }
            }
            Ok(())
        }
    });
    drop(lines);
    let written = owner
        .join()
        .map_err(|_| io::Error::other("the thread that owns the file panicked"))??;
    sent?;
    Ok(written)
}

/// Runs `work(i)` on `count` OS threads at once and returns their results in
/// order, or the first error. If the system refuses a thread, the threads
/// already started are joined before the error is returned.
fn on_threads<T, W>(count: usize, work: impl Fn(usize) -> W) -> io::Result<Vec<T>>
where
    T: Send + 'static,
    W: FnOnce() -> io::Result<T> + Send + 'static,
{
    let mut running = Vec::with_capacity(count);
    let mut refused = None;
    for i in 0..count {
        match thread::Builder::new().spawn(work(i)) {
            Ok(handle) => running.push(handle),
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    let results: Vec<io::Result<T>> = running
        .into_iter()
        .map(|handle| {
            handle
                .join()
                .map_err(|_| io::Error::other("a thread panicked"))?
        })
        .collect();
    match refused {
        Some(error) => Err(error),
        None => results.into_iter().collect(),
    }
}

/// What [`check`] found in a file that `writers` writers filled with
/// `lines_each` [`line`]s each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// How many lines the file has.
    pub lines: u64,
    /// How many of them are whole lines that a writer wrote, each counted
    /// once: a torn, mixed or repeated line is not.
    pub whole: u64,
    /// Whether each writer's lines are in the order it wrote them.
    pub in_order: bool,
    /// How often the next line is another writer's: 0 if the writers took
    /// turns one whole writer at a time, up to `lines - 1` if they
    /// alternated line by line.
    pub switches: u64,
    /// How many lines the writers wrote in all.
    pub expected: u64,
}

impl Check {
    /// Every line there, whole, once, in its writer's order.
    pub fn is_complete(&self) -> bool {
        self.lines == self.expected && self.whole == self.expected && self.in_order
    }
}

/// Reads back the file at `path` that `writers` writers filled with
/// `lines_each` [`line`]s each, and checks it.
///
/// ```
/// use asyncio_rs::demos::fire_and_forget::{check, line};
///
/// let path = std::env::temp_dir().join(format!("doc-check-{}", std::process::id()));
/// std::fs::write(&path, line(0, 0) + &line(1, 0) + "writer 0 li").unwrap();
/// let found = check(&path, 2, 2).unwrap();
/// assert_eq!((found.lines, found.whole, found.switches), (3, 2, 1));
/// assert!(!found.is_complete());
/// std::fs::remove_file(path).unwrap();
/// ```
pub fn check(path: &Path, writers: usize, lines_each: usize) -> io::Result<Check> {
    let text = fs::read(path)?;
    let text = String::from_utf8_lossy(&text);
    // The next line each writer should write, and who wrote the line before.
    let mut next: HashMap<usize, usize> = HashMap::new();
    let mut seen = vec![vec![false; lines_each]; writers];
    let (mut lines, mut whole, mut switches, mut in_order) = (0, 0, 0, true);
    let mut previous = None;
    for text in text.split_inclusive('\n') {
        lines += 1;
        let Some((writer, n)) = parse(text).filter(|&(w, n)| w < writers && n < lines_each) else {
            previous = None;
            continue;
        };
        if !std::mem::replace(&mut seen[writer][n], true) {
            whole += 1;
        }
        let expected = next.entry(writer).or_insert(0);
        in_order &= n == *expected;
        *expected = n + 1;
        switches += u64::from(previous.is_some_and(|before| before != writer));
        previous = Some(writer);
    }
    Ok(Check {
        lines,
        whole,
        in_order,
        switches,
        expected: (writers * lines_each) as u64,
    })
}

/// The writer and number of a whole [`line`], or `None`.
fn parse(text: &str) -> Option<(usize, usize)> {
    let rest = text.strip_prefix("writer ")?.strip_suffix('\n')?;
    let (writer, n) = rest.split_once(" line ")?;
    let (writer, n) = (writer.parse().ok()?, n.parse().ok()?);
    (line(writer, n) == text).then_some((writer, n))
}

/// A directory of its own under the system's temporary directory, removed
/// with what it holds when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> io::Result<Scratch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        loop {
            let name = format!(
                "asyncio_rs-fire-and-forget-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(Scratch(path)),
                // Left by an earlier process with our id, or made by another
                // copy of this crate in the same process (a notebook cell).
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(error),
            }
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One way of writing, in [`Writes`].
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRow {
    /// What the writers are: tokio tasks or OS threads.
    pub writers_as: &'static str,
    /// What they hand their lines to.
    pub handing_to: &'static str,
    /// From the first writer's start to the last line in the file.
    pub elapsed: Duration,
    /// What reading the file back found.
    pub check: Check,
}

/// [`compare_writes`]'s table. Under evcxr a cell that ends with it shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Writes {
    /// How many writers each row had.
    pub writers: usize,
    /// How many lines each writer wrote.
    pub lines_each: usize,
    /// Tasks through a channel, threads with a lock, threads through a
    /// channel.
    pub rows: Vec<WriteRow>,
}

impl Writes {
    /// evcxr's display protocol: the table as `text/plain`.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

impl fmt::Display for Writes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} lines: {} writers, {} lines each, to one file, read back",
            thousands((self.writers * self.lines_each) as u64),
            thousands(self.writers as u64),
            thousands(self.lines_each as u64),
        )?;
        writeln!(f)?;
        write!(
            f,
            "{:<12} {:<28} {:>7} {:>8} {:>8} {:>8} {:>14}",
            "writers as",
            "handing lines to",
            "seconds",
            "lines",
            "whole",
            "in order",
            "writer changes"
        )?;
        for row in &self.rows {
            write!(
                f,
                "\n{:<12} {:<28} {:>7.2} {:>8} {:>8} {:>8} {:>14}",
                row.writers_as,
                row.handing_to,
                row.elapsed.as_secs_f64(),
                thousands(row.check.lines),
                thousands(row.check.whole),
                if row.check.in_order { "yes" } else { "no" },
                thousands(row.check.switches),
            )?;
        }
        Ok(())
    }
}

/// Runs [`tasks`] on `rt`, then [`threads_locked`] and [`threads_channel`],
/// each with `writers` writers of `lines_each` lines and a file of its own in
/// a temporary directory, which is removed afterwards; times each and checks
/// each file.
///
/// # Errors
///
/// The first write that fails, or a directory that cannot be made.
pub fn compare_writes(rt: &Runtime, writers: usize, lines_each: usize) -> io::Result<Writes> {
    let scratch = Scratch::new()?;
    let mut rows = Vec::new();
    let mut measure =
        |writers_as, handing_to, name: &str, write: &dyn Fn(PathBuf) -> io::Result<u64>| {
            let path = scratch.file(name);
            let start = Instant::now();
            write(path.clone())?;
            let elapsed = start.elapsed();
            rows.push(WriteRow {
                writers_as,
                handing_to,
                elapsed,
                check: check(&path, writers, lines_each)?,
            });
            io::Result::Ok(())
        };
    measure(
        "tokio tasks",
        "a task that owns the file",
        "tasks.txt",
        &|path| rt.run(tasks(path, writers, lines_each)),
    )?;
    measure(
        "OS threads",
        "a Mutex around the file",
        "locked.txt",
        &|path| threads_locked(&path, writers, lines_each),
    )?;
    measure(
        "OS threads",
        "a thread that owns the file",
        "channel.txt",
        &|path| threads_channel(&path, writers, lines_each),
    )?;
    Ok(Writes {
        writers,
        lines_each,
        rows,
    })
}

/// Runs `future` to the end on a one-thread runtime of its own, on a
/// `LocalSet`, so that it can spawn tasks that are not `Send`
/// (`tokio::task::spawn_local`); on tokio's paused clock if `paused`.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use asyncio_rs::demos::fire_and_forget::on_one_thread;
///
/// let shared = Rc::new(Cell::new(1));
/// on_one_thread(false, {
///     let shared = Rc::clone(&shared);
///     async move { tokio::task::spawn_local(async move { shared.set(2) }).await.unwrap() }
/// })
/// .unwrap();
/// assert_eq!(shared.get(), 2);
/// ```
pub fn on_one_thread<F: Future>(paused: bool, future: F) -> io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()?;
    Ok(LocalSet::new().block_on(&runtime, future))
}

/// `workers` tasks each add 1 to one counter `updates_each` times, sharing
/// it as `Rc<RefCell<u64>>`, with no lock, yielding after each update so
/// that they take turns. No update is lost: a task gives up the thread only
/// at an `.await`, and there is none inside an update. Run it on a
/// `LocalSet` ([`on_one_thread`]); returns the count.
///
/// ```
/// use asyncio_rs::demos::fire_and_forget::{local_count, on_one_thread};
///
/// assert_eq!(on_one_thread(false, local_count(10, 100)).unwrap(), 1_000);
/// ```
pub async fn local_count(workers: usize, updates_each: usize) -> u64 {
    let count = Rc::new(RefCell::new(0));
    let mut running = JoinSet::new();
    for _ in 0..workers {
        let count = Rc::clone(&count);
        running.spawn_local(async move {
            for _ in 0..updates_each {
                *count.borrow_mut() += 1;
                yield_now().await;
            }
        });
    }
    running.join_all().await;
    *count.borrow()
}

/// `workers` OS threads each add 1 to one counter `updates_each` times,
/// sharing it as `Arc<Mutex<u64>>`: threads run at the same time, so each
/// update takes the lock. Returns the count, or an error if the system
/// refuses a thread.
///
/// ```
/// assert_eq!(asyncio_rs::demos::fire_and_forget::threads_count(10, 100).unwrap(), 1_000);
/// ```
pub fn threads_count(workers: usize, updates_each: usize) -> io::Result<u64> {
    let count = Arc::new(Mutex::new(0));
    on_threads(workers, |_| {
        let count = Arc::clone(&count);
        move || {
            for _ in 0..updates_each {
                *count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            }
            Ok(())
        }
    })?;
    let count = *count.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(count)
}

/// One row of [`Counts`]: the count reached and the time it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The counter at the end.
    pub count: u64,
    /// From the first worker's start to the last one's end.
    pub elapsed: Duration,
}

/// [`compare_counts`]'s table. Under evcxr a cell that ends with it shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// How many workers each row had.
    pub workers: usize,
    /// How many updates each worker made.
    pub updates_each: usize,
    /// [`local_count`]: tokio tasks, `Rc<RefCell<u64>>`, no lock.
    pub tasks: Counted,
    /// [`threads_count`]: OS threads, `Arc<Mutex<u64>>`.
    pub threads: Counted,
}

impl Counts {
    /// evcxr's display protocol: the table as `text/plain`.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} updates of one counter: {} workers, {} updates each",
            thousands((self.workers * self.updates_each) as u64),
            thousands(self.workers as u64),
            thousands(self.updates_each as u64),
        )?;
        writeln!(f)?;
        write!(
            f,
            "{:<14} {:<26} {:>7} {:>9}",
            "workers as", "sharing the counter as", "seconds", "count"
        )?;
        let rows = [
            ("tokio tasks", "Rc<RefCell<u64>>, no lock", self.tasks),
            ("OS threads", "Arc<Mutex<u64>>", self.threads),
        ];
        for (name, sharing, row) in rows {
            write!(
                f,
                "\n{:<14} {:<26} {:>7.3} {:>9}",
                name,
                sharing,
                row.elapsed.as_secs_f64(),
                thousands(row.count)
            )?;
        }
        Ok(())
    }
}

/// Times [`local_count`] (on a one-thread runtime of its own) and
/// [`threads_count`], each with `workers` workers of `updates_each` updates.
///
/// # Errors
///
/// A runtime or a thread that the system refuses.
pub fn compare_counts(workers: usize, updates_each: usize) -> io::Result<Counts> {
    let start = Instant::now();
    let count = on_one_thread(false, local_count(workers, updates_each))?;
    let tasks = Counted {
        count,
        elapsed: start.elapsed(),
    };
    let start = Instant::now();
    let count = threads_count(workers, updates_each)?;
    let threads = Counted {
        count,
        elapsed: start.elapsed(),
    };
    Ok(Counts {
        workers,
        updates_each,
        tasks,
        threads,
    })
}

/// The wait between reading the counter and writing it back in the demos of
/// lost updates: a stand-in for IO, a millisecond on the paused clock.
pub const IO: Duration = Duration::from_millis(1);

/// Adds 1 to `count`, `updates` times: reads it, awaits [`IO`], writes back
/// what it read plus one. The `.await` is where other tasks run: they read
/// the same value, and all but the last write are lost.
pub async fn read_await_write(count: Rc<RefCell<u64>>, updates: usize) {
    for _ in 0..updates {
        let seen = *count.borrow();
        sleep(IO).await;
        *count.borrow_mut() = seen + 1;
    }
}

/// The first fix: the update first, then the `.await`. Between the read and
/// the write there is no `.await`, so no other task runs there.
pub async fn read_write_await(count: Rc<RefCell<u64>>, updates: usize) {
    for _ in 0..updates {
        *count.borrow_mut() += 1;
        sleep(IO).await;
    }
}

/// The second fix, for when the `.await` must come between: a
/// `tokio::sync::Mutex` held across it. The other tasks wait for the lock at
/// an `.await` of their own, so the updates take turns.
pub async fn locked_across(count: Rc<tokio::sync::Mutex<u64>>, updates: usize) {
    for _ in 0..updates {
        let mut count = count.lock().await;
        let seen = *count;
        sleep(IO).await;
        *count = seen + 1;
    }
}

/// The same mistake as [`read_await_write`] in another form: a `RefCell`
/// borrow held across an `.await`. The next task to borrow panics with
/// "already borrowed", and clippy's `await_holding_refcell_ref` lint warns
/// about it (it must: the `expect` below fails the lint check otherwise).
#[expect(
    clippy::await_holding_refcell_ref,
    reason = "the mistake this demo shows"
)]
pub async fn borrow_across_await(count: Rc<RefCell<u64>>, updates: usize) {
    for _ in 0..updates {
        let mut count = count.borrow_mut();
        sleep(IO).await;
        *count += 1;
    }
}

/// The kinds of update that [`race`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// [`read_await_write`]: updates are lost.
    ReadAwaitWrite,
    /// [`read_write_await`]: no `.await` between the read and the write.
    ReadWriteAwait,
    /// [`locked_across`]: a `tokio::sync::Mutex` held across the `.await`.
    LockedAcross,
    /// [`borrow_across_await`]: a `RefCell` borrow held across the `.await`.
    BorrowAcross,
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Update::ReadAwaitWrite => "read, .await, write",
            Update::ReadWriteAwait => "read, write, .await",
            Update::LockedAcross => "a tokio Mutex held across the .await",
            Update::BorrowAcross => "a RefCell borrow held across the .await",
        })
    }
}

/// What [`race`] found. Prints as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Race {
    /// The kind of update the tasks made.
    pub update: Update,
    /// How many tasks.
    pub tasks: usize,
    /// How many updates each.
    pub updates_each: usize,
    /// The count at the end, or the message of the first task that panicked.
    pub outcome: Result<u64, String>,
    /// How long the run took on the paused clock.
    pub took: Duration,
    /// Each task's lane: when it ran and when it waited.
    pub timeline: Timeline,
}

impl Race {
    /// How many updates were made in all, if none was lost.
    pub fn expected(&self) -> u64 {
        (self.tasks * self.updates_each) as u64
    }
}

impl fmt::Display for Race {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} tasks × {} updates, ",
            self.update, self.tasks, self.updates_each
        )?;
        match &self.outcome {
            Ok(count) => write!(
                f,
                "count {} of {}, {} lost, {} ms",
                thousands(*count),
                thousands(self.expected()),
                thousands(self.expected().saturating_sub(*count)),
                thousands(self.took.as_millis() as u64)
            ),
            Err(panic) => write!(f, "a task panicked: {panic}"),
        }
    }
}

/// Runs `tasks` tasks that each make `updates_each` updates of the kind
/// `update` to one counter, on a one-thread runtime on the paused clock, so
/// that every run interleaves the tasks the same way; records each task's
/// lane.
///
/// ```
/// use asyncio_rs::demos::fire_and_forget::{race, Update};
///
/// let lost = race(Update::ReadAwaitWrite, 3, 2).unwrap();
/// assert_eq!(lost.outcome, Ok(2));
/// assert_eq!(lost.to_string(), "read, .await, write: 3 tasks × 2 updates, count 2 of 6, 4 lost, 2 ms");
/// let locked = race(Update::LockedAcross, 3, 2).unwrap();
/// assert_eq!(locked.outcome, Ok(6));
/// assert_eq!(locked.took.as_millis(), 6); // they take turns
/// ```
///
/// # Errors
///
/// A runtime that cannot be built.
pub fn race(update: Update, tasks: usize, updates_each: usize) -> io::Result<Race> {
    on_one_thread(true, async move {
        let start = tokio::time::Instant::now();
        let recorder = Recorder::new();
        let count = Rc::new(RefCell::new(0));
        let locked = Rc::new(tokio::sync::Mutex::new(0));
        let mut running = JoinSet::new();
        for task in 1..=tasks {
            let lane = recorder.lane(format!("task {task}"));
            let (count, locked) = (Rc::clone(&count), Rc::clone(&locked));
            match update {
                Update::ReadAwaitWrite => {
                    running.spawn_local(lane.trace(read_await_write(count, updates_each)))
                }
                Update::ReadWriteAwait => {
                    running.spawn_local(lane.trace(read_write_await(count, updates_each)))
                }
                Update::LockedAcross => {
                    running.spawn_local(lane.trace(locked_across(locked, updates_each)))
                }
                Update::BorrowAcross => {
                    running.spawn_local(lane.trace(borrow_across_await(count, updates_each)))
                }
            };
        }
        let mut panicked = None;
        while let Some(joined) = running.join_next().await {
            if let Err(error) = joined
                && error.is_panic()
            {
                panicked.get_or_insert(panic_message(error.into_panic()));
            }
        }
        let outcome = match (panicked, update) {
            (Some(message), _) => Err(message),
            (None, Update::LockedAcross) => Ok(*locked.lock().await),
            (None, _) => Ok(*count.borrow()),
        };
        Race {
            update,
            tasks,
            updates_each,
            outcome,
            took: start.elapsed(),
            timeline: recorder.timeline(),
        }
    })
}

/// The message a panic was raised with.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&str>() {
            Ok(message) => (*message).to_string(),
            Err(_) => "(a panic without a message)".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_writing_puts_every_line_in_the_file_whole_and_once() {
        let rt = Runtime::new().unwrap();
        let writes = compare_writes(&rt, 50, 40).unwrap();
        assert_eq!(writes.rows.len(), 3);
        for row in &writes.rows {
            assert_eq!(row.check.lines, 2_000, "{}", row.handing_to);
            assert!(
                row.check.is_complete(),
                "{}: {:?}",
                row.handing_to,
                row.check
            );
        }
        // The tasks yield after each line, so the writers take turns line by
        // line: nearly every next line is another writer's.
        let switches = writes.rows[0].check.switches;
        assert!(switches > 1_800, "{switches} of 1,999");
        let table = writes.to_string();
        assert!(
            table.starts_with("2,000 lines: 50 writers, 40 lines each, to one file"),
            "{table}"
        );
        assert!(
            table.contains("\ntokio tasks  a task that owns the file"),
            "{table}"
        );
    }

    #[test]
    fn the_temporary_directory_is_removed_with_its_files() {
        let scratch = Scratch::new().unwrap();
        let (directory, file) = (scratch.0.clone(), scratch.file("lines.txt"));
        assert_eq!(threads_locked(&file, 2, 2).unwrap(), 4);
        assert!(file.exists());
        assert_ne!(Scratch::new().unwrap().0, directory, "each has its own");
        drop(scratch);
        assert!(!directory.exists());
    }

    #[test]
    fn a_full_disk_is_an_error_from_every_way_of_writing() {
        let full = PathBuf::from("/dev/full");
        if !full.exists() {
            return; // Not Linux.
        }
        let rt = Runtime::new().unwrap();
        let errors = [
            rt.run(tasks(full.clone(), 20, 100)).unwrap_err(),
            threads_locked(&full, 20, 100).unwrap_err(),
            threads_channel(&full, 20, 100).unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), io::ErrorKind::StorageFull, "{error}");
        }
    }

    #[test]
    fn a_removed_directory_is_an_error_not_a_lost_line() {
        let scratch = Scratch::new().unwrap();
        let path = scratch.file("lines.txt");
        drop(scratch);
        let rt = Runtime::new().unwrap();
        for error in [
            rt.run(tasks(path.clone(), 5, 5)).unwrap_err(),
            threads_locked(&path, 5, 5).unwrap_err(),
            threads_channel(&path, 5, 5).unwrap_err(),
        ] {
            assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
        }
        assert!(compare_writes(&rt, 1, 1).is_ok(), "and the next run works");
    }

    #[test]
    fn check_finds_torn_missing_repeated_and_reordered_lines() {
        let scratch = Scratch::new().unwrap();
        let path = scratch.file("lines.txt");
        let found = |text: String| {
            fs::write(&path, text).unwrap();
            check(&path, 2, 2).unwrap()
        };
        let all = line(0, 0) + &line(1, 0) + &line(0, 1) + &line(1, 1);
        let complete = found(all.clone());
        assert!(complete.is_complete(), "{complete:?}");
        assert_eq!(complete.switches, 3);
        // Torn: one line's two halves with another line between them, which
        // the first half spoils too.
        let torn = found(line(0, 0) + "writer 1 li" + &line(0, 1) + "ne 0\n" + &line(1, 1));
        assert_eq!((torn.lines, torn.whole), (4, 2));
        assert!(!torn.is_complete());
        // Missing, repeated, out of its writer's order, out of range.
        assert!(!found(line(0, 0) + &line(1, 0) + &line(0, 1)).is_complete());
        let repeated = found(all.clone() + &line(1, 1));
        assert_eq!((repeated.lines, repeated.whole), (5, 4));
        let swapped = found(line(0, 1) + &line(0, 0) + &line(1, 0) + &line(1, 1));
        assert_eq!((swapped.whole, swapped.in_order), (4, false));
        assert_eq!(found(line(0, 0) + &line(2, 0) + &line(0, 5)).whole, 1);
        // Padded numbers are not the line a writer wrote.
        assert_eq!(parse("writer 01 line 0\n"), None);
        assert_eq!(parse("writer 1 line 0"), None);
        assert_eq!(parse(&line(12, 345)), Some((12, 345)));
    }

    #[test]
    fn tasks_without_a_lock_and_threads_with_one_lose_no_update() {
        let counts = compare_counts(100, 1_000).unwrap();
        assert_eq!(counts.tasks.count, 100_000);
        assert_eq!(counts.threads.count, 100_000);
        let table = counts.to_string();
        assert!(
            table.starts_with("100,000 updates of one counter: 100 workers, 1,000 updates each"),
            "{table}"
        );
        assert!(
            table.contains("\ntokio tasks    Rc<RefCell<u64>>, no lock"),
            "{table}"
        );
        assert!(
            table.contains("\nOS threads     Arc<Mutex<u64>>"),
            "{table}"
        );
    }

    #[test]
    fn read_await_write_loses_all_but_one_update_per_round_on_every_run() {
        for (tasks, updates) in [(2, 1), (3, 2), (10, 100), (100, 7)] {
            for _ in 0..3 {
                let race = race(Update::ReadAwaitWrite, tasks, updates).unwrap();
                // Every task reads the same value in each round of IO.
                assert_eq!(race.outcome, Ok(updates as u64), "{race}");
                assert_eq!(race.took, IO * updates as u32);
            }
        }
    }

    #[test]
    fn the_fixes_lose_nothing_and_the_lock_makes_the_updates_take_turns() {
        for (tasks, updates) in [(2, 1), (3, 2), (10, 100)] {
            let expected = Ok((tasks * updates) as u64);
            let free = race(Update::ReadWriteAwait, tasks, updates).unwrap();
            assert_eq!(free.outcome, expected);
            assert_eq!(free.took, IO * updates as u32);
            let locked = race(Update::LockedAcross, tasks, updates).unwrap();
            assert_eq!(locked.outcome, expected);
            assert_eq!(locked.took, IO * (tasks * updates) as u32);
        }
    }

    #[test]
    fn a_borrow_held_across_an_await_panics_in_the_next_task() {
        let race = race(Update::BorrowAcross, 3, 2).unwrap();
        let panic = race.outcome.clone().unwrap_err();
        assert!(panic.contains("already borrowed"), "{panic}");
        assert_eq!(
            race.to_string(),
            format!(
                "a RefCell borrow held across the .await: 3 tasks × 2 updates, a task panicked: {panic}"
            )
        );
    }

    #[test]
    fn the_timeline_shows_every_task_waiting_at_once_or_in_turn() {
        let lost = race(Update::ReadAwaitWrite, 3, 2).unwrap();
        let locked = race(Update::LockedAcross, 3, 2).unwrap();
        for track in lost.timeline.tracks() {
            let waits: Vec<_> = track.waits().collect();
            assert_eq!(waits, [Duration::ZERO..IO, IO..IO * 2], "{}", track.name());
        }
        let finished: Vec<_> = locked
            .timeline
            .tracks()
            .iter()
            .map(|track| track.finished())
            .collect();
        // Task 1 holds the lock first, then task 2, then task 3, in turn.
        assert_eq!(finished, [Some(IO * 4), Some(IO * 5), Some(IO * 6)]);
    }

    #[test]
    fn no_writers_write_an_empty_file() {
        let scratch = Scratch::new().unwrap();
        let path = scratch.file("empty.txt");
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.run(tasks(path.clone(), 0, 10)).unwrap(), 0);
        assert_eq!(fs::read(&path).unwrap(), b"");
    }
}
