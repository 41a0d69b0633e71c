//! Part 3, what "without worrying" leaves out: an update that reads,
//! awaits, then writes loses updates among tasks too ([`read_await_write`]);
//! its fixes ([`read_write_await`], [`locked_across`]); a `RefCell` borrow
//! held across an `.await` ([`borrow_across_await`]). [`race`] runs each on a
//! paused clock.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::sleep;

use super::on_one_thread;
use crate::display::thousands;
use crate::timeline::{Recorder, Timeline};

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
}
