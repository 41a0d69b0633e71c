//! Jupyter's interrupt with real `SIGINT`s, as the kernel gets them.
//!
//! A signal goes to a whole process, and `cargo test` runs tests on threads
//! of one process; so each test runs this test binary again, as a child
//! process in the conditions of the kernel's cell process: evcxr's
//! `EVCXR_IS_RUNTIME` set, `SIGINT` ignored (what the kernel's launcher
//! does), a process group of its own. The child runs one scenario, in which a
//! thread sends `SIGINT` to the child's process group, as Jupyter's
//! `interrupt_kernel()` does (`killpg`); the test reads what the child
//! printed (the interrupt's messages go to standard output) and how it
//! ended.
//!
//! The child's side is not a test: this file has a `main` of its own
//! (`harness = false` in Cargo.toml). Started with a scenario in its
//! environment, it runs that scenario; otherwise it runs the tests below, as
//! libtest would: in parallel, each named, filtered by the words given.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, ExitCode, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asyncio_rs::gather::gather;
use asyncio_rs::interrupt::{self, BLOCKING_MESSAGE, KeyboardInterrupt, LOST_MESSAGE, MESSAGE};
use asyncio_rs::pool::Pool;
use asyncio_rs::runtime::Runtime;
use asyncio_rs::threads;
use tokio::time::sleep;

/// The environment variable naming the scenario a child runs.
const SCENARIO: &str = "ASYNCIO_RS_INTERRUPT_SCENARIO";

/// Runs `scenario` in a child process and returns what it printed; kills it
/// after 60 s (a hang is a failure, not a stuck `cargo test`).
fn run_child(scenario: &str) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .env(SCENARIO, scenario)
        .env("EVCXR_IS_RUNTIME", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs in the forked child before exec, and calls
    // only signal and setpgid, which are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("start the test binary again");
    let read = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // SAFETY: killpg takes no memory of ours. The child leads its
            // group and has not been reaped (only this thread reaps it), so
            // the group's id is still its own, not another process's.
            unsafe { libc::killpg(child.id() as libc::pid_t, libc::SIGKILL) };
            break child.wait().unwrap();
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The interrupt's messages among what the child printed, in order.
fn messages(output: &Output) -> Vec<&'static str> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            [MESSAGE, BLOCKING_MESSAGE, LOST_MESSAGE]
                .into_iter()
                .find(|message| line == *message)
        })
        .collect()
}

/// Checks that the child's scenario ran to its end and printed `expected`,
/// in this order, and that nothing panicked (no "panicked at", no
/// backtrace), nor ran past the press.
fn assert_ran(output: &Output, expected: &[&str]) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("scenario finished"),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status,
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stdout.contains("must not run"), "{stdout}");
    assert_eq!(messages(output), expected, "stdout:\n{stdout}");
}

fn a_run_stops_at_once_its_gathered_tasks_are_cancelled_and_the_runtime_goes_on() {
    assert_ran(&run_child("run"), &[MESSAGE]);
}

fn a_blocking_cell_is_told_and_stops_at_its_next_await() {
    assert_ran(&run_child("blocking"), &[BLOCKING_MESSAGE, MESSAGE]);
}

fn a_blocking_task_is_told_and_stops_at_its_next_await() {
    assert_ran(&run_child("blocking task"), &[BLOCKING_MESSAGE, MESSAGE]);
}

fn a_loop_that_never_awaits_ends_the_process_at_the_second_press() {
    let output = run_child("loop");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(messages(&output), [BLOCKING_MESSAGE, LOST_MESSAGE]);
}

fn an_interrupted_pool_call_leaves_no_worker_and_the_pool_serves_the_next() {
    assert_ran(&run_child("pool"), &[MESSAGE]);
}

fn a_blocking_loop_that_checks_stops_without_the_blocking_message() {
    assert_ran(&run_child("asks"), &[MESSAGE]);
}

fn threads_started_together_stop_at_the_press_and_are_joined() {
    assert_ran(&run_child("threads"), &[MESSAGE]);
}

