//! The open-file limit (`RLIMIT_NOFILE`), read and set with `getrlimit` and
//! `setrlimit`, the same calls on Linux and macOS.

use super::Error;

/// The soft and hard open-file limits, as `getrlimit` gives them.
pub(super) fn open_file_limits() -> Result<(u64, u64), Error> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(rlimit_error("read"));
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Sets the soft open-file limit to `soft`, keeping the hard one as it is.
pub(super) fn set_open_file_limit(soft: u64) -> Result<(), Error> {
    let (_, hard) = open_file_limits()?;
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(rlimit_error("raise"));
    }
    Ok(())
}

fn rlimit_error(action: &'static str) -> Error {
    Error::Rlimit {
        action,
        source: std::io::Error::last_os_error(),
    }
}
