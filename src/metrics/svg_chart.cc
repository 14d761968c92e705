#include "metrics/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/markup.h"


namespace rlpipe::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Plot margins inside the SVG (px): room for the title, tick labels and axis labels.
constexpr double kLeft = 64, kRight = 16, kTop = 30, kBottom = 44;

std::string Num(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", value);
  return buffer;
}

/// Maps data coordinates to pixels inside the plot area.
struct Frame {
  double x0, x1, y0, y1;            // data range
  double left, right, top, bottom;  // pixel box
  double X(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double Y(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

/// The multiples of `step` in [lo, hi] (whole multiples, not a running sum, which drifts).
std::vector<double> TicksWithStep(double lo, double hi, double step) {
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1.0) {
    ticks.push_back(k == 0.0 ? 0.0 : k * step);
  }
  return ticks;
}

/// Widens a degenerate range so that a flat or single-point series still gets a frame.
void Widen(double& lo, double& hi) {
  if (!(hi > lo)) {
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
}

/// The labels of one axis's ticks, all in one unit (k or M when the largest needs it), so an
/// axis never mixes "5000" with "10k".
std::vector<std::string> TickLabels(const std::vector<double>& ticks) {
  double largest = 0.0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  const double scale = largest >= 1e6 ? 1e6 : largest >= 1e4 ? 1e3 : 1.0;
  const char* suffix = largest >= 1e6 ? "M" : largest >= 1e4 ? "k" : "";
  std::vector<std::string> labels;
  for (double t : ticks) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%g%s", std::abs(t) < 1e-12 ? 0.0 : t / scale,
                  t == 0.0 ? "" : suffix);
    labels.push_back(buffer);
  }
  return labels;
}

/// Axes, grid, ticks and axis labels of a frame.
std::string Axes(const Frame& f, const std::vector<double>& x_ticks,
                 const std::vector<double>& y_ticks, const std::string& x_label,
                 const std::string& y_label, double width, double height) {
  std::string svg = "<g class=\"axes\">";
  const std::vector<std::string> y_labels = TickLabels(y_ticks);
  for (size_t i = 0; i < y_ticks.size(); ++i) {
    const double y = y_ticks[i];
    svg += "<line class=\"grid\" x1=\"" + Num(f.left) + "\" x2=\"" + Num(f.right) + "\" y1=\"" +
           Num(f.Y(y)) + "\" y2=\"" + Num(f.Y(y)) + "\"/>";
    svg += "<text class=\"tick\" x=\"" + Num(f.left - 6) + "\" y=\"" + Num(f.Y(y) + 4) +
           "\" text-anchor=\"end\">" + y_labels[i] + "</text>";
  }
  const std::vector<std::string> x_labels = TickLabels(x_ticks);
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    const double x = x_ticks[i];
    svg += "<line class=\"tickmark\" x1=\"" + Num(f.X(x)) + "\" x2=\"" + Num(f.X(x)) + "\" y1=\"" +
           Num(f.bottom) + "\" y2=\"" + Num(f.bottom + 4) + "\"/>";
    svg += "<text class=\"tick\" x=\"" + Num(f.X(x)) + "\" y=\"" + Num(f.bottom + 16) +
           "\" text-anchor=\"middle\">" + x_labels[i] + "</text>";
  }
  svg += "<line class=\"axis\" x1=\"" + Num(f.left) + "\" x2=\"" + Num(f.right) + "\" y1=\"" +
         Num(f.bottom) + "\" y2=\"" + Num(f.bottom) + "\"/>";
  svg += "<line class=\"axis\" x1=\"" + Num(f.left) + "\" x2=\"" + Num(f.left) + "\" y1=\"" +
         Num(f.top) + "\" y2=\"" + Num(f.bottom) + "\"/>";
  svg += "<text class=\"axis-label\" x=\"" + Num((f.left + f.right) / 2) + "\" y=\"" +
         Num(height - 6) + "\" text-anchor=\"middle\">" + EscapeHtml(x_label) + "</text>";
  svg += "<text class=\"axis-label\" transform=\"translate(14," + Num((f.top + f.bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + EscapeHtml(y_label) + "</text>";
  (void)width;
  return svg + "</g>";
}

/// A legend row at the top right: a swatch and the label per entry.
std::string Legend(const std::vector<std::pair<std::string, std::string>>& entries, double right) {
  std::string svg = "<g class=\"legend\">";
  double x = right;
  // Laid out right to left so the legend ends at the plot's right edge.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const double text_width = 6.5 * static_cast<double>(it->first.size());
    x -= text_width + 22;
    svg += "<rect x=\"" + Num(x) + "\" y=\"8\" width=\"12\" height=\"10\" fill=\"" + it->second +
           "\"/>";
    svg += "<text x=\"" + Num(x + 16) + "\" y=\"17\">" + EscapeHtml(it->first) + "</text>";
  }
  return svg + "</g>";
}

}  // namespace

