#include "tune/space.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "core/error.h"
#include "core/seed.h"

namespace rlpipe::tune {
namespace {

using config::FailAt;
using config::MapReader;
using config::Tree;

bool IsIntegerText(const std::string& text) {
  static const std::regex kInteger(R"([+-]?[0-9]+)");
  return std::regex_match(text, kInteger);
}

// The number a scalar holds (YAML plain scalars only), nullopt otherwise.
std::optional<double> NumberOf(const Tree& node) {
  if (node.kind != Tree::Kind::kScalar || node.quoted || node.scalar.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(node.scalar.c_str(), &end);
  if (end != node.scalar.c_str() + node.scalar.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Shortest text that reads back as `value` ("0.001", "1e-05", "3").
std::string FormatDouble(double value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, result.ptr);
}

Parameter ReadParameter(const std::string& key, const Tree& node, const std::string& path) {
  Parameter p;
  p.key = key;
  p.loc = node.key_loc.line > 0 ? node.key_loc : node.loc;
  if (!node.IsMap()) {
    FailAt(node.loc, path, "expected {values: [...]} or {min: A, max: B, scale: linear|log}");
  }
  MapReader reader(&node, path, "a parameter");
  if (const Tree* values = reader.Child("values")) {
    if (values->kind != Tree::Kind::kSequence) {
      reader.Fail("values", "expected a list of values");
    }
    if (values->items.empty()) reader.Fail("values", "empty list: a parameter needs a value");
    for (const Tree& item : values->items) {
      if (item.kind != Tree::Kind::kScalar) {
        FailAt(item.loc, path + ".values", "expected a scalar value (number, string or bool)");
      }
      p.values.push_back(item);
    }
    for (const char* range_key : {"min", "max", "scale"}) {
      if (reader.node()->Find(range_key) != nullptr) {
        reader.Fail(range_key, "a parameter has either `values:` or a range, not both");
      }
    }
    reader.Finish();
    return p;
  }
  // A range: both ends numeric; integers when both are written as integers.
  const Tree* min = reader.Child("min");
  const Tree* max = reader.Child("max");
  if (min == nullptr || max == nullptr) {
    FailAt(p.loc, path, "expected `values: [...]` or both `min:` and `max:`");
  }
  reader.Get("min", &p.min);
  reader.Get("max", &p.max);
  if (!NumberOf(*min)) reader.Fail("min", "expected a number");
  if (!NumberOf(*max)) reader.Fail("max", "expected a number");
  p.integer = IsIntegerText(min->scalar) && IsIntegerText(max->scalar);
  if (p.min > p.max) reader.Fail("max", "must be >= min (" + min->scalar + ")");
  std::string scale = "linear";
  reader.Get("scale", &scale);
  reader.CheckChoice("scale", scale, {"linear", "log"});
  p.scale = scale == "log" ? Scale::kLog : Scale::kLinear;
  if (p.scale == Scale::kLog && p.min <= 0) {
    reader.Fail("min", "a log range needs min > 0");
  }
  reader.Finish();
  return p;
}

// Uniform double in [0, 1) from 53 random bits.
double Unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace

std::string ToString(Direction direction) {
  return direction == Direction::kMaximize ? "maximize" : "minimize";
}

std::string ToString(Strategy strategy) {
  switch (strategy) {
    case Strategy::kGrid:
      return "grid";
    case Strategy::kRandom:
      return "random";
    case Strategy::kBayesian:
      return "bayesian";
  }
  return "?";
}

std::string ToString(Scale scale) { return scale == Scale::kLog ? "log" : "linear"; }

namespace {

SearchSpace FromTree(config::Tree tree, const std::filesystem::path& file) {
  SearchSpace space;
  space.file = file;
  space.tree = std::move(tree);
  if (!space.tree.IsMap()) FailAt(space.tree.loc, "", "expected a mapping (metric, parameters)");
  MapReader top(&space.tree, "", "a search space");

  // What is optimised.
  top.Get("metric", &space.metric);
  if (space.metric.empty()) top.Fail("metric", "required: the per-session figure to optimise");
  space.metric_loc = top.LocOf("metric");
  top.Get("session", &space.session);
  space.session_loc = top.LocOf("session");
  std::string direction = "maximize";
  top.Get("direction", &direction);
  top.CheckChoice("direction", direction, {"maximize", "minimize"});
  space.direction = direction == "minimize" ? Direction::kMinimize : Direction::kMaximize;
  std::string strategy = "grid";
  top.Get("strategy", &strategy);
  top.CheckChoice("strategy", strategy, {"grid", "random", "bayesian"});
  space.strategy = strategy == "random"     ? Strategy::kRandom
                   : strategy == "bayesian" ? Strategy::kBayesian
                                            : Strategy::kGrid;
  std::string early_stopping = "off";
  top.Get("early_stopping", &early_stopping);
  top.CheckChoice("early_stopping", early_stopping, {"off", "median"});
  space.early_stopping =
      early_stopping == "median" ? EarlyStopping::kMedian : EarlyStopping::kOff;
  std::optional<int64_t> seed;
  top.Get("seed", &seed);
  if (seed) {
    top.CheckRange("seed", static_cast<double>(*seed), 0, HUGE_VAL);
    space.seed = static_cast<uint64_t>(*seed);
  }

  // Which sessions the overrides apply to.
  if (const Tree* sessions = top.Child("sessions"); sessions && !sessions->IsNull()) {
    space.sessions_loc = sessions->loc;
    if (sessions->kind != Tree::Kind::kSequence || sessions->items.empty()) {
      top.Fail("sessions", "expected a non-empty list of session names");
    }
    for (const Tree& item : sessions->items) {
      if (item.kind != Tree::Kind::kScalar) FailAt(item.loc, "sessions", "expected a name");
      space.sessions.push_back(item.scalar);
    }
  }

  // The parameters, in file order.
  const Tree* parameters = top.Child("parameters");
  top.Finish();  // unknown keys first: a misspelt `parameters:` names itself
  if (parameters == nullptr || !parameters->IsMap() || parameters->entries.empty()) {
    top.Fail("parameters", "required: at least one training-config key path with values or a "
                           "range, e.g. agent.learning_rate: {values: [0.001, 0.0003]}");
  }
  for (const auto& [key, node] : parameters->entries) {
    Parameter p = ReadParameter(key, node, "parameters." + key);
    if (space.strategy == Strategy::kGrid && p.IsRange()) {
      FailAt(p.loc, "parameters." + key,
             "strategy grid needs `values:` for every parameter (this one is a range; use "
             "strategy: random, or list the values)");
    }
    space.parameters.push_back(std::move(p));
  }
  return space;
}

}  // namespace

SearchSpace ParseSearchSpace(const std::string& text, const std::string& origin) {
  return FromTree(config::ParseYaml(text, origin), origin);
}

SearchSpace LoadSearchSpace(const std::filesystem::path& file) {
  return FromTree(config::LoadYamlFile(file), file);
}

std::vector<Trial> ExpandGrid(const SearchSpace& space) {
  // Odometer over the value lists: the last parameter turns fastest.
  for (const Parameter& p : space.parameters) {
    if (p.IsRange()) {
      FailAt(p.loc, "parameters." + p.key, "a grid needs `values:` (this one is a range)");
    }
  }
  std::vector<Trial> trials;
  std::vector<size_t> index(space.parameters.size(), 0);
  for (bool done = space.parameters.empty(); !done;) {
    Trial trial;
    for (size_t i = 0; i < space.parameters.size(); ++i) {
      trial.values.emplace_back(space.parameters[i].key, space.parameters[i].values[index[i]]);
    }
    trials.push_back(std::move(trial));
    // Advance the odometer; when the first wheel wraps, every combination has been listed.
    done = true;
    for (size_t i = space.parameters.size(); i-- > 0;) {
      if (++index[i] < space.parameters[i].values.size()) {
        done = false;
        break;
      }
      index[i] = 0;
    }
  }
  for (size_t t = 0; t < trials.size(); ++t) {
    char id[32];
    std::snprintf(id, sizeof(id), "t%03zu", t);
    trials[t].id = id;
  }
  return trials;
}

std::vector<Trial> SampleRandom(const SearchSpace& space, int count, uint64_t seed) {
  std::vector<Trial> trials;
  for (int t = 0; t < count; ++t) {
    Trial trial;
    char id[32];
    std::snprintf(id, sizeof(id), "t%03d", t);
    trial.id = id;
    for (size_t i = 0; i < space.parameters.size(); ++i) {
      const Parameter& p = space.parameters[i];
      // One independent stream per (trial, parameter).
      const uint64_t bits = Mix64(DeriveSeed(DeriveSeed(seed, static_cast<uint64_t>(t)), i));
      const double u = Unit(bits);
      config::Tree value;
      if (!p.IsRange()) {
        const size_t pick = std::min(p.values.size() - 1,
                                     static_cast<size_t>(u * static_cast<double>(p.values.size())));
        value = p.values[pick];
      } else {
        double x = p.scale == Scale::kLog
                       ? std::exp(std::log(p.min) + u * (std::log(p.max) - std::log(p.min)))
                       : p.min + u * (p.max - p.min);
        std::string text;
        if (p.integer) {
          // Integers: each of min..max equally likely (log: log-uniform, then rounded down).
          const double lo = p.min;
          const double hi = p.max + 1.0;
          x = p.scale == Scale::kLog ? std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)))
                                     : lo + u * (hi - lo);
          const int64_t n = std::min(static_cast<int64_t>(p.max),
                                     std::max(static_cast<int64_t>(p.min),
                                              static_cast<int64_t>(std::floor(x))));
          text = std::to_string(n);
        } else {
          text = FormatDouble(std::clamp(x, p.min, p.max));
        }
        value = config::Tree::Scalar(text, p.loc);
        value.key_loc = p.loc;
      }
      trial.values.emplace_back(p.key, std::move(value));
    }
    trials.push_back(std::move(trial));
  }
  return trials;
}

std::string ValueText(const config::Tree& value) { return value.scalar; }

}  // namespace rlpipe::tune
