//! report.html (SPEC §8): one self-contained page for people — the headline table, loss
//! distributions with and without insurance, exceedance curves, the monthly cash fan chart, the
//! top contributors to ES 99, the policy comparison, the portfolio summary and what produced the
//! run. Charts are inline SVG built here (no script, font or network access); the page holds no
//! timing, so identical runs give identical pages.

use crate::error::Error;
use crate::model::Study;
use crate::money::{format_cents, group_thousands, mean_cents};
use crate::portfolio_summary::Summary;
use crate::report::figures::{nice_ticks, percent_with_error, rounded, tick_amount, tick_percent, with_error};
use crate::run::contributions::apportion;
use crate::run::{PolicyResult, RunResult, ScenarioResult};
use crate::stats::{Bin, MeasureStats};
use std::fmt::Write;

/// Index of the measures in [`PolicyResult::measures`].
const GROSS: usize = 0;
const CLAIMS: usize = 1;
const NET: usize = 2;
const COST: usize = 3;
/// Index of the 99% level in the VaR / ES arrays.
const AT_99: usize = 1;
/// Line colours of the series: "none" first, then the policies (colour-blind safe palette).
const COLOURS: [&str; 6] = ["#1f3a5f", "#e07b00", "#2a9d8f", "#b5179e", "#6a994e", "#8d6e63"];
/// Contributors listed per scenario.
const TOP: usize = 10;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An amount in cents with thousands separators and the currency: `1,234,567.89 EUR`.
pub fn money(cents: i128, currency: &str) -> String {
    format!("{} {}", group_thousands(&format_cents(cents)), esc(currency))
}

fn pct(p: f64) -> String {
    format!("{:.2}%", 100.0 * p)
}

