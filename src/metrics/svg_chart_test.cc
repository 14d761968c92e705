#include "metrics/svg_chart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>

namespace rlpipe::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The `d` attributes of the chart's series paths, in order.
std::vector<std::string> SeriesPaths(const std::string& svg) {
  static const std::regex kPath(R"re(<path class="series"[^>]* d="([^"]*)")re");
  std::vector<std::string> paths;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kPath); it != std::sregex_iterator();
       ++it) {
    paths.push_back((*it)[1]);
  }
  return paths;
}

size_t CountOf(const std::string& text, char c) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), c));
}

TEST(NiceTicksTest, UsesOneTwoFiveSteps) {
  EXPECT_EQ(NiceTicks(0, 100000, 5), (std::vector<double>{0, 20000, 40000, 60000, 80000, 100000}));
  EXPECT_EQ(NiceTicks(-1.3, 0.4, 4), (std::vector<double>{-1.0, -0.5, 0.0}));
  EXPECT_TRUE(NiceTicks(1, 1, 5).empty());
}

TEST(FormatTickTest, ShortensLargeNumbers) {
  EXPECT_EQ(FormatTick(1500000), "1.5M");
  EXPECT_EQ(FormatTick(20000), "20k");
  EXPECT_EQ(FormatTick(-250), "-250");
  EXPECT_EQ(FormatTick(0.25), "0.25");
}

TEST(LineChartTest, AnAxisUsesOneUnitForAllItsTicks) {
  const std::string svg =
      RenderLineChart({"u", "u", "t", "y"}, {ChartSeries{"s", {{0, 1}, {25000, 2}}}});
  EXPECT_THAT(svg, HasSubstr(">5k</text>"));
  EXPECT_THAT(svg, HasSubstr(">25k</text>"));
  EXPECT_THAT(svg, Not(HasSubstr(">5000</text>")));
}

TEST(LineChartTest, DrawsOnePathPointPerDataPointWithLabelledAxes) {
  ChartSeries s{"eval mean return", {{0, -1200}, {5000, -900}, {10000, -400}}, "#123456"};
  LineChartOptions options{"eval", "Evaluation", "timesteps (env steps)", "return"};
  const std::string svg = RenderLineChart(options, {s});
  EXPECT_THAT(svg, HasSubstr("data-chart=\"eval\""));
  EXPECT_THAT(svg, HasSubstr("data-points=\"3\""));
  EXPECT_THAT(svg, HasSubstr(">timesteps (env steps)</text>"));
  EXPECT_THAT(svg, HasSubstr(">return</text>"));
  EXPECT_THAT(svg, HasSubstr(">10k</text>"));
  const std::vector<std::string> paths = SeriesPaths(svg);
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(CountOf(paths[0], 'M') + CountOf(paths[0], 'L'), 3u);
  EXPECT_THAT(svg, Not(HasSubstr("no data")));
  EXPECT_THAT(svg, Not(HasSubstr("class=\"legend\"")));  // one series: no legend
}

TEST(LineChartTest, MissingValuesAreGapsNotZeros) {
  ChartSeries s{"return", {{10, 5}, {11, 6}, {12, kNaN}, {13, 7}, {14, 8}}};
  const std::string svg = RenderLineChart({"gap", "t", "x", "y"}, {s});
  const std::vector<std::string> paths = SeriesPaths(svg);
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(CountOf(paths[0], 'M'), 2u);  // the line restarts after the gap
  EXPECT_EQ(CountOf(paths[0], 'L'), 2u);
  EXPECT_THAT(svg, HasSubstr("data-points=\"4\""));
  // The y axis covers 5..8 without reaching down to a zero that was never measured.
  EXPECT_THAT(svg, Not(HasSubstr(">0</text>")));
}

