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
//! ```
//! # #[cfg(target_os = "linux")] {
//! use asyncio_rs::memory::peak_of;
//!
//! let (sum, peak) = peak_of(|| vec![1u8; 64 << 20].iter().map(|&b| b as u64).sum::<u64>()).unwrap();
//! assert_eq!(sum, 64 << 20);
//! assert!(peak.added() >= 60 << 20 && peak.peak >= peak.before + peak.added());
//! # }
//! ```

use std::io;

/// The process's resident memory around a piece of work, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peak {
    /// Resident when the work started.
    pub before: u64,
    /// The highest it went while the work ran.
    pub peak: u64,
}

impl Peak {
    /// What the work added at its peak: `peak - before`.
    pub fn added(&self) -> u64 {
        self.peak.saturating_sub(self.before)
    }
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
pub fn peak_of<T>(work: impl FnOnce() -> T) -> io::Result<(T, Peak)> {
    reset_peak()?;
    let before = rss()?;
    let output = work();
    let peak = peak_rss()?;
    Ok((output, Peak { before, peak }))
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

#[cfg(not(target_os = "linux"))]
fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "peak memory is only measured on Linux (/proc/self/status)",
    )
}

/// Not Linux: an `Unsupported` error.
#[cfg(not(target_os = "linux"))]
pub fn reset_peak() -> io::Result<()> {
    Err(unsupported())
}

/// Not Linux: an `Unsupported` error.
#[cfg(not(target_os = "linux"))]
pub fn peak_rss() -> io::Result<u64> {
    Err(unsupported())
}

/// Not Linux: an `Unsupported` error.
#[cfg(not(target_os = "linux"))]
pub fn rss() -> io::Result<u64> {
    Err(unsupported())
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
        assert!(big.added() >= 120 << 20, "{big:?}");
        assert!(small.peak + (100 << 20) < big.peak, "{small:?} vs {big:?}");
    }
}
