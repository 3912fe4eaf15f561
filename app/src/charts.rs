//! Small SVG charts with axes, tick labels and a legend, rendered on the server (readable before
//! hydration and in any browser).

use leptos::prelude::*;

use crate::i18n::{td_string, use_i18n, Locale};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;

/// One line (or set of bars) of a chart; `class` colours it (see `style/main.css`).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub class: &'static str,
    pub values: Vec<i64>,
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max`, so ticks fall on round numbers.
pub fn nice_ceiling(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max {
                return step * m;
            }
        }
        step = step.saturating_mul(10);
    }
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

fn y_of(value: i64, top: i64) -> f64 {
    TOP + plot_height() * (1.0 - value as f64 / top as f64)
}

/// The y axis with four round ticks, and the x labels (at most about eight shown).
fn axes(labels: &[String], top: i64, centred: bool) -> impl IntoView {
    let i18n = use_i18n();
    let ticks = (0..=4)
        .map(|i| {
            let value = top * i / 4;
            let y = y_of(value, top);
            view! {
                <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y/>
                <text class="tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">
                    {move || format_count(i18n.get_locale(), value)}
                </text>
            }
        })
        .collect_view();
    let n = labels.len().max(1);
    let every = n.div_ceil(8).max(1);
    let slot = plot_width()
        / if centred {
            n as f64
        } else {
            (n.max(2) - 1) as f64
        };
    let x_labels = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, label)| {
            let x = LEFT + slot * i as f64 + if centred { slot / 2.0 } else { 0.0 };
            view! { <text class="tick" x=x y=HEIGHT - BOTTOM + 18.0 text-anchor="middle">{label.clone()}</text> }
        })
        .collect_view();
    view! {
        {ticks}
        <line class="axis" x1=LEFT x2=LEFT y1=TOP y2=HEIGHT - BOTTOM/>
        <line class="axis" x1=LEFT x2=WIDTH - RIGHT y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM/>
        {x_labels}
    }
}

/// A tick value, short: thousands and millions in English, 万 and 亿 in Chinese.
fn format_count(locale: Locale, n: i64) -> String {
    let short = |n: i64, unit: f64, suffix: &str| {
        let text = format!("{:.1}", n as f64 / unit);
        format!("{}{suffix}", text.strip_suffix(".0").unwrap_or(&text))
    };
    match locale {
        Locale::zh_CN => match n {
            n if n >= 100_000_000 => short(n, 1e8, "亿"),
            n if n >= 10_000 => short(n, 1e4, "万"),
            n => n.to_string(),
        },
        Locale::en => match n {
            n if n >= 1_000_000 => short(n, 1e6, "M"),
            n if n >= 10_000 => format!("{}k", n / 1000),
            n => n.to_string(),
        },
    }
}

fn legend(series: &[Series]) -> impl IntoView {
    let i18n = use_i18n();
    let items = series
        .iter()
        .map(|s| {
            let total: i64 = s.values.iter().sum();
            let name = s.name.clone();
            let text = move || {
                td_string!(
                    i18n.get_locale(),
                    charts.legend_item,
                    name = name.clone(),
                    total
                )
                .to_string()
            };
            view! { <li><span class=format!("swatch {}", s.class)></span>{text}</li> }
        })
        .collect_view();
    view! { <ul class="legend">{items}</ul> }
}

/// The y axis's top: the largest value rounded up.
fn top_of(series: &[Series]) -> i64 {
    nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0),
    )
}

/// What every chart shares: caption, axes, the y axis's label and the legend around its marks.
/// `chart` names the figure for tests and styles whatever the language (the title by default).
fn frame(
    title: TextProp,
    chart: Option<&'static str>,
    y_label: TextProp,
    labels: &[String],
    series: &[Series],
    centred: bool,
    marks: impl IntoView,
) -> impl IntoView {
    let top = top_of(series);
    let middle = TOP + plot_height() / 2.0;
    let chart = chart.map_or_else(|| title.get().to_string(), str::to_owned);
    let caption = title.clone();
    let label = title.clone();
    let y_label = move || y_label.get();
    view! {
        <figure class="chart" data-chart=chart>
            <figcaption>{move || caption.get()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=move || label.get()>
                <title>{move || title.get()}</title>
                {axes(labels, top, centred)}
                <text class="axis-label" x=12.0 y=middle
                    transform=format!("rotate(-90 12 {middle})") text-anchor="middle">{y_label}</text>
                {marks}
            </svg>
            {legend(series)}
        </figure>
    }
}

/// Lines with at most this many points also mark each point.
const MARKED_POINTS: usize = 40;

/// Lines over shared x labels (e.g. minutes).
#[component]
pub fn LineChart(
    /// Plain text, or a closure for text that follows the console's language.
    #[prop(into)]
    title: TextProp,
    /// The figure's `data-chart` name when the title is translated.
    #[prop(optional)]
    chart: Option<&'static str>,
    #[prop(into)] y_label: TextProp,
    labels: Vec<String>,
    series: Vec<Series>,
) -> impl IntoView {
    let top = top_of(&series);
    let step = plot_width() / (labels.len().max(2) - 1) as f64;
    let lines = series
        .iter()
        .map(|s| {
            let points = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", LEFT + step * i as f64, y_of(*v, top)))
                .collect::<Vec<_>>()
                .join(" ");
            // Few points are marked, so each reads as a reading rather than a bend in a line.
            let dots = (s.values.len() <= MARKED_POINTS).then(|| {
                s.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        view! { <circle class=format!("dot {}", s.class) cx=LEFT + step * i as f64 cy=y_of(*v, top) r=2.5/> }
                    })
                    .collect_view()
            });
            view! { <polyline class=format!("line {}", s.class) points=points fill="none"/> {dots} }
        })
        .collect_view();
    frame(title, chart, y_label, &labels, &series, false, lines)
}

/// Bars side by side per label, one colour per series.
#[component]
pub fn BarChart(
    /// Plain text, or a closure for text that follows the console's language.
    #[prop(into)]
    title: TextProp,
    /// The figure's `data-chart` name when the title is translated.
    #[prop(optional)]
    chart: Option<&'static str>,
    #[prop(into)] y_label: TextProp,
    labels: Vec<String>,
    series: Vec<Series>,
) -> impl IntoView {
    let i18n = use_i18n();
    let top = top_of(&series);
    let slot = plot_width() / labels.len().max(1) as f64;
    let width = slot * 0.8 / series.len().max(1) as f64;
    let bars = series
        .iter()
        .enumerate()
        .flat_map(|(k, s)| {
            s.values.iter().enumerate().map(move |(i, v)| {
                let x = LEFT + slot * i as f64 + slot * 0.1 + width * k as f64;
                let y = y_of(*v, top);
                let name = s.name.clone();
                let value = *v;
                let text = move || {
                    td_string!(i18n.get_locale(), charts.bar_value, name = name.clone(), value)
                        .to_string()
                };
                view! {
                    <rect class=format!("bar {}", s.class) x=x y=y width=width height=(HEIGHT - BOTTOM - y).max(0.0)>
                        <title>{text}</title>
                    </rect>
                }
            })
        })
        .collect_view();
    frame(title, chart, y_label, &labels, &series, true, bars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(10), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(1999), 2000);
        assert_eq!(nice_ceiling(4001), 5000);
        assert_eq!(format_count(Locale::en, 1_000_000), "1M");
        assert_eq!(format_count(Locale::en, 2_500_000), "2.5M");
        assert_eq!(format_count(Locale::en, 25_000), "25k");
        assert_eq!(format_count(Locale::en, 950), "950");
        assert_eq!(format_count(Locale::zh_CN, 25_000), "2.5万");
        assert_eq!(format_count(Locale::zh_CN, 1_000_000), "100万");
        assert_eq!(format_count(Locale::zh_CN, 200_000_000), "2亿");
        assert_eq!(format_count(Locale::zh_CN, 950), "950");
    }
}
