//! One `map` call, on the parent's side: a dispatcher thread that forks
//! workers as needed, hands each item to a worker with a free slot, passes
//! results on as they come, fails the items of a worker that died, replaces
//! it, and enforces the timeout.
//!
//! Everything here is blocking code on plain threads, and works on bytes: it
//! needs no tokio runtime in the parent (the caller may be in any runtime, or
//! in a notebook cell whose copy of tokio differs from the pool's), and it is
//! compiled once, not once per item type. Per worker, one thread reads its
//! socket (and reaps it at end of stream), one writes its jobs, and two copy
//! its stdout and stderr to the parent's.

use super::error::{Death, JobError};
use super::supervisor::{Body, Spawned, Supervisor};
use super::wire::{Frame, Kind};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A finished item: its index and its encoded result.
pub(crate) type Outcome = (usize, Result<Vec<u8>, JobError>);

/// How long past the timeout a job may keep its worker's thread busy before
/// the pool kills that worker: a job that never yields cannot be cancelled.
const GRACE: Duration = Duration::from_millis(500);

#[derive(Clone, Copy)]
pub(crate) struct Settings {
    pub processes: usize,
    pub concurrency: usize,
    /// 0: unlimited.
    pub max_tasks_per_child: usize,
    pub timeout: Option<Duration>,
}

enum Event {
    Frame { worker: u64, frame: Frame },
    Exited { worker: u64, death: Death },
    Forwarded,
    Cancel,
}

