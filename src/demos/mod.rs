//! The notebook's demos: the code that its cells show and run, one module per
//! section of the original. They are built from the reusable pieces at the top
//! of the crate ([`crate::runtime`], [`crate::gather`], [`crate::random`], …).

pub mod blocking_in_async;
pub mod count;
pub mod fire_and_forget;
pub mod makerandom;
pub mod multiprocessing;
pub mod network;
pub mod tasks_vs_threads;
