//! How much memory a piece of work took at its peak, measured from inside the
//! process, so that a notebook cell can compare two workloads in one kernel.
//!
//! Linux keeps a process's peak resident memory (`VmHWM` in
//! `/proc/self/status`) and lets the process reset it to the current resident
//! size by writing `5` to `/proc/self/clear_refs`. [`peak_of`] resets it, runs
//! the work, and reads it back: the peak of the whole process while the work
//! ran, whatever earlier work peaked at. What the process held when the work
//! started (a notebook kernel's compiled cells, memory an earlier run left
//! with the allocator) is part of that peak, so [`Peak`] keeps it too, and
//! [`Peak::added`] is what the work itself added at its peak.
//!
//! macOS cannot reset the peak: `getrusage`'s `ru_maxrss` (in bytes there,
//! in KiB on Linux) is the highest since the process started. The peak of a
//! piece of work is known only if the work raised that figure, and then it
//! is that figure; otherwise [`Peak::peak`] is `None` and the demos print
//! [`NOT_MEASURED`] rather than an earlier work's peak.
//!
//! ```
//! # #[cfg(target_os = "linux")] {
//! use asyncio_rs::memory::peak_of;
//!
//! let (sum, peak) = peak_of(|| vec![1u8; 64 << 20].iter().map(|&b| b as u64).sum::<u64>()).unwrap();
//! assert_eq!(sum, 64 << 20);
//! let highest = peak.peak.unwrap();
//! assert!(peak.added().unwrap() >= 60 << 20 && highest >= peak.before + (60 << 20));
//! # }
//! ```

use std::io;

/// The process's resident memory around a piece of work, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peak {
    /// Resident when the work started.
    pub before: u64,
    /// The highest it went while the work ran; `None` where that cannot be
    /// measured (macOS, when the work stayed under an earlier peak).
    pub peak: Option<u64>,
}

/// What the demos print for a figure the system does not give.
pub const NOT_MEASURED: &str = "not measured here";

impl Peak {
    /// What the work added at its peak: `peak - before`.
    pub fn added(&self) -> Option<u64> {
        Some(self.peak?.saturating_sub(self.before))
    }
}

/// A figure of bytes as [`mebibytes`], or [`NOT_MEASURED`].
///
/// ```
/// use asyncio_rs::memory::mebibytes_or_not;
///
/// assert_eq!(mebibytes_or_not(Some(3 << 20)), "3.0 MiB");
/// assert_eq!(mebibytes_or_not(None), "not measured here");
/// ```
pub fn mebibytes_or_not(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| NOT_MEASURED.to_string(), mebibytes)
}

/// Bytes as mebibytes with one decimal, as the demos' tables print memory.
///
/// ```
/// assert_eq!(asyncio_rs::memory::mebibytes(42 << 20 | 512 << 10), "42.5 MiB");
/// ```
pub fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// Runs `work` and returns its result with the process's resident memory
/// before and at its peak while it ran.
#[cfg(target_os = "linux")]
pub fn peak_of<T>(work: impl FnOnce() -> T) -> io::Result<(T, Peak)> {
    reset_peak()?;
    let before = rss()?;
    let output = work();
    let peak = peak_rss()?;
    Ok((
        output,
        Peak {
            before,
            peak: Some(peak),
        },
    ))
}

/// Runs `work` and returns its result with the process's resident memory
/// before it and, if the work raised the process's highest (`ru_maxrss`),
/// at its peak.
#[cfg(target_vendor = "apple")]
pub fn peak_of<T>(work: impl FnOnce() -> T) -> io::Result<(T, Peak)> {
    lifetime_peak_of(work, rss, max_rss)
}

/// [`peak_of`] where the peak cannot be reset: `highest` is the highest
/// resident memory since the process started. The work's peak is that
/// highest if the work raised it, and unknown otherwise.
#[cfg(any(target_vendor = "apple", test))]
fn lifetime_peak_of<T>(
    work: impl FnOnce() -> T,
    resident: impl Fn() -> io::Result<u64>,
    highest: impl Fn() -> io::Result<u64>,
) -> io::Result<(T, Peak)> {
    let highest_before = highest()?;
    let before = resident()?;
    let output = work();
    let highest_after = highest()?;
    let peak = (highest_after > highest_before).then_some(highest_after);
    Ok((output, Peak { before, peak }))
}

