//! The process pool, end to end: real worker processes, checked in the
//! process table. The tests run on several threads of one process, as cargo
//! runs them, so forking here also shows that forking beside busy threads is
//! sound.

use asyncio_rs::pool::{Death, JobError, Pool, PoolError};
use asyncio_rs::runtime::run;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::sleep;

/// Whether `pid` is a process (zombies included) whose parent is this one.
fn is_our_child(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
    ppid == std::process::id()
}

fn pid() -> u32 {
    std::process::id()
}

#[test]
fn map_returns_results_in_input_order() {
    let pool = Pool::builder()
        .processes(2)
        .child_concurrency(3)
        .build()
        .unwrap();
    // Later items finish first.
    let results = run(pool.map(0..12u64, |n| async move {
        sleep(Duration::from_millis(5 * (12 - n))).await;
        (n * n, pid())
    }));
    let values: Vec<u64> = results
        .iter()
        .map(|result| result.as_ref().unwrap().0)
        .collect();
    assert_eq!(values, (0..12).map(|n| n * n).collect::<Vec<_>>());
    let pids: BTreeSet<u32> = results
        .iter()
        .map(|result| result.as_ref().unwrap().1)
        .collect();
    assert!(!pids.contains(&pid()));
    assert_eq!(
        pids.len(),
        2,
        "the items spread over both workers: {pids:?}"
    );
    // Workers live for one call.
    assert!(pool.workers().is_empty());
}

#[test]
fn as_completed_yields_results_as_they_finish() {
    // One worker runs both items; item 0 cannot finish before item 1 has.
    let marker = std::env::temp_dir().join(format!("pool-as-completed-{}", pid()));
    let _ = std::fs::remove_file(&marker);
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(2)
        .build()
        .unwrap();
    let path = marker.clone();
    let mut completed = pool.as_completed([0u8, 1], move |n| {
        let path = path.clone();
        async move {
            if n == 1 {
                std::fs::write(&path, "done").unwrap();
            } else {
                while !path.exists() {
                    sleep(Duration::from_millis(5)).await;
                }
            }
            n
        }
    });
    assert_eq!(completed.len(), 2);
    let order = run(async move {
        let mut order = Vec::new();
        while let Some((index, result)) = completed.next().await {
            order.push((index, result.unwrap()));
        }
        order
    });
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(order, [(1, 1), (0, 0)]);
}

#[test]
fn apply_runs_one_call_in_another_process() {
    let pool = Pool::builder().processes(3).build().unwrap();
    let (worker, doubled) = run(pool.apply(|n: i32| async move { (pid(), n * 2) }, 21)).unwrap();
    assert_ne!(worker, pid());
    assert_eq!(doubled, 42);
}