/// The page.
pub fn report_html(study: &Study, portfolio: &Summary, r: &RunResult) -> Result<Vec<u8>, Error> {
    let cur = &study.currency;
    let mut h = String::with_capacity(256 * 1024);
    let title = format!("arstress — {}", study.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        esc(&title),
        CSS
    );
    let _ = write!(
        h,
        "<header><h1>{}</h1><p>As of {} · {} months · {} trials · seed {} · amounts in {}{}</p></header>\n<main>\n",
        esc(&study.name),
        study.calendar.as_of,
        study.calendar.horizon_months(),
        group_thousands(&r.trials.to_string()),
        r.seed,
        esc(cur),
        r.tail_shift.map_or(String::new(), |s| format!(" · tail sampling (shift {s:.3})"))
    );
    answers_section(&mut h, study, r, Some(portfolio.total.exposure as f64 / 100.0), cur);
    across_scenarios(&mut h, r, cur);
    headline(&mut h, r, cur);
    collection_practice(&mut h, r, cur);
    for s in &r.scenarios {
        scenario_section(&mut h, study, s, cur);
    }
    portfolio_section(&mut h, portfolio, cur);
    provenance(&mut h, study, r);
    h.push_str("</main>\n</body>\n</html>\n");
    Ok(h.into_bytes())
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans CJK SC','PingFang SC',\
'Microsoft YaHei',sans-serif;margin:0;color:#1d232b;background:#fafbfc}header{background:#1f3a5f;color:#fff;padding:16px 28px}\
header h1{margin:0 0 4px;font-size:22px}header p{margin:0;opacity:.85}main{padding:8px 28px 40px;max-width:1500px}\
h2{margin:28px 0 8px;font-size:19px;border-bottom:2px solid #1f3a5f;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}\
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px;background:#fff}th,td{border:1px solid #d9dee5;padding:4px 8px}\
th{background:#eef1f5;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.se{color:#6b7480;font-size:11px}.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;background:#fff;\
border:1px solid #d9dee5;padding:6px}figcaption{font-size:13px;font-weight:600;margin:2px 4px 4px}\
svg text{font-family:inherit;font-size:11px;fill:#39424e}.desc{color:#4a5562;font-size:13px;margin:2px 0 8px}\
code{font-size:12px}.wide{overflow-x:auto}input.pick{position:absolute;opacity:0}label.pick{display:inline-block;\
border:1px solid #1f3a5f;border-radius:14px;padding:3px 10px;margin:0 6px 6px 0;font-size:13px;cursor:pointer;color:#1f3a5f}\
.tiles{grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px;margin:8px 0 4px}.tile{background:#fff;\
border:1px solid #d9dee5;border-left:4px solid #1f3a5f;padding:8px 14px}.tile h3{margin:4px 0 6px;font-size:14px;color:#1f3a5f}\
.tile p{margin:0;font-size:15px;line-height:1.45}table.headline td{padding:3px 7px}";

/// A measure's mean as a [`cell`] with its standard error.
fn mean_cell(m: &crate::stats::MeasureStats) -> String {
    cell(m.mean as f64, m.mean_std_error)
}

/// A cell `value ± error`, both rounded to what the error supports.
fn cell(value_cents: f64, se_cents: f64) -> String {
    if se_cents == 0.0 {
        // No Monte Carlo error (nothing random drives it): the exact figure.
        return rounded(value_cents / 100.0, 0.01);
    }
    let (v, e) = with_error(value_cents / 100.0, se_cents / 100.0);
    format!("{v} <span class=\"se\">± {e}</span>")
}

/// The headline table: one row per scenario and alternative, amounts rounded to their errors (in
/// the study's currency, named once in the caption), sized to fit a 1280-pixel window.
fn headline(h: &mut String, r: &RunResult, cur: &str) {
    let _ = write!(
        h,
        "<section id=\"headline\"><h2>Headline figures</h2>\n<p class=\"desc\">Per scenario and alternative, in {cur}: the \
         expected total cost of credit risk (net loss + premium) and its difference to no insurance, the expected net \
         loss (after claims and the insurer's share of recoveries), VaR and ES at 99% of the net loss (the loss without \
         insurance on the \"none\" rows), the premium and the probability of a cash shortfall in the horizon. Grey: \
         Monte Carlo standard errors; figures are rounded to what their error supports.</p>\n<div class=\"wide\">\
         <table class=\"headline\"><thead><tr><th>Scenario</th><th>Alternative</th><th>Expected total cost</th>\
         <th>vs none</th><th>Expected net loss</th><th>ES 99 net</th><th>VaR 99 net</th><th>Premium</th>\
         <th>P(shortfall)</th></tr></thead><tbody>\n"
    );
    for s in &r.scenarios {
        let none = &s.policies[0];
        for (i, p) in s.policies.iter().enumerate() {
            let (n, c) = (&p.measures[NET], &p.measures[COST]);
            let var_se = (n.var_ci[AT_99].1 - n.var_ci[AT_99].0) as f64 / 3.92;
            let shortfall = p.cash.as_ref().map_or("—".to_owned(), |c| {
                let (v, e) = percent_with_error(c.peak_shortfall.p_positive, c.peak_shortfall.p_positive_std_error);
                format!("{v} <span class=\"se\">± {e}</span>")
            });
            let versus = if i == 0 {
                "—".to_owned()
            } else {
                let d = crate::report::answers::cost_versus_none(none, p);
                let (v, e) = with_error(d.value, d.se);
                let sign = if d.value > 0.0 { "+" } else { "" };
                format!("{sign}{v} <span class=\"se\">± {e}</span>")
            };
            let scenario = if i == 0 {
                format!("<td rowspan=\"{}\">{}</td>", s.policies.len(), esc(&s.name))
            } else {
                String::new()
            };
            let _ = writeln!(
                h,
                "<tr>{scenario}<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{versus}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{shortfall}</td></tr>",
                esc(&p.name),
                cell(c.mean as f64, c.mean_std_error),
                cell(n.mean as f64, n.mean_std_error),
                cell(n.es[AT_99] as f64, n.es_std_error[AT_99]),
                cell(n.var[AT_99] as f64, var_se),
                group_thousands(&format!("{:.0}", p.premium as f64 / 100.0)),
            );
        }
    }
    h.push_str("</tbody></table></div></section>\n");
}

/// The measures of collection practice beside the losses (write-off of overdue receivables,
/// agency fees, discounts, margin lost to tighter terms, dilution), one row per scenario that has
/// any, without insurance: what each lever costs, to set against the headline figures. None when
/// no scenario has them.
fn collection_practice(h: &mut String, r: &RunResult, cur: &str) {
    const SHOWN: [(&str, &str); 5] = [
        ("overdue_write_off", "Overdue write-off"),
        ("collection_fees", "Agency fees"),
        ("discount_cost", "Discounts"),
        ("terms_lost_margin", "Margin lost to terms"),
        ("dilution_loss", "Dilution"),
    ];
    let has = |s: &crate::run::ScenarioResult, m: &str| s.policies[0].scenario_measures.iter().any(|(n, _)| *n == m);
    let columns: Vec<(&str, &str)> = SHOWN.into_iter().filter(|(m, _)| r.scenarios.iter().any(|s| has(s, m))).collect();
    if columns.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<section id=\"collections\"><h2>Collection practice</h2>\n<p class=\"desc\">Per scenario, in {cur}, mean per \
         trial without insurance: what is never collected of the receivables already overdue (part of the net loss), \
         and the costs of collection practice that are not credit losses — the collection agency's fees, early-payment \
         discounts, the margin on sales lost to tighter terms, the dilution of disputed invoices. Compare a lever's \
         scenario with the baseline in the headline figures (same trials).</p>\n<div class=\"wide\">\
         <table class=\"headline\"><thead><tr><th>Scenario</th>"
    );
    for (_, title) in &columns {
        let _ = write!(h, "<th>{title}</th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    for s in r.scenarios.iter().filter(|s| !s.policies[0].scenario_measures.is_empty()) {
        let _ = write!(h, "<tr><td>{}</td>", esc(&s.name));
        for (m, _) in &columns {
            let shown = s.policies[0].scenario_measures.iter().find(|(n, _)| n == m).map(|(_, st)| mean_cell(st));
            let _ = write!(h, "<td class=\"n\">{}</td>", shown.unwrap_or_else(|| "—".to_owned()));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div></section>\n");
}

/// The first screen: for the scenario the reader picks (a radio button per scenario, switched by
/// CSS alone, so the page needs no script), one tile per question, each a sentence with its figure
/// and error.
fn answers_section(h: &mut String, study: &Study, r: &RunResult, receivables: Option<f64>, cur: &str) {
    if r.scenarios.is_empty() {
        return;
    }
    h.push_str("<section id=\"answers\"><h2>Answers</h2>\n<style>.tiles{display:none}");
    for i in 0..r.scenarios.len() {
        let _ = write!(
            h,
            "#pick-{i}:checked~.answers .s{i}{{display:grid}}#pick-{i}:checked+label{{background:#1f3a5f;color:#fff}}"
        );
    }
    h.push_str("</style>\n<p class=\"desc\">Scenario:</p>\n");
    for (i, s) in r.scenarios.iter().enumerate() {
        let _ = write!(
            h,
            "<input type=\"radio\" name=\"pick\" id=\"pick-{i}\" class=\"pick\"{}><label for=\"pick-{i}\" class=\"pick\">{}</label>",
            if i == 0 { " checked" } else { "" },
            esc(&s.name)
        );
    }
    h.push_str("\n<div class=\"answers\">\n");
    for (i, s) in r.scenarios.iter().enumerate() {
        let a = crate::report::answers::answers(s, study, receivables);
        let _ = writeln!(h, "<div class=\"tiles s{i}\">");
        let tile = |h: &mut String, question: &str, text: &str| {
            // A figure stays on one line with its error.
            let text = esc(text).replace("± ", "±\u{a0}").replace(" %", "\u{a0}%");
            let _ = writeln!(h, "<div class=\"tile\"><h3>{}</h3><p>{text}</p></div>", esc(question));
        };
        tile(h, "Which alternative costs least?", &a.cost_sentence(cur));
        if let Some(text) = a.protection_sentence(cur) {
            tile(h, "How much does insurance cut a bad year?", &text);
        }
        if let Some(text) = a.shortfall_sentence() {
            tile(h, "Will cash run short, and when?", &text);
        }
        if let Some(text) = a.causes_sentence(cur) {
            tile(h, "Who makes cash run short?", &text);
        }
        tile(h, "How large a bad-debt reserve?", &a.reserve_sentence(cur));
        if let Some(text) = a.retreat_sentence(cur) {
            tile(h, "What did the insurer's retreat take away?", &text);
        }
        if let Some(text) = a.bank_line_sentence(cur) {
            tile(h, "What is the insurance worth to the bank line?", &text);
        }
        h.push_str("</div>\n");
    }
    h.push_str("</div></section>\n");
}

/// Expected total cost and ES 99 of the net loss of every alternative in every scenario (dots with
/// ±2 standard-error whiskers), and P(shortfall) by scenario: scenarios in the study's order.
fn across_scenarios(h: &mut String, r: &RunResult, cur: &str) {
    if r.scenarios.is_empty() {
        return;
    }
    h.push_str("<section id=\"across\"><h2>Across scenarios</h2>\n<p class=\"desc\">Each dot is an alternative \
        (colour) in a scenario (row), with a ±2 standard-error whisker; hover a dot for its figure.</p>\n<div class=\"charts\">\n");
    let names: Vec<&str> = r.scenarios[0].policies.iter().map(|p| p.name.as_str()).collect();
    let cost = |p: &PolicyResult| (p.measures[COST].mean as f64 / 100.0, p.measures[COST].mean_std_error / 100.0);
    let es = |p: &PolicyResult| (p.measures[NET].es[AT_99] as f64 / 100.0, p.measures[NET].es_std_error[AT_99] / 100.0);
    dot_plot(h, r, &names, "Expected total cost", &format!("expected total cost ({cur})"), "across-cost", &cost, false);
    dot_plot(h, r, &names, "ES 99 of the net loss", &format!("ES 99 of the net loss ({cur})"), "across-es", &es, false);
    if r.scenarios.iter().any(|s| s.policies.iter().any(|p| p.cash.is_some())) {
        let short = |p: &PolicyResult| {
            p.cash.as_ref().map_or((0.0, 0.0), |c| (c.peak_shortfall.p_positive, c.peak_shortfall.p_positive_std_error))
        };
        dot_plot(
            h,
            r,
            &names,
            "P(shortfall)",
            "probability of a cash shortfall in the horizon",
            "across-shortfall",
            &short,
            true,
        );
    }
    h.push_str("</div></section>\n");
}

/// One dot plot: a row per scenario, a dot per alternative.
#[allow(clippy::too_many_arguments)]
fn dot_plot(
    h: &mut String,
    r: &RunResult,
    names: &[&str],
    caption: &str,
    axis: &str,
    class: &str,
    figure: &dyn Fn(&PolicyResult) -> (f64, f64),
    probability: bool,
) {
    let rows = r.scenarios.len();
    // Room for the longest scenario name on the left (about 6.2 px a character at the chart's
    // font size), the plot keeping at least 190 px.
    let longest = r.scenarios.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    let left = (14.0 + 6.2 * longest as f64).clamp(108.0, 168.0);
    let (w, right, top, row_h) = (372.0, 14.0, 10.0, 26.0);
    let plot_h = row_h * rows as f64;
    let height = top + plot_h + 46.0 + 14.0 * (names.len() as f64 / 2.0).ceil();
    let values: Vec<f64> = r
        .scenarios
        .iter()
        .flat_map(|s| s.policies.iter().map(figure))
        .flat_map(|(v, se)| [v - 2.0 * se, v + 2.0 * se])
        .collect();
    let hi = values.iter().copied().fold(0.0f64, f64::max);
    let lo = values.iter().copied().fold(0.0f64, f64::min);
    let ticks = nice_ticks(lo, hi, 5);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let step = if ticks.len() > 1 { ticks[1] - ticks[0] } else { 1.0 };
    let x = |v: f64| left + (v - t0) / (t1 - t0).max(1e-12) * (w - left - right);
    let _ = write!(
        h,
        "<figure class=\"chart {class}\"><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {w} {height:.0}\" role=\"img\" aria-label=\"{}\">",
        esc(caption),
        esc(caption)
    );
    for &t in &ticks {
        let label = if probability { tick_percent(t, step) } else { tick_amount(t, step) };
        let _ = write!(
            h,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#eef1f5\"/>\
             <text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\">{label}</text>",
            x(t),
            top + plot_h,
            top + plot_h + 14.0
        );
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        (left + w - right) / 2.0,
        top + plot_h + 30.0,
        esc(axis)
    );
    for (row, s) in r.scenarios.iter().enumerate() {
        let y = top + row_h * (row as f64 + 0.5);
        let _ = write!(
            h,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d9dee5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 6.0,
            y + 4.0,
            esc(&s.name)
        );
        let n = s.policies.len().max(1) as f64;
        for (i, p) in s.policies.iter().enumerate() {
            let (v, se) = figure(p);
            let dy = (i as f64 - (n - 1.0) / 2.0) * (row_h * 0.6 / n);
            let colour = COLOURS[i % COLOURS.len()];
            let shown = if probability {
                let (a, b) = percent_with_error(v, se);
                format!("{a} ± {b}")
            } else {
                let (a, b) = with_error(v, se);
                format!("{a} ± {b}")
            };
            let _ = write!(
                h,
                "<g class=\"mark\"><title>{} · {}: {shown}</title><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{yd:.1}\" \
                 y2=\"{yd:.1}\" stroke=\"{colour}\"/><circle cx=\"{:.1}\" cy=\"{yd:.1}\" r=\"3.5\" fill=\"{colour}\"/></g>",
                esc(&s.name),
                esc(&p.name),
                x(v - 2.0 * se),
                x(v + 2.0 * se),
                x(v),
                yd = y + dy,
            );
        }
    }
    // Legend: two alternatives a line.
    for (i, name) in names.iter().enumerate() {
        let (lx, ly) = (left + (i % 2) as f64 * 140.0, top + plot_h + 50.0 + 14.0 * (i / 2) as f64);
        let _ = write!(
            h,
            "<circle cx=\"{lx:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
            ly - 4.0,
            COLOURS[i % COLOURS.len()],
            lx + 8.0,
            esc(name)
        );
    }
    h.push_str("</svg></figure>\n");
}

fn scenario_section(h: &mut String, study: &Study, s: &ScenarioResult, cur: &str) {
    let _ = writeln!(h, "<section class=\"scenario\"><h2>Scenario: {}</h2>", esc(&s.name));
    if !s.description.is_empty() {
        let _ = writeln!(h, "<p class=\"desc\">{}</p>", esc(&s.description));
    }
    // Gross loss once ("none"), then each policy's net loss.
    let series: Vec<(String, &MeasureStats)> = s
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                ("gross (no insurance)".to_owned(), &p.measures[GROSS])
            } else {
                (format!("net: {}", p.name), &p.measures[NET])
            }
        })
        .collect();
    h.push_str("<div class=\"charts\">\n");
    distribution_chart(h, &series, cur);
    exceedance_chart(h, &series, cur);
    if s.policies.iter().any(|p| p.cash.is_some()) {
        for (i, p) in s.policies.iter().enumerate() {
            cash_chart(h, study, s, p, COLOURS[i % COLOURS.len()], cur);
        }
    }
    h.push_str("</div>\n");
    policy_comparison(h, s, cur);
    policy_pairs(h, s, cur);
    contributors(h, study, s, cur);
    h.push_str("</section>\n");
}