/// The highest resident memory since the process started, in bytes:
/// `getrusage`'s `ru_maxrss`, which Linux gives in KiB and macOS in bytes.
#[cfg(any(target_vendor = "apple", test))]
pub fn max_rss() -> io::Result<u64> {
    // SAFETY: rusage is plain integers, for which zero is a value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes the struct we pass and nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let unit = if cfg!(target_vendor = "apple") {
        1
    } else {
        1024
    };
    Ok(usage.ru_maxrss as u64 * unit)
}

/// Resets the peak resident memory (`VmHWM`) to the current resident memory.
#[cfg(target_os = "linux")]
pub fn reset_peak() -> io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

/// The peak resident memory (`VmHWM`) since the process started or the last
/// [`reset_peak`], in bytes.
#[cfg(target_os = "linux")]
pub fn peak_rss() -> io::Result<u64> {
    crate::procfs::status_bytes("VmHWM:")
}

/// The resident memory (`VmRSS`) now, in bytes.
///
/// ```
/// # #[cfg(target_os = "linux")]
/// assert!(asyncio_rs::memory::rss().unwrap() > 0);
/// ```
#[cfg(target_os = "linux")]
pub fn rss() -> io::Result<u64> {
    crate::procfs::status_bytes("VmRSS:")
}

/// macOS cannot reset the peak: an `Unsupported` error (see [`peak_of`]).
#[cfg(target_vendor = "apple")]
pub fn reset_peak() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "macOS cannot reset a process's peak memory",
    ))
}

/// The highest resident memory since the process started ([`max_rss`]).
#[cfg(target_vendor = "apple")]
pub fn peak_rss() -> io::Result<u64> {
    max_rss()
}

/// The resident memory now, in bytes (`proc_pidinfo`'s task info).
#[cfg(target_vendor = "apple")]
pub fn rss() -> io::Result<u64> {
    Ok(crate::macos::task_info()?.pti_resident_size)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_peak_resets_to_what_is_resident_now() {
        let ((), big) = peak_of(|| {
            let block = vec![7u8; 128 << 20];
            assert_eq!(block[block.len() - 1], 7);
        })
        .unwrap();
        // The block is freed; after a reset the peak forgets it.
        let ((), small) = peak_of(|| ()).unwrap();
        assert!(big.added().unwrap() >= 120 << 20, "{big:?}");
        assert!(
            small.peak.unwrap() + (100 << 20) < big.peak.unwrap(),
            "{small:?} vs {big:?}"
        );
    }

    /// macOS's way, with a highest that the work raises or not: a work that
    /// raises it has that as its peak; one that stays under it has no peak,
    /// not the earlier one.
    #[test]
    fn without_a_reset_a_peak_is_known_only_when_the_work_raises_the_highest() {
        use std::cell::Cell;
        let highest = Cell::new(900 << 20);
        let resident = || Ok(100 << 20);
        let reader = || Ok(highest.get());
        let ((), raised) = lifetime_peak_of(|| highest.set(1_000 << 20), resident, reader).unwrap();
        assert_eq!(raised.peak, Some(1_000 << 20));
        assert_eq!(raised.added(), Some(900 << 20));
        let ((), under) = lifetime_peak_of(|| (), resident, reader).unwrap();
        assert_eq!(
            (under.before, under.peak, under.added()),
            (100 << 20, None, None)
        );
    }

    #[test]
    fn the_highest_is_in_bytes_and_at_least_what_is_resident() {
        let (now, highest) = (rss().unwrap(), max_rss().unwrap());
        // In KiB taken for bytes, it would be a thousandth of the resident.
        assert!(highest >= now && now > 1 << 20, "{highest} vs {now}");
    }
}
