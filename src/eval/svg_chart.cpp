// eval/svg_chart.cpp: the SVG chart writer: axis ranges and ticks, layout (margins, legends, stacked
// panels), reduction of long lines, and the SVG text itself.
#include "eval/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/read_file.h"
#include "lara/error.h"

namespace lara::eval {
namespace {

// Okabe & Ito's colour-blind-safe palette, without its yellow, which is too faint on white.
const char* const kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
constexpr std::size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];

constexpr double kMargin = 0.04;  // of an axis span, added at each end so that no point sits on the frame
constexpr double kFont = 11;      // ticks, legends and axis labels; the root element's font-size
constexpr double kTitleFont = 13;
constexpr double kFigureTitleFont = 16;
constexpr double kRightMargin = 20;  // room for half of the last x tick label
constexpr double kLegendRow = 16;
constexpr double kLegendGap = 14;  // between legend entries
constexpr double kSwatch = 24;     // a legend entry's sample and the space after it

std::string palette_color(std::size_t i) { return kPalette[i % kPaletteSize]; }

// Coordinates to 0.1 px, without a trailing ".0" or a "-0", to keep files small.
std::string px(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", v);
    std::string s = buffer;
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s == "-0" ? "0" : s;
}

// Also drops the control characters that XML 1.0 forbids even when escaped.
std::string escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
        }
    }
    return out;
}

// There is no font metrics here: sans-serif glyphs average about 0.6 em, and a character is a code
// point, not a UTF-8 byte.
double text_width(const std::string& text, double font_size) {
    return 0.6 * font_size * static_cast<double>(core::code_points(text));
}

// anchor: "start", "middle" or "end"; extra: more attributes, each with a leading space.
void text(std::string& out, double x, double y, const std::string& s, const std::string& anchor,
          const std::string& extra = "") {
    out += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"";
    if (anchor != "start") out += " text-anchor=\"" + anchor + "\"";
    out += extra + ">" + escape(s) + "</text>\n";
}

void segment(std::string& out, double x1, double y1, double x2, double y2) {
    out += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\"/>\n";
}

void rect(std::string& out, const std::string& cls, double x, double y, double w, double h, const std::string& extra = "") {
    out += "<rect class=\"" + cls + "\" x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
           "\"" + extra + "/>\n";
}

bool drawable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// A data interval mapped onto the pixels p0 (its low end) to p1, linearly or linearly in log10. lo < hi
// are in scaled units: the values themselves, or their log10.
struct Axis {
    bool log = false;
    double lo = 0, hi = 1;
    double p0 = 0, p1 = 1;

    double scale(double v) const { return log ? std::log10(v) : v; }
    double pixel(double scaled) const { return p0 + (scaled - lo) / (hi - lo) * (p1 - p0); }
    double map(double v) const { return pixel(scale(v)); }
};

// Spans [min, max] of drawable values (none when min > max) with kMargin at each end.
Axis make_axis(double min, double max, bool log) {
    Axis axis;
    axis.log = log;
    if (min > max) return axis;  // nothing to draw: [0, 1], or [1, 10] on a log axis
    double lo = axis.scale(min), hi = axis.scale(max);
    if (lo == hi) {  // a constant: centre it, in a span of its own size, or of 1 around 0 or a decade on a log axis
        const double half = log ? 0.5 : lo == 0 ? 1 : std::abs(lo) * 0.1;
        lo -= half;
        hi += half;
    }
    const double pad = (hi - lo) * kMargin;
    axis.lo = lo - pad;
    axis.hi = hi + pad;
    return axis;
}

struct Tick {
    double value;  // data units
    std::string label;
};

double nice_step(double span, double target) {
    const double raw = span / std::max(target, 1.0);
    const double magnitude = std::pow(10, std::floor(std::log10(raw)));
    const double n = raw / magnitude;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
}

std::string linear_label(double v, double step) {
    if (std::abs(v) < step * 1e-6) v = 0;  // not "-0" or "1e-17" where the multiple of the step missed 0
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    char buffer[40];
    if (std::abs(v) >= 1e7 || decimals > 6)
        std::snprintf(buffer, sizeof buffer, "%g", v);
    else
        std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    return buffer;
}