std::string EscapeHtml(const std::string& text) { return EscapeMarkup(text); }

const std::string& PaletteColor(size_t index) {
  // Tableau 10: distinct, colour-blind-aware and readable on white.
  static const std::vector<std::string> kPalette = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                                    "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                                                    "#9c755f", "#bab0ac"};
  return kPalette[index % kPalette.size()];
}

std::string FormatTick(double value) {
  char buffer[32];
  const double magnitude = std::abs(value);
  if (magnitude >= 1e6) {
    std::snprintf(buffer, sizeof(buffer), "%gM", value / 1e6);
  } else if (magnitude >= 1e4) {
    std::snprintf(buffer, sizeof(buffer), "%gk", value / 1e3);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%g", std::abs(value) < 1e-12 ? 0.0 : value);
  }
  return buffer;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo) || target < 1) return ticks;
  // Step: the 1, 2, 5 x 10^k nearest above (hi - lo) / target.
  const double raw = (hi - lo) / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * power;
    if (step >= raw) break;
  }
  return TicksWithStep(lo, hi, step);
}

std::vector<std::pair<double, double>> Decimate(
    const std::vector<std::pair<double, double>>& points, size_t max_points) {
  if (max_points == 0 || points.size() <= max_points) return points;
  const size_t buckets = std::max<size_t>(1, max_points / 2);
  const double x0 = points.front().first, x1 = points.back().first;
  const double width = x1 > x0 ? (x1 - x0) / static_cast<double>(buckets) : 1.0;
  std::vector<std::pair<double, double>> out;
  size_t i = 0;
  while (i < points.size()) {
    // One bucket: its minimum and maximum, in x order; a gap inside it stays a gap.
    const size_t bucket =
        std::min(buckets - 1, static_cast<size_t>(std::max(0.0, (points[i].first - x0) / width)));
    size_t lo = points.size(), hi = points.size();
    bool gap = false;
    size_t j = i;
    for (; j < points.size(); ++j) {
      const size_t b =
          std::min(buckets - 1, static_cast<size_t>(std::max(0.0, (points[j].first - x0) / width)));
      if (b != bucket) break;
      if (std::isnan(points[j].second)) {
        gap = true;
        continue;
      }
      if (lo == points.size() || points[j].second < points[lo].second) lo = j;
      if (hi == points.size() || points[j].second > points[hi].second) hi = j;
    }
    if (lo != points.size()) {
      out.push_back(points[std::min(lo, hi)]);
      if (hi != lo) out.push_back(points[std::max(lo, hi)]);
    }
    if (gap) out.emplace_back(points[j - 1].first, kNaN);
    i = j;
  }
  return out;
}

