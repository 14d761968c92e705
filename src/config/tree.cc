#include "config/tree.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/emitterstyle.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::config {
namespace {

namespace fs = std::filesystem;

// Plain scalars that YAML reads as null.
bool IsNullWord(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// 1-based location from yaml-cpp's 0-based mark (negative = unknown).
SourceLoc LocFromMark(const std::string& file, const YAML::Mark& mark) {
  SourceLoc loc;
  loc.file = file;
  if (mark.line >= 0) {
    loc.line = mark.line + 1;
    loc.column = mark.column + 1;
  }
  return loc;
}

/// Builds a Tree from yaml-cpp parser events, detecting duplicate keys and resolving aliases and
/// `<<` merge keys.
class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(std::string file) : file_(std::move(file)) {}

  bool has_root() const { return has_root_; }
  Tree TakeRoot() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Tree node;
    node.loc = LocFromMark(file_, mark);
    Complete(std::move(node), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      FailAt(LocFromMark(file_, mark), CurrentPath(), "alias to an unknown anchor");
    }
    Tree node = it->second;
    node.loc = LocFromMark(file_, mark);
    Complete(std::move(node), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // A plain null word is null; anything quoted, block-style or tagged stays a string.
    Tree node;
    node.loc = LocFromMark(file_, mark);
    const bool plain = tag == "?";
    if (!(plain && IsNullWord(value))) {
      node.kind = Tree::Kind::kScalar;
      node.scalar = value;
      node.quoted = !plain;
    }
    Complete(std::move(node), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Tree::Kind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(Tree::Kind::kMap, mark, anchor);
  }
  void OnMapEnd() override {
    ApplyMergeKeys(stack_.back().tree);
    Close();
  }

 private:
  // A container under construction; maps alternate between a pending key and its value.
  struct Frame {
    Tree tree;
    YAML::anchor_t anchor = 0;
    bool has_key = false;
    std::string key;
    SourceLoc key_loc;
  };

  void Open(Tree::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Frame frame;
    frame.tree.kind = kind;
    frame.tree.loc = LocFromMark(file_, mark);
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Complete(std::move(frame.tree), frame.anchor);
  }

  // Key path of the innermost open container, e.g. "sessions[1].overrides".
  std::string CurrentPath() const {
    std::string path;
    for (size_t i = 1; i < stack_.size(); ++i) {
      const Frame& parent = stack_[i - 1];
      if (parent.tree.kind == Tree::Kind::kSequence) {
        path += "[" + std::to_string(parent.tree.items.size()) + "]";
      } else {
        path += (path.empty() ? "" : ".") + parent.key;
      }
    }
    return path;
  }

  // Attaches a finished node to its parent (or makes it the root).
  void Complete(Tree node, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = node;
    if (stack_.empty()) {
      root_ = std::move(node);
      has_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    if (parent.tree.kind == Tree::Kind::kSequence) {
      parent.tree.items.push_back(std::move(node));
      return;
    }
    // In a map, a node is first a key, then that key's value.
    if (!parent.has_key) {
      if (node.kind != Tree::Kind::kScalar) {
        const std::string found = node.kind == Tree::Kind::kNull ? "null" : "a list or mapping";
        FailAt(node.loc, CurrentPath(), "expected a plain key, found " + found);
      }
      parent.has_key = true;
      parent.key = node.scalar;
      parent.key_loc = node.loc;
      return;
    }
    parent.has_key = false;
    for (const auto& [key, value] : parent.tree.entries) {
      if (key == parent.key && key != "<<") {
        const std::string path = CurrentPath();
        FailAt(parent.key_loc, path.empty() ? key : path + "." + key,
               "duplicate key (first defined at line " + std::to_string(value.key_loc.line) +
                   ", again at line " + std::to_string(parent.key_loc.line) + ")");
      }
    }
    node.key_loc = parent.key_loc;
    parent.tree.entries.emplace_back(parent.key, std::move(node));
  }

  // `<<: *base` (or a list of them) adds the base's keys that the map does not set itself.
  static void ApplyMergeKeys(Tree& map) {
    std::vector<Tree> sources;
    auto& entries = map.entries;
    for (auto it = entries.begin(); it != entries.end();) {
      if (it->first == "<<" && !it->second.quoted) {
        if (it->second.kind == Tree::Kind::kMap) {
          sources.push_back(std::move(it->second));
        } else if (it->second.kind == Tree::Kind::kSequence) {
          for (auto& item : it->second.items) sources.push_back(std::move(item));
        }
        it = entries.erase(it);
      } else {
        ++it;
      }
    }
    for (const Tree& source : sources) {
      if (source.kind != Tree::Kind::kMap) continue;
      for (const auto& [key, value] : source.entries) {
        if (map.Find(key) == nullptr) entries.emplace_back(key, value);
      }
    }
  }

  std::string file_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Tree> anchors_;
  Tree root_;
  bool has_root_ = false;
};

// Shortest decimal text that reads back as `value`.
std::string FormatNumber(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// YAML core-schema number syntax: [-+]? (digits [. digits] | . digits) ([eE] [-+]? digits)?
bool LooksLikeDecimal(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == text.size();
}

// A plain scalar read as a number (.inf and .nan included); nullopt otherwise.
std::optional<double> ScalarNumber(const Tree& node) {
  if (node.kind != Tree::Kind::kScalar || node.quoted) return std::nullopt;
  const std::string& text = node.scalar;
  static const std::map<std::string, double> kSpecial = {
      {".inf", INFINITY},   {".Inf", INFINITY},  {".INF", INFINITY},   {"+.inf", INFINITY},
      {"+.Inf", INFINITY},  {"+.INF", INFINITY}, {"-.inf", -INFINITY}, {"-.Inf", -INFINITY},
      {"-.INF", -INFINITY}, {".nan", NAN},       {".NaN", NAN},        {".NAN", NAN}};
  if (const auto it = kSpecial.find(text); it != kSpecial.end()) return it->second;
  if (!LooksLikeDecimal(text)) return std::nullopt;
  std::string_view digits = text;
  if (digits.front() == '+') digits.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) return digits.front() == '-' ? -INFINITY : INFINITY;
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// A plain scalar read as an exact integer: decimal digits, or an integral number like 1e6.
std::optional<int64_t> ScalarInteger(const Tree& node) {
  if (node.kind != Tree::Kind::kScalar || node.quoted) return std::nullopt;
  std::string_view text = node.scalar;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) return value;
  const std::optional<double> number = ScalarNumber(node);
  if (!number || !std::isfinite(*number) || std::floor(*number) != *number) return std::nullopt;
  if (*number < -9.2e18 || *number > 9.2e18) return std::nullopt;
  return static_cast<int64_t>(*number);
}

// How a value looks in an error message ("1.5", "\"5\" (a quoted string)", "a list").
std::string Describe(const Tree& node) {
  switch (node.kind) {
    case Tree::Kind::kScalar:
      return node.quoted ? "\"" + node.scalar + "\" (a quoted string)" : node.scalar;
    case Tree::Kind::kSequence:
      return "a list";
    case Tree::Kind::kMap:
      return "a mapping";
    case Tree::Kind::kNull:
      break;
  }
  return "null";
}

// Optimal-string-alignment distance (a swap of two neighbours counts as one edit).
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// True when a scalar can be written plain and reads back as the same string.
bool IsPlainSafe(const std::string& text) {
  if (IsNullWord(text)) return false;
  if (text.front() == ' ' || text.back() == ' ') return false;
  if (std::string_view(",[]{}#&*!|>'\"%@`").find(text.front()) != std::string_view::npos) {
    return false;
  }
  // '-', '?' and ':' start a plain scalar only when not followed by a space (-200.5 is fine).
  if ((text.front() == '-' || text.front() == '?' || text.front() == ':') &&
      (text.size() == 1 || text[1] == ' ')) {
    return false;
  }
  if (text.starts_with("---") || text.starts_with("...")) return false;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    // Flow indicators would break `[a, b]` lists; keep it simple and quote them everywhere.
    if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}') return false;
  }
  return text.find(": ") == std::string::npos && text.find(" #") == std::string::npos &&
         text.back() != ':';
}

// Words YAML 1.1 or 1.2 readers take as booleans; written quoted so strings stay strings.
bool IsBoolLike(const std::string& text) {
  static const char* const kWords[] = {"true", "false", "yes", "no", "on", "off", "y", "n"};
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* word) { return lower == word; });
}

