#include "metrics/tensorboard.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "core/files.h"

namespace rlpipe::metrics {
namespace {

namespace fs = std::filesystem;

TEST(Crc32cTest, MatchesTheStandardCheckValues) {
  // RFC 3720 (iSCSI) B.4 and the usual "123456789" check value of CRC-32C.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(FrameRecordTest, LaysOutLengthCrcDataCrc) {
  const std::string record = FrameRecord("abc");
  ASSERT_EQ(record.size(), 8u + 4u + 3u + 4u);
  uint64_t length = 0;
  std::memcpy(&length, record.data(), 8);
  EXPECT_EQ(length, 3u);
  uint32_t length_crc = 0;
  std::memcpy(&length_crc, record.data() + 8, 4);
  EXPECT_EQ(length_crc, MaskedCrc32c(record.substr(0, 8)));
  EXPECT_EQ(record.substr(12, 3), "abc");
  uint32_t data_crc = 0;
  std::memcpy(&data_crc, record.data() + 15, 4);
  EXPECT_EQ(data_crc, MaskedCrc32c("abc"));
}

TEST(TensorBoardWriterTest, EachNewFileSortsAfterTheRunsEarlierFiles) {
  const fs::path dir = fs::path(::testing::TempDir()) / "tb_writer_order";
  fs::remove_all(dir);
  fs::path first, second;
  {
    TensorBoardWriter writer(dir);
    writer.WriteScalars(10, {{"a/b", 1.0}});
    first = writer.path();
  }
  {
    TensorBoardWriter writer(dir);  // the same second: the name must still sort later
    writer.WriteRestart(5);
    second = writer.path();
  }
  EXPECT_TRUE(first.filename().string().starts_with("events.out.tfevents."));
  EXPECT_LT(first.filename().string(), second.filename().string());
  // Version event + scalars event in the first file; both are complete records.
  EXPECT_EQ(ReadFile(first).size(),
            FrameRecord(EncodeFileVersionEvent(0, 0, "brain.Event:2")).size() +
                FrameRecord(EncodeScalarsEvent(0, 10, {{"a/b", 1.0}})).size());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rlpipe::metrics