std::string RenderLineChart(const LineChartOptions& options,
                            const std::vector<ChartSeries>& series) {
  const double width = options.width_px, height = options.height_px;

  // The data range over every finite point, band and mark.
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  std::vector<std::vector<std::pair<double, double>>> drawn;
  size_t finite_points = 0;
  for (const ChartSeries& s : series) {
    drawn.push_back(s.markers ? s.points : Decimate(s.points, options.max_points));
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto& [x, y] = s.points[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      ++finite_points;
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
      if (i < s.band.size() && std::isfinite(s.band[i].first) && std::isfinite(s.band[i].second)) {
        y0 = std::min(y0, s.band[i].first), y1 = std::max(y1, s.band[i].second);
      }
    }
  }
  for (const ChartMark& mark : options.marks) {
    if (std::isfinite(mark.x) && finite_points > 0)
      x0 = std::min(x0, mark.x), x1 = std::max(x1, mark.x);
  }

  std::string svg = "<svg class=\"chart\" data-chart=\"" + EscapeHtml(options.id) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(width) +
                    "\" height=\"" + Num(height) + "\" viewBox=\"0 0 " + Num(width) + " " +
                    Num(height) + "\" role=\"img\" aria-label=\"" + EscapeHtml(options.title) +
                    "\">";
  svg += "<title>" + EscapeHtml(options.title) + "</title>";
  svg += "<text class=\"chart-title\" x=\"" + Num(kLeft) + "\" y=\"18\">" +
         EscapeHtml(options.title) + "</text>";
  if (finite_points == 0) {
    svg += "<text class=\"no-data\" x=\"" + Num(width / 2) + "\" y=\"" + Num(height / 2) +
           "\" text-anchor=\"middle\">no data</text></svg>";
    return svg;
  }
  Widen(x0, x1);
  Widen(y0, y1);

  // The y range grows to whole tick steps so lines never touch the frame's top or bottom.
  std::vector<double> y_ticks = NiceTicks(y0, y1, 5);
  if (y_ticks.size() >= 2) {
    const double step = y_ticks[1] - y_ticks[0];
    y0 = std::floor(y0 / step) * step;
    y1 = std::ceil(y1 / step) * step;
    y_ticks = TicksWithStep(y0, y1, step);
  }
  const std::vector<double> x_ticks = NiceTicks(x0, x1, 6);
  const Frame f{x0, x1, y0, y1, kLeft, width - kRight, kTop, height - kBottom};
  svg += Axes(f, x_ticks, y_ticks, options.x_label, options.y_label, width, height);

  // Marks (session boundaries) under the data.
  for (const ChartMark& mark : options.marks) {
    svg += "<line class=\"mark\" x1=\"" + Num(f.X(mark.x)) + "\" x2=\"" + Num(f.X(mark.x)) +
           "\" y1=\"" + Num(f.top) + "\" y2=\"" + Num(f.bottom) + "\"/>";
    svg += "<text class=\"mark-label\" x=\"" + Num(f.X(mark.x) + 3) + "\" y=\"" + Num(f.top + 10) +
           "\">" + EscapeHtml(mark.label) + "</text>";
  }

  // Bands, then lines: a path restarts (M) after each gap.
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t k = 0; k < series.size(); ++k) {
    const ChartSeries& s = series[k];
    if (!s.band.empty() && s.band.size() == s.points.size()) {
      std::string upper, lower;
      for (size_t i = 0; i < s.points.size(); ++i) {
        if (!std::isfinite(s.band[i].first) || !std::isfinite(s.band[i].second)) continue;
        upper += (upper.empty() ? "M" : "L") + Num(f.X(s.points[i].first)) + "," +
                 Num(f.Y(s.band[i].second));
        lower = "L" + Num(f.X(s.points[i].first)) + "," + Num(f.Y(s.band[i].first)) + lower;
      }
      if (!upper.empty()) {
        svg += "<path class=\"band\" fill=\"" + s.color + "\" d=\"" + upper + lower + "Z\"/>";
      }
    }
    if (s.markers) {
      // A scatter: one dot per finite point.
      std::string dots;
      size_t count = 0;
      for (const auto& [x, y] : drawn[k]) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        dots += "<circle cx=\"" + Num(f.X(x)) + "\" cy=\"" + Num(f.Y(y)) + "\" r=\"" +
                Num(s.marker_radius) + "\"/>";
        ++count;
      }
      svg += "<g class=\"markers\" data-series=\"" + EscapeHtml(s.label) + "\" data-points=\"" +
             std::to_string(count) + "\" fill=\"" + s.color + "\">" + dots + "</g>";
      legend.emplace_back(s.label, s.color);
      continue;
    }
    std::string d;
    size_t count = 0;
    bool pen_down = false;
    for (const auto& [x, y] : drawn[k]) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? "L" : "M") + Num(f.X(x)) + "," + Num(f.Y(y));
      pen_down = true;
      ++count;
    }
    svg += "<path class=\"series\" data-series=\"" + EscapeHtml(s.label) + "\" data-points=\"" +
           std::to_string(count) + "\" stroke=\"" + s.color + "\"" +
           (s.dashed ? " stroke-dasharray=\"5,3\"" : "") + " d=\"" + d + "\"/>";
    // A lone point (between gaps or a one-point series) also gets a dot so it is visible.
    if (count == 1) {
      const auto it = std::find_if(drawn[k].begin(), drawn[k].end(), [](const auto& p) {
        return std::isfinite(p.first) && std::isfinite(p.second);
      });
      svg += "<circle cx=\"" + Num(f.X(it->first)) + "\" cy=\"" + Num(f.Y(it->second)) +
             "\" r=\"3\" fill=\"" + s.color + "\"/>";
    }
    legend.emplace_back(s.label, s.color);
  }
  if (series.size() > 1) svg += Legend(legend, f.right);
  return svg + "</svg>";
}