// Multiples of a 1-2-5 step in [lo, hi], about target of them.
std::vector<Tick> linear_ticks(double lo, double hi, double target) {
    const double step = nice_step(hi - lo, target);
    const double first = std::ceil(lo / step - 1e-9);
    const double count = std::floor(hi / step + 1e-9) - first + 1;
    std::vector<Tick> ticks;
    // The cap guards against a span so small beside its values that counting steps loses precision.
    for (int i = 0; i < count && i < 100; ++i) ticks.push_back({(first + i) * step, linear_label((first + i) * step, step)});
    return ticks;
}

// m 10^k for m = 1, 2 or 5.
std::string log_label(int m, int k) {
    if (k < -4 || k > 6) return std::to_string(m) + "e" + std::to_string(k);
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "%.*f", std::max(0, -k), m * std::pow(10, k));
    return buffer;
}

std::vector<Tick> ticks_for(const Axis& axis, double target) {
    if (!axis.log) return linear_ticks(axis.lo, axis.hi, target);
    const int first = static_cast<int>(std::ceil(axis.lo - 1e-9)), last = static_cast<int>(std::floor(axis.hi + 1e-9));
    // Within about a decade there are too few powers of ten; plain ticks, logarithmically placed, read well.
    if (last - first < 1) return linear_ticks(std::pow(10, axis.lo), std::pow(10, axis.hi), target);
    // Across fewer than three powers of ten those alone are sparse: 2 and 5 times them fill in.
    const bool fill = last - first < 2;
    const int stride = fill ? 1 : std::max(1, static_cast<int>(std::ceil((last - first + 1) / std::max(target, 1.0))));
    std::vector<Tick> ticks;
    for (int k = fill ? first - 1 : first; k <= last; k += stride) {
        for (int m : {1, 2, 5}) {
            const double v = m * std::pow(10, k);
            if (std::log10(v) >= axis.lo - 1e-9 && std::log10(v) <= axis.hi + 1e-9) ticks.push_back({v, log_label(m, k)});
            if (!fill) break;
        }
    }
    return ticks;
}

struct Point {
    double x, y;
};

// The drawable points of a line in pixels, in runs split where a point cannot be drawn.
std::vector<std::vector<Point>> runs_of(const Line& line, const Axis& x, const Axis& y) {
    std::vector<std::vector<Point>> runs(1);
    for (std::size_t i = 0; i < line.x.size(); ++i) {
        if (drawable(line.x[i], x.log) && drawable(line.y[i], y.log))
            runs.back().push_back({x.map(line.x[i]), y.map(line.y[i])});
        else if (!runs.back().empty())
            runs.emplace_back();
    }
    if (runs.back().empty()) runs.pop_back();
    return runs;
}

// Of each stretch of consecutive points in one pixel column, keeps the highest and the lowest, in
// their order: the drawing looks the same, spikes included, with at most 2 points per column.
std::vector<Point> column_extremes(const std::vector<Point>& run) {
    std::vector<Point> out;
    for (std::size_t begin = 0; begin < run.size();) {
        const double column = std::floor(run[begin].x);
        std::size_t end = begin, low = begin, high = begin;
        for (; end < run.size() && std::floor(run[end].x) == column; ++end) {
            if (run[end].y > run[low].y) low = end;  // pixel y grows downwards
            if (run[end].y < run[high].y) high = end;
        }
        out.push_back(run[std::min(low, high)]);
        if (low != high) out.push_back(run[std::max(low, high)]);
        begin = end;
    }
    return out;
}

void circle(std::string& out, const Point& p, double r, const std::string& color) {
    out += "<circle cx=\"" + px(p.x) + "\" cy=\"" + px(p.y) + "\" r=\"" + px(r) + "\" fill=\"" + color + "\" stroke=\"none\"/>\n";
}

void draw_line(std::string& out, const Line& line, const std::string& color, const Axis& x, const Axis& y) {
    std::vector<std::vector<Point>> runs = runs_of(line, x, y);
    std::size_t points = 0;
    for (const auto& run : runs) points += run.size();
    const bool reduce = static_cast<double>(points) > 2 * std::abs(x.p1 - x.p0);
    out += "<g fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\" stroke-linejoin=\"round\"";
    if (line.dashed) out += " stroke-dasharray=\"6 4\"";
    out += ">\n";
    for (auto& run : runs) {
        if (reduce) run = column_extremes(run);
        if (run.size() == 1 && !line.markers) circle(out, run[0], 2, color);  // a polyline of one point is invisible
        if (run.size() > 1) {
            out += "<polyline points=\"";
            for (std::size_t i = 0; i < run.size(); ++i) out += (i ? " " : "") + px(run[i].x) + "," + px(run[i].y);
            out += "\"/>\n";
        }
        if (line.markers)
            for (const Point& p : run) circle(out, p, 3, color);
    }
    out += "</g>\n";
}