/// Chart frame: plot area inside margins, in pixels.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

const FRAME: Frame = Frame { w: 520.0, h: 316.0, left: 64.0, right: 12.0, top: 14.0, bottom: 60.0 };

impl Frame {
    fn x(&self, t: f64) -> f64 {
        self.left + t * (self.w - self.left - self.right)
    }
    fn y(&self, t: f64) -> f64 {
        self.h - self.bottom - t * (self.h - self.top - self.bottom)
    }
}

/// Opens a figure with an SVG of the frame's size and draws the axes box.
fn open_chart(h: &mut String, caption: &str, class: &str) {
    let f = &FRAME;
    let _ = write!(
        h,
        "<figure class=\"chart {class}\"><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\
         <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#c3cad3\"/>",
        esc(caption),
        f.w,
        f.h,
        f.w,
        f.h,
        esc(caption),
        f.left,
        f.top,
        f.w - f.left - f.right,
        f.h - f.top - f.bottom
    );
}

/// Legend lines under the plot, and closes the figure.
fn close_chart(h: &mut String, legend: &[(String, &str, bool)]) {
    let f = &FRAME;
    let mut x = f.left;
    let mut y = f.h - 20.0;
    for (label, colour, dashed) in legend {
        let width = 28.0 + 6.2 * label.chars().count() as f64;
        if x > f.left && x + width > f.w {
            x = f.left;
            y += 14.0;
        }
        let dash = if *dashed { " stroke-dasharray=\"5 3\"" } else { "" };
        let _ = write!(
            h,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            y - 4.0,
            x + 16.0,
            y - 4.0,
            x + 20.0,
            esc(label)
        );
        x += width;
    }
    h.push_str("</svg></figure>\n");
}

