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

/// The colours, one per task: `c[1..]` of the original (cyan, bright red,
/// magenta).
pub const COLORS: [Color; 3] = [Color::Cyan, Color::BrightRed, Color::Magenta];

/// The colour JupyterLab's light theme draws an ANSI colour in, as CSS: so
/// that a picture of a task matches its lines in the notebook.
///
/// ```
/// use asyncio_rs::colors::{COLORS, jupyter_css};
///
/// let css: Vec<String> = COLORS.into_iter().map(jupyter_css).collect();
/// assert_eq!(css, ["#60c6c8", "#b22b31", "#d160c4"]);
/// ```
pub fn jupyter_css(color: Color) -> String {
    // JupyterLab's .ansi-*-fg colours, then the 8 bright ones (.ansi-*-intense-fg).
    const BASE: [&str; 16] = [
        "#3e424d", "#e75c58", "#00a250", "#ddb62b", "#208ffb", "#d160c4", "#60c6c8", "#c5c1b4",
        "#282c36", "#b22b31", "#007427", "#b27d12", "#0065ca", "#a03196", "#258f8f", "#a1a6b2",
    ];
    let index = match color {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::White => 7,
        Color::BrightBlack => 8,
        Color::BrightRed => 9,
        Color::BrightGreen => 10,
        Color::BrightYellow => 11,
        Color::BrightBlue => 12,
        Color::BrightMagenta => 13,
        Color::BrightCyan => 14,
        Color::BrightWhite => 15,
        Color::AnsiColor(code) if code < 16 => usize::from(code),
        Color::AnsiColor(code) => {
            // xterm's 6x6x6 colour cube, then its 24 greys.
            let (r, g, b) = if code < 232 {
                let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
                let n = code - 16;
                (level(n / 36), level(n / 6 % 6), level(n % 6))
            } else {
                let grey = 8 + 10 * (code - 232);
                (grey, grey, grey)
            };
            return format!("#{r:02x}{g:02x}{b:02x}");
        }
        Color::TrueColor { r, g, b } => return format!("#{r:02x}{g:02x}{b:02x}"),
    };
    BASE[index].to_string()
}

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
        let in_notebook = crate::display::in_notebook_kernel();
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

    /// Whether the escape codes are on.
    ///
    /// ```
    /// use asyncio_rs::colors::Palette;
    ///
    /// assert!(Palette::ansi().enabled());
    /// assert!(!Palette::plain().enabled());
    /// ```
    pub fn enabled(&self) -> bool {
        self.enabled
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
    fn jupyter_css_covers_every_kind_of_colour() {
        assert_eq!(jupyter_css(Color::Black), "#3e424d");
        assert_eq!(jupyter_css(Color::BrightWhite), "#a1a6b2");
        assert_eq!(jupyter_css(Color::AnsiColor(6)), jupyter_css(Color::Cyan));
        assert_eq!(jupyter_css(Color::AnsiColor(16)), "#000000");
        assert_eq!(jupyter_css(Color::AnsiColor(196)), "#ff0000");
        assert_eq!(jupyter_css(Color::AnsiColor(231)), "#ffffff");
        assert_eq!(jupyter_css(Color::AnsiColor(232)), "#080808");
        assert_eq!(jupyter_css(Color::AnsiColor(255)), "#eeeeee");
        assert_eq!(
            jupyter_css(Color::TrueColor { r: 1, g: 2, b: 255 }),
            "#0102ff"
        );
    }

    #[test]
    fn past_the_palette_is_an_error() {
        assert_eq!(Palette::ansi().color(7), Err(NoSuchColor { idx: 7 }));
        assert_eq!(Palette::plain().color(3), Err(NoSuchColor { idx: 3 }));
    }
}