std::string DoubleQuoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A scalar or key as YAML text: quoted scalars stay quoted; plain ones are quoted only if needed.
std::string ScalarText(const std::string& text, bool quoted) {
  if (quoted || !IsPlainSafe(text)) return DoubleQuoted(text);
  return text;
}

std::string KeyText(const std::string& key) {
  const bool ambiguous = IsBoolLike(key) || LooksLikeDecimal(key);
  return ScalarText(key, ambiguous);
}

// Text of a node that fits on the line of its key or dash, or "" when it needs a block.
std::string InlineText(const Tree& node) {
  switch (node.kind) {
    case Tree::Kind::kNull:
      return "null";
    case Tree::Kind::kScalar:
      return ScalarText(node.scalar, node.quoted);
    case Tree::Kind::kMap:
      return node.entries.empty() ? "{}" : "";
    case Tree::Kind::kSequence: {
      // Short lists of scalars are written in flow style: [64, 64].
      std::string flow = "[";
      for (const Tree& item : node.items) {
        if (item.kind != Tree::Kind::kScalar && item.kind != Tree::Kind::kNull) return "";
        flow += (flow.size() > 1 ? ", " : "") + InlineText(item);
      }
      flow += "]";
      return flow.size() <= 80 ? flow : "";
    }
  }
  return "";
}

