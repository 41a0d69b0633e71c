//! How the crate's values show: counts as the demos print them, and evcxr's
//! rich display protocol, in one place so that every table and message reads
//! the same.
//!
//! evcxr shows a value left at the end of a cell by calling its
//! `evcxr_display` method, which prints the value between
//! `EVCXR_BEGIN_CONTENT <mime type>` and `EVCXR_END_CONTENT` lines; every
//! such block of one cell goes into one output, so a picture can carry a text
//! fallback. [`evcxr_text`] and [`evcxr_content`] print those blocks.
//! Whether the code runs under evcxr at all is asked here too.
//!
//! ```
//! use asyncio_rs::display::thousands;
//!
//! assert_eq!(thousands(15_800), "15,800");
//! ```

use std::fmt;

/// Whether this is the process in which evcxr runs a notebook's cells (it
/// sets `EVCXR_IS_RUNTIME` there): what the crate does only in a notebook
/// (colours through a pipe, progress lines, short panics, the interrupt)
/// asks this.
pub(crate) fn in_notebook_kernel() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

/// `15800` as `15,800`, as the messages print counts.
///
/// ```
/// assert_eq!(asyncio_rs::display::thousands(1_000_000), "1,000,000");
/// assert_eq!(asyncio_rs::display::thousands(999), "999");
/// ```
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Prints `content` as one block of evcxr's display protocol, of the MIME
/// type `mime`.
///
/// ```
/// // Under evcxr, the cell shows a picture.
/// asyncio_rs::display::evcxr_content("image/svg+xml", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
/// ```
pub fn evcxr_content(mime: &str, content: impl fmt::Display) {
    println!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT");
}

/// Prints `value`'s `Display` text as evcxr's `text/plain` output: what an
/// `evcxr_display` method calls for a value that shows as text.
///
/// ```
/// // Under evcxr, the cell shows "1,000 more".
/// asyncio_rs::display::evcxr_text(&"1,000 more");
/// ```
pub fn evcxr_text(value: &impl fmt::Display) {
    evcxr_content("text/plain", value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(65_530), "65,530");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
