//! Part 1, fire-and-forget writes: many writers each hand a line over and
//! go on at once. tokio tasks hand theirs to a task that owns the file
//! ([`tasks`]); threads take a lock around it ([`threads_locked`]) or hand
//! their lines to a thread that owns it ([`threads_channel`]). [`check`] reads
//! the file back, and [`compare_writes`] times all three.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc as std_mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::task::yield_now;

use super::on_threads;
use crate::display::{self, thousands};
use crate::runtime::Runtime;

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

/// What [`check`] found in a file that `writers` writers filled with
/// `lines_each` [`line()`]s each.
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
/// `lines_each` [`line()`]s each, and checks it.
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

/// The writer and number of a whole [`line()`], or `None`.
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
        display::evcxr_text(self);
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
            // A line as each way ends, so that the cell is never silent for long.
            println!(
                "{writers_as} handing lines to {handing_to}: {:.2} s",
                elapsed.as_secs_f64()
            );
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
    fn no_writers_write_an_empty_file() {
        let scratch = Scratch::new().unwrap();
        let path = scratch.file("empty.txt");
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.run(tasks(path.clone(), 0, 10)).unwrap(), 0);
        assert_eq!(fs::read(&path).unwrap(), b"");
    }
}
