//! What the integration tests share: running `python3` on one of the
//! reference scripts in `tests/reference/`, and running an example.
#![allow(
    dead_code,
    reason = "each test crate that includes this module uses a part of it"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A command that runs the example `name`, which `cargo test` builds next to
/// the test binaries' `deps/`, without the caller's `NO_COLOR`, `CLICOLOR` or
/// evcxr's `EVCXR_IS_RUNTIME`. Panics if it is not built.
pub fn example(name: &str) -> Command {
    let test_binary = std::env::current_exe().unwrap();
    let profile_dir = test_binary.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    let mut command = Command::new(path);
    command
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("EVCXR_IS_RUNTIME");
    command
}

/// Runs `python3 tests/reference/{script} {args}`, writes `input` to its
/// standard input, and returns what it printed. Panics with python3's
/// standard error if it is missing or fails: without it these tests cannot
/// check anything.
pub fn python3(script: &str, args: &[&str], input: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(script);
    let mut child = Command::new("python3")
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!("these tests need python3 on the PATH to compute CPython's values: {err}")
        });
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(input.as_bytes())
        .expect("python3 reads its input");
    let output = child.wait_with_output().expect("python3 ran");
    assert!(
        output.status.success(),
        "python3 {script} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("python3 printed UTF-8")
}