TEST(LineChartTest, BandsLegendAndMarks) {
  ChartSeries a{"eval", {{0, 1}, {10, 2}}, "#111111"};
  a.band = {{0.5, 1.5}, {1.0, 3.0}};
  ChartSeries b{"train", {{0, 0}, {10, 1}}, "#222222", true};
  LineChartOptions options{"cmp", "Sessions", "global timesteps", "return"};
  options.marks = {{5, "s2"}};
  const std::string svg = RenderLineChart(options, {a, b});
  EXPECT_THAT(svg, HasSubstr("class=\"band\""));
  EXPECT_THAT(svg, HasSubstr("class=\"legend\""));
  EXPECT_THAT(svg, HasSubstr("class=\"mark\""));
  EXPECT_THAT(svg, HasSubstr(">s2</text>"));
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray"));
  EXPECT_EQ(SeriesPaths(svg).size(), 2u);
}

TEST(LineChartTest, AnEmptyChartSaysNoDataAndHasNoPath) {
  const std::string svg =
      RenderLineChart({"empty", "Nothing", "t", "y"}, {ChartSeries{"x", {{0, kNaN}}}});
  EXPECT_THAT(svg, HasSubstr("no data"));
  EXPECT_TRUE(SeriesPaths(svg).empty());
}

TEST(LineChartTest, EscapesLabels) {
  const std::string svg =
      RenderLineChart({"e", "a<b & \"c\"", "t", "y"}, {ChartSeries{"<s>", {{0, 1}, {1, 2}}}});
  EXPECT_THAT(svg, HasSubstr("a&lt;b &amp; &quot;c&quot;"));
  EXPECT_THAT(svg, Not(HasSubstr("<s>")));
}

TEST(DecimateTest, KeepsExtremesAndStaysUnderTheLimit) {
  std::vector<std::pair<double, double>> points;
  for (int i = 0; i < 100000; ++i) points.emplace_back(i, std::sin(i * 0.001));
  points[54321].second = 50.0;  // a spike must survive
  const auto out = Decimate(points, 500);
  EXPECT_LE(out.size(), 500u);
  EXPECT_GE(out.size(), 400u);
  EXPECT_TRUE(std::any_of(out.begin(), out.end(), [](const auto& p) { return p.second == 50.0; }));
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; }));
  // A long chart stays small: 100k points draw as a few kilobytes.
  const std::string svg = RenderLineChart({"big", "big", "t", "y"}, {ChartSeries{"s", points}});
  EXPECT_LT(svg.size(), 20000u);
}

TEST(StackedBarsTest, OneRectPerPartAndALegend) {
  const std::string svg = RenderStackedBars(
      "split", "Where the time went", "seconds",
      {{"s1", {{"collect", 30}, {"update", 10}, {"other", 2}}}, {"s2", {{"collect", 5}}}});
  size_t rects = 0;
  for (size_t at = svg.find("class=\"bar\""); at != std::string::npos;
       at = svg.find("class=\"bar\"", at + 1)) {
    ++rects;
  }
  EXPECT_EQ(rects, 4u);
  EXPECT_THAT(svg, HasSubstr("class=\"legend\""));
  EXPECT_THAT(svg, HasSubstr(">seconds</text>"));
  EXPECT_THAT(RenderStackedBars("none", "t", "s", {}), HasSubstr("no data"));
}

TEST(LineChartTest, AMarkersSeriesIsADotPerPointInAnyOrder) {
  ChartSeries scatter{"runs", {{3, 1}, {1, 2}, {2, kNaN}, {1, 4}}, "#123456"};
  scatter.markers = true;
  LineChartOptions options{"scatter", "Scatter", "x", "y"};
  options.max_points = 2;  // never applied to a scatter
  const std::string svg = RenderLineChart(options, {scatter});
  EXPECT_THAT(svg, HasSubstr("<g class=\"markers\" data-series=\"runs\" data-points=\"3\""));
  EXPECT_EQ(SeriesPaths(svg).size(), 0u);
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) {
    ++circles;
  }
  EXPECT_EQ(circles, 3u);
}

}  // namespace
}  // namespace rlpipe::metrics
