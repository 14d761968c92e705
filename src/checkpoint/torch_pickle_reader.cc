#include "checkpoint/torch_pickle_reader.h"

#include <cstring>
#include <set>

#include "core/error.h"

namespace rlpipe::checkpoint {
namespace {

using Kind = PyValue::Kind;

PyRef Make(Kind kind) {
  auto value = std::make_shared<PyValue>();
  value->kind = kind;
  return value;
}

PyRef MakeInt(int64_t v) {
  PyRef value = Make(Kind::kInt);
  value->integer = v;
  return value;
}

PyRef MakeText(Kind kind, std::string text) {
  PyRef value = Make(kind);
  value->text = std::move(text);
  return value;
}

// Storage class names (torch.FloatStorage, ...) and dtype names (torch.float32) → element type.
std::string DtypeOfStorage(const std::string& global) {
  static const std::map<std::string, std::string> kTypes = {
      {"torch.FloatStorage", "float32"}, {"torch.DoubleStorage", "float64"},
      {"torch.HalfStorage", "float16"},  {"torch.BFloat16Storage", "bfloat16"},
      {"torch.LongStorage", "int64"},    {"torch.IntStorage", "int32"},
      {"torch.ShortStorage", "int16"},   {"torch.CharStorage", "int8"},
      {"torch.ByteStorage", "uint8"},    {"torch.BoolStorage", "bool"},
      {"torch.float32", "float32"},      {"torch.float64", "float64"},
      {"torch.int64", "int64"},          {"torch.int32", "int32"},
      {"torch.uint8", "uint8"},          {"torch.bool", "bool"}};
  const auto it = kTypes.find(global);
  return it == kTypes.end() ? std::string() : it->second;
}

// The pickle virtual machine over one byte string.
class Machine {
 public:
  Machine(std::string_view bytes, const std::string& origin) : b_(bytes), origin_(origin) {}

  PyRef Run() {
    while (true) {
      const auto op = static_cast<unsigned char>(Byte());
      if (op == '.') break;
      Step(op);
    }
    if (stack_.size() != 1)
      Fail("expected one value at STOP, found " + std::to_string(stack_.size()));
    return stack_.back();
  }

 private:
  [[noreturn]] void Fail(const std::string& message) const {
    throw IoError(origin_ + ": unreadable pickle (as torch.save writes): " + message + " at byte " +
                  std::to_string(at_));
  }

  // Raw reads with bounds checks.
  char Byte() {
    if (at_ >= b_.size()) Fail("truncated");
    return b_[at_++];
  }
  std::string_view Take(uint64_t n) {
    if (n > b_.size() - at_) Fail("truncated (needs " + std::to_string(n) + " bytes)");
    std::string_view s = b_.substr(at_, n);
    at_ += n;
    return s;
  }
  uint64_t LittleEndian(int n) {
    const std::string_view s = Take(n);
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
  }
  std::string Line() {
    const size_t end = b_.find('\n', at_);
    if (end == std::string_view::npos) Fail("truncated text line");
    std::string s(b_.substr(at_, end - at_));
    at_ = end + 1;
    return s;
  }

