// Small pieces: hashes and encodings, the XML reader, the retry loop, URIs.
#include <gtest/gtest.h>

#include "core/error.h"
#include "storage/crypto.h"
#include "core/retry.h"
#include "storage/storage_uri.h"
#include "storage/xml.h"

namespace rlpipe {
namespace {

TEST(CryptoTest, KnownDigestsAndEncodings) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode(""), "");
  Sha256Hasher hasher;
  hasher.Update("a");
  hasher.Update("bc");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
}

TEST(XmlTest, ReadsS3AnswersWithEntitiesAndNamespaces) {
  const auto xml = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a &amp; b &lt;c&gt; &#233;&#x41;</Key><Size>12</Size></Contents>"
      "<Contents><Key><![CDATA[x<y]]></Key></Contents><Empty/><!-- note -->"
      "</ListBucketResult>");
  ASSERT_TRUE(xml.has_value());
  EXPECT_EQ(xml->name, "ListBucketResult");
  EXPECT_EQ(xml->ChildText("IsTruncated"), "true");
  const auto contents = xml->Children("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->ChildText("Key"),
            "a & b <c> \xc3\xa9"
            "A");
  EXPECT_EQ(contents[1]->ChildText("Key"), "x<y");
  EXPECT_NE(xml->Child("Empty"), nullptr);
  EXPECT_EQ(xml->Child("Missing"), nullptr);
}

TEST(XmlTest, RejectsMalformedDocuments) {
  std::string error;
  EXPECT_FALSE(ParseXml("<a><b></a>", &error).has_value());
  EXPECT_NE(error.find("mismatched"), std::string::npos) << error;
  EXPECT_FALSE(ParseXml("<a>", &error).has_value());
  EXPECT_FALSE(ParseXml("", &error).has_value());
  EXPECT_FALSE(ParseXml("<a>&bogus;</a>", &error).has_value());
  EXPECT_FALSE(ParseXml("<a></a><b></b>", &error).has_value());
  EXPECT_EQ(XmlEscape("<\"a&b'>"), "&lt;&quot;a&amp;b&apos;&gt;");
}

TEST(RetryTest, RetriesOnlyRetryableFailuresAndBoundsAttempts) {
  RetryPolicy policy{4, std::chrono::milliseconds(1), std::chrono::milliseconds(2)};
  int calls = 0;
  auto flaky = RunWithRetry(policy, [&]() -> Result<int> {
    if (++calls < 3) return Failure{FailureKind::kServer, "busy", true};
    return 7;
  });
  ASSERT_TRUE(flaky.ok());
  EXPECT_EQ(flaky.value(), 7);
  EXPECT_EQ(calls, 3);

  calls = 0;
  auto fatal = RunWithRetry(policy, [&]() -> Result<int> {
    ++calls;
    return Failure{FailureKind::kAccessDenied, "denied", false};
  });
  EXPECT_FALSE(fatal.ok());
  EXPECT_EQ(calls, 1);

  calls = 0;
  auto exhausted = RunWithRetry(policy, [&]() -> Result<int> {
    ++calls;
    return Failure{FailureKind::kConnection, "refused", true};
  });
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(exhausted.failure().message, "refused (gave up after 4 attempts)");
}

TEST(RetryTest, BackoffIsFullJitterUnderAnExponentialCap) {
  RetryPolicy policy{10, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)};
  for (int retry = 1; retry <= 8; ++retry) {
    const auto cap = std::min<long>(1000, 100L << (retry - 1));
    long max_seen = 0;
    for (int i = 0; i < 200; ++i) {
      const auto delay = BackoffDelay(policy, retry).count();
      EXPECT_GE(delay, 0);
      EXPECT_LE(delay, cap);
      max_seen = std::max<long>(max_seen, delay);
    }
    EXPECT_GT(max_seen, cap / 2) << "draws should spread over [0, cap]";
  }
}

TEST(StorageUriTest, ParsesFileS3AndPlainPaths) {
  const auto s3 = ParseStorageUri("s3://bucket/P/run-1/checkpoints/s/best_model.zip");
  EXPECT_EQ(s3.scheme, StorageScheme::kS3);
  EXPECT_EQ(s3.bucket, "bucket");
  EXPECT_EQ(s3.key, "P/run-1/checkpoints/s/best_model.zip");
  EXPECT_EQ(ParseStorageUri("s3://bucket").key, "");
  EXPECT_EQ(ParseStorageUri("file:///tmp/a/../b").path, "/tmp/b");
  EXPECT_TRUE(ParseStorageUri("rel/x").path.is_absolute());
  EXPECT_THROW(ParseStorageUri("ftp://x/y"), ConfigError);
  EXPECT_EQ(JoinUri("s3://b/p/", "/x"), "s3://b/p/x");
  EXPECT_EQ(JoinUri("s3://b", "x"), "s3://b/x");
}

}  // namespace
}  // namespace rlpipe