#[test]
fn a_panicking_job_fails_alone_and_its_worker_goes_on() {
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(2)
        .build()
        .unwrap();
    let results = run(pool.map(0..6u32, |n| async move {
        if n == 3 {
            panic!("boom on {n}");
        }
        pid()
    }));
    match &results[3] {
        Err(JobError::Panicked(message)) => {
            assert!(message.starts_with("boom on 3 (at "), "{message}");
            assert!(message.contains("pool.rs"), "{message}");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    let pids: BTreeSet<u32> = results
        .iter()
        .filter_map(|result| result.clone().ok())
        .collect();
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 5);
    assert_eq!(pids.len(), 1, "one worker served every item: {pids:?}");
}

#[test]
fn a_killed_worker_fails_its_items_and_is_replaced() {
    // One worker at a time, two items each: item 5 kills its worker while the
    // item beside it runs too.
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(2)
        .build()
        .unwrap();
    let results = run(pool.map(0..12u32, |n| async move {
        sleep(Duration::from_millis(10)).await;
        if n == 5 {
            // SAFETY: kill and getpid take no memory of ours; the worker
            // process ends itself, as a crash would.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
        pid()
    }));
    let JobError::WorkerDied { pid: killed, death } = results[5].clone().unwrap_err() else {
        panic!("item 5: {:?}", results[5]);
    };
    assert_eq!(death, Death::Signal(libc::SIGKILL));
    assert_eq!(
        results[5].clone().unwrap_err().to_string(),
        format!("worker process {killed} was killed by SIGKILL while it ran the job")
    );
    // Only the items the killed worker was running fail: item 5 and at most
    // one beside it. The map goes on with a new worker.
    let failed: Vec<usize> = (0..12).filter(|&index| results[index].is_err()).collect();
    assert!(
        failed.len() <= 2 && failed.iter().all(|index| (4..=6).contains(index)),
        "{failed:?}"
    );
    for index in failed {
        assert_eq!(
            results[index],
            Err(JobError::WorkerDied {
                pid: killed,
                death: Death::Signal(libc::SIGKILL)
            })
        );
    }
    assert_eq!(results[0], Ok(killed));
    for result in &results[7..] {
        let worker = result.clone().unwrap();
        assert_ne!(worker, killed);
    }
}

#[test]
fn an_aborting_worker_names_sigabrt() {
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(1)
        .build()
        .unwrap();
    let results = run(pool.map(0..3u32, |n| async move {
        if n == 1 {
            std::process::abort();
        }
        n
    }));
    assert_eq!(results[0], Ok(0));
    assert!(matches!(
        results[1],
        Err(JobError::WorkerDied {
            death: Death::Signal(libc::SIGABRT),
            ..
        })
    ));
    assert_eq!(results[2], Ok(2), "a new worker took over");
}

#[test]
fn a_job_past_the_timeout_fails_and_the_worker_goes_on() {
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(2)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let results = run(pool.map([false, true, false], |slow| async move {
        if slow {
            sleep(Duration::from_secs(3600)).await;
        }
        pid()
    }));
    assert_eq!(
        results[1],
        Err(JobError::TimedOut(Duration::from_millis(200)))
    );
    // The job was cancelled on the worker, which kept serving.
    assert_eq!(results[0], results[2]);
    assert!(results[0].is_ok());
}

#[test]
fn a_job_that_blocks_past_the_timeout_gets_its_worker_killed() {
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(1)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let results = run(pool.map([false, true, false], |block| async move {
        if block {
            // Never yields: only killing the worker ends it.
            std::thread::sleep(Duration::from_secs(3600));
        }
        pid()
    }));
    assert_eq!(
        results[1],
        Err(JobError::TimedOut(Duration::from_millis(100)))
    );
    assert!(results[0].is_ok() && results[2].is_ok());
    assert_ne!(results[0], results[2], "a new worker ran the last item");
}

#[test]
fn max_tasks_per_child_replaces_workers() {
    let pool = Pool::builder()
        .processes(1)
        .child_concurrency(2)
        .max_tasks_per_child(2)
        .build()
        .unwrap();
    let results = run(pool.map(0..6u8, |_| async { pid() }));
    let pids: Vec<u32> = results.into_iter().map(Result::unwrap).collect();
    let distinct: BTreeSet<u32> = pids.iter().copied().collect();
    assert_eq!(distinct.len(), 3, "{pids:?}");
    for worker in distinct {
        assert_eq!(pids.iter().filter(|&&pid| pid == worker).count(), 2);
    }
}

static SETTING: AtomicU64 = AtomicU64::new(0);

#[test]
fn the_initializer_runs_in_each_worker() {
    let pool = Pool::builder()
        .processes(2)
        .initializer(|| SETTING.store(7, Ordering::SeqCst))
        .build()
        .unwrap();
    let results = run(pool.map(
        0..4u64,
        |n| async move { n + SETTING.load(Ordering::SeqCst) },
    ));
    assert_eq!(results, [Ok(7), Ok(8), Ok(9), Ok(10)]);
    assert_eq!(
        SETTING.load(Ordering::SeqCst),
        0,
        "the parent's copy is untouched"
    );
}

#[test]
fn a_panicking_initializer_fails_every_item() {
    let pool = Pool::builder()
        .processes(2)
        .initializer(|| panic!("no config"))
        .build()
        .unwrap();
    let results = run(pool.map(0..5u8, |n| async move { n }));
    for result in results {
        match result {
            Err(JobError::NoWorker(message)) => {
                assert!(
                    message.starts_with("the initializer panicked: no config"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Takes `pids` from a pool that is busy, then drops or panics; checks that
/// none of them is left.
fn workers_of_a_busy_pool() -> (Pool, asyncio_rs::pool::Completed<u32>, Vec<u32>) {
    let pool = Pool::builder()
        .processes(2)
        .child_concurrency(2)
        .build()
        .unwrap();
    let mut completed = pool.as_completed(0..8u32, |n| async move {
        if n > 0 {
            sleep(Duration::from_secs(3600)).await;
        }
        pid()
    });
    let first = run(async move {
        let first = completed.next().await;
        (first, completed)
    });
    let ((_, result), completed) = (first.0.unwrap(), first.1);
    assert!(result.is_ok());
    let workers = pool.workers();
    assert!(!workers.is_empty());
    assert!(workers.iter().all(|&worker| is_our_child(worker)));
    (pool, completed, workers)
}

#[test]
fn dropping_the_pool_leaves_no_process() {
    let (pool, completed, workers) = workers_of_a_busy_pool();
    drop(pool);
    assert!(
        workers.iter().all(|&worker| !is_our_child(worker)),
        "{workers:?}"
    );
    // The call that was running ends with errors, at once.
    let rest = run(async move {
        let mut completed = completed;
        let mut rest = Vec::new();
        while let Some((_, result)) = completed.next().await {
            rest.push(result);
        }
        rest
    });
    assert_eq!(rest, vec![Err(JobError::Closed); 7]);
}

#[test]
fn dropping_the_results_leaves_no_process() {
    let (pool, completed, workers) = workers_of_a_busy_pool();
    drop(completed);
    assert!(
        workers.iter().all(|&worker| !is_our_child(worker)),
        "{workers:?}"
    );
    assert!(pool.workers().is_empty());
    // The pool still works.
    assert_eq!(run(pool.apply(|n: u8| async move { n + 1 }, 1)), Ok(2));
}

#[test]
fn a_panic_in_the_parent_leaves_no_process() {
    let (pids_tx, pids_rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let (_pool, _completed, workers) = workers_of_a_busy_pool();
        pids_tx.send(workers).unwrap();
        panic!("the caller fails while the map runs");
    })
    .join();
    assert!(outcome.is_err());
    let workers = pids_rx.recv().unwrap();
    assert!(
        workers.iter().all(|&worker| !is_our_child(worker)),
        "{workers:?}"
    );
}

#[test]
fn bad_settings_are_refused() {
    assert!(matches!(
        Pool::builder().processes(0).build(),
        Err(PoolError::NoProcesses)
    ));
    assert!(matches!(
        Pool::builder().child_concurrency(0).build(),
        Err(PoolError::NoConcurrency)
    ));
    assert_eq!(
        PoolError::NoConcurrency.to_string(),
        "each worker needs a concurrency of at least 1 (child_concurrency was 0)"
    );
}

/// A value whose serialization always fails.
#[derive(Debug, Deserialize)]
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("Unserializable refuses"))
    }
}

#[test]
fn an_item_that_fails_to_serialize_is_an_error_for_that_item() {
    let pool = Pool::builder().processes(1).build().unwrap();
    let items = vec![Some(1u8), None];
    let results = run(pool.map(
        items.into_iter().map(|item| item.ok_or(Unserializable)),
        |item| async move { item.is_ok() },
    ));
    assert_eq!(results[0], Ok(true));
    assert_eq!(
        results[1],
        Err(JobError::Serialization(
            "the item could not be serialized: Unserializable refuses".into()
        ))
    );
}

#[test]
fn a_result_that_fails_to_serialize_is_an_error_for_that_item() {
    let pool = Pool::builder().processes(1).build().unwrap();
    let results = run(pool.map([true, false], |good| async move {
        if good { Ok(1u8) } else { Err(Unserializable) }
    }));
    assert_eq!(results[0].as_ref().unwrap().as_ref().unwrap(), &1);
    assert_eq!(
        results[1].as_ref().unwrap_err(),
        &JobError::Serialization(
            "the result could not be serialized: Unserializable refuses".into()
        )
    );
}

#[test]
fn an_empty_map_forks_nothing() {
    let pool = Pool::builder().processes(1).build().unwrap();
    let results: Vec<Result<u8, JobError>> = run(pool.map(Vec::<u8>::new(), |n| async move { n }));
    assert!(results.is_empty());
}

#[test]
fn workers_fetch_from_a_loopback_server_and_keep_none_of_its_sockets() {
    use asyncio_rs::demos::multiprocessing::{answer, fetch, reply};
    use asyncio_rs::loopback::LoopbackServer;

    // The server's thread and sockets are in this process when the workers
    // are forked; the workers connect to it over TCP.
    let server = LoopbackServer::answering(Duration::from_millis(20), reply).unwrap();
    let address = server.addr();
    let pool = Pool::builder().processes(2).build().unwrap();
    let results = run(pool.map(0..4u32, move |n| async move {
        fetch(address, n).await.is_ok_and(|got| got == answer(n))
    }));
    assert_eq!(results, vec![Ok(true); 4]);
    assert_eq!(server.answered(), 4);
    // Workers that were forked while the server listened, and still run:
    // dropping the server closes its port all the same, so none of them kept
    // the listening socket. (A worker forked by another test may hold it for
    // the moment before it closes what it inherited: hence the wait.)
    let (busy, completed, workers) = workers_of_a_busy_pool();
    drop(server);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match std::net::TcpStream::connect(address) {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {
                assert!(std::time::Instant::now() < deadline, "the port stayed open");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    assert!(workers.iter().all(|&worker| is_our_child(worker)));
    drop((completed, busy));
}