/// Round x-axis ticks covering `[lo, hi]` (whole currency units) and the axis label; returns the
/// axis range the ticks span, which the chart then maps to its width.
fn x_ticks(h: &mut String, lo: f64, hi: f64, label: &str) -> (f64, f64) {
    let f = &FRAME;
    let ticks = nice_ticks(lo, hi, 6);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let step = if ticks.len() > 1 { ticks[1] - ticks[0] } else { 1.0 };
    for &v in &ticks {
        let t = (v - t0) / (t1 - t0).max(1e-12);
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            f.x(t),
            f.h - f.bottom + 14.0,
            tick_amount(v, step)
        );
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        f.x(0.5),
        f.h - f.bottom + 27.0,
        esc(label)
    );
    (t0, t1)
}

/// Loss distributions overlaid: each histogram as a density step line (probability per
/// 1/100 of the common axis), so different bin widths compare.
fn distribution_chart(h: &mut String, series: &[(String, &MeasureStats)], cur: &str) {
    let lo = series.iter().flat_map(|s| s.1.histogram.first()).map(|b| b.from).min().unwrap_or(0) as f64 / 100.0;
    let hi = series.iter().flat_map(|s| s.1.histogram.last()).map(|b| b.to).max().unwrap_or(1) as f64 / 100.0;
    open_chart(h, "Loss distribution with and without insurance", "distribution");
    let (lo, hi) = x_ticks(h, lo, hi, &format!("loss in the horizon ({cur}); y: share of trials per 1% of the axis"));
    let span = (hi - lo).max(1.0);
    let density = |b: &Bin| b.share * span / 100.0 / ((b.to - b.from) as f64 / 100.0).max(1e-9);
    let peak = series.iter().flat_map(|s| s.1.histogram.iter().map(density)).fold(0.0f64, f64::max).max(1e-12);
    let f = &FRAME;
    let y_ticks = nice_ticks(0.0, peak, 5);
    let top = y_ticks[y_ticks.len() - 1].max(1e-12);
    let y_step = if y_ticks.len() > 1 { y_ticks[1] - y_ticks[0] } else { top };
    for &v in &y_ticks {
        let _ = write!(
            h,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{yv:.1}\" y2=\"{yv:.1}\" stroke=\"#eef1f5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            f.left,
            f.w - f.right,
            f.left - 4.0,
            f.y(v / top) + 4.0,
            tick_percent(v, y_step),
            yv = f.y(v / top),
        );
    }
    let mut legend = Vec::new();
    for (i, (name, m)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut pts = String::new();
        for b in &m.histogram {
            let y = f.y(density(b) / top);
            let (x0, x1) = (f.x((b.from as f64 / 100.0 - lo) / span), f.x((b.to as f64 / 100.0 - lo) / span));
            let _ = write!(pts, "{x0:.1},{y:.1} {x1:.1},{y:.1} ");
        }
        let _ = write!(
            h,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" points=\"{}\"><title>{}</title></polyline>",
            pts.trim_end(),
            esc(name)
        );
        legend.push((name.clone(), colour, false));
    }
    close_chart(h, &legend);
}

