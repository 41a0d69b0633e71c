//! The second demo of the notebook (`In [7]` to `In [10]`): three tasks that
//! draw `randint(0, 10)` until the number beats their threshold, sleeping
//! `idx + 1` seconds between tries, each printing in its own colour.
//!
//! With the same seed the output is the original's, line for line and colour
//! for colour: the generator is CPython's ([`SharedRandom`]), and [`main`]
//! runs the tasks with [`gather`], so they draw from it in the same order.
//!
//! ```
//! use asyncio_rs::{colors::Palette, demos::makerandom, random::SharedRandom, runtime::Runtime};
//!
//! let rt = Runtime::paused().unwrap();
//! let random = SharedRandom::new(444);
//! let [r1, r2, r3] = rt.run(makerandom::main(random.clone(), Palette::plain())).unwrap();
//! assert_eq!((r1, r2, r3), (10, 10, 9));
//! ```

use std::fmt;
use std::time::Duration;

use tokio::time::sleep;

use crate::colors::{COLORS, NoSuchColor, Palette};
use crate::gather::gather;
use crate::random::SharedRandom;
use crate::timeline::{Recorder, Timeline};

/// The largest number `randint(0, 10)` can draw.
const HIGHEST: i64 = 10;

/// Keeps drawing `random.randint(0, 10)` until the number is above
/// `threshold`, sleeping `idx + 1` seconds between tries, and returns it.
///
/// Bad input is refused before anything is printed: a threshold of 10 or more
/// could never be beaten (Python would loop forever), and `idx` picks one of
/// the palette's three colours.
///
/// ```
/// use asyncio_rs::{colors::Palette, demos::makerandom::makerandom, random::SharedRandom, runtime::Runtime};
///
/// let rt = Runtime::paused().unwrap();
/// let error = rt
///     .run(makerandom(0, 10, SharedRandom::new(1), Palette::plain()))
///     .unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "makerandom(0, 10) would never finish: randint(0, 10) is never above 10"
/// );
/// ```
pub async fn makerandom(
    idx: usize,
    threshold: i64,
    random: SharedRandom,
    c: Palette,
) -> Result<i64, Error> {
    if threshold >= HIGHEST {
        return Err(Error::Unreachable { idx, threshold });
    }
    let color = c.color(idx).map_err(Error::Color)?;
    println!("{color}Initiated makerandom({idx})");
    let mut i = random.randint(0, HIGHEST);
    while i <= threshold {
        println!("{color}makerandom({idx}) == {i} too low; retrying.");
        // Mimics an IO-bound process with an uncertain wait time.
        sleep(Duration::from_secs(idx as u64 + 1)).await;
        i = random.randint(0, HIGHEST);
    }
    println!("{color}--> Finished: makerandom({idx}) == {i}{}", c.reset());
    Ok(i)
}

/// Runs `makerandom(i, 10 - i - 1)` for `i` in 0, 1, 2 concurrently, like
/// `asyncio.gather`, and returns the three numbers in that order.
pub async fn main(random: SharedRandom, c: Palette) -> Result<[i64; 3], Error> {
    // Concurrently run makerandom() across 3 different inputs
    let tasks = (0..3).map(|i| makerandom(i, 10 - i as i64 - 1, random.clone(), c));
    let [r1, r2, r3] = gather(tasks).await.try_into().expect("one result per task");
    Ok([r1?, r2?, r3?])
}

/// [`main`], with each task on a lane of a timeline in its colour: prints the
/// same lines in the same order, and returns the three numbers and the
/// picture, whose waits are the retries.
///
/// ```
/// use asyncio_rs::{colors::Palette, demos::makerandom, random::SharedRandom, runtime::Runtime};
///
/// let rt = Runtime::paused().unwrap();
/// let (numbers, timeline) = rt
///     .run(makerandom::main_recorded(SharedRandom::new(444), Palette::plain()))
///     .unwrap();
/// assert_eq!(numbers, [10, 10, 9]);
/// let retries: Vec<usize> = timeline.tracks().iter().map(|t| t.waits().count()).collect();
/// assert_eq!(retries, [12, 2, 3]); // the "too low" lines of each task
/// ```
pub async fn main_recorded(
    random: SharedRandom,
    c: Palette,
) -> Result<([i64; 3], Timeline), Error> {
    let recorder = Recorder::new();
    let tasks = (0..3).map(|i| {
        let lane = recorder.colored_lane(format!("makerandom({i})"), COLORS[i]);
        lane.trace(makerandom(i, 10 - i as i64 - 1, random.clone(), c))
    });
    let [r1, r2, r3] = gather(tasks).await.try_into().expect("one result per task");
    Ok(([r1?, r2?, r3?], recorder.timeline()))
}

/// Why `makerandom` refused to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `randint(0, 10)` can never draw a number above `threshold`.
    Unreachable {
        /// The task's index.
        idx: usize,
        /// The threshold asked for.
        threshold: i64,
    },
    /// `idx` is past the palette.
    Color(NoSuchColor),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreachable { idx, threshold } => write!(
                f,
                "makerandom({idx}, {threshold}) would never finish: \
                 randint(0, {HIGHEST}) is never above {threshold}"
            ),
            Error::Color(error) => write!(f, "makerandom: {error}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;

    #[test]
    fn a_threshold_below_the_top_finishes() {
        let rt = Runtime::paused().unwrap();
        let got = rt.run(makerandom(2, 9, SharedRandom::new(444), Palette::plain()));
        assert_eq!(got, Ok(10));
    }

    #[test]
    fn an_unbeatable_threshold_fails_at_once() {
        let rt = Runtime::paused().unwrap();
        for threshold in [10, 11, i64::MAX] {
            let got = rt.run(makerandom(
                0,
                threshold,
                SharedRandom::new(0),
                Palette::plain(),
            ));
            assert_eq!(got, Err(Error::Unreachable { idx: 0, threshold }));
        }
    }

    #[test]
    fn an_index_past_the_palette_fails_at_once() {
        let rt = Runtime::paused().unwrap();
        let got = rt.run(makerandom(3, 5, SharedRandom::new(0), Palette::ansi()));
        assert_eq!(got, Err(Error::Color(NoSuchColor { idx: 3 })));
        assert_eq!(
            got.unwrap_err().to_string(),
            "makerandom: no colour 3: the palette has colours 0 to 2"
        );
    }

    #[test]
    fn a_negative_threshold_is_beaten_by_the_first_draw() {
        let rt = Runtime::paused().unwrap();
        let random = SharedRandom::new(444);
        let expected = SharedRandom::new(444).randint(0, 10);
        let got = rt.run(makerandom(1, -1, random, Palette::plain()));
        assert_eq!(got, Ok(expected));
    }
}
