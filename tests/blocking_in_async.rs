//! The blocking-in-async demo as its reader runs it (the example script):
//! the order of the lines shows what ran while what waited, without timing
//! anything. A blocking sleep lets no other task in, so each `count()` prints
//! `One` and `Two` before the next starts; with `spawn_blocking` all three
//! print `One` before any prints `Two`.

mod common;

use common::example;

#[test]
fn a_blocking_sleep_serialises_the_tasks_and_spawn_blocking_overlaps_them() {
    let output = example("blocking_in_async")
        .output()
        .expect("cargo test builds the examples");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 14, "{stdout}");
    let stalled = ["One", "Two", "One", "Two", "One", "Two"];
    let offloaded = ["One", "One", "One", "Two", "Two", "Two"];
    assert_eq!(lines[..6], stalled);
    assert_eq!(lines[7..13], offloaded);
    for line in [lines[6], lines[13]] {
        assert!(
            line.starts_with("Executed in  ") && line.ends_with('s'),
            "{line}"
        );
    }
}
