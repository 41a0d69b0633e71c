//! The first claim of "Async IO vs threading": threads are a system resource
//! with finite availability; thousands of threads fail on many machines,
//! where thousands (or a million) async tasks are fine.
//!
//! Both sides do the same work: each of N workers sleeps for a second.
//! [`sleeping_tasks`] runs N tokio tasks on one thread; [`sleeping_threads`]
//! starts N OS threads. [`tasks`] and [`threads()`] measure a run: wall time and
//! the process's memory before it and at its peak ([`crate::memory`]), so
//! what the run itself added. Threads are
//! checked against the machine's limits first ([`crate::limits`]): past
//! `vm.max_map_count` a Rust process aborts, so the demo stops short and says
//! which limit stopped it. [`compare`] runs both for
//! several N and returns a [`Comparison`], which prints as a table and shows
//! in a notebook as the table and a chart.
//!
//! ```
//! # #[cfg(target_os = "linux")] {
//! use asyncio_rs::demos::{Kind, tasks_vs_threads};
//! use asyncio_rs::runtime::Runtime;
//!
//! let rt = Runtime::paused().unwrap(); // virtual time: the second passes at once
//! let row = tasks_vs_threads::tasks(&rt, 1_000).unwrap();
//! assert_eq!((row.kind, row.started, row.seconds), (Kind::Tasks, 1_000, 1.0));
//! # }
//! ```

use std::fmt;
use std::io;
use std::thread;
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::Kind;
use crate::chart::{Chart, Panel, Series};
use crate::display::{self, thousands};
use crate::limits::{self, Limits, Stopped};
use crate::memory::{self, Peak, mebibytes_or_not};
use crate::runtime::Runtime;
use crate::threads;

/// How long each task or thread sleeps.
pub const NAP: Duration = Duration::from_secs(1);

/// Starts `n` tokio tasks that each sleep for [`NAP`], and waits for them
/// all: they sleep at the same time, on the runtime's one thread.
pub async fn sleeping_tasks(n: u64) {
    let handles: Vec<_> = (0..n).map(|_| tokio::spawn(sleep(NAP))).collect();
    for handle in handles {
        handle.await.expect("a sleeping task does not panic");
    }
}

/// Starts up to `requested` OS threads that each sleep for [`NAP`], as many
/// as `limits` leave room for, and joins them. Returns how many started and,
/// if not all, why it stopped. The threads start as
/// [`threads::start_and_join`] starts them: a thread the system refuses, or
/// Jupyter's interrupt, starts no more, and those started are joined first.
///
/// ```
/// use asyncio_rs::demos::tasks_vs_threads::sleeping_threads;
/// use asyncio_rs::limits::Limits;
///
/// // A machine with room for 10 more threads (under the map-count margin).
/// let limits = Limits { max_map_count: Some(1_064), ..Limits::unlimited() };
/// let (started, stop) = sleeping_threads(50, &limits);
/// assert_eq!(started, 10);
/// assert!(stop.unwrap().to_string().starts_with("stopped at 10 threads: vm.max_map_count"));
/// ```
pub fn sleeping_threads(requested: u64, limits: &Limits) -> (u64, Option<Stop>) {
    let headroom = limits.thread_headroom();
    let allowed = requested.min(headroom.count);
    let mut stop = (allowed < requested).then(|| Stop::Limit(headroom.stopped_at(allowed)));
    let joined = threads::start_and_join(allowed as usize, |_| || thread::sleep(NAP));
    let started = joined.started() as u64;
    if let Some(error) = joined.refused {
        let error = error.to_string();
        stop = Some(Stop::Refused { started, error });
    }
    for slept in joined.results {
        slept.expect("a sleeping thread does not panic");
    }
    (started, stop)
}

/// Why a run of threads stopped short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// It would have crossed a limit.
    #[error(transparent)]
    Limit(#[from] Stopped),
    /// The system refused a thread (`Builder::spawn` returned an error).
    #[error("stopped at {} threads: the system refused another: {error}", thousands(*started))]
    Refused { started: u64, error: String },
}

/// Why a run could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Limits(#[from] limits::Error),
    #[error("could not measure memory: {0}")]
    Memory(#[from] io::Error),
}

