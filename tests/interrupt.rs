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

use std::os::unix::process::CommandExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asyncio_rs::gather::gather;
use asyncio_rs::interrupt::{self, BLOCKING_MESSAGE, KeyboardInterrupt, LOST_MESSAGE, MESSAGE};
use asyncio_rs::pool::Pool;
use asyncio_rs::runtime::Runtime;
use tokio::time::sleep;

/// The environment variable naming the scenario a child runs.
const SCENARIO: &str = "ASYNCIO_RS_INTERRUPT_SCENARIO";

/// Runs `scenario` in a child process and returns what it printed; kills it
/// after 60 s (a hang is a failure, not a stuck `cargo test`).
fn run_child(scenario: &str) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .env("EVCXR_IS_RUNTIME", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: signal and setpgid are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    let child = command.spawn().expect("start the test binary again");
    let pid = child.id();
    let watchdog = thread::spawn(move || {
        thread::sleep(Duration::from_secs(60));
        // SAFETY: the child's group, ours to end; harmless once it has ended.
        unsafe { libc::killpg(pid as libc::pid_t, libc::SIGKILL) };
    });
    let output = child.wait_with_output().expect("wait for the child");
    drop(watchdog);
    output
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

#[test]
fn a_run_stops_at_once_its_gathered_tasks_are_cancelled_and_the_runtime_goes_on() {
    assert_ran(&run_child("run"), &[MESSAGE]);
}

#[test]
fn a_blocking_cell_is_told_and_stops_at_its_next_await() {
    assert_ran(&run_child("blocking"), &[BLOCKING_MESSAGE, MESSAGE]);
}

#[test]
fn a_blocking_task_is_told_and_stops_at_its_next_await() {
    assert_ran(&run_child("blocking task"), &[BLOCKING_MESSAGE, MESSAGE]);
}

#[test]
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

#[test]
fn an_interrupted_pool_call_leaves_no_worker_and_the_pool_serves_the_next() {
    assert_ran(&run_child("pool"), &[MESSAGE]);
}

#[test]
fn a_blocking_loop_that_checks_stops_without_the_blocking_message() {
    assert_ran(&run_child("asks"), &[MESSAGE]);
}

/// The child's side: does nothing in a plain `cargo test`.
#[test]
fn child() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    // Ends libtest's "test child ... " line: the messages get lines of their own.
    println!("scenario {scenario}");
    match scenario.as_str() {
        "run" => run_scenario(),
        "blocking" => blocking_scenario(),
        "blocking task" => blocking_task_scenario(),
        "loop" => loop_scenario(),
        "pool" => pool_scenario(),
        "asks" => asks_scenario(),
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