/// Exceedance curves P(loss ≥ x) on a log scale down to 1e-4 (or one trial in N).
fn exceedance_chart(h: &mut String, series: &[(String, &MeasureStats)], cur: &str) {
    let hi = series.iter().flat_map(|s| s.1.histogram.last()).map(|b| b.to).max().unwrap_or(1) as f64 / 100.0;
    let floor = series.first().map_or(1e-4, |s| (1.0 / s.1.trials.max(1) as f64).max(1e-6)).min(1e-2);
    let decades = -floor.log10();
    let f = &FRAME;
    open_chart(h, "Exceedance curve P(loss ≥ x), log scale", "exceedance");
    let (lo, hi) = x_ticks(h, 0.0, hi, &format!("loss x ({cur})"));
    let span = (hi - lo).max(1.0);
    let mut d = 0;
    while d as f64 <= decades + 1e-9 {
        let t = 1.0 - d as f64 / decades;
        let _ = write!(
            h,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eef1f5\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            f.left,
            f.w - f.right,
            f.y(t),
            f.y(t),
            f.left - 4.0,
            f.y(t) + 4.0,
            tick_percent(10f64.powi(-d), 10f64.powi(-d))
        );
        d += 1;
    }
    let mut legend = Vec::new();
    for (i, (name, m)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut pts = String::new();
        let _ = write!(pts, "{:.1},{:.1} ", f.x(0.0), f.y(1.0));
        for b in &m.histogram {
            if b.p_at_or_above_to < floor {
                break;
            }
            let t = 1.0 + b.p_at_or_above_to.log10() / decades;
            let _ = write!(pts, "{:.1},{:.1} ", f.x((b.to as f64 / 100.0 - lo) / span), f.y(t));
        }
        let _ = write!(
            h,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" points=\"{}\"><title>{}</title></polyline>",
            pts.trim_end(),
            esc(name)
        );
        legend.push((name.clone(), colour, false));
    }
    close_chart(h, &legend);
}

