#include "core/zip.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

// Expects `fn` to throw IoError whose message contains every one of `parts`.
template <typename Fn>
void ExpectIoError(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected IoError";
  } catch (const IoError& e) {
    for (const auto& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
    }
  }
}

std::string SampleArchive() {
  ZipWriter writer;
  writer.Add("data/policy.pth", std::string("\x00\x01\x02\xff weights", 12));
  writer.Add("_stable_baselines3_version", "2.1.0");
  writer.Add("empty.txt", "");
  return writer.Serialize();
}

TEST(Crc32Test, MatchesKnownValues) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  // Continued over pieces, it is the CRC of the whole.
  EXPECT_EQ(Crc32Update(Crc32Update(0, "The quick brown "), "fox jumps over the lazy dog"),
            0x414FA339u);
  EXPECT_EQ(Crc32Update(0, ""), 0u);
}

TEST(ZipTest, RoundTripsMembersAndIsReproducible) {
  const std::string bytes = SampleArchive();
  EXPECT_EQ(bytes, SampleArchive());
  const ZipReader reader(bytes, "mem.zip");
  EXPECT_EQ(reader.Names(), (std::vector<std::string>{"_stable_baselines3_version",
                                                      "data/policy.pth", "empty.txt"}));
  EXPECT_EQ(reader.Get("data/policy.pth"), std::string("\x00\x01\x02\xff weights", 12));
  EXPECT_EQ(reader.Get("empty.txt"), "");
  EXPECT_TRUE(reader.Has("_stable_baselines3_version"));
  EXPECT_FALSE(reader.Has("missing"));
  ExpectIoError([&] { reader.Get("missing"); }, {"mem.zip", "missing"});
}

TEST(ZipTest, EmptyArchiveRoundTrips) {
  const ZipReader reader(ZipWriter().Serialize(), "empty.zip");
  EXPECT_TRUE(reader.Names().empty());
}

TEST(ZipTest, DetectsCrcMismatch) {
  std::string bytes = SampleArchive();
  const size_t at = bytes.find("weights");
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 0x20;
  ExpectIoError([&] { ZipReader(bytes, "flipped.zip"); }, {"flipped.zip", "CRC", "policy.pth"});
}

TEST(ZipTest, DetectsTruncation) {
  const std::string bytes = SampleArchive();
  for (const size_t keep : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    ExpectIoError([&] { ZipReader(bytes.substr(0, keep), "cut.zip"); }, {"cut.zip"});
  }
}

TEST(ZipTest, DetectsCorruptCentralDirectoryOffset) {
  std::string bytes = SampleArchive();
  // The central directory offset sits 6 bytes before the end (no comment).
  bytes[bytes.size() - 6] = '\x7f';
  bytes[bytes.size() - 5] = '\x7f';
  ExpectIoError([&] { ZipReader(bytes, "bad.zip"); }, {"bad.zip", "corrupt"});
}

TEST(ZipTest, RejectsUnsupportedCompressionNamingMethod) {
  std::string bytes = SampleArchive();
  // Mark the first central-directory entry as bzip2 (method field at +10).
  const size_t central = bytes.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  bytes[central + 10] = 12;
  ExpectIoError([&] { ZipReader(bytes, "bzip2.zip"); },
                {"bzip2.zip", "data/policy.pth", "method 12", "bzip2"});
}

