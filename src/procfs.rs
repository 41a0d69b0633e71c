//! Reading Linux's `/proc`: the one place that knows how its files spell a
//! value, for [`crate::limits`] (`/proc/meminfo`, `/proc/self/limits`, each
//! process's `status`) and [`crate::memory`] (`/proc/self/status`).
//!
//! Most of those files are lines of a name and its value, the value's first
//! word a number: `VmRSS:      8452 kB`, `Max open files  1024  524288  files`.

use std::io;

/// The first word after `name` on the first line that starts with it.
pub(crate) fn value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))?
        .split_whitespace()
        .next()
}

/// The number after `name` on the first line that starts with it.
pub(crate) fn field(text: &str, name: &str) -> Option<u64> {
    value(text, name)?.parse().ok()
}

/// A field of `/proc/self/status` given in KiB (`VmRSS:`, `VmHWM:`), in
/// bytes.
pub(crate) fn status_bytes(name: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    field(&status, name)
        .map(|kib| kib * 1024)
        .ok_or_else(|| io::Error::other(format!("no {name} in /proc/self/status")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_the_number_after_its_name() {
        let status = "Name:\tcat\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t    8452 kB\nThreads:\t1\n";
        assert_eq!(field(status, "Uid:"), Some(1_000));
        assert_eq!(field(status, "VmRSS:"), Some(8_452));
        assert_eq!(field(status, "Name:"), None, "not a number");
        assert_eq!(field(status, "VmHWM:"), None, "not there");
        let limits =
            "Max processes             96365                96365                processes\n";
        assert_eq!(value(limits, "Max processes"), Some("96365"));
    }

    #[test]
    fn this_process_is_resident() {
        assert!(status_bytes("VmRSS:").unwrap() > 0);
        assert!(status_bytes("NoSuchField:").is_err());
    }
}