/// The monthly cash fan of one policy: 5–95% band, median, the baseline path and minimum cash.
fn cash_chart(h: &mut String, study: &Study, s: &ScenarioResult, p: &PolicyResult, colour: &str, cur: &str) {
    let Some(cash) = &p.cash else { return };
    if cash.months.is_empty() {
        return;
    }
    let minimum = study.company.as_ref().map(|c| c.minimum_cash).and_then(|d| crate::money::to_cents(d, 1.into()));
    let units = |c: i64| c as f64 / 100.0;
    let mut values: Vec<f64> = cash
        .months
        .iter()
        .flat_map(|m| [units(m.cash_quantiles[0]), units(m.cash_quantiles[2]), units(m.baseline_cash)])
        .collect();
    values.extend(minimum.map(units));
    let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let ticks = nice_ticks(lo, hi, 6);
    let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
    let step = if ticks.len() > 1 { ticks[1] - ticks[0] } else { 1.0 };
    let f = &FRAME;
    let n = cash.months.len();
    let x = |m: usize| f.x(if n == 1 { 0.5 } else { m as f64 / (n - 1) as f64 });
    let y = |v: f64| f.y((v - lo) / (hi - lo));
    open_chart(h, &format!("Month-end cash: {} ({})", p.name, s.name), "cash");
    for &v in &ticks {
        let _ = write!(
            h,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{yv:.1}\" y2=\"{yv:.1}\" stroke=\"#eef1f5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            f.left,
            f.w - f.right,
            f.left - 4.0,
            y(v) + 4.0,
            tick_amount(v, step),
            yv = y(v),
        );
    }
    for (m, info) in s.months.iter().enumerate().filter(|(m, _)| n <= 12 || m % 3 == 0) {
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}-{:02}</text>",
            x(m),
            f.h - f.bottom + 14.0,
            info.start.year() % 100,
            info.start.month() as u8
        );
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">month; y: month-end cash ({cur})</text>",
        f.x(0.5),
        f.h - f.bottom + 27.0
    );
    let mut band = String::new();
    for (m, mc) in cash.months.iter().enumerate() {
        let _ = write!(band, "{:.1},{:.1} ", x(m), y(units(mc.cash_quantiles[2])));
    }
    for (m, mc) in cash.months.iter().enumerate().rev() {
        let _ = write!(band, "{:.1},{:.1} ", x(m), y(units(mc.cash_quantiles[0])));
    }
    let _ = write!(
        h,
        "<polygon class=\"fan\" fill=\"{colour}\" fill-opacity=\"0.18\" stroke=\"none\" points=\"{}\"/>",
        band.trim_end()
    );
    let line = |q: &dyn Fn(&crate::run::MonthCash) -> i64| -> String {
        cash.months
            .iter()
            .enumerate()
            .map(|(m, mc)| format!("{:.1},{:.1}", x(m), y(units(q(mc)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = write!(
        h,
        "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
        line(&|m| m.cash_quantiles[1])
    );
    let _ = write!(
        h,
        "<polyline fill=\"none\" stroke=\"#39424e\" stroke-width=\"1.4\" stroke-dasharray=\"5 3\" points=\"{}\"/>",
        line(&|m| m.baseline_cash)
    );
    let mut legend = vec![("median, 5–95% band".to_owned(), colour, false), ("baseline".to_owned(), "#39424e", true)];
    if let Some(min) = minimum {
        let _ = write!(
            h,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c1121f\" stroke-width=\"1.4\"/>",
            f.left,
            f.w - f.right,
            y(units(min)),
            y(units(min))
        );
        legend.push(("minimum cash".to_owned(), "#c1121f", false));
    }
    close_chart(h, &legend);
}

/// Each policy against "none": premium, expected claims, net loss and total cost, ES 99 net and
/// its reduction, and how often the policy pays back its premium.
fn policy_comparison(h: &mut String, s: &ScenarioResult, cur: &str) {
    let Some(none) = s.policies.first() else { return };
    let _ = write!(
        h,
        "<h3>Policy comparison</h3>\n<p class=\"desc\">In {cur}; grey: Monte Carlo standard errors, figures rounded \
         to what they support (the premium is exact).</p>\n<table class=\"policies\"><thead><tr><th>Policy</th>\
         <th>Premium</th><th>Expected claims</th><th>Expected net loss</th><th>Expected total cost</th>\
         <th>ES 99 net</th><th>ES 99 reduction</th><th>P(claims repay the premium)</th></tr></thead><tbody>\n"
    );
    let es_none = none.measures[NET].es[AT_99];
    for p in &s.policies {
        let es = p.measures[NET].es[AT_99];
        let reduction = if es_none > 0 { pct((es_none - es) as f64 / es_none as f64) } else { "—".into() };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&p.name),
            money(p.premium as i128, cur),
            mean_cell(&p.measures[CLAIMS]),
            mean_cell(&p.measures[NET]),
            mean_cell(&p.measures[COST]),
            cell(es as f64, p.measures[NET].es_std_error[AT_99]),
            reduction,
            p.p_pays_back.map_or("—".into(), pct)
        );
    }
    h.push_str("</tbody></table>\n");
}

/// Every two policies against each other on the same trials (policy_differences.csv): the
/// second minus the first, each difference with its paired standard error, marked when it is
/// within the Monte Carlo noise.
fn policy_pairs(h: &mut String, s: &ScenarioResult, cur: &str) {
    if s.policy_pairs.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h3>Policies against each other</h3>\n<p class=\"desc\">The second policy minus the first, in {cur}, on \
         the same trials, with the standard error of the paired difference; \"noise\" marks a difference smaller \
         than two standard errors.</p>\n<table class=\"pairs\"><thead><tr><th>Policy</th><th>against</th>\
         <th>Expected total cost</th><th>ES 99 net</th><th>P(shortfall)</th></tr></thead><tbody>\n"
    );
    let signed = |d: &crate::stats::PairedAmount| {
        let (v, e) = with_error(d.diff as f64 / 100.0, d.std_error / 100.0);
        let sign = if d.diff > 0 { "+" } else { "" };
        let noise = if d.significant() { "" } else { " <span class=\"se\">noise</span>" };
        format!("{sign}{v} <span class=\"se\">± {e}</span>{noise}")
    };
    for d in &s.policy_pairs {
        let shortfall = d.p_shortfall.as_ref().map_or("—".to_owned(), |x| {
            let (v, e) = percent_with_error(x.diff, x.std_error);
            let sign = if x.diff > 0.0 { "+" } else { "" };
            let noise = if x.significant() { "" } else { " <span class=\"se\">noise</span>" };
            format!("{sign}{v} <span class=\"se\">± {e}</span>{noise}")
        });
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.policies[d.b].name),
            esc(&s.policies[d.a].name),
            signed(&d.total_cost),
            signed(&d.es_99_net_loss),
            shortfall
        );
    }
    h.push_str("</tbody></table>\n");
}