// Appends `node` as block YAML lines indented by `indent` spaces.
void EmitBlock(const Tree& node, int indent, std::string& out) {
  const std::string pad(indent, ' ');
  const std::string inline_text = InlineText(node);
  if (!inline_text.empty()) {
    out += pad + inline_text + "\n";
    return;
  }
  if (node.kind == Tree::Kind::kMap) {
    for (const auto& [key, value] : node.entries) {
      const std::string value_text = InlineText(value);
      if (!value_text.empty()) {
        out += pad + KeyText(key) + ": " + value_text + "\n";
      } else {
        out += pad + KeyText(key) + ":\n";
        EmitBlock(value, indent + 2, out);
      }
    }
    return;
  }
  // Block sequence: render each item two columns in, then put the dash on its first line.
  for (const Tree& item : node.items) {
    const size_t start = out.size();
    EmitBlock(item, indent + 2, out);
    out.replace(start + indent, 2, "- ");
  }
}

// Overwrites every location in a tree (for values that come from the command line).
void SetAllLocs(Tree& node, const SourceLoc& loc) {
  node.loc = loc;
  node.key_loc = loc;
  for (Tree& item : node.items) SetAllLocs(item, loc);
  for (auto& entry : node.entries) SetAllLocs(entry.second, loc);
}

}  // namespace

std::string SourceLoc::ToString() const {
  if (line <= 0) return file;
  const std::string position = std::to_string(line) + ":" + std::to_string(column);
  return file.empty() ? position : file + ":" + position;
}

const Tree* Tree::Find(const std::string& key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& entry : entries) {
    if (entry.first == key) return &entry.second;
  }
  return nullptr;
}

Tree* Tree::Find(const std::string& key) {
  return const_cast<Tree*>(static_cast<const Tree*>(this)->Find(key));
}

void Tree::Set(const std::string& key, Tree value) {
  if (kind == Kind::kNull) {
    kind = Kind::kMap;
    entries.clear();
  }
  if (kind != Kind::kMap) {
    FailAt(loc, key,
           "cannot set a key on a " + std::string(kind == Kind::kScalar ? "scalar" : "list") +
               "; expected a mapping");
  }
  // Replace in place (keeping the key's position and location), else append.
  if (Tree* existing = Find(key)) {
    if (value.key_loc.line == 0 && value.key_loc.file.empty()) value.key_loc = existing->key_loc;
    *existing = std::move(value);
    return;
  }
  entries.emplace_back(key, std::move(value));
}

void Tree::Erase(const std::string& key) {
  std::erase_if(entries, [&](const auto& entry) { return entry.first == key; });
}

std::string Tree::ToYaml() const {
  std::string out;
  EmitBlock(*this, 0, out);
  return out;
}

Tree Tree::Scalar(std::string text, SourceLoc loc) {
  Tree node;
  node.kind = Kind::kScalar;
  node.scalar = std::move(text);
  node.loc = std::move(loc);
  return node;
}