  // Stack helpers: MARK positions split the stack.
  PyRef Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      Fail("stack underflow");
    PyRef v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PyRef& Top() {
    if (stack_.empty()) Fail("stack underflow");
    return stack_.back();
  }
  std::vector<PyRef> PopMark() {
    if (marks_.empty()) Fail("no MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  PyRef Sequence(Kind kind, std::vector<PyRef> items) {
    PyRef v = Make(kind);
    v->items = std::move(items);
    return v;
  }
  // A container put (through the memo) inside itself would be a reference cycle, which
  // shared_ptr never frees; torch.save never writes one, so it is rejected.
  void CheckNoCycle(const PyRef& container, const std::vector<PyRef>& items) const {
    std::vector<const PyValue*> todo;
    for (const PyRef& item : items) todo.push_back(item.get());
    std::set<const PyValue*> seen;
    while (!todo.empty()) {
      const PyValue* value = todo.back();
      todo.pop_back();
      if (value == nullptr || !seen.insert(value).second) continue;
      if (value == container.get()) Fail("a " + container->KindName() + " that contains itself");
      for (const PyRef& item : value->items) todo.push_back(item.get());
      for (const auto& [key, entry] : value->entries) {
        todo.push_back(key.get());
        todo.push_back(entry.get());
      }
      todo.push_back(value->storage.get());
    }
  }
  void SetItems(const PyRef& dict, const std::vector<PyRef>& kv) {
    if (dict->kind != Kind::kDict) Fail("SETITEM(S) on a " + dict->KindName());
    if (kv.size() % 2 != 0) Fail("odd number of SETITEMS values");
    CheckNoCycle(dict, kv);
    for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
  }
  void Append(const PyRef& list, const std::vector<PyRef>& items) {
    if (list->kind != Kind::kList) Fail("APPEND(S) on a " + list->KindName());
    CheckNoCycle(list, items);
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  PyRef MemoGet(uint64_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) Fail("memo key " + std::to_string(key) + " unset");
    return it->second;
  }

  // REDUCE of `callable(*args)`: tensors and OrderedDicts are built; anything else stays opaque.
  PyRef Reduce(const PyRef& callable, const PyRef& args) {
    if (callable->kind != Kind::kGlobal || args->kind != Kind::kTuple) {
      Fail("REDUCE expects a global and a tuple");
    }
    const std::string& name = callable->text;
    const std::vector<PyRef>& a = args->items;
    if (name == "collections.OrderedDict") return Make(Kind::kDict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt ||
          a[2]->kind != Kind::kTuple || a[3]->kind != Kind::kTuple) {
        Fail(name + " expects (storage, offset, size, stride, ...)");
      }
      PyRef t = Make(Kind::kTensor);
      t->storage = a[0];
      t->storage_offset = a[1]->integer;
      for (const PyRef& s : a[2]->items) t->sizes.push_back(s->integer);
      for (const PyRef& s : a[3]->items) t->strides.push_back(s->integer);
      if (t->sizes.size() != t->strides.size()) Fail("tensor size and stride ranks differ");
      return t;
    }
    // TorchScript's pickler (torch::pickle_save) tags typed containers; the value is args[0].
    if (name == "torch.jit._pickle.restore_type_tag" || name == "torch.jit._pickle.build_intlist" ||
        name == "torch.jit._pickle.build_doublelist" ||
        name == "torch.jit._pickle.build_boollist" ||
        name == "torch.jit._pickle.build_tensorlist" ||
        name == "torch.jit._pickle.build_genericlist") {
      if (a.empty()) Fail(name + " expects an argument");
      return a[0];
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Kind::kTensor) Fail(name + " expects a tensor");
      return a[0];
    }
    PyRef object = MakeText(Kind::kObject, name);
    object->items = a;
    return object;
  }

  // BINPERSID: torch.save's ('storage', storage_type, key, location, numel).
  PyRef PersistentLoad(const PyRef& pid) {
    if (pid->kind != Kind::kTuple || pid->items.size() < 3 || pid->items[0]->text != "storage" ||
        pid->items[1]->kind != Kind::kGlobal || pid->items[2]->kind != Kind::kString) {
      Fail("persistent id is not ('storage', type, key, ...)");
    }
    PyRef storage = MakeText(Kind::kStorage, pid->items[2]->text);
    storage->dtype = DtypeOfStorage(pid->items[1]->text);
    if (storage->dtype.empty()) Fail("unsupported storage type " + pid->items[1]->text);
    return storage;
  }

