//! A picture of the tasks: when each one runs, waits, wakes and finishes.
//!
//! Printed lines say what happened, not when, nor what each task was doing
//! in between. A [`Recorder`] notes, for each task on a lane of its own, when
//! it runs (is polled), when it waits (returns `Pending` at an `.await`), when
//! it is woken and when it finishes, as times since the recorder started on
//! tokio's clock, so a paused runtime records exact virtual times. A
//! [`Timeline`] is what was recorded: it prints as a compact text chart and
//! shows in a notebook as an SVG picture (evcxr's `evcxr_display`), one lane
//! per task, time across.
//!
//! [`Recorder::trace`] records a future without changing it: it wraps the
//! future and the waker the runtime gives it, so the demos print exactly what
//! they print unrecorded, in the same order. Code that blocks its thread
//! instead of awaiting is recorded by hand with a [`Lane`]: to the event
//! loop, a blocking call is one long run.
//!
//! ```
//! use asyncio_rs::runtime::Runtime;
//! use asyncio_rs::timeline::{Recorder, Timeline};
//! use std::time::Duration;
//! use tokio::time::sleep;
//!
//! let rt = Runtime::paused().unwrap();
//! let timeline: Timeline = rt.run(async {
//!     let recorder = Recorder::new();
//!     let nap = recorder.trace("nap", async { sleep(Duration::from_secs(2)).await });
//!     nap.await;
//!     recorder.timeline()
//! });
//! let nap = &timeline.tracks()[0];
//! assert_eq!(nap.waits().collect::<Vec<_>>(), [Duration::ZERO..Duration::from_secs(2)]);
//! println!("{timeline}"); // the text chart
//! ```

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use colored::Color;
use tokio::time::Instant;

use crate::display;

mod svg;
mod text;
mod trace;

pub use trace::Traced;

/// Notes when tasks run, wait, wake and finish, one [`Lane`] per task.
///
/// Clones share one record, so tasks on other threads or in other cells can
/// write to it. Times are measured on tokio's clock from when the recorder
/// was made: make it inside the runtime (in the future given to
/// `Runtime::run`) so that a paused runtime's virtual clock is the one read.
#[derive(Clone, Debug)]
pub struct Recorder {
    log: Arc<Mutex<Log>>,
}

#[derive(Debug)]
struct Log {
    start: Instant,
    tracks: Vec<Track>,
}

impl Recorder {
    /// A recorder whose time zero is now.
    pub fn new() -> Recorder {
        Recorder {
            log: Arc::new(Mutex::new(Log {
                start: Instant::now(),
                tracks: Vec::new(),
            })),
        }
    }

    /// A new lane, for one task, drawn in a neutral colour.
    ///
    /// ```
    /// use asyncio_rs::timeline::Recorder;
    ///
    /// let recorder = Recorder::new();
    /// let lane = recorder.lane("a blocking call");
    /// lane.run();
    /// std::thread::sleep(std::time::Duration::from_millis(10));
    /// lane.finish();
    /// assert_eq!(recorder.timeline().tracks()[0].runs().count(), 1);
    /// ```
    pub fn lane(&self, name: impl Into<String>) -> Lane {
        self.add_lane(name.into(), None)
    }

    /// A new lane drawn in `color`, as the task's printed lines are.
    pub fn colored_lane(&self, name: impl Into<String>, color: Color) -> Lane {
        self.add_lane(name.into(), Some(color))
    }

    /// Records `future` on a new lane: it runs when polled, waits when it
    /// returns `Pending`, wakes when its waker is called and finishes when it
    /// returns its output, which is passed on unchanged.
    pub fn trace<F>(&self, name: impl Into<String>, future: F) -> Traced<F> {
        self.lane(name).trace(future)
    }

    /// What has been recorded so far. Lanes still running or waiting are
    /// drawn up to now.
    pub fn timeline(&self) -> Timeline {
        let log = self.lock();
        Timeline {
            sections: vec![Section {
                title: None,
                tracks: log.tracks.clone(),
            }],
            until: log.start.elapsed(),
        }
    }

