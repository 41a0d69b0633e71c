//! Line charts as SVG text, for a notebook to show inline and a script to save.
//!
//! A [`Chart`] is a row of [`Panel`]s side by side, each with its own linear
//! y axis and a logarithmic x axis (the demos' N spans powers of ten, from 100
//! to a million), each holding one line per [`Series`]: so "time against N"
//! and "memory against N" for tasks and threads fit in one picture. [`Chart::svg`]
//! draws it with plotters' SVG backend, which writes text as SVG `<text>`
//! elements for the browser to render: no font files, no `ttf` feature.
//!
//! ```
//! use asyncio_rs::chart::{Chart, Panel, Series};
//!
//! let squares = Series::new("squares", [(1.0, 1.0), (10.0, 100.0), (100.0, 10_000.0)]);
//! let chart = Chart {
//!     x_label: "N".into(),
//!     panels: vec![Panel { title: "growth".into(), y_label: "N²".into(), series: vec![squares] }],
//! };
//! let svg = chart.svg().unwrap();
//! assert!(svg.starts_with("<svg"));
//! assert!(svg.contains(">\ngrowth\n</text>"));
//! ```

use plotters::prelude::*;

/// The colours of the series, in order (matplotlib's first four).
const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// The size of one panel, in pixels.
const PANEL_SIZE: (u32, u32) = (480, 360);

/// One line: a name for the legend and its points, in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from any points.
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points: points.into_iter().collect(),
        }
    }
}

/// One plot: a title, the y axis' label, and its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// Panels side by side, each with a logarithmic x axis under the same label.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub x_label: String,
    pub panels: Vec<Panel>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A logarithmic axis cannot show zero or less.
    #[error("a logarithmic x axis needs x > 0; got {0}")]
    NotPositive(f64),
    /// A figure is infinite or NaN.
    #[error("cannot plot a figure that is not finite: {0}")]
    NotFinite(f64),
    /// plotters failed while drawing.
    #[error("could not draw the chart: {0}")]
    Draw(String),
}

impl Chart {
    /// The chart as one SVG document, `480 × 360` pixels per panel.
    pub fn svg(&self) -> Result<String, Error> {
        self.check()?;
        let mut svg = String::new();
        let size = (PANEL_SIZE.0 * self.panels.len().max(1) as u32, PANEL_SIZE.1);
        {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            root.fill(&WHITE).map_err(draw_error)?;
            let areas = root.split_evenly((1, self.panels.len().max(1)));
            for (panel, area) in self.panels.iter().zip(&areas) {
                self.draw_panel(panel, area)?;
            }
            root.present().map_err(draw_error)?;
        }
        Ok(svg)
    }

    fn check(&self) -> Result<(), Error> {
        let points = self.panels.iter().flat_map(|panel| &panel.series);
        for &(x, y) in points.flat_map(|series| &series.points) {
            for value in [x, y] {
                if !value.is_finite() {
                    return Err(Error::NotFinite(value));
                }
            }
            if x <= 0.0 {
                return Err(Error::NotPositive(x));
            }
        }
        Ok(())
    }

    fn draw_panel(
        &self,
        panel: &Panel,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Error> {
        let points = || panel.series.iter().flat_map(|series| series.points.iter());
        let (x_min, x_max) = points().fold((f64::MAX, f64::MIN), |(low, high), &(x, _)| {
            (low.min(x), high.max(x))
        });
        let (x_min, x_max) = if x_min > x_max {
            (1.0, 10.0)
        } else {
            (x_min, x_max)
        };
        let y_max = points().fold(0.0f64, |high, &(_, y)| high.max(y));
        // Room above the highest point for the legend.
        let y_range = 0.0..if y_max > 0.0 { y_max * 1.35 } else { 1.0 };

        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x_min / 1.5..x_max * 1.5).log_scale(), y_range)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&panel.y_label)
            .x_label_formatter(&|x| short_number(*x))
            .y_label_formatter(&|y| short_number(*y))
            .draw()
            .map_err(draw_error)?;
        // Each series as a line with a dot at each point, then the legend.
        for (index, line) in panel.series.iter().enumerate() {
            let color = COLORS[index % COLORS.len()];
            chart
                .draw_series(
                    LineSeries::new(line.points.iter().copied(), color.stroke_width(2))
                        .point_size(4),
                )
                .map_err(draw_error)?
                .label(line.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_error)
    }
}

fn draw_error(error: impl std::fmt::Display) -> Error {
    Error::Draw(error.to_string())
}

/// A tick label on a log axis: `100`, `10k`, `1M`.
///
/// ```
/// use asyncio_rs::chart::short_number;
/// assert_eq!(short_number(100.0), "100");
/// assert_eq!(short_number(10_000.0), "10k");
/// assert_eq!(short_number(1_500_000.0), "1.5M");
/// ```
pub fn short_number(x: f64) -> String {
    let (value, suffix) = if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let text = format!("{value:.1}");
    format!(
        "{}{suffix}",
        text.trim_end_matches('0').trim_end_matches('.')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_panels() -> Chart {
        let tasks = |k: f64| Series::new("tasks", [(1e3, k), (1e6, 2.0 * k)]);
        let threads = |k: f64| Series::new("threads", [(1e2, k), (1.6e4, 3.0 * k)]);
        Chart {
            x_label: "N (log scale)".into(),
            panels: vec![
                Panel {
                    title: "wall time".into(),
                    y_label: "seconds".into(),
                    series: vec![tasks(1.0), threads(1.0)],
                },
                Panel {
                    title: "peak memory".into(),
                    y_label: "MiB".into(),
                    series: vec![tasks(10.0), threads(40.0)],
                },
            ],
        }
    }

    #[test]
    fn the_svg_carries_its_text_as_text() {
        let svg = two_panels().svg().unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(r#"width="960""#), "two panels side by side");
        for text in [
            "wall time",
            "peak memory",
            "seconds",
            "MiB",
            "N (log scale)",
            "tasks",
            "threads",
            "1k",
            "10k",
        ] {
            assert!(
                svg.contains(&format!(">\n{text}\n</text>")),
                "{text} is missing"
            );
        }
        // Each series in its own colour, in both panels.
        for color in ["#1F77B4", "#FF7F0E"] {
            assert!(
                svg.matches(&format!(r#"stroke="{color}""#)).count() >= 2,
                "{color}"
            );
        }
    }

    #[test]
    fn bad_figures_are_errors_not_pictures() {
        let mut chart = two_panels();
        chart.panels[0].series[0].points.push((0.0, 1.0));
        assert!(matches!(chart.svg(), Err(Error::NotPositive(_))));
        chart.panels[0].series[0].points.pop();
        chart.panels[1].series[1].points.push((10.0, f64::NAN));
        assert!(matches!(chart.svg(), Err(Error::NotFinite(_))));
    }

    #[test]
    fn empty_panels_still_draw() {
        let chart = Chart {
            x_label: "x".into(),
            panels: vec![Panel {
                title: "nothing yet".into(),
                y_label: "y".into(),
                series: vec![],
            }],
        };
        assert!(chart.svg().unwrap().contains(">\nnothing yet\n</text>"));
    }
}
