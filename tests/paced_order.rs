//! `Runtime::run_paced` on a busy machine: tasks due at the same instant run
//! in the order they went to sleep, on every run.
//!
//! The program is a reader's own variant of makerandom (`In [7]`, `In [8]`):
//! four tasks, one of them sleeping a random number of units, on the real
//! clock, with a unit of 20 ms so that a run takes a second or less. Many runs
//! go at once, each on a runtime of its own, beside threads that keep every
//! core busy; every run must print what `tests/reference/timer_order.py`
//! computes in CPython with exact timer order (a heap keyed on the deadline,
//! then on the order of the sleep calls), instants included.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use asyncio_rs::gather::gather;
use asyncio_rs::random::SharedRandom;
use asyncio_rs::runtime::Runtime;
use tokio::time::{Instant, sleep};

mod common;

const UNIT: Duration = Duration::from_millis(20);
const SEEDS: [i128; 6] = [444, 0, 7, 42, 2024, -17];
/// Runs of each seed at once.
const RUNS: usize = 16;

type Lines = Arc<Mutex<Vec<String>>>;

/// makerandom, printing into `lines`, each line with its instant in units.
async fn makerandom(
    idx: usize,
    threshold: i64,
    random: SharedRandom,
    start: Instant,
    lines: Lines,
) -> i64 {
    let say = |text: String| {
        let units = start.elapsed().as_secs_f64() / UNIT.as_secs_f64();
        lines.lock().unwrap().push(format!("t={units:.2} {text}"));
    };
    say(format!("Initiated makerandom({idx})"));
    let mut i = random.randint(0, 10);
    while i <= threshold {
        say(format!("makerandom({idx}) == {i} too low; retrying."));
        let units = if idx < 3 {
            idx as u32 + 1
        } else {
            random.randint(1, 4) as u32
        };
        sleep(UNIT * units).await;
        i = random.randint(0, 10);
    }
    say(format!("--> Finished: makerandom({idx}) == {i}"));
    i
}

async fn main(seed: i128, lines: Lines) -> Vec<i64> {
    let random = SharedRandom::new(seed);
    let start = Instant::now();
    let tasks = (0..4).map(|idx| {
        let threshold = if idx < 3 { 10 - idx as i64 - 1 } else { 7 };
        makerandom(idx, threshold, random.clone(), start, Arc::clone(&lines))
    });
    gather(tasks).await
}

fn one_run(seed: i128) -> String {
    let rt = Runtime::new().unwrap();
    let lines: Lines = Arc::default();
    let results = rt.run_paced(main(seed, Arc::clone(&lines)));
    let mut out = lines.lock().unwrap().join("\n");
    out.push_str(&format!("\nresults: {results:?}\n"));
    out
}

/// Threads that spin until dropped: a CPU-heavy job beside the runs.
struct Busy(Arc<AtomicBool>, Vec<thread::JoinHandle<()>>);

impl Busy {
    fn start() -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        let spinners = (0..cores * 2)
            .map(|_| {
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Busy(stop, spinners)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for spinner in self.1.drain(..) {
            spinner.join().unwrap();
        }
    }
}

#[test]
fn same_instant_timers_keep_sleep_order_on_a_busy_machine() {
    let _busy = Busy::start();
    for seed in SEEDS {
        let expected = common::python3("timer_order.py", &["--seed", &seed.to_string()], "");
        let runs: Vec<String> = (0..RUNS)
            .map(|_| thread::spawn(move || one_run(seed)))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|run| run.join().unwrap())
            .collect();
        for (number, run) in runs.iter().enumerate() {
            assert_eq!(
                run, &expected,
                "seed {seed}, run {number} of {RUNS} at once"
            );
        }
    }
}