/// The tests, by name.
const TESTS: [(&str, fn()); 7] = [
    (
        "a_run_stops_at_once_its_gathered_tasks_are_cancelled_and_the_runtime_goes_on",
        a_run_stops_at_once_its_gathered_tasks_are_cancelled_and_the_runtime_goes_on,
    ),
    (
        "a_blocking_cell_is_told_and_stops_at_its_next_await",
        a_blocking_cell_is_told_and_stops_at_its_next_await,
    ),
    (
        "a_blocking_task_is_told_and_stops_at_its_next_await",
        a_blocking_task_is_told_and_stops_at_its_next_await,
    ),
    (
        "a_loop_that_never_awaits_ends_the_process_at_the_second_press",
        a_loop_that_never_awaits_ends_the_process_at_the_second_press,
    ),
    (
        "an_interrupted_pool_call_leaves_no_worker_and_the_pool_serves_the_next",
        an_interrupted_pool_call_leaves_no_worker_and_the_pool_serves_the_next,
    ),
    (
        "a_blocking_loop_that_checks_stops_without_the_blocking_message",
        a_blocking_loop_that_checks_stops_without_the_blocking_message,
    ),
    (
        "threads_started_together_stop_at_the_press_and_are_joined",
        threads_started_together_stop_at_the_press_and_are_joined,
    ),
];

fn main() -> ExitCode {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        child(&scenario);
        return ExitCode::SUCCESS;
    }
    // What cargo test passes on: words filter the tests by name (`--exact`:
    // whole names); `--list` lists them; other options are libtest's.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|arg| arg == "--exact");
    let filters: Vec<&str> = (args.iter())
        .filter(|arg| !arg.starts_with('-'))
        .map(String::as_str)
        .collect();
    let chosen: Vec<(&str, fn())> = (TESTS.into_iter())
        .filter(|(name, _)| {
            filters.is_empty()
                || (filters.iter()).any(|f| if exact { name == f } else { name.contains(f) })
        })
        .collect();
    if args.iter().any(|arg| arg == "--list") {
        for (name, _) in &chosen {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    println!("\nrunning {} tests", chosen.len());
    // Each test is a child process of its own: they run at once.
    let running: Vec<_> = (chosen.iter())
        .map(|&(name, test)| (name, thread::spawn(move || panic::catch_unwind(test))))
        .collect();
    let mut failed = Vec::new();
    for (name, handle) in running {
        let passed = handle.join().is_ok_and(|outcome| outcome.is_ok());
        println!("test {name} ... {}", if passed { "ok" } else { "FAILED" });
        if !passed {
            failed.push(name);
        }
    }
    let result = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {result}. {} passed; {} failed\n",
        chosen.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for name in failed {
            eprintln!("failed: {name}");
        }
        ExitCode::FAILURE
    }
}

/// The child's side: runs one scenario, in the conditions of the kernel's
/// cell process that `run_child` sets up.
fn child(scenario: &str) {
    match scenario {
        "run" => run_scenario(),
        "blocking" => blocking_scenario(),
        "blocking task" => blocking_task_scenario(),
        "loop" => loop_scenario(),
        "pool" => pool_scenario(),
        "asks" => asks_scenario(),
        "threads" => threads_scenario(),
        other => panic!("no scenario {other}"),
    }
    println!("scenario finished");
}

/// Sends `SIGINT` to this process's group after `delay`, from a thread.
fn press_after(delay: Duration) -> thread::JoinHandle<Instant> {
    thread::spawn(move || {
        thread::sleep(delay);
        // SAFETY: our own process group (the child is its leader).
        unsafe { libc::kill(0, libc::SIGINT) };
        Instant::now()
    })
}

/// Runs `f`, which must end with the interrupt's unwind.
fn interrupted<T>(f: impl FnOnce() -> T) {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Err(payload) => assert!(payload.is::<KeyboardInterrupt>(), "another panic"),
        Ok(_) => panic!("the interrupt did not stop the call"),
    }
}

