#pragma once
/// A reader for the pickle subset `torch.save` writes (protocol 2; 3–5 opcodes accepted): dicts and
/// OrderedDicts of tensors, optimizer state dicts (ints, floats, tuples, lists, None, bools).
/// LibTorch 1.13's torch::pickle_load cannot read what Python's torch.save writes, so SB3 imports
/// go through this. Nothing is executed: a REDUCE of an unknown callable becomes an opaque
/// `kObject` naming it (SB3's pickled closures are skipped, not run). Needs no torch headers.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rlpipe::checkpoint {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

/// One unpickled value.
struct PyValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kTuple,
    kList,
    kDict,
    kGlobal,
    kStorage,
    kTensor,
    kObject
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  /// kString / kBytes: the bytes; kGlobal / kObject: "module.name"; kStorage: storage key.
  std::string text;
  /// kTuple / kList items; kObject: its REDUCE arguments.
  std::vector<PyRef> items;
  /// kDict entries in insertion order.
  std::vector<std::pair<PyRef, PyRef>> entries;
  /// kStorage: element type ("float32", "float64", "int64", "int32", "uint8", "bool", ...).
  std::string dtype;
  /// kTensor: the storage (kStorage) and the view on it.
  PyRef storage;
  int64_t storage_offset = 0;
  std::vector<int64_t> sizes, strides;

  /// The entry of a kDict whose key is the string `key`, or null.
  PyRef Find(const std::string& key) const;
  /// "dict", "tensor", "int", ... for messages.
  std::string KindName() const;
};

/// Runs the pickle `bytes`; throws IoError naming `origin` on a truncated or malformed pickle or
/// an opcode outside the subset.
PyRef ReadPickle(std::string_view bytes, const std::string& origin);

}  // namespace rlpipe::checkpoint