/// The buyers contributing most to ES 99 of the gross loss, with their contribution to each
/// policy's net ES 99 (rounded as in contributions.csv, so the columns add up over all buyers).
fn contributors(h: &mut String, study: &Study, s: &ScenarioResult, cur: &str) {
    let alts = &s.contributions.alternatives;
    let Some(gross) = alts.first() else { return };
    let columns: Vec<Vec<i128>> = alts.iter().map(|a| apportion(&a.tail_sum, a.tail_divisor)).collect();
    let total = mean_cents(gross.tail_sum.iter().sum(), gross.tail_divisor);
    let mut order: Vec<usize> = (0..gross.tail_sum.len()).filter(|&b| columns[0][b] != 0).collect();
    order.sort_by(|&a, &b| columns[0][b].cmp(&columns[0][a]).then(a.cmp(&b)));
    order.truncate(TOP);
    let _ = write!(
        h,
        "<h3>Top {TOP} contributors to ES 99</h3>\n<table class=\"contributors\"><thead><tr><th>Buyer</th><th>Name</th>\
         <th>Country</th><th>Sector</th><th>ES 99 gross</th><th>Share</th>"
    );
    for p in s.policies.iter().skip(1) {
        let _ = write!(h, "<th>ES 99 net: {}</th>", esc(&p.name));
    }
    h.push_str("</tr></thead><tbody>\n");
    for &b in &order {
        let buyer = &study.portfolio.buyers[b];
        let share = if total > 0 { pct(columns[0][b] as f64 / total as f64) } else { "—".into() };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(&buyer.id),
            esc(&buyer.name),
            esc(&buyer.country),
            esc(&buyer.sector),
            money(columns[0][b], cur),
            share
        );
        for col in columns.iter().skip(1) {
            let _ = write!(h, "<td class=\"n\">{}</td>", money(col[b], cur));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
}

/// Concentration, insured share and exposure above limits, then the largest slices.
fn portfolio_section(h: &mut String, p: &Summary, cur: &str) {
    let t = &p.total;
    let share = |x: i64| if t.exposure > 0 { pct(x as f64 / t.exposure as f64) } else { "—".into() };
    let _ = write!(
        h,
        "<section id=\"portfolio\"><h2>Portfolio</h2>\n<table class=\"portfolio\"><tbody>\
         <tr><th>Buyers</th><td class=\"n\">{}</td></tr><tr><th>Insured buyers</th><td class=\"n\">{}</td></tr>\
         <tr><th>Exposure</th><td class=\"n\">{}</td></tr><tr><th>Insured exposure (within limits)</th><td class=\"n\">{} ({})</td></tr>\
         <tr><th>Exposure above limits</th><td class=\"n\">{} ({})</td></tr><tr><th>Monthly sales</th><td class=\"n\">{}</td></tr>\
         <tr><th>HHI buyers / groups</th><td class=\"n\">{:.4} / {:.4}</td></tr></tbody></table>\n",
        group_thousands(&t.buyers.to_string()),
        group_thousands(&p.insured_buyers.to_string()),
        money(t.exposure as i128, cur),
        money(t.insured_exposure as i128, cur),
        share(t.insured_exposure),
        money(t.above_limit as i128, cur),
        share(t.above_limit),
        money(t.monthly_sales as i128, cur),
        p.hhi_buyers,
        p.hhi_groups
    );
    let mut sections: Vec<&str> = p.rows.iter().map(|r| r.section).collect();
    sections.dedup();
    for section in sections {
        let mut rows: Vec<_> = p.rows.iter().filter(|r| r.section == section).collect();
        rows.sort_by(|a, b| b.slice.exposure.cmp(&a.slice.exposure).then(a.key.cmp(&b.key)));
        let shown = rows.len().min(TOP);
        let _ = write!(
            h,
            "<h3>By {} (largest {shown} of {})</h3>\n<table class=\"slices\"><thead><tr><th>{}</th><th>Buyers</th><th>Exposure</th>\
             <th>Share</th><th>Insured</th><th>Above limits</th></tr></thead><tbody>\n",
            esc(section),
            rows.len(),
            esc(section)
        );
        for r in rows.into_iter().take(TOP) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&r.key),
                r.slice.buyers,
                money(r.slice.exposure as i128, cur),
                share(r.slice.exposure),
                money(r.slice.insured_exposure as i128, cur),
                money(r.slice.above_limit as i128, cur)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
}

/// What produced the run: version, seed, trials and every input's SHA-256.
fn provenance(h: &mut String, study: &Study, r: &RunResult) {
    let _ = write!(
        h,
        "<section id=\"provenance\"><h2>Inputs and run</h2>\n<p class=\"desc\">arstress {} · seed {} · {} trials per scenario{}. \
         The same inputs, seed and trials give the same figures on any machine and thread count.</p>\n\
         <table class=\"inputs\"><thead><tr><th>Input</th><th>SHA-256</th></tr></thead><tbody>\n",
        env!("CARGO_PKG_VERSION"),
        r.seed,
        group_thousands(&r.trials.to_string()),
        r.tail_shift.map_or(String::new(), |s| format!(" · tail sampling, shift {s:.3}"))
    );
    let base = study.inputs.first().and_then(|f| f.path.parent()).map(|p| p.to_path_buf()).unwrap_or_default();
    for f in &study.inputs {
        let rel = f.path.strip_prefix(&base).unwrap_or(&f.path);
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&rel.to_string_lossy()),
            esc(&f.sha256)
        );
    }
    h.push_str("</tbody></table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_amounts_grouped() {
        assert_eq!(esc("<a href=\"x\">R&D 'co'</a>"), "&lt;a href=&quot;x&quot;&gt;R&amp;D &#39;co&#39;&lt;/a&gt;");
        assert_eq!(esc("上海贸易有限公司"), "上海贸易有限公司");
        assert_eq!(money(123_456_789, "EUR"), "1,234,567.89 EUR");
        assert_eq!(money(-5, "EUR"), "-0.05 EUR");
    }
}
