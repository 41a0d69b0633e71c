//! A clock for [`Runtime::run_paced`](crate::runtime::Runtime::run_paced):
//! timers fire at their real instant, but each task's next deadline counts
//! from the instant its timer was due, not from the moment the machine got
//! round to waking it.
//!
//! # Why
//!
//! On the real clock, `sleep(d)` ends at "now + d", and "now" is read when the
//! task calls it, after its wake-up latency. Two tasks due at the same second
//! (one sleeping 1 s five times, one 2 s three times) carry different sums of
//! latency, a fraction of a millisecond each on a quiet machine, several on a
//! busy one; tokio's timer counts whole milliseconds, so which of them runs
//! first at that second depends on the machine. CPython's loop does the
//! same. The rule this clock gives instead, on every run: **timers fire in the
//! order of their ideal deadlines, and of those due at the same instant, the
//! one whose task went to sleep first fires first** (tokio's timer wheel keeps
//! a millisecond's timers in the order they were set).
//!
//! # How
//!
//! The section's runtime runs on tokio's paused clock, which moves only when
//! every task waits, straight to the next timer (auto-advance), so a task
//! woken by its timer reads exactly that timer's deadline. Left alone, that
//! clock would run ahead of the real one; the pacer, called by the runtime
//! each time it is about to wait ([`Builder::on_thread_park`]), keeps it at
//! or behind real time:
//!
//! - while real time is ahead of the clock, the pacer sets a timer of its own
//!   at the last whole millisecond real time has reached, so that auto-advance
//!   goes to the next timer or to that instant, whichever comes first;
//! - once the clock has caught up, it holds auto-advance back (tokio does so
//!   while a `spawn_blocking` task runs; the pacer starts one that waits), so
//!   the runtime waits for the next timer in real time, and for sockets.
//!
//! What a paced section gives up: tokio's `Instant` stands still while the
//! runtime is busy, and reads the time of the last wait in a task woken by a
//! socket; timers wait while a `spawn_blocking` task of the reader's runs.
//! Measure work with `std::time::Instant`, and run measured demos outside
//! the section, as `Runtime::run` does.
//!
//! [`Builder::on_thread_park`]: tokio::runtime::Builder::on_thread_park

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Waker};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::{Instant, Sleep, sleep_until};

/// tokio's timer resolution: deadlines are whole milliseconds from the
/// timer's start.
const TICK: Duration = Duration::from_millis(1);

/// How long the task that holds auto-advance back waits at most before the
/// pacer looks again (so that a runtime being dropped never waits on it for
/// long).
const HOLD_AT_MOST: Duration = Duration::from_secs(1);

/// The pacer of one runtime: shared by its park hook and its paced sections.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    /// The timer's tick 0: the instant the runtime's clock started.
    origin: OnceLock<Instant>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Paced sections running: the clock is paused while there is one.
    sections: usize,
    /// The pacer's own timer, which auto-advance may not pass.
    bound: Option<Pin<Box<Sleep>>>,
    /// While set, a blocking task holds auto-advance back; dropping it lets
    /// the task end.
    hold: Option<mpsc::Sender<()>>,
}

impl Pacer {
    /// Tells the pacer the instant its runtime's clock started, before any
    /// section.
    pub(crate) fn start(&self, origin: Instant) {
        let _ = self.origin.set(origin);
    }

    fn origin(&self) -> Instant {
        *self.origin.get().expect("the runtime has started")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last whole millisecond of the timer that real time has reached.
    fn reached(&self) -> Instant {
        let origin = self.origin();
        let real = std::time::Instant::now().saturating_duration_since(origin.into_std());
        origin + Duration::from_millis(real.as_millis() as u64)
    }

    /// The runtime's park hook: called on the event loop, in the runtime's
    /// context, each time the runtime is about to wait.
    pub(crate) fn before_park(&self) {
        let mut state = self.lock();
        if state.sections == 0 {
            return;
        }
        let reached = self.reached();
        if Instant::now() < reached {
            // Real time is ahead: auto-advance may move on, to `reached` at most.
            state.hold = None;
            let bound = state
                .bound
                .get_or_insert_with(|| Box::pin(sleep_until(reached)));
            if bound.deadline() != reached || bound.is_elapsed() {
                bound.as_mut().reset(reached);
            }
            // Polling registers the timer; nothing waits for it.
            let _ = bound.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        } else if state.hold.is_none() {
            // Caught up: wait in real time until the next timer or socket.
            let (hold, released) = mpsc::channel::<()>();
            Handle::current().spawn_blocking(move || released.recv_timeout(HOLD_AT_MOST));
            state.hold = Some(hold);
        }
    }

    /// Runs `future` with the clock paced: pauses the clock if no other
    /// section has, puts it on the timer's millisecond grid, and lets it run
    /// on by itself again when the last section ends (or is dropped).
    pub(crate) async fn section<F: Future>(self: Arc<Self>, future: F) -> F::Output {
        let first = {
            let mut state = self.lock();
            state.sections += 1;
            state.sections == 1
        };
        let section = Section(Arc::clone(&self));
        if first {
            tokio::time::pause();
            on_the_grid(self.origin()).await;
        }
        let output = future.await;
        drop(section);
        output
    }
}

/// A running paced section; the last one to end resumes the real clock.
struct Section(Arc<Pacer>);

impl Drop for Section {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.sections -= 1;
        if state.sections == 0 {
            state.hold = None;
            state.bound = None;
            // Dropped by a runtime shutting down, there is no clock to resume.
            if Handle::try_current().is_ok() {
                tokio::time::resume();
            }
        }
    }
}

/// Moves a paused clock on to the next whole millisecond after `origin`, if
/// it is between two.
///
/// tokio's timer rounds every deadline up to a whole millisecond from the
/// clock's start. A clock off that grid would make every `sleep` end a
/// millisecond late, so a task that slept twelve times would wake 12 ms
/// after one that slept once for as long.
pub(crate) async fn on_the_grid(origin: Instant) {
    let past_the_tick =
        Duration::from_nanos((origin.elapsed().as_nanos() % TICK.as_nanos()) as u64);
    if !past_the_tick.is_zero() {
        tokio::time::advance(TICK - past_the_tick).await;
    }
}
