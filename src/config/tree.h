#pragma once
/// A YAML document as plain data with a source location on every node, so that every error about
/// a value can name file:line:column and the key path, even after overrides were merged in.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rlpipe::config {

/// Where a node came from. line and column are 1-based (0 = unknown).
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
  /// "file:line:col" (or just "file" when line is unknown).
  std::string ToString() const;
};

/// One YAML node: null, scalar, sequence or mapping (insertion-ordered).
struct Tree {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;       // kScalar: the text as written (unquoted)
  bool quoted = false;      // kScalar: written with quotes (so "1" is a string, not a number)
  std::vector<Tree> items;  // kSequence
  std::vector<std::pair<std::string, Tree>> entries;  // kMap, in file order
  SourceLoc loc;
  SourceLoc key_loc;  // for a map entry's value: where its key was written

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsMap() const { return kind == Kind::kMap; }
  /// Map lookup; nullptr when absent (or when this is not a map).
  const Tree* Find(const std::string& key) const;
  Tree* Find(const std::string& key);
  /// Inserts or replaces a map entry (turns a null node into a map).
  void Set(const std::string& key, Tree value);
  /// Erases a map entry if present.
  void Erase(const std::string& key);
  /// Back to YAML text (block style), e.g. for training_config.yaml and `rlpipe config`.
  std::string ToYaml() const;

  static Tree Scalar(std::string text, SourceLoc loc = {});
};

/// True when both trees hold the same data (kinds, scalars, `quoted`, order); locations ignored.
bool EqualData(const Tree& a, const Tree& b);

/// Parses a YAML file. Throws ConfigError "file:line:col: ..." on syntax errors, IoError when the
/// file cannot be read. Duplicate keys in one mapping are an error.
Tree LoadYamlFile(const std::filesystem::path& path);
/// Same for text held in memory; `origin` names it in errors.
Tree ParseYaml(const std::string& text, const std::string& origin);

/// Deep merge: maps merge key by key (a nested key replaces only itself); scalars, sequences and
/// nulls in `overlay` replace the base value whole.
void DeepMerge(Tree& base, const Tree& overlay);

/// Applies `--set a.b.c=value` style assignments (value parsed as YAML scalar/flow).
void SetPath(Tree& root, const std::string& dotted_key, const std::string& yaml_value);

/// Strict, typed reading of one YAML mapping. Every key must be consumed by a Get/Accept call,
/// else Finish() throws naming the unknown key, its path, line and the valid keys.
class MapReader {
 public:
  /// `node` may be null (then every Get keeps its default). `path` is the key path, e.g. "agent".
  MapReader(const Tree* node, std::string path, std::string what = "");

  /// Typed getters: leave *out unchanged when the key is absent or null (an explicit null resets
  /// the std::optional overloads to nullopt); throw ConfigError naming
  /// file:line:col, key path, expected type and what was found on a wrong type.
  void Get(const std::string& key, bool* out);
  void Get(const std::string& key, int* out);
  void Get(const std::string& key, int64_t* out);
  void Get(const std::string& key, double* out);
  void Get(const std::string& key, std::string* out);
  void Get(const std::string& key, std::vector<int>* out);
  void Get(const std::string& key, std::optional<int64_t>* out);
  void Get(const std::string& key, std::optional<double>* out);
  void Get(const std::string& key, std::optional<std::string>* out);
  /// Subtree access (nullptr when absent); marks the key as known.
  const Tree* Child(const std::string& key);
  /// Marks a key as known without reading it here (code elsewhere reads it).
  void Accept(const std::string& key);
  /// A key rlpipe accepts from the configs users already have but that has no effect: marks it
  /// known and, when present, records the warning "file:line:col: path: warning: has no effect
  /// (<why>)" for TakeNoEffectWarnings and its path for NoEffectKeys.
  void Ignore(const std::string& key, const std::string& why);
  /// Range checks with a clear message; call after Get. `key` must have been read.
  void CheckRange(const std::string& key, double value, double lo, double hi, bool lo_open = false);
  /// Value must be one of `choices`.
  void CheckChoice(const std::string& key, const std::string& value,
                   const std::vector<std::string>& choices);
  /// Throws on any key that no Get/Child/Accept asked for.
  void Finish();

  /// Location of a key's value (or of the map itself when absent).
  SourceLoc LocOf(const std::string& key) const;
  /// "path.key"
  std::string PathOf(const std::string& key) const;
  /// ConfigError "file:line:col: key path: message".
  [[noreturn]] void Fail(const std::string& key, const std::string& message) const;

  const Tree* node() const { return node_; }
  /// The keys asked for so far (Get/Child/Accept/Ignore), in the order asked: after a reader ran
  /// on a null node, every key it knows.
  const std::vector<std::string>& known_keys() const { return known_; }

 private:
  const Tree* node_;
  std::string path_;
  std::string what_;
  std::vector<std::string> known_;
  std::vector<std::string> integer_keys_;  // keys read as integers (for range messages)
};

/// Keys that loaded with no effect (MapReader::Ignore), as key paths (listed by `run -v`).
std::vector<std::string>& NoEffectKeys();

/// The no-effect warnings recorded on this thread since the last call (each once), and clears
/// them. `rlpipe config` and `rlpipe run` print them.
std::vector<std::string> TakeNoEffectWarnings();

/// Throws ConfigError "loc: path: message".
[[noreturn]] void FailAt(const SourceLoc& loc, const std::string& path, const std::string& message);

}  // namespace rlpipe::config