/// One measured run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: Kind,
    /// How many were asked for.
    pub requested: u64,
    /// How many ran.
    pub started: u64,
    /// Wall time of the whole run, starting them included.
    pub seconds: f64,
    /// The process's resident memory before the run and at its peak.
    pub memory: Peak,
    /// Why fewer than requested started (a [`Stop`], as text); `None` when
    /// all did.
    pub stopped_because: Option<String>,
}

impl fmt::Display for Row {
    /// One line, and the reason on a second one if it stopped short.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} requested, {} started, {:.2} s, peak memory {}",
            self.kind,
            thousands(self.requested),
            thousands(self.started),
            self.seconds,
            mebibytes_or_not(self.memory.peak),
        )?;
        if let Some(added) = self.memory.added() {
            write!(f, " ({} added)", mebibytes_or_not(Some(added)))?;
        }
        if let Some(stop) = &self.stopped_because {
            write!(f, "\n{stop}")?;
        }
        Ok(())
    }
}

impl Row {
    /// evcxr's rich display: the row's text.
    pub fn evcxr_display(&self) {
        display::evcxr_text(self);
    }
}

/// Runs [`sleeping_tasks`]`(n)` on `rt` and measures it. On a paused runtime
/// the seconds are virtual: exactly 1.0.
pub fn tasks(rt: &Runtime, n: u64) -> Result<Row, Error> {
    let (seconds, memory) = memory::peak_of(|| {
        rt.run(async move {
            let start = Instant::now();
            sleeping_tasks(n).await;
            start.elapsed().as_secs_f64()
        })
    })?;
    Ok(Row {
        kind: Kind::Tasks,
        requested: n,
        started: n,
        seconds,
        memory,
        stopped_because: None,
    })
}

/// Reads this machine's limits, then runs and measures
/// [`sleeping_threads`]`(requested)`: never more threads than the limits
/// leave room for. An error only if the limits or the memory cannot be
/// read.
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// let row = asyncio_rs::demos::tasks_vs_threads::threads(20).unwrap();
/// assert_eq!((row.started, row.stopped_because), (20, None));
/// assert!(row.seconds >= 1.0);
/// # }
/// ```
pub fn threads(requested: u64) -> Result<Row, Error> {
    threads_within(requested, &Limits::read()?)
}

/// Runs and measures [`sleeping_threads`] under the given limits.
pub fn threads_within(requested: u64, limits: &Limits) -> Result<Row, Error> {
    let start = std::time::Instant::now();
    let ((started, stop), memory) = memory::peak_of(|| sleeping_threads(requested, limits))?;
    Ok(Row {
        kind: Kind::Threads,
        requested,
        started,
        seconds: start.elapsed().as_secs_f64(),
        memory,
        stopped_because: stop.as_ref().map(ToString::to_string),
    })
}

/// Runs threads for each of `threads`, then tasks on `rt` for each of
/// `tasks`, each list smallest first, and collects the rows. Threads go
/// first: the memory that a million tasks leave with the allocator (about
/// 400 MiB here) would otherwise sit under the threads' peak.
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// use asyncio_rs::demos::tasks_vs_threads::compare;
/// use asyncio_rs::runtime::Runtime;
///
/// let comparison = compare(&Runtime::paused().unwrap(), &[100, 10], &[5]).unwrap();
/// let table = comparison.to_string();
/// let kinds: Vec<&str> = table.lines().skip(1).map(|line| &line[..11]).collect();
/// assert_eq!(kinds, ["threads    ", "tokio tasks", "tokio tasks"]);
/// assert!(table.lines().nth(2).unwrap().contains("        10         10 "));
/// assert!(comparison.chart().svg().unwrap().contains("wall time"));
/// # }
/// ```
pub fn compare(rt: &Runtime, tasks: &[u64], threads: &[u64]) -> Result<Comparison, Error> {
    let ascending = |sizes: &[u64]| {
        let mut sizes = sizes.to_vec();
        sizes.sort_unstable();
        sizes
    };
    // A line as each measurement ends (each takes a second or more), so that a
    // cell running the whole comparison is never silent for long.
    let mut rows = Vec::new();
    for n in ascending(threads) {
        let row = self::threads(n)?;
        println!("{row}");
        rows.push(row);
    }
    for n in ascending(tasks) {
        let row = self::tasks(rt, n)?;
        println!("{row}");
        rows.push(row);
    }
    Ok(Comparison { rows })
}

