//! Inside a worker process: a fresh current-thread tokio runtime that reads
//! jobs from the socket and runs each as a task, at most `concurrency` at
//! once, until the socket reaches end of stream.
//!
//! The runtime the parent had (if any) is dead here: its threads were not
//! copied and its fds were closed. It is never touched, never dropped; this
//! one is built on the supervisor thread's copy, which never entered a
//! runtime. A panic in a job is caught and sent back with its message and
//! where it happened, and nothing is printed (see [`quiet_panics`]).

use super::wire::{Frame, Kind};
use serde::{Serialize, de::DeserializeOwned};
use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::os::fd::OwnedFd;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Once};
use std::task::Poll;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinSet, LocalSet};

/// What a worker needs to serve jobs.
pub(crate) struct Service<F> {
    pub function: Arc<F>,
    pub initializer: Option<super::Initializer>,
    pub concurrency: usize,
    pub timeout: Option<Duration>,
}

thread_local! {
    /// Where the last panic happened, recorded by the worker's panic hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Makes panics in worker processes silent, recording where they happened
/// for the job's error; in the parent the hook that was there runs as before.
///
/// Called in the parent, before any fork: setting a hook takes a global write
/// lock, which a worker could find held forever by a parent thread that was
/// panicking at the moment of the fork. And the default hook, which prints a
/// backtrace under another global lock, must not run in a worker for the same
/// reason.
pub(crate) fn quiet_panics() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let parent = std::process::id();
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if std::process::id() == parent {
                return previous(info);
            }
            let location = info
                .location()
                .map(|location| format!(" (at {location})"))
                .unwrap_or_default();
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(location));
        }));
    });
}

/// The worker's main: returns its exit status.
pub(crate) fn serve<T, R, F, Fut>(socket: OwnedFd, service: &Service<F>) -> i32
where
    T: DeserializeOwned + 'static,
    R: Serialize + 'static,
    F: Fn(T) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(_) => return 70,
    };
    let code = LocalSet::new().block_on(&runtime, jobs::<T, R, F, Fut>(socket, service));
    // The process ends right after this; no need to wind the runtime down.
    std::mem::forget(runtime);
    code
}

async fn jobs<T, R, F, Fut>(socket: OwnedFd, service: &Service<F>) -> i32
where
    T: DeserializeOwned + 'static,
    R: Serialize + 'static,
    F: Fn(T) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
{
    let socket = std::os::unix::net::UnixStream::from(socket);
    let stream = match socket
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(socket))
    {
        Ok(stream) => stream,
        Err(_) => return 71,
    };
    let (mut reader, mut writer) = stream.into_split();

    if let Some(initializer) = &service.initializer
        && let Err(message) = caught(|| initializer())
    {
        let frame = Frame::text(Kind::InitFailed, 0, &message);
        let _ = writer.write_all(&frame.encode()).await;
        return 3;
    }
    if writer
        .write_all(&Frame::new(Kind::Ready, 0, vec![]).encode())
        .await
        .is_err()
    {
        return 72;
    }

    // Finished jobs hand their frames to one writer task.
    let (frames, mut outgoing) = mpsc::unbounded_channel::<Frame>();
    let writing = tokio::task::spawn_local(async move {
        while let Some(frame) = outgoing.recv().await {
            if writer.write_all(&frame.encode()).await.is_err() {
                break;
            }
        }
    });

    let slots = Arc::new(Semaphore::new(service.concurrency));
    let mut running = JoinSet::new();
    // End of stream: the pool has no more jobs for this worker (or is gone).
    while let Ok(Some(frame)) = Frame::read_async(&mut reader).await {
        if frame.kind != Kind::Job {
            continue;
        }
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let function = Arc::clone(&service.function);
        let (frames, timeout) = (frames.clone(), service.timeout);
        running.spawn_local(async move {
            let reply = run_job::<T, R, F, Fut>(&*function, frame, timeout).await;
            let _ = frames.send(reply);
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
    drop(frames);
    let _ = writing.await;
    0
}

/// One job: decode the item, call the function, encode the result.
async fn run_job<T, R, F, Fut>(function: &F, job: Frame, timeout: Option<Duration>) -> Frame
where
    T: DeserializeOwned,
    R: Serialize,
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    let id = job.id;
    let item: T = match serde_json::from_slice(&job.payload) {
        Ok(item) => item,
        Err(error) => {
            return Frame::text(
                Kind::Failed,
                id,
                &format!("the worker could not decode the item: {error}"),
            );
        }
    };
    let outcome = async {
        let future = caught(|| function(item))?;
        let mut future = pin!(future);
        poll_fn(|cx| match caught(|| future.as_mut().poll(cx)) {
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(message) => Poll::Ready(Err(message)),
        })
        .await
    };
    let outcome = match timeout {
        Some(limit) => match tokio::time::timeout(limit, outcome).await {
            Ok(outcome) => outcome,
            Err(_) => return Frame::new(Kind::TimedOut, id, vec![]),
        },
        None => outcome.await,
    };
    match outcome {
        Ok(result) => match serde_json::to_vec(&result) {
            Ok(bytes) => Frame::new(Kind::Done, id, bytes),
            Err(error) => Frame::text(
                Kind::Failed,
                id,
                &format!("the result could not be serialized: {error}"),
            ),
        },
        Err(message) => Frame::text(Kind::Panicked, id, &message),
    }
}

/// Runs `f`, turning a panic into its message and where it happened.
fn caught<O>(f: impl FnOnce() -> O) -> Result<O, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|message| message.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_string());
        let location = LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_default();
        format!("{message}{location}")
    })
}
