//! The report's charts, drawn on the server as SVG with the plotters crate.
//!
//! Why plotters: it is maintained, draws into a `String` through its SVG backend, and built
//! without its `ttf` and `ab_glyph` features it needs no font at all: text is laid out with
//! its built-in estimate and written as SVG `<text>` elements, which the browser (or
//! Chromium printing to PDF) draws with its own sans-serif font. So nothing is read from the
//! system at run time and the charts print. Its SVG uses presentation attributes, not
//! `style` attributes, so the console's content security policy (no inline styles) lets the
//! charts sit inline in its pages.

use plotters::coord::ranged1d::{SegmentValue, SegmentedCoord};
use plotters::coord::types::RangedCoordusize;
use plotters::prelude::*;

use super::Chart;
use super::tables::month_name;
use crate::core::report::Performance;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 320;
const FONT: &str = "sans-serif";

const STAGE_1: RGBColor = RGBColor(31, 95, 160);
const STAGE_2: RGBColor = RGBColor(214, 120, 20);
const ON_TIME: RGBColor = RGBColor(46, 125, 50);
const EXTENDED: RGBColor = RGBColor(240, 180, 40);
const LATE: RGBColor = RGBColor(190, 40, 40);

/// One series of a stacked bar chart: its name, colour and a value per group.
struct Series {
    name: &'static str,
    colour: RGBColor,
    values: Vec<u64>,
}

/// The handling section's charts: volumes by month and stage, responses against the Code's
/// timescales, and categories.
pub(super) fn handling(p: &Performance) -> Vec<Chart> {
    let mut charts = Vec::new();
    let months: Vec<String> = p
        .months
        .iter()
        .map(|m| month_name(&m.month).chars().take(3).collect())
        .collect();
    let volumes = [
        Series {
            name: "Stage 1",
            colour: STAGE_1,
            values: p.months.iter().map(|m| m.stage1).collect(),
        },
        Series {
            name: "Stage 2",
            colour: STAGE_2,
            values: p.months.iter().map(|m| m.stage2).collect(),
        },
    ];
    let described: Vec<String> = p
        .months
        .iter()
        .map(|m| {
            format!(
                "{}: {} at stage 1, {} at stage 2",
                month_name(&m.month),
                m.stage1,
                m.stage2
            )
        })
        .collect();
    charts.extend(chart(
        "volumes",
        "Complaints received by month, at each stage",
        format!("Complaints received. {}.", described.join("; ")),
        columns(&months, &volumes, &format!("Month ({})", p.period.label)),
    ));

    let stages = ["Stage 1".to_owned(), "Stage 2".to_owned()];
    let timeliness = [
        Series {
            name: "On time",
            colour: ON_TIME,
            values: vec![p.stage1.on_time.numerator, p.stage2.on_time.numerator],
        },
        Series {
            name: "Within an extension",
            colour: EXTENDED,
            values: vec![
                p.stage1.within_extension.len() as u64,
                p.stage2.within_extension.len() as u64,
            ],
        },
        Series {
            name: "Late",
            colour: LATE,
            values: vec![p.stage1.late.len() as u64, p.stage2.late.len() as u64],
        },
    ];
    charts.extend(chart(
        "timeliness",
        "Responses against the Code's timescales (10 working days at stage 1, 6.3; 20 at stage 2, 6.14)",
        format!(
            "Responses sent. Stage 1: {} on time, {} within an extension, {} late. Stage 2: {} on time, {} within an extension, {} late.",
            timeliness[0].values[0],
            timeliness[1].values[0],
            timeliness[2].values[0],
            timeliness[0].values[1],
            timeliness[1].values[1],
            timeliness[2].values[1]
        ),
        columns(&stages, &timeliness, "Responses sent in the period"),
    ));

    let labels: Vec<String> = p.categories.iter().map(|c| c.label.clone()).collect();
    let counts: Vec<u64> = p
        .categories
        .iter()
        .map(|c| c.complaints.len() as u64)
        .collect();
    let described: Vec<String> = labels
        .iter()
        .zip(&counts)
        .map(|(label, n)| format!("{label}: {n}"))
        .collect();
    charts.extend(chart(
        "categories",
        "Complaints received at stage 1, by category",
        format!("Complaints by category. {}.", described.join("; ")),
        bars(&labels, &counts),
    ));
    charts
}

