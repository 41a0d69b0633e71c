//! A Rust and tokio companion to a Jupyter notebook that teaches Python's
//! asyncio. The notebooks in `notebooks/` use this crate from the evcxr
//! kernel; the examples in `examples/` are the same demos as scripts.
//!
//! # Layout
//!
//! Two kinds of module. The reusable pieces, at the top, are what a notebook
//! (or any program) builds on:
//!
//! - [`runtime`]: one tokio runtime that lives across notebook cells, `run`,
//!   the counterpart of `asyncio.run`, and `block_on`, which runs a cell's
//!   top-level `.await` in the notebook's kernel.
//! - [`gather`]: `asyncio.gather` for tokio: one task per future.
//! - [`interrupt`]: Jupyter's interrupt button in the kernel: a cell waiting
//!   in `run` stops with `KeyboardInterrupt`, every variable kept; a blocking
//!   cell is told so, and a second press ends the process.
//! - [`pool`]: a pool of worker processes that run async functions, closures
//!   defined in notebook cells included (aiomultiprocess's `Pool`; Linux).
//! - [`random`]: a generator that gives the same numbers as CPython's `random`
//!   for the same seed, and `Seed`, what `random.seed` takes: integers of any
//!   size (the [`int!`] macro past `i128`), strings and bytes.
//! - [`timeline`]: a recorder of when tasks run, wait, wake and finish, and
//!   the `Timeline` it makes, a text chart or an SVG picture in a notebook.
//! - [`limits`]: the limits on starting threads, opening files and
//!   connecting sockets (map count, `threads-max`, `pid_max`, `RLIMIT_NPROC`,
//!   memory, `RLIMIT_NOFILE`, the local port range), read before a demo
//!   reaches them, how many more fit, and raising the soft open-file limit.
//! - [`memory`]: a piece of work's peak resident memory, measured in-process,
//!   and `mebibytes`, how the demos' tables print memory.
//! - [`chart`]: line charts as SVG (plotters), panels side by side.
//! - [`loopback`]: a TCP server on `127.0.0.1` that answers each line after a
//!   delay, with the line itself or with what a function of it returns: a
//!   network for demos that have none.
//! - [`timing`]: `Executed in  1.00s`, formatted as Python's `f"{x: .2f}"`.
//! - [`colors`]: the ANSI palette of `In [6]`.
//!
//! The notebook's demos, under [`demos`], are the code its cells show and
//! run, one module per section:
//!
//! - [`demos::count`]: the `count()` demo, concurrent and blocking
//!   (`In [2]`-`In [4]`).
//! - [`demos::makerandom`]: the demo of `In [7]`-`In [10]`.
//! - [`demos::tasks_vs_threads`]: "Async IO vs threading", first claim: N
//!   sleeping tokio tasks against N sleeping OS threads, stopping short of
//!   the machine's limits.
//! - [`demos::network`]: network clients as tokio tasks against OS threads
//!   ("Async IO vs threading", network IO), within the [`limits`].
//! - [`demos::fire_and_forget`]: writes handed to a task that owns the file,
//!   state shared by tasks with no lock, and the updates an `.await` in the
//!   middle loses ("Async IO vs threading", fire-and-forget reads and writes).
//! - [`demos::blocking_in_async`]: blocking code in an `async fn` stalls the
//!   event loop; `spawn_blocking` does not ("Async IO vs threading", what
//!   `await` takes).
//! - [`demos::multiprocessing`]: the job of "Mixing multiprocessing and async
//!   IO": what its loopback server answers (`reply`), `fetch` to wait on it,
//!   and SHA-256 rounds to compute.

pub mod chart;
pub mod colors;
pub mod demos;
pub mod gather;
pub mod interrupt;
pub mod limits;
pub mod loopback;
pub mod memory;
pub mod pool;
pub mod random;
pub mod runtime;
pub mod timeline;
pub mod timing;
