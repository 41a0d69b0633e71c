//! The text chart of a [`Timeline`]: for a terminal, and for notebook front
//! ends that cannot show the SVG.
//!
//! ```text
//!                0    0.2  0.4  0.6  0.8  1 s
//! count() #1     █·········································█  1 wait, done at 1 s
//! ```
//!
//! One row per lane and one column per step of time: `█` where the task ran
//! (however briefly), `·` where it waited at an `.await`, `-` where it was
//! woken but waited for the thread. With ANSI colours on, each lane's name
//! and row are in its task's colour, as its printed lines are.

use std::time::Duration;

use super::{SpanKind, Timeline, seconds, ticks};

/// At most this many ticks after zero; ten columns per tick.
const TICKS: u32 = 6;
const COLUMNS_PER_TICK: usize = 10;

pub(super) fn render(timeline: &Timeline, ansi: bool) -> String {
    let (step, axis_end) = ticks(timeline.end(), TICKS);
    let intervals = (axis_end / step).round() as usize;
    // One more column than steps, so that the axis's end instant has its own.
    let columns = intervals * COLUMNS_PER_TICK + 1;
    let column = axis_end / (columns - 1) as f64;
    let tracks = timeline.tracks();
    let name_width = tracks
        .iter()
        .map(|track| track.name().chars().count())
        .max()
        .unwrap_or(0)
        .max(4);

    let mut out = String::new();
    // The axis: a label every ten columns.
    let mut axis: Vec<char> = vec![' '; columns + 6];
    for tick in 0..=intervals {
        let label = seconds(tick as f64 * step);
        let at = tick * COLUMNS_PER_TICK;
        let label = if tick == intervals {
            format!("{label} s")
        } else {
            label
        };
        for (i, c) in label.chars().enumerate() {
            if let Some(slot) = axis.get_mut(at + i) {
                *slot = c;
            }
        }
    }
    let axis: String = axis.into_iter().collect();
    out.push_str(&format!("{:name_width$}  {}\n", "", axis.trim_end()));

    for section in &timeline.sections {
        if let Some(title) = &section.title {
            out.push_str(&format!("{title}\n"));
        }
        for track in &section.tracks {
            let mut row = vec![' '; columns];
            // Waits first, then what was woken, then runs on top.
            let mut spans = timeline.spans(track);
            spans.sort_by_key(|(kind, _)| match kind {
                SpanKind::Wait => 0,
                SpanKind::Ready => 1,
                SpanKind::Run => 2,
            });
            for (kind, span) in spans {
                let mark = match kind {
                    SpanKind::Run => '█',
                    SpanKind::Wait => '·',
                    SpanKind::Ready => '-',
                };
                let first = index(span.start, column, columns);
                // A span fills the columns it overlaps; an instant, its own.
                let last = if span.end > span.start {
                    index(
                        span.end.saturating_sub(Duration::from_nanos(1)),
                        column,
                        columns,
                    )
                } else {
                    first
                };
                // An instant run is never hidden, a zero-length wait is not drawn.
                if span.is_empty() && kind != SpanKind::Run {
                    continue;
                }
                for slot in &mut row[first..=last] {
                    *slot = mark;
                }
            }
            let row: String = row.into_iter().collect();
            let (start, end) = match track.color() {
                Some(color) if ansi => (format!("\x1b[{}m", color.to_fg_str()), "\x1b[0m"),
                _ => (String::new(), ""),
            };
            out.push_str(&format!(
                "{start}{:name_width$}  {row}{end}  {}\n",
                track.name(),
                summary(track)
            ));
        }
    }
    out.push_str(&format!(
        "{:name_width$}  █ running   · waiting at an .await   - woken, waiting for the thread",
        ""
    ));
    out
}

/// The column that time `at` falls in.
fn index(at: Duration, column: f64, columns: usize) -> usize {
    ((at.as_secs_f64() / column) as usize).min(columns - 1)
}

/// "3 waits, done at 12 s".
fn summary(track: &super::Track) -> String {
    let waits = track.waits().count();
    let plural = if waits == 1 { "" } else { "s" };
    match track.finished() {
        Some(at) => format!(
            "{waits} wait{plural}, done at {} s",
            seconds(at.as_secs_f64())
        ),
        None => format!("{waits} wait{plural}, not done"),
    }
}
