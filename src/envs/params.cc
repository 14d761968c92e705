#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "envs/env.h"

namespace rlpipe::envs {
std::string ShownNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.12g", value);
  return text;
}

std::string ParamSpec::RangeText() const {
  switch (type) {
    case ParamType::kFlag:
      return "0 or 1";
    case ParamType::kInteger:
      return "integer " + ShownNumber(min) + "-" + ShownNumber(max);
    case ParamType::kReal:
      break;
  }
  return (min_exclusive ? "(" : "[") + ShownNumber(min) + ", " + ShownNumber(max) + "]";
}

std::optional<std::string> ParamSpec::Problem(double value) const {
  // Whole numbers for integers and flags, then the range.
  const bool whole = value == std::floor(value);
  const bool in_range = value >= min && value <= max && !(min_exclusive && value == min);
  if (type != ParamType::kReal && whole && in_range) return std::nullopt;
  if (type == ParamType::kReal && in_range) return std::nullopt;
  std::string expected;
  switch (type) {
    case ParamType::kFlag:
      expected = "0 or 1";
      break;
    case ParamType::kInteger:
      expected = "an integer in [" + ShownNumber(min) + ", " + ShownNumber(max) + "]";
      break;
    case ParamType::kReal:
      expected = "a number in " + RangeText();
      break;
  }
  return "expected " + expected + (unit.empty() ? "" : " " + unit) + ", found " +
         ShownNumber(value);
}

ParamSpec RealParam(std::string name, double default_value, double min, double max,
                    std::string unit, std::string description, bool min_exclusive) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kReal;
  spec.default_value = default_value;
  spec.min = min;
  spec.max = max;
  spec.min_exclusive = min_exclusive;
  spec.unit = std::move(unit);
  spec.description = std::move(description);
  return spec;
}

ParamSpec PositiveParam(std::string name, double default_value, double max, std::string unit,
                        std::string description) {
  return RealParam(std::move(name), default_value, 0.0, max, std::move(unit),
                   std::move(description), /*min_exclusive=*/true);
}

ParamSpec IntParam(std::string name, int default_value, int min, int max, std::string description) {
  ParamSpec spec = RealParam(std::move(name), default_value, min, max, "", std::move(description));
  spec.type = ParamType::kInteger;
  return spec;
}

ParamSpec FlagParam(std::string name, bool default_value, std::string description) {
  ParamSpec spec = IntParam(std::move(name), default_value ? 1 : 0, 0, 1, std::move(description));
  spec.type = ParamType::kFlag;
  return spec;
}

std::string ParamTableMarkdown(const std::vector<ParamSpec>& specs) {
  std::string table = "| key | default | valid | unit | meaning |\n|---|---|---|---|---|\n";
  for (const ParamSpec& spec : specs) {
    table += "| `" + spec.name + "` | " + ShownNumber(spec.default_value) + " | " +
             spec.RangeText() + " | " + (spec.unit.empty() ? "-" : spec.unit) + " | " +
             spec.description + " |\n";
  }
  return table;
}

void CheckParamValues(const std::vector<ParamSpec>& specs, const TaskParams& params) {
  for (const ParamSpec& spec : specs) {
    const auto it = params.find(spec.name);
    if (it == params.end()) continue;
    if (const std::optional<std::string> problem = spec.Problem(it->second)) {
      throw ConfigError("environment." + spec.name + ": " + *problem);
    }
  }
}

}  // namespace rlpipe::envs