struct LegendEntry {
    std::string label, color;
    bool dashed = false, markers = false, band = false;
    double width() const { return kSwatch + text_width(label, kFont) + kLegendGap; }
};

// Rows of legend entries, indices in order: the first row shares the title's line and gets
// first_room, where it may be too small for any entry; the others get room, and take at least one.
std::vector<std::vector<std::size_t>> legend_rows(const std::vector<LegendEntry>& entries, double first_room, double room) {
    std::vector<std::vector<std::size_t>> rows(1);
    double used = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const double capacity = rows.size() == 1 ? first_room : room;
        if (used + entries[i].width() - kLegendGap > capacity && (!rows.back().empty() || rows.size() == 1)) {
            rows.emplace_back();
            used = 0;
        }
        rows.back().push_back(i);
        used += entries[i].width();
    }
    return rows;
}

// Each row right-aligned with the plot, the first on the title's baseline.
void draw_legend(std::string& out, const std::vector<LegendEntry>& entries, const std::vector<std::vector<std::size_t>>& rows,
                 double right, double baseline) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
        double row_width = -kLegendGap;
        for (std::size_t i : rows[r]) row_width += entries[i].width();
        double x = right - row_width;
        const double y = baseline + kLegendRow * static_cast<double>(r), middle = y - kFont * 0.35;
        for (std::size_t i : rows[r]) {
            const LegendEntry& e = entries[i];
            if (e.band) {
                rect(out, "swatch", x, middle - 5, 18, 10, " fill=\"#000000\" fill-opacity=\"0.12\"");
            } else {
                out += "<g stroke=\"" + e.color + "\" stroke-width=\"1.5\"" + (e.dashed ? " stroke-dasharray=\"6 4\"" : "") + ">";
                segment(out, x, middle, x + 18, middle);
                out += "</g>\n";
                if (e.markers) circle(out, {x + 9, middle}, 3, e.color);
            }
            text(out, x + kSwatch, y, e.label, "start");
            x += e.width();
        }
    }
}

std::string svg_open(double width, double height) {
    const std::string w = px(width), h = px(height);
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w +
           "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h + "\" font-family=\"sans-serif\" font-size=\"" + px(kFont) +
           "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

void draw_title(std::string& out, const std::string& title, double width) {
    if (!title.empty())
        text(out, width / 2, 22, title, "middle", " font-size=\"" + px(kFigureTitleFont) + "\" font-weight=\"bold\"");
}

// Light grid lines at the ticks, behind the data.
void draw_grid(std::string& out, const Axis& x, const std::vector<Tick>& x_ticks, const Axis& y,
               const std::vector<Tick>& y_ticks) {
    out += "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
    for (const Tick& t : x_ticks) segment(out, x.map(t.value), y.p0, x.map(t.value), y.p1);
    for (const Tick& t : y_ticks) segment(out, x.p0, y.map(t.value), x.p1, y.map(t.value));
    out += "</g>\n";
}

// The frame, tick marks and tick labels, over the data.
void draw_axes(std::string& out, const Axis& x, const std::vector<Tick>& x_ticks, const Axis& y,
               const std::vector<Tick>& y_ticks) {
    rect(out, "plot", x.p0, y.p1, x.p1 - x.p0, y.p0 - y.p1, " fill=\"none\" stroke=\"#333333\"");
    out += "<g stroke=\"#333333\">\n";
    for (const Tick& t : x_ticks) segment(out, x.map(t.value), y.p0, x.map(t.value), y.p0 + 4);
    for (const Tick& t : y_ticks) segment(out, x.p0 - 4, y.map(t.value), x.p0, y.map(t.value));
    out += "</g>\n";
    for (const Tick& t : x_ticks) text(out, x.map(t.value), y.p0 + 4 + kFont, t.label, "middle");
    for (const Tick& t : y_ticks) text(out, x.p0 - 7, y.map(t.value) + kFont * 0.35, t.label, "end");
}

// Clipped to the x range, and at least 1 px wide so that a one-row segment of a long series shows.
void draw_bands(std::string& out, const std::vector<Band>& bands, const Axis& x, const Axis& y) {
    if (bands.empty()) return;
    out += "<g fill=\"#000000\" fill-opacity=\"0.12\">\n";
    const double minus_inf = -std::numeric_limits<double>::infinity();
    for (const Band& band : bands) {
        if (std::isnan(band.from) || std::isnan(band.to)) continue;
        const double a = std::min(band.from, band.to), b = std::max(band.from, band.to);
        const double sa = x.log && a <= 0 ? minus_inf : x.scale(a), sb = x.log && b <= 0 ? minus_inf : x.scale(b);
        if (sb < x.lo || sa > x.hi) continue;
        const double left = x.pixel(std::max(sa, x.lo)), width = std::max(1.0, x.pixel(std::min(sb, x.hi)) - left);
        rect(out, "band", std::min(left, x.p1 - width), y.p1, width, y.p0 - y.p1);
    }
    out += "</g>\n";
}

// Three significant digits, but whole numbers from 100 to a million in full (1234, not 1.23e+03).
std::string value_label(double v) {
    char buffer[40];
    if (std::abs(v) >= 100 && std::abs(v) < 1e6)
        std::snprintf(buffer, sizeof buffer, "%.0f", v);
    else
        std::snprintf(buffer, sizeof buffer, "%.3g", v);
    return buffer;
}


}  // namespace