/// Rows of measured runs: a table when printed, a table and a chart in a
/// notebook.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    pub rows: Vec<Row>,
}

impl Comparison {
    /// Time and memory against N (log scale), one line per kind, two panels.
    pub fn chart(&self) -> Chart {
        let series = |figure: fn(&Row) -> Option<f64>| {
            [Kind::Tasks, Kind::Threads, Kind::Asyncio]
                .into_iter()
                .filter(|&kind| self.rows.iter().any(|row| row.kind == kind))
                .map(|kind| {
                    let mut points: Vec<(f64, f64)> = (self.rows.iter())
                        .filter(|row| row.kind == kind && row.started > 0)
                        .filter_map(|row| Some((row.started as f64, figure(row)?)))
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let name = match self.limit_that_stopped(kind) {
                        Some(limit) => format!("{kind}, stopped by {limit}"),
                        None => kind.to_string(),
                    };
                    Series::new(name, points)
                })
                .collect::<Vec<_>>()
        };
        Chart {
            x_label: "N, each sleeping 1 s (log scale)".into(),
            panels: vec![
                Panel {
                    title: "wall time".into(),
                    y_label: "seconds".into(),
                    series: series(|row| Some(row.seconds)),
                },
                Panel {
                    title: "memory added at the peak".into(),
                    y_label: "MiB".into(),
                    // A run whose peak was not measured (macOS) has no point.
                    series: series(|row| Some(row.memory.added()? as f64 / (1 << 20) as f64)),
                },
            ],
        }
    }

    /// The name of the limit that stopped the largest run of `kind`, if one
    /// did: `vm.max_map_count` of "stopped at 15,823 threads:
    /// vm.max_map_count (65,530 mappings, …)".
    fn limit_that_stopped(&self, kind: Kind) -> Option<&str> {
        let largest = (self.rows.iter())
            .filter(|row| row.kind == kind)
            .max_by_key(|row| row.started)?;
        let reason = largest.stopped_because.as_deref()?;
        let limit = reason.split_once(": ").map_or(reason, |(_, limit)| limit);
        limit.split(" (").next()
    }

    /// evcxr's rich display: the table as text and the chart as SVG, in one
    /// output; a reader without the picture still gets the numbers.
    pub fn evcxr_display(&self) {
        display::evcxr_text(self);
        match self.chart().svg() {
            Ok(svg) => display::evcxr_content("image/svg+xml", svg),
            Err(error) => eprintln!("no chart: {error}"),
        }
    }
}

