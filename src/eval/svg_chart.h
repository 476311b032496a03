// eval/svg_chart.h: a small dependency-free SVG 1.1 chart writer for the pictures of the evaluation
// harness: stacked time-series panels (metrics, anomaly scores, thresholds, shaded labelled segments),
// line charts such as F1 against K, and horizontal bar charts such as retraining time per method.
#pragma once

#include <string>
#include <vector>

namespace lara::eval {

// Points that cannot be drawn (a NaN or infinite coordinate, or a non-positive one on a log axis)
// are left out and break their line there. Axis ranges come from the drawable points with a margin
// of 4% of the span at each end (measured in decades on a log axis); a panel with nothing to draw
// gets its axes only. Text is XML-escaped; coordinates are written to 0.1 px. Every member has a
// default initializer so that brace initialization may leave out the trailing ones under -Wextra.

//! One series of a panel.
struct Line {
    std::string label{};           // shown in the panel's legend; empty: not in the legend
    std::vector<double> x{}, y{};  // same length; a NaN y breaks the line
    std::string color{};           // any SVG colour; empty: the next colour of a fixed colour-blind-safe palette
    bool dashed = false;           // e.g. a threshold
    bool markers = false;          // a small circle at each point (for short lines such as F1 against K)
};

//! A shaded x interval [from, to] drawn behind the lines, e.g. a labelled anomaly segment; it is
//! clipped to the panel's x range and does not widen it.
struct Band {
    double from = 0, to = 0;
};

//! One set of axes. Lines longer than 2 points per horizontal pixel are reduced to the lowest and
//! highest point of each pixel column (in their order), so that a 30,000-point series gives a file of
//! tens of kB in which single spikes stay visible.
struct Panel {
    std::string title{}, x_label{}, y_label{};
    std::vector<Line> lines{};
    std::vector<Band> bands{};
    std::string band_label{};           // legend entry of the bands, e.g. "labelled anomaly"; empty: none
    bool log_x = false, log_y = false;  // log axes: non-positive values are dropped
};

//! Panels stacked vertically, sharing the figure width and left edge, each with its own axes (nice
//! 1-2-5 ticks on linear axes; powers of ten on log axes, with 2 and 5 times them across fewer than
//! three powers), title and legend (above the plot, so it never hides data). Lines without a colour
//! take the palette's colours in order, from the first in each panel. Returns the SVG document.
//! Throws lara::Error (usage) for a line whose x and y differ in length, naming the panel and the line,
//! and for a width under 200 or a panel height under 100.
std::string svg_figure(const std::string& title, const std::vector<Panel>& panels, int width = 960,
                       int panel_height = 240);

//! One bar of a bar chart.
struct Bar {
    std::string label{};
    double value = 0;
    std::string color{};  // empty: the i-th palette colour for the i-th bar, so bars match the lines of a
                          // figure whose methods come in the same order
};

//! Horizontal bars, one row per item in the given order from the top, with the label on the left and
//! the value printed at the end of each bar. Linear bars start at 0; with log_x (for values spanning
//! decades) they start at a power of ten at least 0.3 decades below the smallest value, and a
//! non-positive value keeps its row and printed value but has no bar. Throws lara::Error (usage) for a
//! width under 200.
std::string svg_bars(const std::string& title, const std::string& x_label, const std::vector<Bar>& bars, bool log_x,
                     int width = 720);

}  // namespace lara::eval
