//! Reading macOS's counterparts of Linux's `/proc`: `sysctlbyname` for the
//! system's settings and `proc_pidinfo` for this process, for
//! [`crate::limits`] and [`crate::memory`]. Type-checked here for Apple's
//! targets, not run: see `docs/platforms.md`.

use std::ffi::CStr;
use std::io;

/// A numeric `sysctl` by name (`kern.num_taskthreads`): an `int` or a 64-bit
/// quad, whichever the kernel gives.
pub(crate) fn sysctl(name: &CStr) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    let mut len = bytes.len();
    // SAFETY: sysctlbyname writes at most `len` bytes into `bytes` and the
    // length it wrote into `len`; it reads the NUL-terminated name only.
    let status = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            bytes.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if status != 0 {
        return Err(io::Error::last_os_error());
    }
    match len {
        4 => Ok(u64::from(u32::from_ne_bytes(
            bytes[..4].try_into().unwrap(),
        ))),
        8 => Ok(u64::from_ne_bytes(bytes)),
        _ => Err(io::Error::other(format!(
            "sysctl {}: {len} bytes, not a number",
            name.to_string_lossy()
        ))),
    }
}

/// This process's task information (`proc_pidinfo`, `PROC_PIDTASKINFO`):
/// its resident memory and its number of threads, among others.
pub(crate) fn task_info() -> io::Result<libc::proc_taskinfo> {
    let size = size_of::<libc::proc_taskinfo>() as libc::c_int;
    // SAFETY: proc_taskinfo is plain integers, for which zero is a value.
    let mut info: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
    // SAFETY: proc_pidinfo writes at most `size` bytes into `info`.
    let written = unsafe {
        libc::proc_pidinfo(
            std::process::id() as libc::c_int,
            libc::PROC_PIDTASKINFO,
            0,
            (&raw mut info).cast(),
            size,
        )
    };
    if written != size {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}
