//! A Rust and tokio companion to a Jupyter notebook that teaches Python's
//! asyncio. The notebooks in `notebooks/` use this crate from the evcxr
//! kernel; the examples in `examples/` are the same demos as scripts.
//!
//! # Layout
//!
//! Two kinds of module. The reusable pieces, at the top, are what a notebook
//! (or any program) builds on:
//!
//! - [`runtime`]: one tokio runtime that lives across notebook cells, and
//!   `run`, the counterpart of `asyncio.run`.
//! - [`gather`]: `asyncio.gather` for tokio: one task per future.
//! - [`random`]: a generator that gives the same numbers as CPython's `random`
//!   for the same seed.
//! - [`timing`]: `Executed in  1.00s`, formatted as Python's `f"{x: .2f}"`.
//! - [`colors`]: the ANSI palette of `In [6]`.
//! - [`pool`]: a pool of worker processes that run async functions, closures
//!   defined in notebook cells included (aiomultiprocess's `Pool`; Linux).
//!
//! The notebook's demos, under [`demos`], are the code its cells show and
//! run, one module per section:
//!
//! - [`demos::count`]: the `count()` demo, concurrent and blocking
//!   (`In [2]`-`In [4]`).
//! - [`demos::makerandom`]: the demo of `In [7]`-`In [10]`.
//! - [`demos::multiprocessing`]: the job of "Mixing multiprocessing and async
//!   IO": a slow loopback server to wait on, and SHA-256 rounds to compute.

pub mod colors;
pub mod demos;
pub mod gather;
pub mod pool;
pub mod random;
pub mod runtime;
pub mod timing;
