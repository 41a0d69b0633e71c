//! A Rust and tokio companion to a Jupyter notebook that teaches Python's
//! asyncio. The notebooks in `notebooks/` use this crate from the evcxr
//! kernel; the examples in `examples/` are the same demos as scripts.
//!
//! # Layout
//!
//! This section is the one description of the crate's layout: the README and
//! `docs/design.md` link here. Two kinds of module. The reusable pieces, at
//! the top of `src/`, are what a notebook (or any program) builds on:
//!
//! - [`runtime`]: one tokio runtime that lives across notebook cells, `run`,
//!   the counterpart of `asyncio.run`, and `block_on`, which runs a cell's
//!   top-level `.await` in the notebook's kernel.
//! - [`pacing`]: the clock of `Runtime::run_paced`, on which tasks due at
//!   the same instant run in the order they went to sleep, on every run.
//! - [`gather`]: `asyncio.gather` for tokio: one task per future.
//! - [`interrupt`]: Jupyter's interrupt button in the kernel: a cell waiting
//!   in `run` stops with `KeyboardInterrupt`, every variable kept; a blocking
//!   cell is told so, and a second press ends the process; what differs
//!   between Linux and macOS in `interrupt/linux.rs` and `interrupt/macos.rs`.
//! - [`panics`]: short panics in the notebook's kernel (where and the
//!   message), a backtrace only when `RUST_BACKTRACE` asks for one.
//! - [`progress`]: progress lines, at most one a second, for cells that run
//!   for seconds.
//! - [`pool`]: a pool of worker processes that run async functions, closures
//!   defined in notebook cells included (aiomultiprocess's `Pool`; Linux and
//!   macOS, what differs in `pool/platform.rs`):
//!   `pool/mod.rs` the API, `supervisor.rs` the thread that forks and reaps
//!   workers, `worker.rs` a worker's runtime and job loop, `run.rs` one `map`
//!   call on the parent's side, `wire.rs` the frames on a worker's socket,
//!   `error.rs` the errors.
//! - [`random`]: `Random`, a generator that gives the same numbers as
//!   CPython's `random` for the same seed, and `SharedRandom`, the module's
//!   functions; `random/seed.rs`: `Seed`, what `random.seed` takes: integers
//!   of any size (the [`int!`] macro past `i128`), strings and bytes.
//! - [`timeline`]: `Recorder`, which notes when tasks run, wait, wake and
//!   finish, and the `Timeline` it makes, a text chart or an SVG picture in a
//!   notebook; `timeline/trace.rs` records a future without changing it,
//!   `svg.rs` and `text.rs` draw.
//! - [`limits`]: the limits on starting threads, opening files and
//!   connecting sockets (map count, `threads-max`, `pid_max`, `RLIMIT_NPROC`,
//!   memory, `RLIMIT_NOFILE`, the local port range; macOS's
//!   `kern.num_taskthreads`), read before a demo reaches them
//!   (`limits/linux.rs`, `limits/macos.rs`), how many more fit, and raising
//!   the soft open-file limit (`limits/rlimit.rs`); its tests in
//!   `limits/tests.rs`.
//! - [`threads`]: `start_and_join`, how every demo starts its OS threads:
//!   one by one, stopping at the first the system refuses or at Jupyter's
//!   interrupt, then joining every thread started.
//! - [`memory`]: a piece of work's peak resident memory, measured in-process
//!   (`VmHWM`, reset through `/proc/self/clear_refs`; on macOS `ru_maxrss`,
//!   when the work raised it), and `mebibytes`, how the demos' tables print
//!   memory.
//! - [`display`]: `thousands` (`15,800`), how counts print, and evcxr's rich
//!   display protocol (`EVCXR_BEGIN_CONTENT`), for every value that shows in
//!   a cell.
//! - [`chart`]: line charts as SVG (plotters, no font files), panels side by
//!   side.
//! - [`loopback`]: `LoopbackServer`, a TCP server on `127.0.0.1` that answers
//!   each line after a delay, with the line itself or with what a function of
//!   it returns: a network for demos that have none.
//! - [`timing`]: `Executed in  1.00s`, formatted as Python's `f"{x: .2f}"`.
//! - [`colors`]: the ANSI palette of `In [6]`, and the colours JupyterLab
//!   draws it in.
//! - `procfs` (private, Linux): how `/proc`'s files spell a value, for
//!   [`limits`] and [`memory`]; `macos` (private, macOS): `sysctlbyname` and
//!   `proc_pidinfo`, the same for macOS.
//!
//! The notebook's demos, under [`demos`], are the code its cells show and
//! run, one module per section, and [`demos::Kind`], tokio tasks or OS
//! threads, the two sides they compare:
//!
//! - [`demos::count`]: the `count()` demo, concurrent and blocking
//!   (`In [2]`-`In [4]`), and `main_recorded`, on a timeline.
//! - [`demos::makerandom`]: the demo of `In [7]`-`In [10]`, and
//!   `main_recorded`, on a timeline.
//! - [`demos::tasks_vs_threads`]: "Async IO vs threading", first claim: N
//!   sleeping tokio tasks against N sleeping OS threads, measured, as a table
//!   and a chart, stopping short of the machine's limits.
//! - [`demos::network`]: network clients as tokio tasks against OS threads
//!   ("Async IO vs threading", network IO), within the [`limits`].
//! - [`demos::fire_and_forget`]: "Async IO vs threading", fire-and-forget
//!   reads and writes, a file per part: `writes.rs`, lines handed to a task
//!   that owns the file; `counts.rs`, a counter shared by tasks with no lock;
//!   `races.rs`, the updates an `.await` between a read and a write loses.
//! - [`demos::blocking_in_async`]: blocking code in an `async fn` stalls the
//!   event loop; `spawn_blocking` does not ("Async IO vs threading", what
//!   `await` takes).
//! - [`demos::multiprocessing`]: the job of "Mixing multiprocessing and async
//!   IO": what its loopback server answers (`reply`), `fetch` to wait on it,
//!   and SHA-256 rounds to compute.
//!
//! Every module is Unix's: on Windows the crate is one `compile_error!`
//! that points to WSL (`docs/platforms.md`).
//!
//! Around the crate: `examples/` (the demos as scripts, and benchmarks),
//! `notebooks/`, `tests/`, `benches/`, `tools/` and `docs/`, which the
//! README's Layout describes.