bool EqualData(const Tree& a, const Tree& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Tree::Kind::kNull:
      return true;
    case Tree::Kind::kScalar:
      return a.scalar == b.scalar && a.quoted == b.quoted;
    case Tree::Kind::kSequence:
      return std::equal(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(), EqualData);
    case Tree::Kind::kMap:
      return std::equal(a.entries.begin(), a.entries.end(), b.entries.begin(), b.entries.end(),
                        [](const auto& x, const auto& y) {
                          return x.first == y.first && EqualData(x.second, y.second);
                        });
  }
  return false;
}

Tree LoadYamlFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw ConfigError(path.string() + ": file not found (expected a YAML file)");
  }
  return ParseYaml(ReadFile(path), path.string());
}

Tree ParseYaml(const std::string& text, const std::string& origin) {
  std::istringstream stream(text);
  try {
    // Exactly one document; an empty text is a null document.
    YAML::Parser parser(stream);
    TreeBuilder builder(origin);
    if (!parser.HandleNextDocument(builder) || !builder.has_root()) {
      Tree empty;
      empty.loc.file = origin;
      return empty;
    }
    TreeBuilder extra(origin);
    if (parser.HandleNextDocument(extra)) {
      throw ConfigError(origin + ": expected one YAML document, found several (a '---' line?)");
    }
    return builder.TakeRoot();
  } catch (const YAML::Exception& e) {
    throw ConfigError(LocFromMark(origin, e.mark).ToString() + ": YAML syntax error: " + e.msg);
  }
}

void DeepMerge(Tree& base, const Tree& overlay) {
  // Maps merge key by key; anything else replaces the base value whole.
  if (base.kind != Tree::Kind::kMap || overlay.kind != Tree::Kind::kMap) {
    const SourceLoc key_loc = base.key_loc;
    base = overlay;
    if (base.key_loc.line == 0 && base.key_loc.file.empty()) base.key_loc = key_loc;
    return;
  }
  for (const auto& [key, value] : overlay.entries) {
    if (Tree* existing = base.Find(key)) {
      DeepMerge(*existing, value);
    } else {
      base.entries.emplace_back(key, value);
    }
  }
}

void SetPath(Tree& root, const std::string& dotted_key, const std::string& yaml_value) {
  // The value is YAML text; every node in it is located at the --set flag itself.
  const std::string origin = "--set " + dotted_key + "=" + yaml_value;
  Tree value = ParseYaml(yaml_value, origin);
  SourceLoc flag_loc;
  flag_loc.file = origin;
  SetAllLocs(value, flag_loc);

  // Split "a.b.c" and walk down, creating maps for missing keys.
  std::vector<std::string> keys;
  std::stringstream parts(dotted_key);
  for (std::string key; std::getline(parts, key, '.');) keys.push_back(key);
  if (dotted_key.empty() || dotted_key.back() == '.' ||
      std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); })) {
    FailAt(flag_loc, dotted_key, "expected a dotted key like agent.gamma");
  }
  Tree* node = &root;
  std::string path;
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    path += (path.empty() ? "" : ".") + keys[i];
    if (node->kind == Tree::Kind::kNull) node->kind = Tree::Kind::kMap;
    Tree* child = node->Find(keys[i]);
    if (child == nullptr) {
      Tree map;
      map.kind = Tree::Kind::kMap;
      map.loc = flag_loc;
      map.key_loc = flag_loc;
      node->entries.emplace_back(keys[i], std::move(map));
      child = &node->entries.back().second;
    } else if (child->kind == Tree::Kind::kNull) {
      child->kind = Tree::Kind::kMap;
    } else if (child->kind != Tree::Kind::kMap) {
      FailAt(
          flag_loc, path,
          "cannot set " + dotted_key + ": " + path + " is " + Describe(*child) + ", not a mapping");
    }
    node = child;
  }
  if (node->kind != Tree::Kind::kNull && node->kind != Tree::Kind::kMap) {
    FailAt(flag_loc, dotted_key, "cannot set a key inside " + Describe(*node));
  }
  node->Set(keys.back(), std::move(value));
}

MapReader::MapReader(const Tree* node, std::string path, std::string what)
    : node_(node), path_(std::move(path)), what_(std::move(what)) {
  // A null section is an empty one; anything but a mapping is a type error.
  if (node_ != nullptr && node_->kind == Tree::Kind::kNull) node_ = nullptr;
  if (node_ != nullptr && node_->kind != Tree::Kind::kMap) {
    FailAt(node_->loc, path_,
           "expected a mapping" + (what_.empty() ? "" : " of " + what_) + ", found " +
               Describe(*node_));
  }
}

