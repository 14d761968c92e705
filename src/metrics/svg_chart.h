#pragma once
/// Charts as inline SVG for the self-contained HTML report: no script, no font or file fetched.
/// Pure functions of their data (tested on synthetic series).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace rlpipe::metrics {

/// One line of a chart. A NaN y is missing data: the line stops there and starts again after it
/// (a gap, never a zero).
struct ChartSeries {
  ChartSeries(std::string label_in, std::vector<std::pair<double, double>> points_in,
              std::string color_in = "#1f77b4", bool dashed_in = false)
      : label(std::move(label_in)),
        points(std::move(points_in)),
        color(std::move(color_in)),
        dashed(dashed_in) {}
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  /// Optional shaded band around the line (e.g. mean ± std): one (low, high) per point.
  std::vector<std::pair<double, double>> band;
  std::string color = "#1f77b4";
  bool dashed = false;
  /// A scatter: a dot at every finite point and no line; the points need not be in x order and
  /// are never decimated.
  bool markers = false;
  double marker_radius = 3.0;  // px
};

/// A vertical marker line across the plot (e.g. where a session starts).
struct ChartMark {
  double x = 0.0;
  std::string label;
};

/// Layout and labels of a line chart.
struct LineChartOptions {
  LineChartOptions(std::string id_in, std::string title_in, std::string x_label_in,
                   std::string y_label_in)
      : id(std::move(id_in)),
        title(std::move(title_in)),
        x_label(std::move(x_label_in)),
        y_label(std::move(y_label_in)) {}
  std::string id;  // the <svg>'s data-chart attribute (tests find charts by it)
  std::string title;
  std::string x_label;  // with its unit, e.g. "timesteps (env steps)"
  std::string y_label;
  int width_px = 640;
  int height_px = 280;
  /// Points drawn per series at most: longer series are decimated by keeping, in each of
  /// max_points / 2 equal x-buckets, the bucket's minimum and maximum in x order, so spikes and
  /// dips survive. 0: never decimate.
  size_t max_points = 800;
  std::vector<ChartMark> marks;
};

/// A line chart: axes with "nice" ticks (1, 2, 5 x 10^k), labelled axes, a legend when more than
/// one series, one <path class="series" data-points="N"> per series whose `d` holds exactly N
/// points (a `markers` series: one <g class="markers" data-points="N"> of N circles instead),
/// and a "no data" note when no series has a finite point.
std::string RenderLineChart(const LineChartOptions& options,
                            const std::vector<ChartSeries>& series);

/// One bar of a stacked horizontal bar chart: named parts that add up to the bar's length.
struct StackedBar {
  std::string label;
  std::vector<std::pair<std::string, double>> parts;  // (part name, value >= 0)
};

/// A stacked horizontal bar chart (e.g. each session's wall time split into collect, update,
/// other), with a legend of the part names and the value unit on the x axis.
std::string RenderStackedBars(const std::string& id, const std::string& title,
                              const std::string& unit, const std::vector<StackedBar>& bars,
                              int width_px = 640);

/// The points a chart draws for `points`, decimated to at most `max_points` as described in
/// LineChartOptions (NaN points kept as gaps). Exposed for tests.
std::vector<std::pair<double, double>> Decimate(
    const std::vector<std::pair<double, double>>& points, size_t max_points);

/// "Nice" tick positions covering [lo, hi] with about `target` ticks.
std::vector<double> NiceTicks(double lo, double hi, int target);

/// A compact axis label: 1500000 → "1.5M", 20000 → "20k", 0.25 → "0.25".
std::string FormatTick(double value);

/// Text with &, <, >, " and ' escaped for HTML and SVG.
std::string EscapeHtml(const std::string& text);

/// The categorical palette charts use, by index (wraps around).
const std::string& PaletteColor(size_t index);

}  // namespace rlpipe::metrics