// Windows: one clear error instead of dozens (signals, fork, file
// descriptors); every module below is Unix's. See docs/platforms.md.
#[cfg(not(unix))]
compile_error!(
    "asyncio_rs runs on Linux and macOS, not on Windows: it needs Unix signals for Jupyter's \
     interrupt and fork for its process pool. On Windows, run the notebook in WSL (Windows \
     Subsystem for Linux): see docs/platforms.md."
);

#[cfg(unix)]
pub mod chart;
#[cfg(unix)]
pub mod colors;
#[cfg(unix)]
pub mod demos;
#[cfg(unix)]
pub mod display;
#[cfg(unix)]
pub mod gather;
#[cfg(unix)]
pub mod interrupt;
#[cfg(unix)]
pub mod limits;
#[cfg(unix)]
pub mod loopback;
#[cfg(target_vendor = "apple")]
mod macos;
#[cfg(unix)]
pub mod memory;
#[cfg(unix)]
pub mod pacing;
#[cfg(unix)]
pub mod panics;
#[cfg(unix)]
pub mod pool;
#[cfg(target_os = "linux")]
mod procfs;
#[cfg(unix)]
pub mod progress;
#[cfg(unix)]
pub mod random;
#[cfg(unix)]
pub mod runtime;
#[cfg(unix)]
pub mod threads;
#[cfg(unix)]
pub mod timeline;
#[cfg(unix)]
pub mod timing;