void MapReader::Get(const std::string& key, bool* out) {
  const Tree* value = Child(key);
  if (value == nullptr || value->IsNull()) return;
  static const char* const kTrue[] = {"true", "True", "TRUE"};
  static const char* const kFalse[] = {"false", "False", "FALSE"};
  if (value->kind == Tree::Kind::kScalar && !value->quoted) {
    for (const char* word : kTrue) {
      if (value->scalar == word) {
        *out = true;
        return;
      }
    }
    for (const char* word : kFalse) {
      if (value->scalar == word) {
        *out = false;
        return;
      }
    }
  }
  Fail(key, "expected true or false, found " + Describe(*value));
}

void MapReader::Get(const std::string& key, int64_t* out) {
  integer_keys_.push_back(key);
  const Tree* value = Child(key);
  if (value == nullptr || value->IsNull()) return;
  const std::optional<int64_t> number = ScalarInteger(*value);
  if (!number) Fail(key, "expected an integer, found " + Describe(*value));
  *out = *number;
}

void MapReader::Get(const std::string& key, int* out) {
  int64_t wide = *out;
  Get(key, &wide);
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    Fail(key, "expected an integer in 32-bit range, found " + Describe(*Child(key)));
  }
  *out = static_cast<int>(wide);
}

void MapReader::Get(const std::string& key, double* out) {
  const Tree* value = Child(key);
  if (value == nullptr || value->IsNull()) return;
  const std::optional<double> number = ScalarNumber(*value);
  if (!number) Fail(key, "expected a number, found " + Describe(*value));
  *out = *number;
}

void MapReader::Get(const std::string& key, std::string* out) {
  const Tree* value = Child(key);
  if (value == nullptr || value->IsNull()) return;
  if (value->kind != Tree::Kind::kScalar) Fail(key, "expected a string, found " + Describe(*value));
  *out = value->scalar;
}

void MapReader::Get(const std::string& key, std::vector<int>* out) {
  const Tree* value = Child(key);
  if (value == nullptr || value->IsNull()) return;
  if (value->kind != Tree::Kind::kSequence) {
    Fail(key, "expected a list of integers, found " + Describe(*value));
  }
  // Each item is checked on its own so the message points at the bad one.
  std::vector<int> result;
  for (size_t i = 0; i < value->items.size(); ++i) {
    const Tree& item = value->items[i];
    const std::optional<int64_t> number = ScalarInteger(item);
    if (!number || *number < std::numeric_limits<int>::min() ||
        *number > std::numeric_limits<int>::max()) {
      FailAt(item.loc, PathOf(key) + "[" + std::to_string(i) + "]",
             "expected an integer, found " + Describe(item));
    }
    result.push_back(static_cast<int>(*number));
  }
  *out = std::move(result);
}

void MapReader::Get(const std::string& key, std::optional<int64_t>* out) {
  const Tree* value = Child(key);
  if (value != nullptr && value->IsNull()) *out = std::nullopt;
  if (value == nullptr || value->IsNull()) {
    integer_keys_.push_back(key);
    return;
  }
  int64_t number = 0;
  Get(key, &number);
  *out = number;
}

void MapReader::Get(const std::string& key, std::optional<double>* out) {
  const Tree* value = Child(key);
  if (value != nullptr && value->IsNull()) *out = std::nullopt;
  if (value == nullptr || value->IsNull()) return;
  double number = 0.0;
  Get(key, &number);
  *out = number;
}

void MapReader::Get(const std::string& key, std::optional<std::string>* out) {
  const Tree* value = Child(key);
  if (value != nullptr && value->IsNull()) *out = std::nullopt;
  if (value == nullptr || value->IsNull()) return;
  std::string text;
  Get(key, &text);
  *out = text;
}

const Tree* MapReader::Child(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  return node_ == nullptr ? nullptr : node_->Find(key);
}

namespace {
thread_local std::vector<std::string> tls_no_effect_warnings;
}  // namespace

void MapReader::Accept(const std::string& key) { Child(key); }

