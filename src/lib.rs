//! A Rust and tokio companion to a Jupyter notebook that teaches Python's
//! asyncio. The notebooks in `notebooks/` use this crate from the evcxr
//! kernel; the examples in `examples/` are the same demos as scripts.
//!
//! # Layout
//!
//! - [`runtime`]: one tokio runtime that lives across notebook cells, and
//!   `run`, the counterpart of `asyncio.run`.
//! - [`timing`]: `Executed in  1.00s`, formatted as Python's `f"{x: .2f}"`.
//! - [`count`]: the `count()` demo, concurrent and blocking (`In [2]`-`In [4]`).
//! - [`gather`]: `asyncio.gather` for tokio: one task per future.
//! - [`random`]: a generator that gives the same numbers as CPython's `random`
//!   for the same seed.
//! - [`colors`]: the ANSI palette of `In [6]`.
//! - [`makerandom`]: the demo of `In [7]`-`In [10]`.

pub mod colors;
pub mod count;
pub mod gather;
pub mod makerandom;
pub mod random;
pub mod runtime;
pub mod timing;