std::string RenderStackedBars(const std::string& id, const std::string& title,
                              const std::string& unit, const std::vector<StackedBar>& bars,
                              int width_px) {
  const double bar_height = 18, gap = 8, label_width = 150;
  const double height = kTop + bars.size() * (bar_height + gap) + 40;
  const double width = width_px;
  double total_max = 0.0;
  std::vector<std::string> part_names;
  for (const StackedBar& bar : bars) {
    double total = 0.0;
    for (const auto& [name, value] : bar.parts) {
      total += std::max(0.0, value);
      if (std::find(part_names.begin(), part_names.end(), name) == part_names.end()) {
        part_names.push_back(name);
      }
    }
    total_max = std::max(total_max, total);
  }
  std::string svg = "<svg class=\"chart\" data-chart=\"" + EscapeHtml(id) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(width) +
                    "\" height=\"" + Num(height) + "\" viewBox=\"0 0 " + Num(width) + " " +
                    Num(height) + "\" role=\"img\" aria-label=\"" + EscapeHtml(title) + "\">";
  svg += "<title>" + EscapeHtml(title) + "</title>";
  svg += "<text class=\"chart-title\" x=\"8\" y=\"18\">" + EscapeHtml(title) + "</text>";
  if (bars.empty() || !(total_max > 0.0)) {
    return svg + "<text class=\"no-data\" x=\"" + Num(width / 2) + "\" y=\"" + Num(height / 2) +
           "\" text-anchor=\"middle\">no data</text></svg>";
  }
  const double left = label_width, right = width - kRight;
  const auto X = [&](double v) { return left + v / total_max * (right - left); };
  for (size_t b = 0; b < bars.size(); ++b) {
    const double y = kTop + b * (bar_height + gap);
    svg += "<text class=\"tick\" x=\"" + Num(left - 6) + "\" y=\"" + Num(y + 13) +
           "\" text-anchor=\"end\">" + EscapeHtml(bars[b].label) + "</text>";
    double at = 0.0;
    for (const auto& [name, value] : bars[b].parts) {
      const size_t color = static_cast<size_t>(
          std::find(part_names.begin(), part_names.end(), name) - part_names.begin());
      const double v = std::max(0.0, value);
      svg += "<rect class=\"bar\" data-part=\"" + EscapeHtml(name) + "\" x=\"" + Num(X(at)) +
             "\" y=\"" + Num(y) + "\" width=\"" + Num(X(at + v) - X(at)) + "\" height=\"" +
             Num(bar_height) + "\" fill=\"" + PaletteColor(color) + "\"><title>" +
             EscapeHtml(name) + ": " + FormatTick(v) + " " + EscapeHtml(unit) + "</title></rect>";
      at += v;
    }
  }
  // The value axis under the bars, and the legend.
  const double axis_y = kTop + bars.size() * (bar_height + gap);
  svg += "<line class=\"axis\" x1=\"" + Num(left) + "\" x2=\"" + Num(right) + "\" y1=\"" +
         Num(axis_y) + "\" y2=\"" + Num(axis_y) + "\"/>";
  for (double t : NiceTicks(0.0, total_max, 5)) {
    svg += "<text class=\"tick\" x=\"" + Num(X(t)) + "\" y=\"" + Num(axis_y + 14) +
           "\" text-anchor=\"middle\">" + FormatTick(t) + "</text>";
  }
  svg += "<text class=\"axis-label\" x=\"" + Num((left + right) / 2) + "\" y=\"" +
         Num(axis_y + 32) + "\" text-anchor=\"middle\">" + EscapeHtml(unit) + "</text>";
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t i = 0; i < part_names.size(); ++i)
    legend.emplace_back(part_names[i], PaletteColor(i));
  svg += Legend(legend, right);
  return svg + "</svg>";
}

}  // namespace rlpipe::metrics