/// Counts its drops: a task's future was dropped, so the task was cancelled.
struct DropCounter(Arc<AtomicU32>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn run_scenario() {
    let rt = Runtime::new().unwrap();
    // A background task of the reader's: it must go on.
    let ticks = Arc::new(AtomicU32::new(0));
    let ticker = rt.spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let dropped = Arc::new(AtomicU32::new(0));
    let press = press_after(Duration::from_millis(300));
    let guards: Vec<DropCounter> = (0..3).map(|_| DropCounter(Arc::clone(&dropped))).collect();
    interrupted(|| {
        rt.run(gather(guards.into_iter().map(|guard| async move {
            sleep(Duration::from_secs(3600)).await;
            drop(guard);
        })))
    });
    let stopped = Instant::now();
    let pressed = press.join().unwrap();
    assert!(
        stopped.duration_since(pressed) < Duration::from_millis(500),
        "stopped {:?} after the press",
        stopped.duration_since(pressed)
    );
    // The gathered tasks are cancelled on the event loop right after.
    rt.run(async { sleep(Duration::from_millis(50)).await });
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    let before = ticks.load(Ordering::SeqCst);
    rt.run(async { sleep(Duration::from_millis(100)).await });
    assert!(
        ticks.load(Ordering::SeqCst) > before,
        "the spawned task stopped"
    );
    assert!(!ticker.is_finished());
    assert_eq!(rt.run(async { 6 * 7 }), 42);
    // A runtime made after the press, as in another cell, works as well.
    let paused = Runtime::paused().unwrap();
    assert_eq!(paused.run(async { "paused" }), "paused");
}

fn blocking_scenario() {
    let rt = Runtime::new().unwrap();
    let _press = press_after(Duration::from_millis(200));
    // A cell that blocks: the press cannot stop it, only its next await.
    thread::sleep(Duration::from_secs(1));
    interrupted(|| rt.run(async { println!("the future after the press must not run") }));
    assert_eq!(rt.run(async { 1 }), 1);
}

fn blocking_task_scenario() {
    let rt = Runtime::new().unwrap();
    let _press = press_after(Duration::from_millis(200));
    interrupted(|| {
        rt.run(async {
            // blocking_in_async's stalled count: a blocking sleep in a task.
            thread::sleep(Duration::from_secs(1));
            sleep(Duration::from_millis(1)).await;
            println!("the code after the await must not run");
        })
    });
    assert_eq!(rt.run(async { 1 }), 1);
}

fn loop_scenario() {
    let _rt = Runtime::new().unwrap();
    let _first = press_after(Duration::from_millis(200));
    let _second = press_after(Duration::from_millis(800));
    let start = Instant::now();
    // A reader's `loop {}`, ended by the second press; bounded, so that a
    // failure is an assertion and not a hang.
    while start.elapsed() < Duration::from_secs(10) {
        std::hint::spin_loop();
    }
    panic!("the second press did not end the process");
}

fn pool_scenario() {
    let rt = Runtime::new().unwrap();
    let pool = Pool::builder()
        .processes(2)
        .child_concurrency(2)
        .build()
        .unwrap();
    // The workers get the press too: they are in the process group.
    let _press = press_after(Duration::from_millis(500));
    interrupted(|| {
        rt.run(pool.map(0..8u64, |n| async move {
            sleep(Duration::from_secs(3600)).await;
            n
        }))
    });
    let children = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .map(|task| {
                std::fs::read_to_string(task.unwrap().path().join("children")).unwrap_or_default()
            })
            .collect::<String>()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !children().trim().is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(children().trim(), "", "worker processes are left");
    let doubled: Vec<u64> = rt
        .run(pool.map(1..=4u64, |n| async move { n * 2 }))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(doubled, [2, 4, 6, 8]);
}

fn asks_scenario() {
    let _rt = Runtime::new().unwrap();
    let _press = press_after(Duration::from_millis(200));
    // A blocking loop that asks between steps (the demos' threads), and
    // takes longer than the grace to wind down.
    interrupted(|| {
        let checking = interrupt::checking();
        let start = Instant::now();
        while !interrupt::requested() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no interrupt came"
            );
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(interrupt::GRACE * 2);
        drop(checking);
        interrupt::checkpoint();
    });
}

fn threads_scenario() {
    let _rt = Runtime::new().unwrap();
    let _press = press_after(Duration::from_millis(200));
    // The demos' threads, each sleeping a while: started one by one, far
    // more than start before the press.
    let started = Arc::new(AtomicU32::new(0));
    let finished = Arc::new(AtomicU32::new(0));
    interrupted(|| {
        threads::start_and_join(100_000, |_| {
            started.fetch_add(1, Ordering::SeqCst);
            let finished = Arc::clone(&finished);
            move || {
                thread::sleep(Duration::from_millis(50));
                finished.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
    let (started, finished) = (
        started.load(Ordering::SeqCst),
        finished.load(Ordering::SeqCst),
    );
    assert!(0 < started && started < 100_000, "{started} started");
    assert_eq!(finished, started, "each thread started is joined first");
}