// A one-member archive whose member is raw-deflated by zlib, as Python's zipfile writes it.
std::string DeflatedArchive(const std::string& name, const std::string& content) {
  // Raw deflate stream (no zlib header), window bits -15.
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string packed(deflateBound(&stream, content.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
  stream.avail_in = static_cast<uInt>(content.size());
  stream.next_out = reinterpret_cast<Bytef*>(packed.data());
  stream.avail_out = static_cast<uInt>(packed.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  packed.resize(stream.total_out);
  deflateEnd(&stream);

  // Local header, data, central header, end record (little-endian fields).
  auto put = [](std::string& out, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  const uint32_t crc = Crc32(content);
  const auto csize = static_cast<uint32_t>(packed.size());
  const auto size = static_cast<uint32_t>(content.size());
  const auto nlen = static_cast<uint32_t>(name.size());
  std::string out;
  put(out, 0x04034b50, 4), put(out, 20, 2), put(out, 0, 2), put(out, 8, 2), put(out, 0, 4);
  put(out, crc, 4), put(out, csize, 4), put(out, size, 4), put(out, nlen, 2), put(out, 0, 2);
  out += name + packed;
  const auto cd_offset = static_cast<uint32_t>(out.size());
  put(out, 0x02014b50, 4), put(out, 20, 2), put(out, 20, 2), put(out, 0, 2), put(out, 8, 2);
  put(out, 0, 4), put(out, crc, 4), put(out, csize, 4), put(out, size, 4), put(out, nlen, 2);
  put(out, 0, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 4), put(out, 0, 4);
  out += name;
  const auto cd_size = static_cast<uint32_t>(out.size()) - cd_offset;
  put(out, 0x06054b50, 4), put(out, 0, 4), put(out, 1, 2), put(out, 1, 2), put(out, cd_size, 4);
  put(out, cd_offset, 4), put(out, 0, 2);
  return out;
}

TEST(ZipTest, ReadsDeflatedMembers) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "policy tensor " + std::to_string(i % 7) + "\n";
  const std::string bytes = DeflatedArchive("data", content);
  ASSERT_LT(bytes.size(), content.size() / 4);
  EXPECT_EQ(ZipReader(bytes, "sb3.zip").Get("data"), content);
}

TEST(ZipTest, CorruptDeflateStreamIsAnIoError) {
  std::string content(5000, 'x');
  std::string bytes = DeflatedArchive("data", content);
  // Flip bits inside the compressed stream (it starts after the 30-byte header and the name).
  bytes[30 + 4 + 1] ^= 0x5a;
  bytes[30 + 4 + 2] ^= 0x33;
  ExpectIoError([&] { ZipReader(bytes, "bad.zip"); }, {"bad.zip", "data"});
}

TEST(ZipTest, RejectsZip64ValuesWithoutTheirRecord) {
  std::string bytes = SampleArchive();
  // Entry counts of 0xffff mean "see the ZIP64 record".
  const size_t eocd = bytes.size() - 22;
  for (const size_t field : {size_t{8}, size_t{9}, size_t{10}, size_t{11}}) {
    bytes[eocd + field] = '\xff';
  }
  ExpectIoError([&] { ZipReader(bytes, "big.zip"); }, {"big.zip", "ZIP64"});
}

// A libFuzzer finding (tests/fuzz/corpus/zip/regression_zip64_record_offset_wraps.zip, exact
// bytes): a ZIP64 locator whose record offset is 2^64-1 wrapped `record + 56` and read before the
// buffer. Now one line naming the archive.
TEST(ZipTest, RejectsZip64RecordOffsetThatWraps) {
  const unsigned char kBytes[] = {
      0x50, 0x4b, 0x00, 0x08, 0x08, 0x00, 0x00, 0x00, 0xff, 0x4b, 0x9a, 0x9a,
      0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a,
      0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x9a, 0x73, 0x69, 0x6f, 0x6e, 0x50, 0x4b,
      0x06, 0x1e, 0x03, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x50, 0x4b, 0x06, 0x07, 0x00,
      0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
      0x00, 0x00, 0x00, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x03,
      0x00, 0x03, 0x00, 0xb7, 0x00, 0x00, 0x00, 0xd2, 0x01, 0x00, 0x00, 0x00,
      0x00,
  };
  const std::string bytes(reinterpret_cast<const char*>(kBytes), sizeof kBytes);
  ExpectIoError([&] { ZipReader(bytes, "fuzz.zip"); }, {"fuzz.zip", "corrupt", "ZIP64"});
}

TEST(ZipTest, RejectsDuplicateMembersOnWrite) {
  ZipWriter writer;
  writer.Add("a", "1");
  EXPECT_THROW(writer.Add("a", "2"), IoError);
}

// Writes the sample archive to a temp file for the external readers below.
class ZipInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("rlpipe_zip_test_" + std::to_string(::getpid()) + ".zip");
    WriteFileAtomic(path_, SampleArchive());
  }
  void TearDown() override { fs::remove(path_); }
  fs::path path_;
};

TEST_F(ZipInteropTest, PythonZipfileReadsIt) {
  if (std::system("python3 -c 'import zipfile' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 not available";
  }
  const std::string script =
      "import sys, zipfile\n"
      "z = zipfile.ZipFile(sys.argv[1])\n"
      "assert z.testzip() is None\n"
      "assert sorted(z.namelist()) == ['_stable_baselines3_version', 'data/policy.pth', "
      "'empty.txt'], z.namelist()\n"
      "assert z.read('_stable_baselines3_version') == b'2.1.0'\n"
      "assert z.read('data/policy.pth') == b'\\x00\\x01\\x02\\xff weights'\n"
      "assert z.getinfo('empty.txt').date_time == (1980, 1, 1, 0, 0, 0)\n";
  const fs::path script_path = path_.string() + ".py";
  WriteFileAtomic(script_path, script);
  const int status =
      std::system(("python3 " + script_path.string() + " " + path_.string()).c_str());
  fs::remove(script_path);
  EXPECT_EQ(status, 0);
}

TEST_F(ZipInteropTest, UnzipTestsIt) {
  if (!fs::exists("/usr/bin/unzip")) GTEST_SKIP() << "/usr/bin/unzip not available";
  EXPECT_EQ(std::system(("/usr/bin/unzip -tq " + path_.string() + " >/dev/null").c_str()), 0);
}

TEST_F(ZipInteropTest, ReadsPythonWrittenStoredArchive) {
  if (std::system("python3 -c 'import zipfile' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 not available";
  }
  // Python writes data descriptors and extra fields differently; we must still read it.
  const fs::path out = path_.string() + ".py.zip";
  const std::string command =
      "python3 -c \"import zipfile; z = zipfile.ZipFile('" + out.string() +
      "', 'w'); z.writestr('a.txt', 'hello'); z.writestr('b/c.bin', bytes(range(256))); "
      "z.close()\"";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const ZipReader reader = ZipReader::FromFile(out);
  fs::remove(out);
  EXPECT_EQ(reader.Get("a.txt"), "hello");
  ASSERT_EQ(reader.Get("b/c.bin").size(), 256u);
  EXPECT_EQ(static_cast<unsigned char>(reader.Get("b/c.bin")[255]), 255);
}

}  // namespace
}  // namespace rlpipe