  void Step(unsigned char op) {
    switch (op) {
      // Framing and protocol.
      case 0x80:
        Byte();
        break;  // PROTO
      case 0x95:
        Take(8);
        break;  // FRAME
      // Constants.
      case 'N':
        stack_.push_back(Make(Kind::kNone));
        break;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        PyRef v = Make(Kind::kBool);
        v->boolean = op == 0x88;
        stack_.push_back(v);
        break;
      }
      case 'J':
        stack_.push_back(MakeInt(static_cast<int32_t>(LittleEndian(4))));
        break;
      case 'K':
        stack_.push_back(MakeInt(static_cast<int64_t>(LittleEndian(1))));
        break;
      case 'M':
        stack_.push_back(MakeInt(static_cast<int64_t>(LittleEndian(2))));
        break;
      case 0x8a:
      case 0x8b: {  // LONG1 / LONG4: little-endian two's complement
        const uint64_t n = LittleEndian(op == 0x8a ? 1 : 4);
        if (n > 8) Fail("integer wider than 64 bits");
        const std::string_view s = Take(n);
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(s[i]);
        if (n > 0 && n < 8 && (static_cast<unsigned char>(s[n - 1]) & 0x80))
          v |= ~uint64_t{0} << (8 * n);
        stack_.push_back(MakeInt(static_cast<int64_t>(v)));
        break;
      }
      case 'I': {  // INT (text; "01"/"00" are bools)
        const std::string line = Line();
        if (line == "01" || line == "00") {
          PyRef v = Make(Kind::kBool);
          v->boolean = line == "01";
          stack_.push_back(v);
        } else {
          stack_.push_back(MakeInt(std::stoll(line)));
        }
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const std::string_view s = Take(8);
        uint64_t bits = 0;
        for (const char c : s) bits = (bits << 8) | static_cast<unsigned char>(c);
        PyRef v = Make(Kind::kFloat);
        std::memcpy(&v->number, &bits, sizeof bits);
        stack_.push_back(v);
        break;
      }
      case 'F': {
        PyRef v = Make(Kind::kFloat);
        v->number = std::stod(Line());
        stack_.push_back(v);
        break;
      }
      // Strings and bytes.
      case 'X':
        stack_.push_back(MakeText(Kind::kString, std::string(Take(LittleEndian(4)))));
        break;
      case 0x8c:
        stack_.push_back(MakeText(Kind::kString, std::string(Take(LittleEndian(1)))));
        break;
      case 0x8d:
        stack_.push_back(MakeText(Kind::kString, std::string(Take(LittleEndian(8)))));
        break;
      case 'T':
        stack_.push_back(MakeText(Kind::kString, std::string(Take(LittleEndian(4)))));
        break;
      case 'U':
        stack_.push_back(MakeText(Kind::kString, std::string(Take(LittleEndian(1)))));
        break;
      case 'B':
        stack_.push_back(MakeText(Kind::kBytes, std::string(Take(LittleEndian(4)))));
        break;
      case 'C':
        stack_.push_back(MakeText(Kind::kBytes, std::string(Take(LittleEndian(1)))));
        break;
      case 0x8e:
        stack_.push_back(MakeText(Kind::kBytes, std::string(Take(LittleEndian(8)))));
        break;
      // Containers.
      case '(':
        marks_.push_back(stack_.size());
        break;
      case ')':
        stack_.push_back(Make(Kind::kTuple));
        break;
      case 't':
        stack_.push_back(Sequence(Kind::kTuple, PopMark()));
        break;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        std::vector<PyRef> items(op - 0x84);
        for (size_t i = items.size(); i-- > 0;) items[i] = Pop();
        stack_.push_back(Sequence(Kind::kTuple, std::move(items)));
        break;
      }
      case ']':
        stack_.push_back(Make(Kind::kList));
        break;
      case 'l':
        stack_.push_back(Sequence(Kind::kList, PopMark()));
        break;
      case 'a': {
        PyRef item = Pop();
        Append(Top(), {item});
        break;
      }
      case 'e': {
        std::vector<PyRef> items = PopMark();
        Append(Top(), items);
        break;
      }
      case '}':
        stack_.push_back(Make(Kind::kDict));
        break;
      case 'd': {
        PyRef d = Make(Kind::kDict);
        SetItems(d, PopMark());
        stack_.push_back(d);
        break;
      }
      case 's': {
        PyRef v = Pop();
        PyRef k = Pop();
        SetItems(Top(), {k, v});
        break;
      }
      case 'u': {
        std::vector<PyRef> kv = PopMark();
        SetItems(Top(), kv);
        break;
      }
      case 0x8f:
        stack_.push_back(Make(Kind::kList));
        break;  // EMPTY_SET (kept as a list)
      case 0x90: {
        std::vector<PyRef> items = PopMark();
        Append(Top(), items);
        break;
      }
      case 0x91:
        stack_.push_back(Sequence(Kind::kList, PopMark()));
        break;  // FROZENSET
      // Stack manipulation.
      case '0':
        Pop();
        break;
      case '1':
        PopMark();
        break;
      case '2':
        stack_.push_back(Top());
        break;
      // Memo.
      case 'q':
        memo_[LittleEndian(1)] = Top();
        break;
      case 'r':
        memo_[LittleEndian(4)] = Top();
        break;
      case 'p':
        memo_[std::stoull(Line())] = Top();
        break;
      case 0x94:
        memo_[memo_.size()] = Top();
        break;  // MEMOIZE
      case 'h':
        stack_.push_back(MemoGet(LittleEndian(1)));
        break;
      case 'j':
        stack_.push_back(MemoGet(LittleEndian(4)));
        break;
      case 'g':
        stack_.push_back(MemoGet(std::stoull(Line())));
        break;
      // Globals, calls, objects. Nothing is imported or executed.
      case 'c': {
        const std::string module = Line();
        stack_.push_back(MakeText(Kind::kGlobal, module + "." + Line()));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        PyRef name = Pop();
        PyRef module = Pop();
        stack_.push_back(MakeText(Kind::kGlobal, module->text + "." + name->text));
        break;
      }
      case 'R': {
        PyRef args = Pop();
        PyRef callable = Pop();
        stack_.push_back(Reduce(callable, args));
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        PyRef args = Pop();
        PyRef cls = Pop();
        if (cls->text == "collections.OrderedDict") {
          stack_.push_back(Make(Kind::kDict));
        } else {
          PyRef object = MakeText(Kind::kObject, cls->text);
          object->items = args->items;
          stack_.push_back(object);
        }
        break;
      }
      case 'b':
        Pop();
        break;  // BUILD: state ignored (e.g. _metadata)
      case 'Q': {
        PyRef pid = Pop();
        stack_.push_back(PersistentLoad(pid));
        break;
      }
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        Fail(std::string("unsupported opcode 0x") + kHex[op >> 4] + kHex[op & 0xf]);
      }
    }
  }

  std::string_view b_;
  const std::string& origin_;
  size_t at_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PyRef> memo_;
};

}  // namespace

PyRef PyValue::Find(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::kString && k->text == key) return v;
  }
  return nullptr;
}

std::string PyValue::KindName() const {
  switch (kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kBytes:
      return "bytes";
    case Kind::kTuple:
      return "tuple";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kGlobal:
      return "global " + text;
    case Kind::kStorage:
      return "storage";
    case Kind::kTensor:
      return "tensor";
    case Kind::kObject:
      return "object " + text;
  }
  return "?";
}

PyRef ReadPickle(std::string_view bytes, const std::string& origin) {
  try {
    return Machine(bytes, origin).Run();
  } catch (const std::logic_error& e) {  // std::stoll / std::stod on a bad text line
    throw IoError(origin + ": unreadable pickle (as torch.save writes): bad number (" + e.what() +
                  ")");
  }
}

}  // namespace rlpipe::checkpoint
