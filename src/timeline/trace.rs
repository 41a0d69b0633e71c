//! [`Traced`]: a future that records, on a [`Lane`], when it is polled, when
//! it waits and when it is woken, and otherwise behaves as the future it
//! wraps.
//!
//! The waker the runtime passes in is wrapped too: when what the future waits
//! for is ready, the wake is noted, then passed on at once. Nothing is
//! delayed or reordered, so a traced demo prints what the plain one prints.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use super::Lane;

/// A future recorded on a [`Lane`]; see
/// [`Recorder::trace`](super::Recorder::trace).
///
/// A poll counts as a run when it is the first or follows a wake. Polls that
/// follow no wake of this future (a `tokio::join!` polls every branch when any
/// one wakes) are not runs: the future just looks and goes on waiting.
pub struct Traced<F> {
    future: Pin<Box<F>>,
    wakeup: Arc<Wakeup>,
    started: bool,
}

impl<F> Traced<F> {
    pub(super) fn new(lane: Lane, future: F) -> Traced<F> {
        Traced {
            future: Box::pin(future),
            wakeup: Arc::new(Wakeup {
                lane,
                state: Mutex::new(State {
                    parent: Waker::noop().clone(),
                    polling: false,
                    woken: false,
                }),
            }),
            started: false,
        }
    }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let lane = &this.wakeup.lane;
        let runs = {
            let mut state = this.wakeup.state();
            state.polling = true;
            let woken = std::mem::take(&mut state.woken);
            if !state.parent.will_wake(cx.waker()) {
                state.parent = cx.waker().clone();
            }
            !this.started || woken
        };
        if runs {
            lane.run();
        }
        this.started = true;

        let waker = Waker::from(Arc::clone(&this.wakeup));
        let poll = this.future.as_mut().poll(&mut Context::from_waker(&waker));

        let mut state = this.wakeup.state();
        state.polling = false;
        match poll {
            Poll::Ready(output) => {
                if !runs {
                    // Ready without a wake of its own (a sibling's woke the
                    // join): it ran all the same.
                    lane.run();
                }
                lane.finish();
                Poll::Ready(output)
            }
            Poll::Pending => {
                if runs {
                    lane.wait();
                }
                if state.woken {
                    // Woken while being polled (a yield, say): ready again.
                    lane.wake();
                }
                Poll::Pending
            }
        }
    }
}

/// The waker given to the traced future: notes the wake, then wakes the
/// runtime's waker.
struct Wakeup {
    lane: Lane,
    state: Mutex<State>,
}

struct State {
    /// The waker the runtime last gave us.
    parent: Waker,
    /// Inside `poll`: a wake now is noted when the poll ends, after its wait.
    polling: bool,
    /// Woken since the last poll.
    woken: bool,
}

impl Wakeup {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut state = self.state();
            if !state.woken {
                state.woken = true;
                if !state.polling {
                    self.lane.wake();
                }
            }
            state.parent.clone()
        };
        parent.wake();
    }
}