impl fmt::Display for Comparison {
    /// A table, one run per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<13} {:>10} {:>10} {:>8} {:>12} {:>12}  stopped because",
            "kind", "requested", "started", "seconds", "peak memory", "added"
        )?;
        for row in &self.rows {
            write!(
                f,
                "\n{:<13} {:>10} {:>10} {:>8.2} {:>12} {:>12}  {}",
                row.kind.to_string(),
                thousands(row.requested),
                thousands(row.started),
                row.seconds,
                mebibytes_or_not(row.memory.peak),
                mebibytes_or_not(row.memory.added()),
                row.stopped_because.as_deref().unwrap_or("-")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thousand_tasks_sleep_one_virtual_second_together() {
        let rt = Runtime::paused().unwrap();
        let row = tasks(&rt, 1_000).unwrap();
        assert_eq!(row.seconds, 1.0);
        assert_eq!((row.requested, row.started), (1_000, 1_000));
        assert!(row.memory.peak.unwrap() > 0);
        assert_eq!(row.stopped_because, None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_hundred_threads_all_start_on_this_machine() {
        let row = threads(100).unwrap();
        assert_eq!(
            (row.kind, row.requested, row.started),
            (Kind::Threads, 100, 100)
        );
        assert_eq!(row.stopped_because, None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn more_threads_than_a_fake_limit_stop_there_with_the_reason() {
        let limits = Limits {
            pid_max: Some(1_000),
            tasks_on_system: 700,
            ..Limits::unlimited()
        };
        // (1,000 - 700 - 256 spare) = 44 threads of room.
        let row = threads_within(100, &limits).unwrap();
        assert_eq!((row.requested, row.started), (100, 44));
        let reason = "stopped at 44 threads: kernel.pid_max (1,000 process ids, 700 in use)";
        assert_eq!(row.stopped_because.as_deref(), Some(reason));
        assert_eq!(row.to_string().lines().last().unwrap(), reason);
        let (started, stop) = sleeping_threads(100, &limits);
        assert_eq!(started, 44);
        let limit = crate::limits::Limit::PidMax {
            max: 1_000,
            in_use: 700,
        };
        assert_eq!(stop, Some(Stop::Limit(Stopped { started, limit })));
    }

    #[test]
    fn no_room_starts_no_thread() {
        let limits = Limits {
            max_map_count: Some(65_530),
            maps_in_use: u64::MAX,
            ..Limits::unlimited()
        };
        let (started, stop) = sleeping_threads(5, &limits);
        assert_eq!(started, 0);
        assert!(
            stop.unwrap()
                .to_string()
                .starts_with("stopped at 0 threads")
        );
    }

    #[test]
    fn on_a_mac_threads_stop_short_of_kern_num_taskthreads() {
        // What `Limits::read` gives on a Mac, with a small cap (a Mac's is a
        // few thousand threads per process; 300 keeps the test light).
        let limits = Limits {
            task_threads: Some(300),
            process_threads: 10,
            mem_available: None,
            ..Limits::unlimited()
        };
        let (started, stop) = sleeping_threads(1_000, &limits);
        assert_eq!(started, 300 - 10 - 256);
        assert_eq!(
            stop.unwrap().to_string(),
            "stopped at 34 threads: kern.num_taskthreads (300 threads per process, 10 running)"
        );
    }

    #[test]
    fn a_peak_not_measured_says_so_and_has_no_point_on_the_chart() {
        let row = Row {
            kind: Kind::Threads,
            requested: 100,
            started: 100,
            seconds: 1.0,
            memory: Peak {
                before: 5 << 20,
                peak: None,
            },
            stopped_because: None,
        };
        assert_eq!(
            row.to_string(),
            "threads: 100 requested, 100 started, 1.00 s, peak memory not measured here"
        );
        let comparison = Comparison { rows: vec![row] };
        assert!(
            comparison
                .to_string()
                .lines()
                .nth(1)
                .unwrap()
                .contains("not measured here not measured here")
        );
        let chart = comparison.chart();
        assert_eq!(chart.panels[0].series[0].points, vec![(100.0, 1.0)]);
        assert!(chart.panels[1].series[0].points.is_empty());
    }

    fn sample() -> Comparison {
        let row = |kind, requested, started, seconds, mib: u64, stop: Option<&str>| Row {
            kind,
            requested,
            started,
            seconds,
            memory: Peak {
                before: 2 << 20,
                peak: Some((mib + 2) << 20),
            },
            stopped_because: stop.map(str::to_string),
        };
        let stop = "stopped at 15,860 threads: vm.max_map_count (65,530 mappings, 4 per thread, 30 in use)";
        Comparison {
            rows: vec![
                row(Kind::Threads, 30_000, 15_860, 2.6, 160, Some(stop)),
                row(Kind::Threads, 100, 100, 1.0, 3, None),
                row(Kind::Tasks, 1_000_000, 1_000_000, 2.2, 445, None),
                row(Kind::Tasks, 1_000, 1_000, 1.0, 3, None),
            ],
        }
    }

    #[test]
    fn the_table_has_a_line_per_run() {
        let table = sample().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with("kind"));
        assert_eq!(
            lines[1],
            "threads           30,000     15,860     2.60    162.0 MiB    160.0 MiB  \
             stopped at 15,860 threads: vm.max_map_count (65,530 mappings, 4 per thread, 30 in use)"
        );
        assert_eq!(
            lines[3],
            "tokio tasks    1,000,000  1,000,000     2.20    447.0 MiB    445.0 MiB  -"
        );
    }

    #[test]
    fn the_chart_has_time_and_memory_for_both_kinds_in_n_order() {
        let chart = sample().chart();
        assert_eq!(chart.panels.len(), 2);
        let memory = &chart.panels[1].series;
        assert_eq!(memory[0].name, "tokio tasks");
        assert_eq!(memory[0].points, vec![(1e3, 3.0), (1e6, 445.0)]);
        assert_eq!(memory[1].points, vec![(100.0, 3.0), (15_860.0, 160.0)]);
        assert_eq!(memory[1].name, "threads, stopped by vm.max_map_count");
        assert!(chart.svg().is_ok());
    }
}
