//! The notebook's ANSI palette (`In [6]`): a tuple `c` whose `c[0]` ends a
//! colour and whose `c[1]`, `c[2]`, `c[3]` are cyan, bright red and magenta.
//!
//! The escape codes come from `colored`. Whether to use them is decided once,
//! when the [`Palette`] is made, and kept in it: a notebook keeps the palette
//! in a variable, whereas `colored`'s global switch lives in a `static`, which
//! evcxr gives each cell a fresh copy of.
//!
//! ```
//! use asyncio_rs::colors::Palette;
//!
//! let c = Palette::ansi();
//! assert_eq!(c.color(0).unwrap(), "\x1b[36m"); // Python's c[1]
//! assert_eq!(c.reset(), "\x1b[0m");            // Python's c[0]
//! ```

use std::env;
use std::fmt;

use colored::Color;
use colored::control::ShouldColorize;

/// The colours, one per task: `c[1..]` of the original.
const COLORS: [Color; 3] = [Color::Cyan, Color::BrightRed, Color::Magenta];

/// The colours of the makerandom demo, on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    /// Colours as the environment asks: off when `NO_COLOR` is set; on under
    /// evcxr, whose output is a pipe to Jupyter, which renders ANSI codes;
    /// elsewhere as `colored` decides (a terminal, `CLICOLOR`,
    /// `CLICOLOR_FORCE`).
    pub fn new() -> Palette {
        let no_color = env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let in_notebook = env::var_os("EVCXR_IS_RUNTIME").is_some();
        let enabled = if in_notebook {
            !no_color
        } else {
            ShouldColorize::from_env().should_colorize()
        };
        Palette { enabled }
    }

    /// Always print the escape codes.
    pub fn ansi() -> Palette {
        Palette { enabled: true }
    }

    /// Never print them.
    ///
    /// ```
    /// let c = asyncio_rs::colors::Palette::plain();
    /// assert_eq!(c.color(2).unwrap(), "");
    /// ```
    pub fn plain() -> Palette {
        Palette { enabled: false }
    }

    /// The escape code that starts colour `idx`: Python's `c[idx + 1]`.
    ///
    /// Past the palette this is an error rather than Python's `IndexError`
    /// panic.
    ///
    /// ```
    /// let c = asyncio_rs::colors::Palette::ansi();
    /// assert_eq!(c.color(1).unwrap(), "\x1b[91m");
    /// assert_eq!(
    ///     c.color(3).unwrap_err().to_string(),
    ///     "no colour 3: the palette has colours 0 to 2"
    /// );
    /// ```
    pub fn color(&self, idx: usize) -> Result<String, NoSuchColor> {
        let color = COLORS.get(idx).ok_or(NoSuchColor { idx })?;
        Ok(if self.enabled {
            format!("\x1b[{}m", color.to_fg_str())
        } else {
            String::new()
        })
    }

    /// The escape code that ends a colour: Python's `c[0]`.
    pub fn reset(&self) -> &'static str {
        if self.enabled { "\x1b[0m" } else { "" }
    }
}

impl Default for Palette {
    fn default() -> Palette {
        Palette::new()
    }
}

/// A colour index past the end of the palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSuchColor {
    /// The index asked for.
    pub idx: usize,
}

impl fmt::Display for NoSuchColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no colour {}: the palette has colours 0 to {}",
            self.idx,
            COLORS.len() - 1
        )
    }
}

impl std::error::Error for NoSuchColor {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_originals() {
        let c = Palette::ansi();
        let codes: Vec<String> = (0..3).map(|idx| c.color(idx).unwrap()).collect();
        assert_eq!(codes, ["\x1b[36m", "\x1b[91m", "\x1b[35m"]);
        assert_eq!(c.reset(), "\x1b[0m");
    }

    #[test]
    fn plain_prints_nothing() {
        let c = Palette::plain();
        assert_eq!(c.color(0).unwrap(), "");
        assert_eq!(c.reset(), "");
    }

    #[test]
    fn past_the_palette_is_an_error() {
        assert_eq!(Palette::ansi().color(7), Err(NoSuchColor { idx: 7 }));
        assert_eq!(Palette::plain().color(3), Err(NoSuchColor { idx: 3 }));
    }
}
