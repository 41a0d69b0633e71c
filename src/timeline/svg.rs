//! The picture of a [`Timeline`], as SVG written by hand: a few rectangles,
//! lines and labels need no drawing library.
//!
//! One lane per task, time across, on a shared axis with ticks in seconds.
//! A run is a solid bar in the task's colour (at least 3 px wide, since a run
//! on a paused clock takes no time at all), a wait at an `.await` a hatched,
//! light bar, and a wake that had to wait for the thread a dashed outline.
//! Every shape carries its lane, kind and times (`class`, `data-*`, a
//! `<title>` shown on hover), so tests and readers can check what is drawn.

use std::fmt::Write;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{SpanKind, Timeline, Track, seconds, ticks};
use crate::colors::jupyter_css;

const WIDTH: f64 = 800.0;
const PAD: f64 = 16.0;
const LANE: f64 = 30.0;
const BAR: f64 = 16.0;
const TITLE: f64 = 26.0;
/// The thinnest a run is drawn, so that an instant one shows.
const MARKER: f64 = 3.0;
/// The colour of a lane that was given none.
const DEFAULT: &str = "#4c78a8";
/// The colour of the legend's samples.
const NEUTRAL: &str = "#5b6b7f";
const SANS: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";

pub(super) fn render(timeline: &Timeline) -> String {
    let tracks = timeline.tracks();
    let colors: Vec<String> = tracks.iter().map(|track| color_of(track)).collect();
    let mut palette: Vec<&String> = colors.iter().collect();
    palette.sort();
    palette.dedup();
    // Ids are global in an HTML page: make them this picture's own.
    let mut hasher = DefaultHasher::new();
    format!("{timeline:?}").hash(&mut hasher);
    let id = format!("tl{:08x}", hasher.finish() as u32);
    let hatch = |color: &String| {
        let n = palette.iter().position(|c| *c == color).unwrap_or(0);
        format!("{id}-hatch-{n}")
    };

    let name_width = tracks
        .iter()
        .map(|track| track.name().chars().count())
        .max()
        .unwrap_or(0) as f64
        * 7.8;
    let x0 = PAD + 18.0 + name_width.max(60.0) + 14.0;
    let x1 = WIDTH - PAD - 14.0;
    let (step, axis_end) = ticks(timeline.end(), 12);
    let x = |secs: f64| x0 + (x1 - x0) * secs / axis_end;

    let titles = timeline
        .sections
        .iter()
        .filter(|s| s.title.is_some())
        .count();
    let lanes_height = LANE * tracks.len() as f64
        + TITLE * titles as f64
        + 8.0 * timeline.sections.len().saturating_sub(1) as f64;
    let top = PAD;
    let axis_y = top + lanes_height + 6.0;
    let legend_y = axis_y + 40.0;
    let any_ready = tracks
        .iter()
        .any(|track| track.ready().any(|span| span.end > span.start));
    let height = legend_y + 16.0 + PAD;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{SANS}" font-size="12">"##
    );
    svg.push_str("\n<defs>\n");
    for (n, color) in palette.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<pattern id="{id}-hatch-{n}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="{color}" fill-opacity="0.16"/><rect width="2" height="6" fill="{color}" fill-opacity="0.6"/></pattern>"##
        );
    }
    let _ = writeln!(
        svg,
        r##"<pattern id="{id}-hatch-legend" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="{NEUTRAL}" fill-opacity="0.16"/><rect width="2" height="6" fill="{NEUTRAL}" fill-opacity="0.6"/></pattern>"##
    );
    svg.push_str("</defs>\n");
    let _ = writeln!(
        svg,
        r##"<rect width="{WIDTH}" height="{height}" fill="white"/>"##
    );

    // Grid lines and the axis, under the lanes.
    let intervals = (axis_end / step).round() as usize;
    svg.push_str(r##"<g class="axis" stroke="#e4e6ea">"##);
    for tick in 0..=intervals {
        let tx = x(tick as f64 * step);
        let _ = write!(
            svg,
            r##"<line x1="{tx:.1}" y1="{top:.1}" x2="{tx:.1}" y2="{axis_y:.1}"/>"##
        );
    }
    svg.push_str("</g>\n");
    let _ = writeln!(
        svg,
        r##"<line x1="{x0:.1}" y1="{axis_y:.1}" x2="{x1:.1}" y2="{axis_y:.1}" stroke="#8a919c"/>"##
    );
    for tick in 0..=intervals {
        let secs = tick as f64 * step;
        let tx = x(secs);
        let _ = writeln!(
            svg,
            r##"<line x1="{tx:.1}" y1="{axis_y:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#8a919c"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#4a505a" font-size="11">{} s</text>"##,
            axis_y + 5.0,
            axis_y + 18.0,
            seconds(secs)
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#6b717c" font-size="11">time since the start</text>"##,
        (x0 + x1) / 2.0,
        axis_y + 33.0
    );

    // The lanes.
    let mut y = top;
    let mut index = 0;
    for (s, section) in timeline.sections.iter().enumerate() {
        if s > 0 {
            y += 8.0;
        }
        if let Some(title) = &section.title {
            let _ = writeln!(
                svg,
                r##"<text class="title" x="{PAD}" y="{:.1}" font-size="13" font-weight="600" fill="#1f2329">{}</text>"##,
                y + 17.0,
                escape(title)
            );
            y += TITLE;
        }
        for track in &section.tracks {
            let color = &colors[index];
            let name = escape(track.name());
            let _ = writeln!(
                svg,
                r##"<g class="lane" data-name="{name}" data-color="{color}">"##
            );
            if index % 2 == 0 {
                let _ = writeln!(
                    svg,
                    r##"<rect x="{PAD}" y="{y:.1}" width="{:.1}" height="{LANE}" fill="#f5f6f8"/>"##,
                    x1 + 6.0 - PAD
                );
            }
            let mid = y + LANE / 2.0;
            let _ = writeln!(
                svg,
                r##"<rect x="{PAD}" y="{:.1}" width="10" height="10" rx="2" fill="{color}"/><text x="{:.1}" y="{:.1}" font-family="{MONO}" font-size="12.5" fill="#1f2329">{name}</text>"##,
                mid - 5.0,
                PAD + 16.0,
                mid + 4.0
            );
            let bar_y = mid - BAR / 2.0;
            for (kind, span) in ordered(timeline, track) {
                let (from, to) = (span.start.as_secs_f64(), span.end.as_secs_f64());
                let (left, right) = (x(from), x(to));
                let (class, what) = match kind {
                    SpanKind::Run => ("run", "runs"),
                    SpanKind::Wait => ("wait", "waits"),
                    SpanKind::Ready => ("ready", "is woken, waits for the thread"),
                };
                let data = format!(r##"class="{class}" data-from="{from:.6}" data-to="{to:.6}""##);
                let tip = format!(
                    "<title>{name} {what}: {} s to {} s</title>",
                    seconds(from),
                    seconds(to)
                );
                match kind {
                    SpanKind::Run => {
                        let width = (right - left).max(MARKER);
                        let left = if right - left < MARKER {
                            (left + right) / 2.0 - MARKER / 2.0
                        } else {
                            left
                        };
                        let _ = writeln!(
                            svg,
                            r##"<rect {data} x="{left:.2}" y="{:.1}" width="{width:.2}" height="{:.1}" rx="1" fill="{color}">{tip}</rect>"##,
                            bar_y - 3.0,
                            BAR + 6.0
                        );
                    }
                    SpanKind::Wait if right > left => {
                        let _ = writeln!(
                            svg,
                            r##"<rect {data} x="{left:.2}" y="{bar_y:.1}" width="{:.2}" height="{BAR}" rx="2" fill="url(#{})" stroke="{color}" stroke-opacity="0.45" stroke-width="0.8">{tip}</rect>"##,
                            right - left,
                            hatch(color)
                        );
                    }
                    SpanKind::Ready if right > left => {
                        let _ = writeln!(
                            svg,
                            r##"<rect {data} x="{left:.2}" y="{bar_y:.1}" width="{:.2}" height="{BAR}" fill="none" stroke="{color}" stroke-dasharray="3 2">{tip}</rect>"##,
                            right - left
                        );
                    }
                    _ => {}
                }
            }
            svg.push_str("</g>\n");
            y += LANE;
            index += 1;
        }
    }

    // The legend.
    let ly = legend_y;
    let mut lx = x0;
    let _ = write!(
        svg,
        r##"<g class="legend" fill="#3a3f47"><rect x="{lx:.1}" y="{:.1}" width="4" height="16" fill="{NEUTRAL}"/><text x="{:.1}" y="{:.1}">running: holds the thread</text>"##,
        ly - 4.0,
        lx + 10.0,
        ly + 8.0
    );
    lx += 190.0;
    let _ = write!(
        svg,
        r##"<rect x="{lx:.1}" y="{:.1}" width="28" height="12" rx="2" fill="url(#{id}-hatch-legend)" stroke="{NEUTRAL}" stroke-opacity="0.45" stroke-width="0.8"/><text x="{:.1}" y="{:.1}">waiting at an .await: the thread is free</text>"##,
        ly - 2.0,
        lx + 34.0,
        ly + 8.0
    );
    if any_ready {
        lx += 270.0;
        let _ = write!(
            svg,
            r##"<rect x="{lx:.1}" y="{:.1}" width="28" height="12" fill="none" stroke="{NEUTRAL}" stroke-dasharray="3 2"/><text x="{:.1}" y="{:.1}">woken, waiting for the thread</text>"##,
            ly - 2.0,
            lx + 34.0,
            ly + 8.0
        );
    }
    svg.push_str("</g>\n</svg>");
    svg
}

/// The colour a lane is drawn in.
fn color_of(track: &Track) -> String {
    track
        .color()
        .map(jupyter_css)
        .unwrap_or_else(|| DEFAULT.to_string())
}

/// A lane's spans, waits first so that runs are drawn on top.
fn ordered(
    timeline: &Timeline,
    track: &Track,
) -> Vec<(SpanKind, std::ops::Range<std::time::Duration>)> {
    let mut spans = timeline.spans(track);
    spans.sort_by_key(|(kind, span)| (*kind == SpanKind::Run, span.start));
    spans
}

/// Text made safe for XML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