/// A chart, or nothing (with the reason logged) when plotters could not draw it: the tables
/// still carry every figure.
fn chart(
    key: &str,
    title: &str,
    description: String,
    drawn: Result<String, String>,
) -> Option<Chart> {
    match drawn {
        Ok(svg) => Some(Chart {
            key: key.to_owned(),
            title: title.to_owned(),
            description,
            svg,
        }),
        Err(e) => {
            tracing::error!(chart = key, error = %e, "a report chart could not be drawn");
            None
        }
    }
}

/// The top of a count axis: room above the tallest bar for the legend, and never 0.
fn axis_top(tallest: u64) -> u64 {
    tallest + tallest.div_ceil(3) + 1
}

/// One segment per group. plotters' integer ranges include their end, so `0..n - 1` has n
/// segments; a single group gets a second, empty one, as a range of one value has no width.
fn segments(n: usize) -> SegmentedCoord<RangedCoordusize> {
    (0..n.saturating_sub(1).max(1)).into_segmented()
}

/// Stacked columns, one per group, with a legend.
fn columns(groups: &[String], series: &[Series], x_desc: &str) -> Result<String, String> {
    let n = groups.len().max(1);
    let total = |i: usize| series.iter().map(|s| s.values[i]).sum::<u64>();
    let top = axis_top((0..groups.len()).map(total).max().unwrap_or(0));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(48)
            .build_cartesian_2d(segments(n), 0..top)
            .map_err(|e| e.to_string())?;
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => groups.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            // At most one light line between labelled ones: plotters' default (one per unit on
            // a count axis) prints as a grey mesh on a year's figures. (0 panics in plotters.)
            .max_light_lines(1)
            .x_labels(n)
            .x_label_formatter(&label)
            .y_labels(usize::try_from(top.min(10)).unwrap_or(10) + 1)
            .y_label_formatter(&|v: &u64| v.to_string())
            .y_desc("Complaints")
            .x_desc(x_desc)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        let (width, _) = chart.plotting_area().dim_in_pixel();
        let gap = (width / u32::try_from(n).unwrap_or(1)) / 6;
        for (s, one) in series.iter().enumerate() {
            let colour = one.colour;
            let bars = one
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0)
                .map(|(i, v)| {
                    let below: u64 = series[..s].iter().map(|x| x.values[i]).sum();
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), below),
                            (SegmentValue::Exact(i + 1), below + v),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(0, 0, gap, gap);
                    bar
                });
            chart
                .draw_series(bars)
                .map_err(|e| e.to_string())?
                .label(one.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE)
            .border_style(BLACK)
            .label_font((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Horizontal bars, one per label, the first at the top.
fn bars(labels: &[String], counts: &[u64]) -> Result<String, String> {
    let n = labels.len().max(1);
    let top = axis_top(counts.iter().copied().max().unwrap_or(0));
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_width = u32::try_from(longest * 7 + 16).unwrap_or(280).min(280);
    let height = 70 + 30 * u32::try_from(n).unwrap_or(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0..top, segments(n))
            .map_err(|e| e.to_string())?;
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < n => {
                labels.get(n - 1 - *i).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(1)
            .y_labels(n)
            .y_label_formatter(&label)
            .x_labels(usize::try_from(top.min(10)).unwrap_or(10) + 1)
            .x_label_formatter(&|v: &u64| v.to_string())
            .x_desc("Complaints")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        let (_, plot_height) = chart.plotting_area().dim_in_pixel();
        let gap = (plot_height / u32::try_from(n).unwrap_or(1)) / 5;
        let drawn = counts
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .map(|(i, v)| {
                let at = n - 1 - i;
                let mut bar = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(at)),
                        (*v, SegmentValue::Exact(at + 1)),
                    ],
                    STAGE_1.filled(),
                );
                bar.set_margin(gap, gap, 0, 0);
                bar
            });
        chart.draw_series(drawn).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
