#include "eval/svg_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "lara/error.h"

namespace lara::eval {
namespace {

const double nan = std::numeric_limits<double>::quiet_NaN();

// The opening tags <name ...> or <name/> in document order.
std::vector<std::string> tags(const std::string& svg, const std::string& name) {
    std::vector<std::string> out;
    for (std::size_t at = svg.find("<" + name); at != std::string::npos; at = svg.find("<" + name, at + 1)) {
        const char next = svg[at + 1 + name.size()];
        if (next == ' ' || next == '>' || next == '/') out.push_back(svg.substr(at, svg.find('>', at) - at + 1));
    }
    return out;
}

std::size_t count(const std::string& svg, const std::string& s) {
    std::size_t n = 0;
    for (std::size_t at = svg.find(s); at != std::string::npos; at = svg.find(s, at + 1)) ++n;
    return n;
}

std::string attr(const std::string& tag, const std::string& name) {
    const std::size_t at = tag.find(" " + name + "=\"");
    if (at == std::string::npos) return "";
    const std::size_t begin = at + name.size() + 3;
    return tag.substr(begin, tag.find('"', begin) - begin);
}

double num(const std::string& tag, const std::string& name) { return std::atof(attr(tag, name).c_str()); }

struct Pt {
    double x, y;
};

std::vector<Pt> points(const std::string& polyline) {
    std::vector<Pt> out;
    const std::string text = attr(polyline, "points");
    const char* p = text.c_str();
    char* end = nullptr;
    while (*p) {
        const double x = std::strtod(p, &end);
        const double y = std::strtod(end + 1, &end);  // skips the comma
        out.push_back({x, y});
        p = *end ? end + 1 : end;
    }
    return out;
}

struct Rect {
    double left, top, right, bottom;
};

Rect rect_of(const std::string& tag) {
    return {num(tag, "x"), num(tag, "y"), num(tag, "x") + num(tag, "width"), num(tag, "y") + num(tag, "height")};
}

Rect plot_of(const std::string& svg, std::size_t i = 0) { return rect_of(tags(svg, "rect class=\"plot\"").at(i)); }

void expect_well_formed(const std::string& svg) {
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    ASSERT_EQ(tags(svg, "svg").size(), 1u);
    const std::string root = tags(svg, "svg")[0];
    EXPECT_EQ(attr(root, "xmlns"), "http://www.w3.org/2000/svg");
    EXPECT_EQ(attr(root, "viewBox"), "0 0 " + attr(root, "width") + " " + attr(root, "height"));
    EXPECT_EQ(count(svg, "</svg>"), 1u);
    std::size_t self_closing_g = 0;
    for (const std::string& g : tags(svg, "g")) self_closing_g += g.back() == '>' && g[g.size() - 2] == '/';
    EXPECT_EQ(tags(svg, "g").size() - self_closing_g, count(svg, "</g>"));
    EXPECT_EQ(tags(svg, "text").size(), count(svg, "</text>"));
    // Every other element closes itself.
    for (const char* name : {"rect", "line", "polyline", "circle"})
        for (const std::string& tag : tags(svg, name)) EXPECT_EQ(tag.substr(tag.size() - 2), "/>") << tag;
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_EQ(svg.find("inf"), std::string::npos);
}

Panel panel_of(std::vector<double> x, std::vector<double> y) {
    Panel panel;
    panel.lines.push_back({"", std::move(x), std::move(y), "", false, false});
    return panel;
}

TEST(SvgChart, LinearMappingPutsEndsAtCorners) {
    const std::string svg = svg_figure("", {panel_of({0, 5, 10}, {0, 5, 10})});
    expect_well_formed(svg);
    const Rect plot = plot_of(svg);
    ASSERT_EQ(tags(svg, "polyline").size(), 1u);
    const std::vector<Pt> p = points(tags(svg, "polyline")[0]);
    ASSERT_EQ(p.size(), 3u);
    const double w = plot.right - plot.left, h = plot.bottom - plot.top;
    // First point at the bottom left, last at the top right, each inset by the same small margin.
    EXPECT_GT(p[0].x, plot.left);
    EXPECT_LT(p[0].x - plot.left, 0.1 * w);
    EXPECT_NEAR(p[0].x - plot.left, plot.right - p[2].x, 0.11);
    EXPECT_LT(p[0].y, plot.bottom);
    EXPECT_LT(plot.bottom - p[0].y, 0.1 * h);
    EXPECT_NEAR(plot.bottom - p[0].y, p[2].y - plot.top, 0.11);
    EXPECT_NEAR(p[1].x, (plot.left + plot.right) / 2, 0.11);
    EXPECT_NEAR(p[1].y, (plot.top + plot.bottom) / 2, 0.11);
}

TEST(SvgChart, LogAxesSpaceDecadesEquallyAndDropNonPositive) {
    Panel panel = panel_of({0, 1, 10, 100}, {-5, 1, 10, 100});
    panel.log_x = panel.log_y = true;
    const std::string svg = svg_figure("", {panel});
    expect_well_formed(svg);
    ASSERT_EQ(tags(svg, "polyline").size(), 1u);
    const std::vector<Pt> p = points(tags(svg, "polyline")[0]);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_NEAR(p[1].x - p[0].x, p[2].x - p[1].x, 0.11);
    EXPECT_NEAR(p[0].y - p[1].y, p[1].y - p[2].y, 0.11);
    EXPECT_GT(p[1].x - p[0].x, 100);
    // Tick labels at the powers of ten.
    for (const char* label : {">1</text>", ">10</text>", ">100</text>"}) EXPECT_EQ(count(svg, label), 2u) << label;
}

// The x position of the tick label that reads exactly label.
double label_x(const std::string& svg, const std::string& label) {
    const std::size_t at = svg.find(">" + label + "</text>");
    if (at == std::string::npos) return nan;
    const std::size_t open = svg.rfind("<text", at);
    return num(svg.substr(open, at - open + 1), "x");
}

TEST(SvgChart, LogAxisAddsTwoAndFiveAcrossFewDecades) {
    Panel panel = panel_of({100, 5000}, {1, 2});
    panel.log_x = true;
    const std::string svg = svg_figure("", {panel});
    expect_well_formed(svg);
    const double decade = label_x(svg, "1000") - label_x(svg, "100");
    EXPECT_GT(decade, 100);
    EXPECT_NEAR(label_x(svg, "200") - label_x(svg, "100"), decade * std::log10(2), 0.2);
    EXPECT_NEAR(label_x(svg, "5000") - label_x(svg, "1000"), decade * std::log10(5), 0.2);
    EXPECT_NEAR(label_x(svg, "500") - label_x(svg, "100"), decade * std::log10(5), 0.2);
    EXPECT_TRUE(std::isnan(label_x(svg, "50")));  // outside the range
}

TEST(SvgChart, NanBreaksLine) {
    const std::string svg = svg_figure("", {panel_of({0, 1, 2, 3, 4, 5, 6}, {1, 2, nan, 3, 4, nan, 5})});
    expect_well_formed(svg);
    const auto lines = tags(svg, "polyline");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(points(lines[0]).size(), 2u);
    EXPECT_EQ(points(lines[1]).size(), 2u);
    EXPECT_LT(points(lines[0])[1].x, points(lines[1])[0].x);
    // The lone last point is still drawn, as a dot.
    EXPECT_EQ(tags(svg, "circle").size(), 1u);
}

TEST(SvgChart, LongLineReducedToColumnExtremesKeepsSpike) {
    std::vector<double> x(30000), y(30000);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<double>(i);
        y[i] = std::sin(static_cast<double>(i) * 0.37);  // in [-1, 1]
    }
    y[12345] = 100;
    const std::string svg = svg_figure("spike", {panel_of(x, y)});
    expect_well_formed(svg);
    EXPECT_LT(svg.size(), 100000u);
    const Rect plot = plot_of(svg);
    ASSERT_EQ(tags(svg, "polyline").size(), 1u);
    const std::vector<Pt> p = points(tags(svg, "polyline")[0]);
    EXPECT_LE(p.size(), 2 * static_cast<std::size_t>(plot.right - plot.left) + 4);
    EXPECT_GT(p.size(), static_cast<std::size_t>(plot.right - plot.left));
    double highest = plot.bottom, lowest = plot.top;
    for (const Pt& q : p) {
        highest = std::min(highest, q.y);
        lowest = std::max(lowest, q.y);
    }
    // The spike (the maximum) sits as far below the top as the minimum sits above the bottom.
    EXPECT_NEAR(highest - plot.top, plot.bottom - lowest, 0.11);
    EXPECT_LT(highest - plot.top, 0.1 * (plot.bottom - plot.top));
    // Where the spike is: x of row 12345.
    const double spike_x = p[0].x + (p.back().x - p[0].x) * 12345 / 29999;
    bool found = false;
    for (const Pt& q : p) found = found || (q.y == highest && std::abs(q.x - spike_x) < 0.2);
    EXPECT_TRUE(found);
}

TEST(SvgChart, EscapesText) {
    Panel panel = panel_of({0, 1}, {0, 1});
    panel.title = "it's \"old\"";
    panel.lines[0].label = "a & b <c>";
    const std::string svg = svg_figure("R&D <1>", {panel});
    expect_well_formed(svg);
    EXPECT_NE(svg.find(">R&amp;D &lt;1&gt;</text>"), std::string::npos);
    EXPECT_NE(svg.find(">a &amp; b &lt;c&gt;</text>"), std::string::npos);
    EXPECT_NE(svg.find(">it&apos;s &quot;old&quot;</text>"), std::string::npos);
    EXPECT_EQ(svg.find("a & b"), std::string::npos);
    EXPECT_EQ(svg.find("<c>"), std::string::npos);
}

TEST(SvgChart, BandsClippedToXRange) {
    Panel panel = panel_of({0, 100}, {0, 1});
    panel.bands = {{-50, 10}, {40, 60}, {90, 500}, {200, 300}, {70, 70}};
    panel.band_label = "labelled anomaly";
    const std::string svg = svg_figure("", {panel});
    expect_well_formed(svg);
    const Rect plot = plot_of(svg);
    const auto bands = tags(svg, "rect class=\"band\"");
    ASSERT_EQ(bands.size(), 4u);  // [200, 300] lies outside
    const Rect first = rect_of(bands[0]), middle = rect_of(bands[1]), last = rect_of(bands[2]), point = rect_of(bands[3]);
    EXPECT_NEAR(first.left, plot.left, 0.11);
    EXPECT_NEAR(last.right, plot.right, 0.11);
    EXPECT_NEAR(first.top, plot.top, 0.11);
    EXPECT_NEAR(first.bottom, plot.bottom, 0.11);
    // The axis spans 108 units (100 and 4% at each end).
    EXPECT_NEAR(middle.right - middle.left, (plot.right - plot.left) * 20 / 108, 0.2);
    EXPECT_NEAR((middle.left + middle.right) / 2, (plot.left + plot.right) / 2, 0.2);
    EXPECT_NEAR(point.right - point.left, 1, 0.01);  // a zero-width band still shows
    EXPECT_NE(svg.find(">labelled anomaly</text>"), std::string::npos);
}

TEST(SvgChart, MismatchedLengthsThrow) {
    Panel panel = panel_of({0, 1, 2}, {0, 1});
    panel.title = "old model";
    panel.lines[0].label = "score";
    try {
        svg_figure("", {panel_of({0}, {0}), panel});
        FAIL() << "expected lara::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("old model"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("score"), std::string::npos) << e.what();
    }
    EXPECT_THROW(svg_figure("", {}, 100), Error);
}

TEST(SvgChart, DegenerateInputsDrawAxesOnly) {
    Panel empty;
    Panel empty_line = panel_of({}, {});
    Panel all_nan = panel_of({0, 1, 2}, {nan, nan, nan});
    all_nan.log_y = true;
    Panel constant = panel_of({0, 1, 2}, {3, 3, 3});
    Panel constant_zero = panel_of({5, 5}, {0, 0});
    const std::string svg = svg_figure("degenerate", {empty, empty_line, all_nan, constant, constant_zero});
    expect_well_formed(svg);
    EXPECT_EQ(tags(svg, "rect class=\"plot\"").size(), 5u);
    ASSERT_EQ(tags(svg, "polyline").size(), 2u);
    const Rect plot = plot_of(svg, 3);
    for (const Pt& p : points(tags(svg, "polyline")[0])) EXPECT_NEAR(p.y, (plot.top + plot.bottom) / 2, 0.11);
    const Rect zero_plot = plot_of(svg, 4);
    const std::vector<Pt> p = points(tags(svg, "polyline")[1]);
    EXPECT_NEAR(p[0].x, (zero_plot.left + zero_plot.right) / 2, 0.11);
    EXPECT_NEAR(p[0].y, (zero_plot.top + zero_plot.bottom) / 2, 0.11);
    expect_well_formed(svg_bars("", "", {}, true));
    expect_well_formed(svg_figure("", {}));
}

TEST(SvgChart, PanelsStackWithLegendAboveData) {
    Panel metrics = panel_of({0, 1, 2}, {1, 3, 2});
    metrics.lines[0].label = "cpu";
    metrics.lines.push_back({"", {0, 1, 2}, {2, 2, 1}, "", false, false});
    Panel score = panel_of({0, 1, 2}, {0.1, 0.9, 0.2});
    score.lines[0].label = "score";
    score.lines.push_back({"threshold", {0, 2}, {0.5, 0.5}, "#444", true, false});
    score.title = "old model";
    const std::string svg = svg_figure("test series", {metrics, score, score}, 800, 200);
    expect_well_formed(svg);
    EXPECT_EQ(attr(tags(svg, "svg")[0], "width"), "800");
    std::vector<Rect> plots;
    for (const std::string& tag : tags(svg, "rect class=\"plot\"")) plots.push_back(rect_of(tag));
    ASSERT_EQ(plots.size(), 3u);
    for (std::size_t i = 1; i < plots.size(); ++i) {
        EXPECT_GT(plots[i].top, plots[i - 1].bottom);
        EXPECT_EQ(plots[i].left, plots[0].left);
        EXPECT_EQ(plots[i].right, plots[0].right);
    }
    // Legend entries sit above their plots; the unlabelled line has none.
    for (const std::string& label : {std::string("cpu"), std::string("threshold")}) {
        const std::size_t at = svg.find(">" + label + "</text>");
        ASSERT_NE(at, std::string::npos);
        const std::size_t open = svg.rfind("<text", at);
        EXPECT_LT(num(svg.substr(open, at - open + 1), "y"), label == "cpu" ? plots[0].top : plots[1].top);
    }
    EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
    // Unset colours take the palette in order; the given one and the dash are used.
    EXPECT_EQ(count(svg, "stroke=\"#0072B2\""), 1u + 1 + 2 + 2);  // lines and their legend samples
    EXPECT_EQ(count(svg, "stroke=\"#D55E00\""), 1u);
    EXPECT_EQ(count(svg, "stroke=\"#444\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-dasharray=\"6 4\""), 2u);
}

TEST(SvgChart, MarkersAtEachPoint) {
    Panel panel;
    panel.title = "F1 against K";
    panel.lines.push_back({"lara", {100, 200, 400, 800}, {0.5, 0.6, 0.7, 0.72}, "", false, true});
    panel.lines.push_back({"retrain all", {100, 200, 400, 800}, {0.4, 0.55, 0.6, nan}, "", false, true});
    panel.log_x = true;
    const std::string svg = svg_figure("", {panel});
    expect_well_formed(svg);
    EXPECT_EQ(tags(svg, "circle").size(), 4u + 3 + 2);  // the points and one per legend sample
}

TEST(SvgChart, BarsInOrderWithLogLengths) {
    const std::string svg = svg_bars("retraining time", "seconds", {{"a", 1}, {"b", 10}, {"c", 1000}, {"d", 0}}, true);
    expect_well_formed(svg);
    const auto bars = tags(svg, "rect class=\"bar\"");
    ASSERT_EQ(bars.size(), 3u);  // d, 0, has no bar on a log axis
    const Rect a = rect_of(bars[0]), b = rect_of(bars[1]), c = rect_of(bars[2]);
    EXPECT_LT(a.top, b.top);
    EXPECT_LT(b.top, c.top);
    EXPECT_EQ(a.left, b.left);
    EXPECT_EQ(a.left, c.left);
    EXPECT_EQ(a.left, plot_of(svg).left);
    EXPECT_GT(a.right - a.left, 10);
    // Lengths are log10(value) - log10(start): c is 3 decades beyond a, b one.
    EXPECT_NEAR((c.right - a.right) / (b.right - a.right), 3, 0.01);
    EXPECT_EQ(attr(bars[0], "fill"), "#0072B2");
    EXPECT_EQ(attr(bars[1], "fill"), "#D55E00");
    for (const char* text : {">a</text>", ">d</text>", ">1000</text>", ">0</text>"}) EXPECT_NE(svg.find(text), std::string::npos);
    // Values print after their bars.
    const std::size_t at = svg.find(">1000</text>");
    EXPECT_GT(num(svg.substr(svg.rfind("<text", at), at), "x"), c.right);
}

TEST(SvgChart, LinearBarsProportionalFromZero) {
    const std::string svg = svg_bars("", "", {{"x", 2, "red"}, {"y", 4, ""}}, false);
    expect_well_formed(svg);
    const auto bars = tags(svg, "rect class=\"bar\"");
    ASSERT_EQ(bars.size(), 2u);
    const Rect x = rect_of(bars[0]), y = rect_of(bars[1]);
    EXPECT_EQ(x.left, y.left);
    EXPECT_NEAR((y.right - y.left) / (x.right - x.left), 2, 0.01);
    EXPECT_EQ(attr(bars[0], "fill"), "red");
    EXPECT_EQ(attr(bars[1], "fill"), "#D55E00");
}

}  // namespace
}  // namespace lara::eval