std::string svg_figure(const std::string& title, const std::vector<Panel>& panels, int width, int panel_height) {
    if (width < 200 || panel_height < 100)
        throw Error(ErrorKind::usage, "an SVG figure needs a width of at least 200 and a panel height of at least 100, not " +
                                          std::to_string(width) + " and " + std::to_string(panel_height));
    for (const Panel& panel : panels) {
        for (const Line& l : panel.lines) {
            if (l.x.size() != l.y.size())
                throw Error(ErrorKind::usage, "panel \"" + panel.title + "\": line \"" + l.label + "\" has " +
                                                  std::to_string(l.x.size()) + " x values but " + std::to_string(l.y.size()) +
                                                  " y values");
        }
    }

    std::vector<Axis> xs, ys;
    std::vector<std::vector<Tick>> y_ticks;
    double tick_width = 0;
    bool any_y_label = false;
    for (const Panel& panel : panels) {
        const double inf = std::numeric_limits<double>::infinity();
        double x_min = inf, x_max = -inf, y_min = inf, y_max = -inf;
        for (const Line& l : panel.lines) {
            for (std::size_t i = 0; i < l.x.size(); ++i) {
                if (!drawable(l.x[i], panel.log_x) || !drawable(l.y[i], panel.log_y)) continue;
                x_min = std::min(x_min, l.x[i]);
                x_max = std::max(x_max, l.x[i]);
                y_min = std::min(y_min, l.y[i]);
                y_max = std::max(y_max, l.y[i]);
            }
        }
        xs.push_back(make_axis(x_min, x_max, panel.log_x));
        ys.push_back(make_axis(y_min, y_max, panel.log_y));
        // The left margin, shared by all panels, waits on the y tick labels, so these come from an
        // estimate of the plot height, which waits on the legend, which waits on the plot width.
        y_ticks.push_back(ticks_for(ys.back(), (panel_height - 70) / 45.0));
        for (const Tick& t : y_ticks.back()) tick_width = std::max(tick_width, text_width(t.label, kFont));
        any_y_label = any_y_label || !panel.y_label.empty();
    }
    const double left = std::max(40.0, 8 + (any_y_label ? kFont + 8 : 0) + tick_width + 8);
    const double right = width - kRightMargin;

    std::string body;
    double top = title.empty() ? 8 : 34;
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const Panel& panel = panels[p];
        std::vector<LegendEntry> entries;
        std::vector<std::string> colors;
        std::size_t next_color = 0;
        for (const Line& l : panel.lines) {
            colors.push_back(l.color.empty() ? palette_color(next_color++) : escape(l.color));
            if (!l.label.empty()) entries.push_back({l.label, colors.back(), l.dashed, l.markers, false});
        }
        if (!panel.bands.empty() && !panel.band_label.empty()) entries.push_back({panel.band_label, "", false, false, true});
        const double title_room = panel.title.empty() ? 0 : text_width(panel.title, kTitleFont) + 24;
        const auto rows = legend_rows(entries, right - left - title_room, right - left);

        const double baseline = top + 17;
        const double plot_top = baseline + kLegendRow * static_cast<double>(rows.size() - 1) + 12;
        const double bottom_margin = panel.x_label.empty() ? 24 : 40;
        const double height = std::max<double>(panel_height, plot_top - top + 60 + bottom_margin);
        Axis& x = xs[p];
        Axis& y = ys[p];
        x.p0 = left;
        x.p1 = right;
        y.p0 = top + height - bottom_margin;
        y.p1 = plot_top;
        const std::vector<Tick> x_ticks = ticks_for(x, (right - left) / 90);

        body += "<g class=\"panel\">\n";
        if (!panel.title.empty())
            text(body, left, baseline, panel.title, "start", " font-size=\"" + px(kTitleFont) + "\" font-weight=\"bold\"");
        draw_grid(body, x, x_ticks, y, y_ticks[p]);
        draw_bands(body, panel.bands, x, y);
        for (std::size_t i = 0; i < panel.lines.size(); ++i) draw_line(body, panel.lines[i], colors[i], x, y);
        draw_axes(body, x, x_ticks, y, y_ticks[p]);
        if (!panel.x_label.empty()) text(body, (left + right) / 2, y.p0 + 34, panel.x_label, "middle");
        if (!panel.y_label.empty()) {
            const double lx = 8 + kFont, ly = (y.p0 + y.p1) / 2;
            text(body, lx, ly, panel.y_label, "middle", " transform=\"rotate(-90 " + px(lx) + " " + px(ly) + ")\"");
        }
        draw_legend(body, entries, rows, right, baseline);
        body += "</g>\n";
        top += height;
    }

    std::string out = svg_open(width, top + 8);
    draw_title(out, title, width);
    return out + body + "</svg>\n";
}

