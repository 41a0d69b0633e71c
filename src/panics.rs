//! Short panics in the notebook's kernel: a panic prints where it happened
//! and its message, in three lines, not a backtrace through tokio's
//! internals, unless the reader asks for one with `RUST_BACKTRACE`.
//!
//! evcxr starts the process that runs the cells with `RUST_BACKTRACE=1`,
//! whatever the reader's environment says, so every panic, one a cell shows
//! on purpose included, prints thirty-odd lines of frames (the task harness,
//! the scheduler, evcxr's own loop) around the one line that matters. The
//! first [`Runtime`](crate::runtime::Runtime) made in that process puts
//! `RUST_BACKTRACE` back to what the reader had when the kernel started
//! (the kernel launcher, `tools/kernel.py`, hands it over as
//! `ASYNCIO_RS_RUST_BACKTRACE`; unset without the launcher), and installs a
//! panic hook that prints:
//!
//! ```text
//! thread '<unnamed>' panicked at src/demos/fire_and_forget.rs:667:31:
//! RefCell already borrowed
//! note: set RUST_BACKTRACE=1 for a backtrace
//! ```
//!
//! With `RUST_BACKTRACE` set (to anything but `0`) when the panic happens,
//! the hook hands over to std's own, which prints the backtrace. A reader
//! asks either when starting Jupyter (`RUST_BACKTRACE=1 make lab`) or in a
//! cell, `unsafe { std::env::set_var("RUST_BACKTRACE", "1") }`, and puts it
//! back with `std::env::remove_var`. Anywhere else (a program, a test, plain
//! evcxr's compile-time process) nothing changes.

use std::env;
use std::io::Write;
use std::panic::{self, PanicHookInfo};

/// Set by the kernel launcher to the reader's `RUST_BACKTRACE` (empty when
/// unset), since evcxr overrides that variable for the cell process.
const READERS_CHOICE: &str = "ASYNCIO_RS_RUST_BACKTRACE";

/// Set once the hook is installed: every cell links its own copy of this
/// crate, and the hook is process-wide.
const INSTALLED: &str = "ASYNCIO_RS_SHORT_PANICS";

/// The last line of a short panic.
pub const NOTE: &str = "note: set RUST_BACKTRACE=1 for a backtrace";

/// Installs the short panic hook if this is evcxr's cell process and no copy
/// of the crate has yet. Every `Runtime` constructor calls it.
pub(crate) fn install() {
    if !crate::display::in_notebook_kernel() || env::var_os(INSTALLED).is_some() {
        return;
    }
    // SAFETY: called from the cell's thread while cells run one at a time,
    // before this crate starts threads of its own in the process (as in
    // `interrupt`); other threads read the environment through std's lock.
    unsafe {
        match env::var_os(READERS_CHOICE) {
            Some(choice) if !choice.is_empty() => env::set_var("RUST_BACKTRACE", choice),
            _ => env::remove_var("RUST_BACKTRACE"),
        }
        env::set_var(INSTALLED, "1");
    }
    let long = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if backtrace_wanted() {
            long(info);
        } else {
            let _ = std::io::stderr().write_all(short(info).as_bytes());
        }
    }));
}

/// Whether `RUST_BACKTRACE` asks for a backtrace now.
fn backtrace_wanted() -> bool {
    env::var_os("RUST_BACKTRACE").is_some_and(|value| !value.is_empty() && value != "0")
}

/// A panic in three lines: the thread and where, the message, the note.
///
/// ```text
/// thread 'main' panicked at src/main.rs:2:5:
/// boom
/// note: set RUST_BACKTRACE=1 for a backtrace
/// ```
fn short(info: &PanicHookInfo<'_>) -> String {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let place = info
        .location()
        .map(|location| {
            // Our own files as the repository names them (`src/…`), not by
            // the absolute path that evcxr's build gives them: the same on
            // every machine, and in every export.
            let file = location.file();
            let file = file
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .and_then(|inside| inside.strip_prefix('/'))
                .unwrap_or(file);
            format!(" at {file}:{}:{}", location.line(), location.column())
        })
        .unwrap_or_default();
    format!("thread '{name}' panicked{place}:\n{message}\n{NOTE}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_short_panic_is_three_lines() {
        // Other tests may panic meanwhile: their panics go to the hook that was there.
        let previous: Arc<dyn Fn(&PanicHookInfo<'_>) + Send + Sync> = Arc::from(panic::take_hook());
        let seen = Arc::new(Mutex::new(String::new()));
        let (into, others) = (Arc::clone(&seen), Arc::clone(&previous));
        panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("short-panic") {
                *into.lock().unwrap() = short(info);
            } else {
                others(info);
            }
        }));
        let line = line!() + 3;
        let _ = std::thread::Builder::new()
            .name("short-panic".into())
            .spawn(|| panic!("boom {}", 42))
            .unwrap()
            .join();
        panic::set_hook(Box::new(move |info| previous(info)));
        assert_eq!(
            *seen.lock().unwrap(),
            format!("thread 'short-panic' panicked at src/panics.rs:{line}:23:\nboom 42\n{NOTE}\n")
        );
    }

    #[test]
    fn outside_the_kernel_nothing_is_installed() {
        install();
        assert!(env::var_os(INSTALLED).is_none());
    }
}
