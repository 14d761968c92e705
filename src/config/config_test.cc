#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "config/tree.h"
#include "core/error.h"

namespace rlpipe::config {
namespace {

// The ConfigError message thrown by `fn`, or "" (with a test failure) when nothing is thrown.
template <typename Fn>
std::string ConfigErrorOf(Fn fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError";
  return "";
}

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (part) << "' not in: " << (text)

TEST(ParseYamlTest, RecordsOneBasedLocations) {
  const Tree root = ParseYaml("agent:\n  gamma: 0.99\n  layers: [1, 2]\n", "a.yaml");
  ASSERT_TRUE(root.IsMap());
  const Tree* gamma = root.Find("agent")->Find("gamma");
  ASSERT_NE(gamma, nullptr);
  EXPECT_EQ(gamma->scalar, "0.99");
  EXPECT_EQ(gamma->loc.ToString(), "a.yaml:2:10");
  EXPECT_EQ(gamma->key_loc.ToString(), "a.yaml:2:3");
  EXPECT_EQ(root.Find("agent")->Find("layers")->items[1].loc.ToString(), "a.yaml:3:15");
}

TEST(ParseYamlTest, NullsAndQuotedScalars) {
  const Tree root =
      ParseYaml("a: null\nb: ~\nc:\nd: \"null\"\ne: ''\nf: '5'\ng: 5\nh: |\n  text\n", "a.yaml");
  for (const char* key : {"a", "b", "c"}) EXPECT_TRUE(root.Find(key)->IsNull()) << key;
  EXPECT_EQ(root.Find("d")->kind, Tree::Kind::kScalar);
  EXPECT_TRUE(root.Find("d")->quoted);
  EXPECT_EQ(root.Find("e")->scalar, "");
  EXPECT_TRUE(root.Find("e")->quoted);
  EXPECT_TRUE(root.Find("f")->quoted);
  EXPECT_FALSE(root.Find("g")->quoted);
  EXPECT_EQ(root.Find("h")->scalar, "text\n");
  EXPECT_TRUE(root.Find("h")->quoted);
}

TEST(ParseYamlTest, SyntaxErrorNamesFileLineAndColumn) {
  const std::string message =
      ConfigErrorOf([] { ParseYaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml"); });
  EXPECT_TRUE(message.starts_with("bad.yaml:")) << message;
  EXPECT_CONTAINS(message, "YAML syntax error");
}

TEST(ParseYamlTest, DuplicateKeyNamesBothLines) {
  const std::string message = ConfigErrorOf(
      [] { ParseYaml("agent:\n  gamma: 0.9\n  n_steps: 5\n  gamma: 0.8\n", "d.yaml"); });
  EXPECT_EQ(message,
            "d.yaml:4:3: agent.gamma: duplicate key (first defined at line 2, again at line 4)");
}

TEST(ParseYamlTest, MissingFileIsConfigErrorNamingIt) {
  const std::string message = ConfigErrorOf([] { LoadYamlFile("/nonexistent/rlpipe/x.yaml"); });
  EXPECT_CONTAINS(message, "/nonexistent/rlpipe/x.yaml");
}

TEST(ParseYamlTest, EmptyDocumentIsNull) {
  EXPECT_TRUE(ParseYaml("# only a comment\n", "e").IsNull());
}

TEST(ParseYamlTest, AliasesAndMergeKeysResolve) {
  const Tree root = ParseYaml(
      "base: &base\n  gamma: 0.9\n  n_steps: 8\nother:\n  <<: *base\n  n_steps: 16\ncopy: *base\n",
      "a.yaml");
  const Tree* other = root.Find("other");
  EXPECT_EQ(other->Find("gamma")->scalar, "0.9");
  EXPECT_EQ(other->Find("n_steps")->scalar, "16");
  EXPECT_EQ(other->Find("<<"), nullptr);
  EXPECT_TRUE(EqualData(*root.Find("copy"), *root.Find("base")));
}

TEST(TreeTest, FindSetErase) {
  Tree tree;
  EXPECT_EQ(tree.Find("a"), nullptr);
  tree.Set("a", Tree::Scalar("1"));
  tree.Set("b", Tree::Scalar("2"));
  tree.Set("a", Tree::Scalar("3"));
  ASSERT_TRUE(tree.IsMap());
  ASSERT_EQ(tree.entries.size(), 2u);
  EXPECT_EQ(tree.entries[0].first, "a");
  EXPECT_EQ(tree.Find("a")->scalar, "3");
  tree.Erase("a");
  EXPECT_EQ(tree.Find("a"), nullptr);
  EXPECT_EQ(tree.entries.size(), 1u);
  Tree scalar = Tree::Scalar("x");
  EXPECT_THROW(scalar.Set("k", Tree()), ConfigError);
}

TEST(DeepMergeTest, NestedKeysReplaceOnlyThemselvesAndListsReplaceWhole) {
  Tree base = ParseYaml(
      "agent:\n  gamma: 0.99\n  n_steps: 512\nnetwork:\n  policy_layers: [256, 256]\n"
      "  value_layers: [64]\n",
      "base.yaml");
  const Tree overlay = ParseYaml(
      "agent:\n  gamma: 0.9\nnetwork:\n  policy_layers: [32]\nextra: null\n", "over.yaml");
  DeepMerge(base, overlay);
  EXPECT_EQ(base.Find("agent")->Find("gamma")->scalar, "0.9");
  EXPECT_EQ(base.Find("agent")->Find("gamma")->loc.file, "over.yaml");
  EXPECT_EQ(base.Find("agent")->Find("n_steps")->scalar, "512");
  ASSERT_EQ(base.Find("network")->Find("policy_layers")->items.size(), 1u);
  EXPECT_EQ(base.Find("network")->Find("policy_layers")->items[0].scalar, "32");
  EXPECT_EQ(base.Find("network")->Find("value_layers")->items.size(), 1u);
  ASSERT_NE(base.Find("extra"), nullptr);
  EXPECT_TRUE(base.Find("extra")->IsNull());
}

TEST(SetPathTest, SetsNestedValuesParsedAsYaml) {
  Tree root = ParseYaml("agent:\n  gamma: 0.99\n", "a.yaml");
  SetPath(root, "agent.gamma", "0.5");
  SetPath(root, "network.policy_layers", "[8, 8]");
  SetPath(root, "paths.models", "'007'");
  EXPECT_EQ(root.Find("agent")->Find("gamma")->scalar, "0.5");
  EXPECT_EQ(root.Find("agent")->Find("gamma")->loc.ToString(), "--set agent.gamma=0.5");
  EXPECT_EQ(root.Find("network")->Find("policy_layers")->items.size(), 2u);
  EXPECT_TRUE(root.Find("paths")->Find("models")->quoted);
  EXPECT_CONTAINS(ConfigErrorOf([&] { SetPath(root, "agent.gamma.x", "1"); }), "agent.gamma");
  EXPECT_THROW(SetPath(root, "agent..gamma", "1"), ConfigError);
}

TEST(ToYamlTest, RoundTripsTrickyStrings) {
  Tree root;
  const std::vector<std::pair<std::string, bool>> scalars = {
      {"5", true},      {"5", false},         {"1e6", false},       {"true", true},
      {"True", false},  {"null", true},       {"~", true},          {"", true},
      {"a: b", false},  {"# x", false},       {"- x", false},       {"two\nlines", true},
      {" lead", false}, {"tab\there", false}, {"héllo", false},     {"[1]", false},
      {"a,b", false},   {"it's", false},      {"say \"hi\"", true}, {"x #y", false},
      {"ends:", false}, {"*star", false},     {"&amp", false},      {"!tag", false},
      {"%p", false},    {"@at", false},       {"`tick", false},     {"{x}", false},
      {"?q", false},    {"-200.5", false},    {"-", false},         {"? x", false},
      {":x", false},    {"---", false},       {"-x", false},        {"...", false},
      {"a:b", false}};
  Tree list;
  list.kind = Tree::Kind::kSequence;
  for (size_t i = 0; i < scalars.size(); ++i) {
    Tree value = Tree::Scalar(scalars[i].first);
    value.quoted = scalars[i].second;
    root.Set("k" + std::to_string(i), value);
    list.items.push_back(value);
  }
  root.Set("list", list);
  root.Set("1", Tree::Scalar("numeric key"));
  root.Set("yes", Tree::Scalar("bool key"));
  root.Set("with space", Tree());
  root.Set("empty_map", ParseYaml("{}", "x"));
  root.Set("empty_list", ParseYaml("[]", "x"));
  root.Set("nested", ParseYaml("- a: 1\n  b: [2, 3]\n- - x\n  - y\n- {}\n- null\n", "x"));

  // Strings written without quotes must stay plain only when they read back the same.
  const Tree parsed = ParseYaml(root.ToYaml(), "round_trip.yaml");
  ASSERT_EQ(parsed.entries.size(), root.entries.size()) << root.ToYaml();
  for (size_t i = 0; i < root.entries.size(); ++i) {
    const auto& [key, value] = root.entries[i];
    const Tree* read = parsed.Find(key);
    ASSERT_NE(read, nullptr) << key << "\n" << root.ToYaml();
    if (value.kind == Tree::Kind::kScalar && !value.quoted) {
      // Plain strings that needed quotes come back quoted; the text is what matters.
      EXPECT_EQ(read->scalar, value.scalar) << key << "\n" << root.ToYaml();
    } else if (key != "list") {
      EXPECT_TRUE(EqualData(*read, value)) << key << "\n" << root.ToYaml();
    }
  }
  const Tree* read_list = parsed.Find("list");
  ASSERT_EQ(read_list->items.size(), scalars.size());
  for (size_t i = 0; i < scalars.size(); ++i) {
    EXPECT_EQ(read_list->items[i].scalar, scalars[i].first) << i << "\n" << root.ToYaml();
    if (scalars[i].second) {
      EXPECT_TRUE(read_list->items[i].quoted) << i;
    }
  }
  EXPECT_EQ(parsed.ToYaml(), ParseYaml(parsed.ToYaml(), "again").ToYaml());
}

TEST(ToYamlTest, RoundTripsFixtureFilesExactly) {
  for (const char* name : {"training_config.yaml", "pipeline.yaml"}) {
    const Tree original =
        LoadYamlFile(std::string(RLPIPE_SOURCE_DIR) + "/tests/fixtures/config/" + name);
    const std::string yaml = original.ToYaml();
    EXPECT_TRUE(EqualData(ParseYaml(yaml, "round_trip.yaml"), original)) << yaml;
  }
}

TEST(ToYamlTest, IsReadableBlockYaml) {
  const Tree root = ParseYaml("agent:\n  gamma: 0.9\nlayers: [64, 64]\nname: \"5\"\n", "a");
  EXPECT_EQ(root.ToYaml(), "agent:\n  gamma: 0.9\nlayers: [64, 64]\nname: \"5\"\n");
}

// Reads `text` under `section` with a fresh MapReader.
Tree Doc(const std::string& text) { return ParseYaml(text, "cfg.yaml"); }

TEST(MapReaderTest, ReadsTypedValues) {
  const Tree root =
      Doc("flag: TRUE\noff: False\nsteps: 1e6\ncount: -3\nrate: 3e-4\nname: 5\nlayers: [1, 2]\n"
          "maybe: null\n");
  MapReader reader(&root, "s");
  bool flag = false, off = true;
  int count = 0;
  int64_t steps = 0;
  double rate = 0;
  std::string name;
  std::vector<int> layers;
  std::optional<int64_t> maybe = 7;
  int absent = 11;
  reader.Get("flag", &flag);
  reader.Get("off", &off);
  reader.Get("steps", &steps);
  reader.Get("count", &count);
  reader.Get("rate", &rate);
  reader.Get("name", &name);
  reader.Get("layers", &layers);
  reader.Get("maybe", &maybe);
  reader.Get("absent", &absent);
  reader.Finish();
  EXPECT_TRUE(flag);
  EXPECT_FALSE(off);
  EXPECT_EQ(steps, 1000000);
  EXPECT_EQ(count, -3);
  EXPECT_DOUBLE_EQ(rate, 3e-4);
  EXPECT_EQ(name, "5");
  EXPECT_EQ(layers, (std::vector<int>{1, 2}));
  EXPECT_FALSE(maybe.has_value());
  EXPECT_EQ(absent, 11);
}

TEST(MapReaderTest, TypeErrorsNameLocationPathAndFoundValue) {
  const Tree root =
      Doc("agent:\n  gamma: \"0.9\"\n  n_steps: 1.5\n  flag: yes\n  name: [a]\n"
          "  layers: [1, x]\n");
  MapReader reader(root.Find("agent"), "agent");
  double gamma = 0;
  int n_steps = 0;
  bool flag = false;
  std::string name;
  std::vector<int> layers;
  EXPECT_EQ(ConfigErrorOf([&] { reader.Get("gamma", &gamma); }),
            "cfg.yaml:2:10: agent.gamma: expected a number, found \"0.9\" (a quoted string)");
  EXPECT_EQ(ConfigErrorOf([&] { reader.Get("n_steps", &n_steps); }),
            "cfg.yaml:3:12: agent.n_steps: expected an integer, found 1.5");
  EXPECT_EQ(ConfigErrorOf([&] { reader.Get("flag", &flag); }),
            "cfg.yaml:4:9: agent.flag: expected true or false, found yes");
  EXPECT_EQ(ConfigErrorOf([&] { reader.Get("name", &name); }),
            "cfg.yaml:5:9: agent.name: expected a string, found a list");
  EXPECT_EQ(ConfigErrorOf([&] { reader.Get("layers", &layers); }),
            "cfg.yaml:6:15: agent.layers[1]: expected an integer, found x");
}

TEST(MapReaderTest, SectionOfWrongKindIsAnError) {
  const Tree root = Doc("agent: 5\n");
  EXPECT_EQ(ConfigErrorOf([&] { MapReader reader(root.Find("agent"), "agent"); }),
            "cfg.yaml:1:8: agent: expected a mapping, found 5");
}

TEST(MapReaderTest, UnknownKeySuggestsClosestAndListsValidKeys) {
  const Tree root = Doc("agent:\n  gamma: 0.9\n  n_steps: 5\n  gama: 0.8\n");
  MapReader reader(root.Find("agent"), "agent");
  double gamma = 0;
  int n_steps = 0;
  reader.Get("gamma", &gamma);
  reader.Get("n_steps", &n_steps);
  reader.Accept("batch_size");
  EXPECT_EQ(ConfigErrorOf([&] { reader.Finish(); }),
            "cfg.yaml:4:3: agent.gama: unknown key, did you mean 'gamma'? (valid keys: batch_size, "
            "gamma, n_steps)");
}

TEST(MapReaderTest, UnknownKeyWithoutCloseMatchHasNoSuggestion) {
  const Tree root = Doc("completely_different: 1\n");
  MapReader reader(&root, "");
  reader.Accept("gamma");
  const std::string message = ConfigErrorOf([&] { reader.Finish(); });
  EXPECT_EQ(message, "cfg.yaml:1:1: completely_different: unknown key (valid keys: gamma)");
}

TEST(MapReaderTest, RangeChecksExplainTheRange) {
  const Tree root = Doc("gamma: 1.5\nn_envs: 2000\nrate: -1\nsteps: 0\nnan: .nan\n");
  MapReader reader(&root, "agent");
  double gamma = 0, rate = 0, nan = 0;
  int n_envs = 0;
  int64_t steps = 0;
  reader.Get("gamma", &gamma);
  reader.Get("n_envs", &n_envs);
  reader.Get("rate", &rate);
  reader.Get("steps", &steps);
  reader.Get("nan", &nan);
  EXPECT_EQ(ConfigErrorOf([&] { reader.CheckRange("gamma", gamma, 0, 1, true); }),
            "cfg.yaml:1:8: agent.gamma: expected a number in (0, 1], found 1.5");
  EXPECT_EQ(ConfigErrorOf([&] { reader.CheckRange("n_envs", n_envs, 1, 1024); }),
            "cfg.yaml:2:9: agent.n_envs: expected an integer in 1..1024, found 2000");
  EXPECT_EQ(ConfigErrorOf([&] { reader.CheckRange("rate", rate, 0, INFINITY, true); }),
            "cfg.yaml:3:7: agent.rate: expected a number > 0, found -1");
  EXPECT_EQ(ConfigErrorOf([&] { reader.CheckRange("steps", steps, 1, INFINITY); }),
            "cfg.yaml:4:8: agent.steps: expected an integer >= 1, found 0");
  EXPECT_THROW(reader.CheckRange("nan", nan, 0, 1), ConfigError);
  reader.CheckRange("gamma", 1.0, 0, 1, true);
}

TEST(MapReaderTest, CheckChoiceListsChoices) {
  const Tree root = Doc("device: tpu\n");
  MapReader reader(&root, "agent");
  std::string device;
  reader.Get("device", &device);
  EXPECT_EQ(ConfigErrorOf([&] {
              reader.CheckChoice("device", device, {"auto", "cpu"});
            }),
            "cfg.yaml:1:9: agent.device: expected one of auto, cpu; found 'tpu'");
}

TEST(MapReaderTest, IgnoreWarnsOncePerPresentKeyWithItsLine) {
  TakeNoEffectWarnings();
  const Tree root = Doc("agent:\n  tau: 0.005\n");
  MapReader reader(root.Find("agent"), "agent");
  reader.Ignore("tau", "a reason");
  reader.Ignore("tau", "a reason");
  reader.Ignore("buffer_size", "another");
  reader.Finish();
  const auto& accepted = NoEffectKeys();
  EXPECT_NE(std::find(accepted.begin(), accepted.end(), "agent.tau"), accepted.end());
  EXPECT_EQ(std::find(accepted.begin(), accepted.end(), "agent.buffer_size"), accepted.end());
  const std::vector<std::string> warnings = TakeNoEffectWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], root.Find("agent")->Find("tau")->key_loc.ToString() +
                             ": agent.tau: warning: has no effect (a reason)");
  EXPECT_TRUE(TakeNoEffectWarnings().empty());

  // Accept marks a key as read elsewhere: no warning, not listed.
  MapReader other(root.Find("agent"), "agent");
  other.Accept("tau");
  other.Finish();
  EXPECT_TRUE(TakeNoEffectWarnings().empty());
}

TEST(MapReaderTest, NullSectionKeepsDefaults) {
  const Tree root = Doc("agent:\n");
  MapReader reader(root.Find("agent"), "agent");
  double gamma = 0.99;
  reader.Get("gamma", &gamma);
  reader.Finish();
  EXPECT_EQ(gamma, 0.99);
}

}  // namespace
}  // namespace rlpipe::config