    fn add_lane(&self, name: String, color: Option<Color>) -> Lane {
        let mut log = self.lock();
        log.tracks.push(Track {
            name,
            color,
            events: Vec::new(),
        });
        Lane {
            recorder: self.clone(),
            index: log.tracks.len() - 1,
        }
    }

    fn note(&self, index: usize, kind: Kind) {
        let mut log = self.lock();
        let at = log.start.elapsed();
        log.tracks[index].events.push(Event { at, kind });
    }

    /// The record, even if a task panicked while writing to it.
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::new()
    }
}

/// One task's lane in a [`Recorder`]: call its methods as the task runs,
/// waits, wakes and finishes, or let [`Lane::trace`] call them.
#[derive(Clone, Debug)]
pub struct Lane {
    recorder: Recorder,
    index: usize,
}

impl Lane {
    /// The task starts running, or runs again: it holds the thread.
    pub fn run(&self) {
        self.recorder.note(self.index, Kind::Run);
    }

    /// The task waits at an `.await`: the thread is free for others.
    pub fn wait(&self) {
        self.recorder.note(self.index, Kind::Wait);
    }

    /// What the task waited for is ready: it can run again.
    pub fn wake(&self) {
        self.recorder.note(self.index, Kind::Wake);
    }

    /// The task is done.
    pub fn finish(&self) {
        self.recorder.note(self.index, Kind::Finish);
    }

    /// Records `future` on this lane (see [`Recorder::trace`]).
    pub fn trace<F>(self, future: F) -> Traced<F> {
        Traced::new(self, future)
    }
}

/// What happened to a task, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Since the recorder started.
    pub at: Duration,
    /// What happened.
    pub kind: Kind,
}

/// The kinds of [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Started, or resumed: polled.
    Run,
    /// Stopped at an `.await`: returned `Pending`.
    Wait,
    /// Woken: ready to run again.
    Wake,
    /// Returned its output.
    Finish,
}

/// One task's lane in a [`Timeline`]: its name, colour and events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    name: String,
    color: Option<Color>,
    events: Vec<Event>,
}

impl Track {
    /// The name the lane was given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The colour it was given, if any.
    pub fn color(&self) -> Option<Color> {
        self.color
    }

    /// Everything recorded, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// When the task ran: from each [`Kind::Run`] to the next wait or finish.
    pub fn runs(&self) -> impl Iterator<Item = Range<Duration>> + '_ {
        self.spans_from(Kind::Run, &[Kind::Wait, Kind::Finish])
    }

    /// When the task waited: from each [`Kind::Wait`] to the wake (or the run,
    /// if nobody recorded the wake).
    pub fn waits(&self) -> impl Iterator<Item = Range<Duration>> + '_ {
        self.spans_from(Kind::Wait, &[Kind::Wake, Kind::Run, Kind::Finish])
    }

    /// When the task was woken but not yet running: waiting for the thread.
    /// Empty on a paused clock, where running costs no time.
    pub fn ready(&self) -> impl Iterator<Item = Range<Duration>> + '_ {
        self.spans_from(Kind::Wake, &[Kind::Run, Kind::Finish])
    }

    /// When the task finished, if it did.
    pub fn finished(&self) -> Option<Duration> {
        self.events
            .iter()
            .find(|event| event.kind == Kind::Finish)
            .map(|event| event.at)
    }

    /// The spans that start with a `from` event and end at the next event of
    /// a kind in `to`; the last one, still open, ends at the last event
    /// recorded (a timeline extends it to when it was taken).
    fn spans_from<'a>(
        &'a self,
        from: Kind,
        to: &'a [Kind],
    ) -> impl Iterator<Item = Range<Duration>> + 'a {
        self.events
            .iter()
            .enumerate()
            .filter_map(move |(i, event)| {
                if event.kind != from {
                    return None;
                }
                let end = self.events[i + 1..]
                    .iter()
                    .find(|later| to.contains(&later.kind))
                    .map(|later| later.at);
                Some(event.at..end.unwrap_or(Duration::MAX))
            })
    }
}