std::string svg_bars(const std::string& title, const std::string& x_label, const std::vector<Bar>& bars, bool log_x, int width) {
    if (width < 200)
        throw Error(ErrorKind::usage, "an SVG bar chart needs a width of at least 200, not " + std::to_string(width));
    constexpr double row = 26, bar_height = 16;
    std::vector<std::string> values;
    double label_width = 0, value_width = 0;
    const double inf = std::numeric_limits<double>::infinity();
    double min = inf, max = -inf;
    for (const Bar& bar : bars) {
        values.push_back(value_label(bar.value));
        label_width = std::max(label_width, text_width(bar.label, kFont));
        value_width = std::max(value_width, text_width(values.back(), kFont));
        if (!drawable(bar.value, log_x)) continue;
        min = std::min(min, bar.value);
        max = std::max(max, bar.value);
    }
    const double left = std::max(60.0, label_width + 16), right = width - std::max(kRightMargin, value_width + 12);
    const double top = title.empty() ? 12 : 40;
    const double bottom = top + row * static_cast<double>(std::max<std::size_t>(bars.size(), 1));

    Axis x;
    x.log = log_x;
    if (min <= max && log_x) {
        // Whole decades; the smallest bar keeps at least 0.3 decades of length so that it stays visible.
        x.lo = std::floor(std::log10(min) - 0.3);
        x.hi = std::ceil(std::log10(max));
    } else if (min <= max) {
        x.lo = std::min(0.0, min);
        x.hi = std::max(0.0, max);
        const double span = x.hi - x.lo;
        if (span == 0) x.hi = 1;
        if (x.lo < 0) x.lo -= span * kMargin;
        if (x.hi > 0) x.hi += span * kMargin;
    }
    x.p0 = left;
    x.p1 = right;
    Axis y;  // only to draw the frame and the grid
    y.p0 = bottom;
    y.p1 = top;
    const std::vector<Tick> ticks = ticks_for(x, (right - left) / 90);
    const double base = log_x ? x.p0 : x.map(0);

    std::string out = svg_open(width, bottom + (x_label.empty() ? 24 : 40) + 8);
    draw_title(out, title, width);
    draw_grid(out, x, ticks, y, {});
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const double middle = top + row * (static_cast<double>(i) + 0.5);
        text(out, left - 8, middle + kFont * 0.35, bars[i].label, "end");
        double end = base;
        if (drawable(bars[i].value, log_x)) {
            end = x.map(bars[i].value);
            const std::string color = bars[i].color.empty() ? palette_color(i) : escape(bars[i].color);
            rect(out, "bar", std::min(base, end), middle - bar_height / 2, std::abs(end - base), bar_height,
                 " fill=\"" + color + "\"");
        }
        const bool negative = end < base;
        text(out, end + (negative ? -4 : 4), middle + kFont * 0.35, values[i], negative ? "end" : "start");
    }
    draw_axes(out, x, ticks, y, {});
    if (!x_label.empty()) text(out, (left + right) / 2, bottom + 34, x_label, "middle");
    return out + "</svg>\n";
}

}  // namespace lara::eval
