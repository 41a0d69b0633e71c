//! Progress lines for work that keeps a notebook cell busy for seconds: a
//! reader should never wonder whether a cell is slow or hung.
//!
//! evcxr forwards a cell's output by whole lines only, with no way to update
//! a line in place, so progress is whole lines, at most one a second, each
//! one that reads well where it stays: in the cell, the HTML, the PDF.
//! [`Progress`] prints them in the notebook's kernel only (evcxr's cell
//! process); elsewhere it is silent, so that a program's own output (an
//! example's `--json`) stays its own.
//!
//! ```
//! use asyncio_rs::progress::Progress;
//!
//! let mut progress = Progress::new();
//! for i in 0..3 {
//!     // Printed when a second has passed since the start or the last line.
//!     progress.tick(|| format!("threads: {i} of 3 started"));
//! }
//! ```

use std::time::{Duration, Instant};

/// At most one line this often.
const EVERY: Duration = Duration::from_secs(1);

/// Prints a line when a second has passed since the last one (or since it
/// was made), in the notebook's kernel.
#[derive(Debug)]
pub struct Progress {
    last: Instant,
    shown: bool,
}

impl Progress {
    /// Starts counting the second now.
    pub fn new() -> Progress {
        Progress {
            last: Instant::now(),
            shown: crate::display::in_notebook_kernel(),
        }
    }

    /// Prints `line()` if a second has passed since the last line; `line`
    /// is not called otherwise.
    pub fn tick(&mut self, line: impl FnOnce() -> String) {
        if self.shown && self.last.elapsed() >= EVERY {
            println!("{}", line());
            self.last = Instant::now();
        }
    }
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::new()
    }
}