/// The caller's handle on a running `map`: dropping it cancels the run, kills
/// its workers and waits until they are reaped.
pub(crate) struct Run {
    events: mpsc::Sender<Event>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.events.send(Event::Cancel);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the dispatcher for `jobs` (index, encoded item); results go to `out`.
pub(crate) fn start(
    supervisor: Arc<Supervisor>,
    settings: Settings,
    body: Body,
    jobs: VecDeque<(usize, Vec<u8>)>,
    out: tokio::sync::mpsc::UnboundedSender<Outcome>,
) -> io::Result<Run> {
    let (events, incoming) = mpsc::channel();
    let mut dispatcher = Dispatcher {
        supervisor,
        settings,
        body,
        remaining: jobs.len(),
        queue: jobs,
        workers: BTreeMap::new(),
        next_worker: 0,
        events: events.clone(),
        incoming,
        out,
        unstartable: None,
        forwarders: 0,
        cancelled: false,
    };
    let thread = thread::Builder::new()
        .name("pool-run".into())
        .spawn(move || dispatcher.run())?;
    Ok(Run {
        events,
        thread: Some(thread),
    })
}

struct Worker {
    pid: u32,
    /// To its writer thread; `None` once it is retired (or being killed).
    jobs: Option<mpsc::Sender<Vec<u8>>>,
    /// Items it is running, with the instant past which it gets killed.
    in_flight: HashMap<usize, Option<Instant>>,
    sent: usize,
    ready: bool,
    init_error: Option<String>,
    killed_for_timeout: bool,
}

struct Dispatcher {
    supervisor: Arc<Supervisor>,
    settings: Settings,
    body: Body,
    queue: VecDeque<(usize, Vec<u8>)>,
    remaining: usize,
    workers: BTreeMap<u64, Worker>,
    next_worker: u64,
    events: mpsc::Sender<Event>,
    incoming: mpsc::Receiver<Event>,
    out: tokio::sync::mpsc::UnboundedSender<Outcome>,
    /// Set when workers cannot be started: every queued item fails with it.
    unstartable: Option<JobError>,
    /// Output-copying threads still running.
    forwarders: usize,
    cancelled: bool,
}

impl Dispatcher {
    fn run(&mut self) {
        loop {
            if !self.cancelled {
                self.dispatch();
            }
            if self.workers.is_empty() && (self.remaining == 0 || self.cancelled) {
                break;
            }
            let event = match self.next_deadline() {
                Some(deadline) => {
                    match self
                        .incoming
                        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    {
                        Ok(event) => event,
                        Err(_) => {
                            self.expire(Instant::now());
                            continue;
                        }
                    }
                }
                None => match self.incoming.recv() {
                    Ok(event) => event,
                    Err(_) => break,
                },
            };
            self.handle(event);
        }
        // Let the output of the last workers reach the parent's stdout before
        // the caller hears that the run is over (a worker's child process
        // could keep a pipe open: do not wait for it forever).
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.forwarders > 0 {
            match self
                .incoming
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(Event::Forwarded) => self.forwarders -= 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    /// Hands queued items to workers with a free slot, starting workers as
    /// needed, and retires workers with nothing left to do.
    fn dispatch(&mut self) {
        while let Some(error) = self.unstartable.clone() {
            let Some((index, _)) = self.queue.pop_front() else {
                break;
            };
            self.deliver(index, Err(error));
        }
        let settings = self.settings;
        // As many workers as there are items to run, up to `processes`, so
        // that CPU-bound items spread over all of them.
        let in_flight: usize = self
            .workers
            .values()
            .map(|worker| worker.in_flight.len())
            .sum();
        while !self.queue.is_empty()
            && self.workers.len() < settings.processes.min(self.queue.len() + in_flight)
        {
            if let Err(error) = self.spawn() {
                let error = if self.supervisor.is_closed() {
                    JobError::Closed
                } else {
                    JobError::NoWorker(format!("could not start a worker process: {error}"))
                };
                self.fail_queue(error);
            }
        }
        // Each item to the least busy worker that has a free slot.
        while !self.queue.is_empty() {
            let free = self
                .workers
                .values_mut()
                .filter(|worker| {
                    worker.jobs.is_some()
                        && worker.in_flight.len() < settings.concurrency
                        && (settings.max_tasks_per_child == 0
                            || worker.sent < settings.max_tasks_per_child)
                })
                .min_by_key(|worker| worker.in_flight.len());
            let Some(worker) = free else { break };
            let (index, payload) = self.queue.pop_front().expect("the queue is not empty");
            let frame = Frame::new(Kind::Job, index as u64, payload).encode();
            // Counted again from the worker's Ready: its initializer may
            // take a while. A worker that never gets ready times out too.
            let deadline = settings
                .timeout
                .map(|timeout| Instant::now() + timeout + GRACE);
            worker.in_flight.insert(index, deadline);
            worker.sent += 1;
            if let Some(jobs) = &worker.jobs {
                let _ = jobs.send(frame);
            }
        }
        let queue_empty = self.queue.is_empty();
        for worker in self.workers.values_mut() {
            let used_up =
                settings.max_tasks_per_child != 0 && worker.sent >= settings.max_tasks_per_child;
            if worker.in_flight.is_empty() && (queue_empty || used_up) {
                // Its writer thread shuts the socket down: the worker sees end
                // of stream and exits.
                worker.jobs = None;
            }
        }
    }

    fn spawn(&mut self) -> io::Result<()> {
        let Spawned {
            pid,
            socket,
            stdout,
            stderr,
        } = self.supervisor.fork(Arc::clone(&self.body))?;
        let id = self.next_worker;
        self.next_worker += 1;
        let (jobs, to_write) = mpsc::channel::<Vec<u8>>();
        let started = self.start_threads(id, pid, socket, to_write, stdout, stderr);
        if let Err((error, reader_started)) = started {
            // It gets no job: kill it. Its reader, if it started, reaps it
            // (and reports an exit for a worker not in the table, ignored);
            // reaping it here as well could reap another worker that took
            // its pid since.
            self.supervisor.kill(pid);
            if !reader_started {
                self.supervisor.reap(pid);
            }
            return Err(error);
        }
        self.workers.insert(
            id,
            Worker {
                pid,
                jobs: Some(jobs),
                in_flight: HashMap::new(),
                sent: 0,
                ready: false,
                init_error: None,
                killed_for_timeout: false,
            },
        );
        Ok(())
    }

    /// Starts worker `id`'s threads. On an error, also says whether its
    /// reader started, and so will reap it.
    fn start_threads(
        &mut self,
        id: u64,
        pid: u32,
        socket: UnixStream,
        to_write: mpsc::Receiver<Vec<u8>>,
        stdout: File,
        stderr: File,
    ) -> Result<(), (io::Error, bool)> {
        let writing = socket.try_clone().map_err(|error| (error, false))?;
        let (events, supervisor) = (self.events.clone(), Arc::clone(&self.supervisor));
        // The reader goes first: once it runs, the worker will be reaped.
        thread::Builder::new()
            .name(format!("pool-read-{pid}"))
            .spawn(move || read_worker(id, pid, socket, events, &supervisor))
            .map_err(|error| (error, false))?;
        self.start_other_threads(pid, writing, to_write, stdout, stderr)
            .map_err(|error| (error, true))
    }

    /// Starts the writer of worker `pid` and the copiers of its output.
    fn start_other_threads(
        &mut self,
        pid: u32,
        writing: UnixStream,
        to_write: mpsc::Receiver<Vec<u8>>,
        stdout: File,
        stderr: File,
    ) -> io::Result<()> {
        thread::Builder::new()
            .name(format!("pool-write-{pid}"))
            .spawn(move || write_worker(writing, to_write))?;
        for (name, pipe, to_stderr) in [("out", stdout, false), ("err", stderr, true)] {
            let events = self.events.clone();
            thread::Builder::new()
                .name(format!("pool-std{name}-{pid}"))
                .spawn(move || {
                    forward(pipe, to_stderr);
                    let _ = events.send(Event::Forwarded);
                })?;
            self.forwarders += 1;
        }
        Ok(())
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Frame { worker, frame } => self.on_frame(worker, frame),
            Event::Exited { worker, death } => self.on_exit(worker, death),
            Event::Forwarded => self.forwarders -= 1,
            Event::Cancel => {
                if self.remaining > 0 {
                    self.cancelled = true;
                    for worker in self.workers.values_mut() {
                        worker.jobs = None;
                        // Not if its reader has reaped it already (its
                        // `Exited` is on the way): the pid may be another
                        // process's by now.
                        self.supervisor.kill(worker.pid);
                    }
                }
            }
        }
    }

    fn on_frame(&mut self, id: u64, frame: Frame) {
        let Some(worker) = self.workers.get_mut(&id) else {
            return;
        };
        let index = frame.id as usize;
        let result = match frame.kind {
            Kind::Ready => {
                worker.ready = true;
                let timeout = self.settings.timeout;
                let now = Instant::now();
                for deadline in worker.in_flight.values_mut() {
                    *deadline = timeout.map(|timeout| now + timeout + GRACE);
                }
                return;
            }
            Kind::InitFailed => {
                worker.init_error = Some(frame.message());
                return;
            }
            Kind::Job => return,
            Kind::Done => Ok(frame.payload),
            Kind::Panicked => Err(JobError::Panicked(frame.message())),
            Kind::TimedOut => Err(JobError::TimedOut(
                self.settings.timeout.unwrap_or_default(),
            )),
            Kind::Failed => Err(JobError::Serialization(frame.message())),
        };
        // Not in flight: the pool already gave up on it (hard timeout).
        if worker.in_flight.remove(&index).is_some() {
            self.deliver(index, result);
        }
    }

    fn on_exit(&mut self, id: u64, death: Death) {
        let Some(worker) = self.workers.remove(&id) else {
            return;
        };
        let closed = self.supervisor.is_closed();
        let error = if closed {
            JobError::Closed
        } else if let Some(message) = &worker.init_error {
            JobError::NoWorker(format!("the initializer panicked: {message}"))
        } else {
            let death = if worker.killed_for_timeout {
                Death::KilledForTimeout
            } else {
                death
            };
            JobError::WorkerDied {
                pid: worker.pid,
                death,
            }
        };
        for (index, _) in worker.in_flight {
            self.deliver(index, Err(error.clone()));
        }
        if !worker.ready && !self.cancelled {
            // A worker that never got as far as serving would die again: stop
            // forking, fail what is left.
            let error = match error {
                JobError::WorkerDied { pid, death } => {
                    JobError::NoWorker(format!("worker process {pid} {death} before it was ready"))
                }
                other => other,
            };
            self.fail_queue(error);
        }
    }

    /// Kills the workers holding an item past its hard deadline; the item
    /// fails as timed out.
    fn expire(&mut self, now: Instant) {
        let timeout = self.settings.timeout.unwrap_or_default();
        let mut expired = Vec::new();
        for worker in self.workers.values_mut() {
            let overdue: Vec<usize> = worker
                .in_flight
                .iter()
                .filter(|(_, deadline)| deadline.is_some_and(|deadline| deadline <= now))
                .map(|(&index, _)| index)
                .collect();
            if overdue.is_empty() {
                continue;
            }
            for index in &overdue {
                worker.in_flight.remove(index);
            }
            expired.extend(overdue);
            worker.jobs = None;
            worker.killed_for_timeout = true;
            // Not if it has been reaped, as for a cancel.
            self.supervisor.kill(worker.pid);
        }
        for index in expired {
            self.deliver(index, Err(JobError::TimedOut(timeout)));
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.workers
            .values()
            .flat_map(|worker| worker.in_flight.values().flatten())
            .min()
            .copied()
    }

    fn fail_queue(&mut self, error: JobError) {
        while let Some((index, _)) = self.queue.pop_front() {
            self.deliver(index, Err(error.clone()));
        }
        self.unstartable = Some(error);
    }

    fn deliver(&mut self, index: usize, result: Result<Vec<u8>, JobError>) {
        self.remaining -= 1;
        let _ = self.out.send((index, result));
    }
}

fn read_worker(
    id: u64,
    pid: u32,
    socket: UnixStream,
    events: mpsc::Sender<Event>,
    supervisor: &Supervisor,
) {
    let mut reader = io::BufReader::new(socket);
    while let Ok(Some(frame)) = Frame::read(&mut reader) {
        let _ = events.send(Event::Frame { worker: id, frame });
    }
    // End of stream: the worker closed its socket by exiting.
    let death = supervisor.reap(pid);
    let _ = events.send(Event::Exited { worker: id, death });
}

fn write_worker(socket: UnixStream, jobs: mpsc::Receiver<Vec<u8>>) {
    for frame in jobs {
        if send_all(&socket, &frame).is_err() {
            break;
        }
    }
    let _ = socket.shutdown(std::net::Shutdown::Write);
}

/// `write_all` with `MSG_NOSIGNAL` (macOS: on a socket marked
/// `SO_NOSIGPIPE`): a dead worker is an error, not SIGPIPE.
fn send_all(socket: &UnixStream, mut bytes: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    while !bytes.is_empty() {
        // SAFETY: send reads `bytes.len()` bytes from `bytes`, which lives
        // through the call, and the fd is the socket's, open while we borrow it.
        let sent = unsafe {
            libc::send(
                socket.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                super::platform::SEND_FLAGS,
            )
        };
        if sent < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        bytes = &bytes[sent as usize..];
    }
    Ok(())
}

/// Past this, a line is forwarded before its end.
const LONGEST_LINE: usize = 64 * 1024;

/// Copies a worker's stdout or stderr to the parent's, whole lines at a time,
/// so that lines from several workers never interleave mid-line (a
/// `println!` may take several writes).
fn forward(mut pipe: File, to_stderr: bool) {
    let mut pending = Vec::new();
    let mut buffer = [0; 8192];
    loop {
        let read = match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        pending.extend_from_slice(&buffer[..read]);
        if let Some(end) = pending.iter().rposition(|&byte| byte == b'\n') {
            let rest = pending.split_off(end + 1);
            write_out(&pending, to_stderr);
            pending = rest;
        } else if pending.len() > LONGEST_LINE {
            // Output without newlines (a progress bar) goes on as it comes.
            write_out(&std::mem::take(&mut pending), to_stderr);
        }
    }
    // What is left at the end, without its newline.
    write_out(&pending, to_stderr);
}

fn write_out(bytes: &[u8], to_stderr: bool) {
    if bytes.is_empty() {
        return;
    }
    let _ = if to_stderr {
        let mut stderr = io::stderr().lock();
        stderr.write_all(bytes).and_then(|()| stderr.flush())
    } else {
        let mut stdout = io::stdout().lock();
        stdout.write_all(bytes).and_then(|()| stdout.flush())
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};

    /// A dispatcher of one worker, process `pid`, that has one item past its
    /// deadline.
    fn dispatcher_of(supervisor: &Arc<Supervisor>, pid: u32) -> Dispatcher {
        let (events, incoming) = mpsc::channel();
        let (out, _) = tokio::sync::mpsc::unbounded_channel();
        let worker = Worker {
            pid,
            jobs: None,
            in_flight: HashMap::from([(0, Some(Instant::now()))]),
            sent: 1,
            ready: true,
            init_error: None,
            killed_for_timeout: false,
        };
        Dispatcher {
            supervisor: Arc::clone(supervisor),
            settings: Settings {
                processes: 1,
                concurrency: 1,
                max_tasks_per_child: 0,
                timeout: Some(Duration::from_millis(1)),
            },
            body: Arc::new(|_| 0),
            queue: VecDeque::new(),
            remaining: 1,
            workers: BTreeMap::from([(0, worker)]),
            next_worker: 1,
            events,
            incoming,
            out,
            unstartable: None,
            forwarders: 0,
            cancelled: false,
        }
    }

    fn is_running(process: &mut Child) -> bool {
        thread::sleep(Duration::from_millis(100)); // a SIGKILL lands at once
        process.try_wait().unwrap().is_none()
    }

    #[test]
    fn a_worker_reaped_before_the_cancel_or_the_timeout_gets_no_signal() {
        let supervisor = Arc::new(Supervisor::start().unwrap());
        // The reader thread's part first: the worker ended and is reaped,
        // and its `Exited` has not reached the dispatcher yet.
        let worker = supervisor.fork(Arc::new(|_| 0)).unwrap();
        assert_eq!(supervisor.reap(worker.pid), Death::Exit(0));
        // Its pid is free: another program of the user's takes it. (The
        // kernel hands pids out in turn; this one stands for the process
        // that got the worker's.)
        let mut stranger = Command::new("sleep").arg("30").spawn().unwrap();
        // Then the cancel, and the timeout, for the worker that has that pid.
        dispatcher_of(&supervisor, stranger.id()).handle(Event::Cancel);
        assert!(is_running(&mut stranger), "the cancel killed a stranger");
        dispatcher_of(&supervisor, stranger.id()).expire(Instant::now());
        assert!(is_running(&mut stranger), "the timeout killed a stranger");
        stranger.kill().unwrap();
        stranger.wait().unwrap();
    }

    #[test]
    fn a_worker_not_yet_reaped_is_killed_on_cancel_and_on_timeout() {
        let supervisor = Arc::new(Supervisor::start().unwrap());
        let sleeper = || -> Body {
            Arc::new(|_| {
                thread::sleep(Duration::from_secs(30));
                0
            })
        };
        let cancelled = supervisor.fork(sleeper()).unwrap();
        dispatcher_of(&supervisor, cancelled.pid).handle(Event::Cancel);
        let timed_out = supervisor.fork(sleeper()).unwrap();
        dispatcher_of(&supervisor, timed_out.pid).expire(Instant::now());
        for worker in [cancelled, timed_out] {
            let death = supervisor.reap(worker.pid);
            assert_eq!(death, Death::Signal(libc::SIGKILL));
        }
    }
}
