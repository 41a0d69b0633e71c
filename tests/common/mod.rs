//! What the tests that compare with CPython share: running `python3` on one
//! of the reference scripts in `tests/reference/`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

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