void MapReader::Ignore(const std::string& key, const std::string& why) {
  if (Child(key) == nullptr) return;
  std::vector<std::string>& accepted = NoEffectKeys();
  const std::string path = PathOf(key);
  if (std::find(accepted.begin(), accepted.end(), path) == accepted.end()) {
    accepted.push_back(path);
  }
  const Tree* value = node_->Find(key);
  const SourceLoc& loc = value->key_loc.line > 0 ? value->key_loc : value->loc;
  const std::string warning =
      loc.ToString() + ": " + path + ": warning: has no effect (" + why + ")";
  if (std::find(tls_no_effect_warnings.begin(), tls_no_effect_warnings.end(), warning) ==
      tls_no_effect_warnings.end()) {
    tls_no_effect_warnings.push_back(warning);
  }
}

std::vector<std::string> TakeNoEffectWarnings() {
  return std::exchange(tls_no_effect_warnings, {});
}

void MapReader::CheckRange(const std::string& key, double value, double lo, double hi,
                           bool lo_open) {
  // Written so that NaN is always out of range; an open upper end still requires a finite value.
  const bool above_lo = lo_open ? value > lo : value >= lo;
  const bool below_hi = std::isinf(hi) ? std::isfinite(value) : value <= hi;
  if (above_lo && below_hi) return;
  const bool integer =
      std::find(integer_keys_.begin(), integer_keys_.end(), key) != integer_keys_.end();
  const std::string kind = integer ? "an integer" : "a number";
  std::string expected;
  if (std::isinf(hi) && std::isinf(lo)) {
    expected = "a finite " + kind.substr(kind.find(' ') + 1);
  } else if (std::isinf(hi)) {
    expected = kind + (lo_open ? " > " : " >= ") + FormatNumber(lo);
  } else if (integer && !lo_open) {
    expected = kind + " in " + FormatNumber(lo) + ".." + FormatNumber(hi);
  } else {
    expected =
        kind + " in " + (lo_open ? "(" : "[") + FormatNumber(lo) + ", " + FormatNumber(hi) + "]";
  }
  const Tree* node = node_ == nullptr ? nullptr : node_->Find(key);
  const std::string found =
      node != nullptr && node->kind == Tree::Kind::kScalar ? node->scalar : FormatNumber(value);
  Fail(key, "expected " + expected + ", found " + found);
}

void MapReader::CheckChoice(const std::string& key, const std::string& value,
                            const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string list;
  for (const auto& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  Fail(key, "expected one of " + list + "; found '" + value + "'");
}

void MapReader::Finish() {
  if (node_ == nullptr) return;
  for (const auto& [key, value] : node_->entries) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    // Unknown key: list the valid ones and suggest the closest within two edits.
    std::vector<std::string> valid = known_;
    std::sort(valid.begin(), valid.end());
    std::string list;
    std::string best;
    size_t best_distance = 3;
    for (const auto& candidate : valid) {
      list += (list.empty() ? "" : ", ") + candidate;
      const size_t distance = EditDistance(key, candidate);
      if (distance < best_distance) {
        best_distance = distance;
        best = candidate;
      }
    }
    std::string message = "unknown key";
    if (!best.empty()) message += ", did you mean '" + best + "'?";
    message += " (valid keys: " + list + ")";
    const SourceLoc& loc = value.key_loc.line > 0 ? value.key_loc : value.loc;
    FailAt(loc, PathOf(key), message);
  }
}

SourceLoc MapReader::LocOf(const std::string& key) const {
  if (node_ == nullptr) return {};
  if (const Tree* value = node_->Find(key)) {
    return value->loc.line > 0 || value->key_loc.line == 0 ? value->loc : value->key_loc;
  }
  return node_->loc;
}

std::string MapReader::PathOf(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void MapReader::Fail(const std::string& key, const std::string& message) const {
  FailAt(LocOf(key), PathOf(key), message);
}

std::vector<std::string>& NoEffectKeys() {
  static std::vector<std::string> accepted;
  return accepted;
}

void FailAt(const SourceLoc& loc, const std::string& path, const std::string& message) {
  const std::string where = loc.ToString();
  std::string text = where.empty() ? "" : where + ": ";
  if (!path.empty()) text += path + ": ";
  throw ConfigError(text + message);
}

}  // namespace rlpipe::config