/// What a [`Recorder`] recorded: lanes of tasks over time.
///
/// Prints (`Display`) as a text chart; [`Timeline::svg`] draws it, and in an
/// evcxr notebook a `Timeline` left as a cell's value shows as that picture.
/// [`Timeline::stack`] puts several, titled, one above the other on one time
/// axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    sections: Vec<Section>,
    /// When the timeline was taken, for lanes still open then.
    until: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Section {
    title: Option<String>,
    tracks: Vec<Track>,
}

impl Timeline {
    /// Several timelines, each under its title, one above the other on a
    /// shared time axis, for comparing them.
    ///
    /// ```
    /// use asyncio_rs::timeline::{Recorder, Timeline};
    ///
    /// let (one, two) = (Recorder::new(), Recorder::new());
    /// one.lane("a");
    /// two.lane("b");
    /// let both = Timeline::stack([("first", one.timeline()), ("second", two.timeline())]);
    /// assert_eq!(both.tracks().len(), 2);
    /// ```
    pub fn stack<T: Into<String>>(timelines: impl IntoIterator<Item = (T, Timeline)>) -> Timeline {
        let mut sections = Vec::new();
        let mut until = Duration::ZERO;
        for (title, timeline) in timelines {
            let title = title.into();
            until = until.max(timeline.until);
            for (i, mut section) in timeline.sections.into_iter().enumerate() {
                if i == 0 {
                    section.title = Some(match section.title {
                        Some(inner) => format!("{title}: {inner}"),
                        None => title.clone(),
                    });
                }
                sections.push(section);
            }
        }
        Timeline { sections, until }
    }

    /// Every lane, from top to bottom.
    pub fn tracks(&self) -> Vec<&Track> {
        self.sections
            .iter()
            .flat_map(|section| &section.tracks)
            .collect()
    }

    /// The time the picture spans: up to the last event, or to when the
    /// timeline was taken if a lane was still open.
    pub fn end(&self) -> Duration {
        let mut end = Duration::ZERO;
        for track in self.tracks() {
            if let Some(last) = track.events.last() {
                end = end.max(last.at);
                if last.kind != Kind::Finish {
                    end = end.max(self.until);
                }
            }
        }
        end
    }

    /// The text chart, as `Display` prints it, or with each lane in its
    /// colour when `ansi` is true (for a terminal).
    ///
    /// ```
    /// use asyncio_rs::timeline::Recorder;
    /// use colored::Color;
    ///
    /// let recorder = Recorder::new();
    /// recorder.colored_lane("task", Color::Cyan).run();
    /// let timeline = recorder.timeline();
    /// assert!(timeline.text(true).contains("\x1b[36mtask"));
    /// assert_eq!(timeline.text(false), timeline.to_string());
    /// ```
    pub fn text(&self, ansi: bool) -> String {
        text::render(self, ansi)
    }

    /// The picture, as an SVG document: one lane per task, time across, runs
    /// solid, waits hatched, each lane in its task's colour.
    pub fn svg(&self) -> String {
        svg::render(self)
    }

    /// Shows the timeline in an evcxr notebook: as an SVG picture, with the
    /// text chart for front ends that cannot show one. evcxr calls this for a
    /// `Timeline` left as the value of a cell.
    pub fn evcxr_display(&self) {
        display::evcxr_text(self);
        display::evcxr_content("image/svg+xml", self.svg());
    }

    /// The spans of `track` to draw: open ones end when the timeline ends.
    fn spans(&self, track: &Track) -> Vec<(SpanKind, Range<Duration>)> {
        let end = self.end();
        let close = |span: Range<Duration>| span.start..span.end.min(end);
        let mut spans: Vec<(SpanKind, Range<Duration>)> = Vec::new();
        spans.extend(track.waits().map(|span| (SpanKind::Wait, close(span))));
        spans.extend(track.ready().map(|span| (SpanKind::Ready, close(span))));
        spans.extend(track.runs().map(|span| (SpanKind::Run, close(span))));
        spans
    }
}

/// How a span of a lane is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpanKind {
    Run,
    Wait,
    Ready,
}

/// The text chart: one row per lane, one column per step of time.
impl fmt::Display for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::render(self, false))
    }
}

/// Ticks for a time axis that ends at `end`: a round step, so that there are
/// at most `most` of them after zero, and the axis's end, a whole number of
/// steps.
fn ticks(end: Duration, most: u32) -> (f64, f64) {
    let end = end.as_secs_f64().max(1e-3);
    let step = [1.0, 2.0, 5.0]
        .iter()
        .flat_map(|unit| (-3..6).map(move |power| unit * 10f64.powi(power)))
        .filter(|step| (end / step - 1e-9).ceil() <= f64::from(most))
        .fold(f64::INFINITY, f64::min);
    (step, (end / step - 1e-9).ceil().max(1.0) * step)
}

/// A number of seconds without needless digits: `0.5`, `1`, `2.25`.
fn seconds(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use tokio::time::sleep;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_traced_sleep_runs_waits_wakes_and_finishes_at_exact_times() {
        let rt = Runtime::paused().unwrap();
        let timeline = rt.run(async {
            let recorder = Recorder::new();
            sleep(secs(0.5)).await;
            recorder
                .trace("napper", async {
                    sleep(secs(1.0)).await;
                    sleep(secs(2.0)).await;
                    7
                })
                .await;
            recorder.timeline()
        });
        let track = &timeline.tracks()[0];
        let at = |s, kind| Event { at: secs(s), kind };
        assert_eq!(
            track.events(),
            [
                at(0.5, Kind::Run),
                at(0.5, Kind::Wait),
                at(1.5, Kind::Wake),
                at(1.5, Kind::Run),
                at(1.5, Kind::Wait),
                at(3.5, Kind::Wake),
                at(3.5, Kind::Run),
                at(3.5, Kind::Finish),
            ]
        );
        assert_eq!(
            track.waits().collect::<Vec<_>>(),
            [secs(0.5)..secs(1.5), secs(1.5)..secs(3.5)]
        );
        assert_eq!(track.ready().filter(|span| !span.is_empty()).count(), 0);
        assert_eq!(track.finished(), Some(secs(3.5)));
        assert_eq!(timeline.end(), secs(3.5));
    }

    #[test]
    fn the_traced_output_is_passed_on() {
        let rt = Runtime::paused().unwrap();
        let got = rt.run(async { Recorder::new().trace("answer", async { 42 }).await });
        assert_eq!(got, 42);
    }

    #[test]
    fn an_open_lane_reaches_the_time_the_timeline_was_taken() {
        let rt = Runtime::paused().unwrap();
        let timeline = rt.run(async {
            let recorder = Recorder::new();
            let lane = recorder.lane("still waiting");
            lane.run();
            lane.wait();
            sleep(secs(4.0)).await;
            recorder.timeline()
        });
        assert_eq!(timeline.end(), secs(4.0));
        let spans = timeline.spans(timeline.tracks()[0]);
        assert!(
            spans.contains(&(SpanKind::Wait, secs(0.0)..secs(4.0))),
            "{spans:?}"
        );
    }

    #[test]
    fn stacking_keeps_every_lane_under_its_title() {
        let (a, b) = (Recorder::new(), Recorder::new());
        a.lane("a1");
        a.lane("a2");
        b.lane("b1");
        let inner = Timeline::stack([("inner", b.timeline())]);
        let both = Timeline::stack([("A", a.timeline()), ("B", inner)]);
        let names: Vec<&str> = both.tracks().iter().map(|track| track.name()).collect();
        assert_eq!(names, ["a1", "a2", "b1"]);
        let titles: Vec<Option<&str>> = both.sections.iter().map(|s| s.title.as_deref()).collect();
        assert_eq!(titles, [Some("A"), Some("B: inner")]);
    }

    /// The `<g class="lane">` groups of an SVG: (name, colour, body).
    fn lanes_of(svg: &str) -> Vec<(String, String, String)> {
        svg.split(r#"<g class="lane" data-name=""#)
            .skip(1)
            .map(|rest| {
                let (name, rest) = rest.split_once('"').unwrap();
                let rest = rest.strip_prefix(r#" data-color=""#).unwrap();
                let (color, rest) = rest.split_once('"').unwrap();
                let (body, _) = rest.split_once("</g>").unwrap();
                (name.to_string(), color.to_string(), body.to_string())
            })
            .collect()
    }

    #[test]
    fn the_svg_draws_every_run_and_wait_in_the_lane_s_colour() {
        use crate::colors::Palette;
        use crate::demos::makerandom;
        use crate::random::SharedRandom;

        let rt = Runtime::paused().unwrap();
        let (_, timeline) = rt
            .run(makerandom::main_recorded(
                SharedRandom::new(444),
                Palette::plain(),
            ))
            .unwrap();
        let svg = timeline.svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        let lanes = lanes_of(&svg);
        let found: Vec<(&str, &str)> = lanes
            .iter()
            .map(|(n, c, _)| (n.as_str(), c.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("makerandom(0)", "#60c6c8"),
                ("makerandom(1)", "#b22b31"),
                ("makerandom(2)", "#d160c4")
            ]
        );
        for ((_, color, body), track) in lanes.iter().zip(timeline.tracks()) {
            assert_eq!(
                body.matches(r#"class="wait""#).count(),
                track.waits().count()
            );
            assert_eq!(body.matches(r#"class="run""#).count(), track.runs().count());
            assert_eq!(
                body.matches(&format!(r#"fill="{color}""#)).count(),
                1 + track.runs().count()
            );
        }
        // makerandom(1) waits from 0 s to 2 s, then from 2 s to 4 s.
        assert!(
            lanes[1]
                .2
                .contains(r#"class="wait" data-from="0.000000" data-to="2.000000""#)
        );
        assert!(
            lanes[1]
                .2
                .contains(r#"class="wait" data-from="2.000000" data-to="4.000000""#)
        );
        // Ticks every second, up to 12 s.
        let ticks: Vec<&str> = svg
            .split(r#"<text class="tick""#)
            .skip(1)
            .map(|rest| rest.split_once('>').unwrap().1.split_once('<').unwrap().0)
            .collect();
        let expected: Vec<String> = (0..=12).map(|s| format!("{s} s")).collect();
        assert_eq!(ticks, expected);
    }

    #[test]
    fn names_and_titles_are_escaped_and_ids_are_the_picture_s_own() {
        let one = Recorder::new();
        one.lane("<a & b>");
        let two = Recorder::new();
        two.lane("c");
        let svg = Timeline::stack([("\"x\" < y", one.timeline())]).svg();
        assert!(svg.contains("&lt;a &amp; b&gt;"));
        assert!(svg.contains("&quot;x&quot; &lt; y"));
        let id = |svg: &str| svg.split_once("<pattern id=\"").unwrap().1[..10].to_string();
        assert_ne!(id(&svg), id(&two.timeline().svg()));
    }

    #[test]
    fn the_text_chart_has_a_row_per_lane_and_a_column_per_step() {
        let rt = Runtime::paused().unwrap();
        let timeline = rt.run(crate::demos::count::main_recorded());
        let text = timeline.to_string();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows[0].trim_end(),
            format!(
                "{:10}  0         0.2       0.4       0.6       0.8       1 s",
                ""
            )
        );
        for row in &rows[1..4] {
            // A run at 0 s, waits, a run at 1 s: 51 columns.
            let chart = format!("█{}█", "·".repeat(49));
            assert!(
                row.ends_with(&format!("{chart}  1 wait, done at 1 s")),
                "{row}"
            );
        }
        assert!(rows[4].contains("█ running"));
    }

    #[test]
    fn ticks_are_round_and_cover_the_end() {
        assert_eq!(ticks(secs(12.0), 12), (1.0, 12.0));
        assert_eq!(ticks(secs(12.2), 12), (2.0, 14.0));
        assert_eq!(ticks(secs(3.0), 12), (0.5, 3.0));
        assert_eq!(ticks(secs(1.0), 12), (0.1, 1.0));
        assert!(ticks(Duration::ZERO, 12).1 > 0.0);
        assert_eq!(seconds(0.5), "0.5");
        assert_eq!(seconds(2.0), "2");
        assert_eq!(seconds(0.30000000000000004), "0.3");
    }
}
