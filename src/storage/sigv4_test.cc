// SigV4 against AWS's published signature test suite, cross-checked with botocore's own signer
// (tests/s3/botocore_sign.py) so that a misremembered expected value cannot pass.
#include "storage/sigv4.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "storage/crypto.h"
#include "storage/s3rver_fixture.h"

namespace rlpipe {
namespace {

constexpr char kAccessKey[] = "AKIDEXAMPLE";
constexpr char kSecretKey[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kDate[] = "20150830T123600Z";
constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// What botocore says for the same request, or nullopt when botocore is not installed.
struct BotocoreAnswer {
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;
};

bool BotocoreAvailable() {
  static const bool available =
      testing::RunCommand("python3 -c 'import botocore' >/dev/null").exit_code == 0;
  return available;
}

BotocoreAnswer SignWithBotocore(const nlohmann::json& spec) {
  const auto input = std::filesystem::temp_directory_path() /
                     ("sigv4_spec_" + std::to_string(::getpid()) + ".json");
  std::ofstream(input) << spec.dump();
  const auto result = testing::RunCommand(
      "python3 " +
      testing::ShellQuote(std::string(RLPIPE_SOURCE_DIR) + "/tests/s3/botocore_sign.py") + " < " +
      testing::ShellQuote(input.string()));
  std::filesystem::remove(input);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto json = nlohmann::json::parse(result.output, nullptr, false);
  if (!json.is_object()) return {};
  return {json["canonical_request"], json["string_to_sign"], json["authorization"]};
}

// A case of the published suite: request line, expected steps.
struct SuiteCase {
  std::string name;
  std::string method;
  NameValueList query;
  std::string url;  // for botocore
  std::string canonical_request;
  std::string string_to_sign_hash;  // last line of the string to sign
  std::string signature;
};

std::vector<SuiteCase> PublishedCases() {
  return {
      {"get_vanilla",
       "GET",
       {},
       "https://example.amazonaws.com/",
       std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                   "host;x-amz-date\n") +
           kEmptyHash,
       "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"post_vanilla",
       "POST",
       {},
       "https://example.amazonaws.com/",
       std::string("POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                   "host;x-amz-date\n") +
           kEmptyHash,
       "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"get_vanilla_query_order_key_case",
       "GET",
       {{"Param2", "value2"}, {"Param1", "value1"}},
       "https://example.amazonaws.com/?Param2=value2&Param1=value1",
       std::string("GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                   "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") +
           kEmptyHash,
       "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
  };
}

void PrintTo(const SuiteCase& c, std::ostream* out) { *out << c.name; }

class PublishedSuiteTest : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(PublishedSuiteTest, MatchesPublishedValuesAndBotocore) {
  const SuiteCase& c = GetParam();
  SignableRequest request{c.method,
                          "/",
                          c.query,
                          {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}},
                          kEmptyHash};
  const SigV4Signature signature =
      SignV4(request, {kAccessKey, kSecretKey}, {"us-east-1", "service", kDate},
             PathCanonicalization::kNormalizeAndEncode);

  // The published suite.
  EXPECT_EQ(signature.canonical_request, c.canonical_request);
  EXPECT_EQ(signature.string_to_sign, std::string("AWS4-HMAC-SHA256\n") + kDate +
                                          "\n20150830/us-east-1/service/aws4_request\n" +
                                          c.string_to_sign_hash);
  EXPECT_EQ(signature.signature, c.signature);
  EXPECT_EQ(signature.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" +
                c.signature);

  // botocore agrees with both.
  if (!BotocoreAvailable()) GTEST_SKIP() << "python3 botocore not importable: cross-check skipped";
  const BotocoreAnswer botocore = SignWithBotocore(
      {{"method", c.method},
       {"url", c.url},
       {"headers",
        nlohmann::json::array({nlohmann::json::array({"Host", "example.amazonaws.com"})})},
       {"region", "us-east-1"},
       {"service", "service"},
       {"s3", false},
       {"access_key", kAccessKey},
       {"secret_key", kSecretKey},
       {"amz_date", kDate}});
  EXPECT_EQ(botocore.canonical_request, c.canonical_request);
  EXPECT_EQ(botocore.authorization, signature.authorization);
}

INSTANTIATE_TEST_SUITE_P(Suite, PublishedSuiteTest, ::testing::ValuesIn(PublishedCases()),
                         [](const auto& info) { return info.param.name; });

TEST(SigV4Test, HeaderValuesAreTrimmedAndNamesLowerCased) {
  SignableRequest request{"GET",
                          "/",
                          {},
                          {{"Host", "example.amazonaws.com"},
                           {"X-Amz-Date", kDate},
                           {"My-Header1", "  value1  "},
                           {"My-Header2", "\"a   b   c\""}},
                          kEmptyHash};
  const auto signature = SignV4(request, {kAccessKey, kSecretKey}, {"us-east-1", "service", kDate},
                                PathCanonicalization::kNormalizeAndEncode);
  EXPECT_NE(signature.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n"),
            std::string::npos)
      << signature.canonical_request;
  EXPECT_EQ(signature.signed_headers, "host;my-header1;my-header2;x-amz-date");
}

TEST(SigV4Test, UriEncodingFollowsRfc3986) {
  EXPECT_EQ(UriEncode("a b/c~d_e.f-g+h=i&j", true), "a%20b/c~d_e.f-g%2Bh%3Di%26j");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
  EXPECT_EQ(CanonicalQueryString({{"prefix", "a b"}, {"list-type", "2"}, {"uploads", ""}}),
            "list-type=2&prefix=a%20b&uploads=");
}

// S3 requests as the client builds them, compared with botocore.S3SigV4Auth.
struct S3Case {
  std::string name{};
  std::string method{};
  std::string url_origin{};  // scheme://host[:port]
  std::string host{};
  std::string encoded_path{};
  NameValueList query{};
  std::string body{};
  NameValueList extra_headers{};
  std::string session_token{};
  bool unsigned_payload = false;
};

void PrintTo(const S3Case& c, std::ostream* out) { *out << c.name; }

class S3BotocoreTest : public ::testing::TestWithParam<S3Case> {};

TEST_P(S3BotocoreTest, AuthorizationMatchesBotocore) {
  if (!BotocoreAvailable()) GTEST_SKIP() << "python3 botocore not importable";
  const S3Case& c = GetParam();
  const std::string payload_hash =
      c.unsigned_payload ? "UNSIGNED-PAYLOAD" : HexEncode(Sha256(c.body));

  // Our signer with the headers the S3 client sends.
  SignableRequest request;
  request.method = c.method;
  request.encoded_path = c.encoded_path;
  request.query = c.query;
  request.payload_hash = payload_hash;
  request.headers = {
      {"host", c.host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", kDate}};
  if (!c.session_token.empty())
    request.headers.emplace_back("x-amz-security-token", c.session_token);
  for (const auto& header : c.extra_headers) request.headers.push_back(header);
  const auto ours = SignV4(request, {kAccessKey, kSecretKey}, {"eu-west-1", "s3", kDate},
                           PathCanonicalization::kAsSent);

  // botocore with the same request (it adds date, content hash and token itself).
  nlohmann::json headers = nlohmann::json::array();
  headers.push_back(nlohmann::json::array({"Host", c.host}));
  for (const auto& [name, value] : c.extra_headers) {
    headers.push_back(nlohmann::json::array({name, value}));
  }
  const std::string query = CanonicalQueryString(c.query);
  const BotocoreAnswer botocore =
      SignWithBotocore({{"method", c.method},
                        {"url", c.url_origin + c.encoded_path + (query.empty() ? "" : "?" + query)},
                        {"headers", headers},
                        {"body_hex", HexEncode(c.body)},
                        {"region", "eu-west-1"},
                        {"service", "s3"},
                        {"s3", true},
                        {"unsigned_payload", c.unsigned_payload},
                        {"access_key", kAccessKey},
                        {"secret_key", kSecretKey},
                        {"token", c.session_token},
                        {"amz_date", kDate}});
  EXPECT_EQ(ours.canonical_request, botocore.canonical_request);
  EXPECT_EQ(ours.string_to_sign, botocore.string_to_sign);
  EXPECT_EQ(ours.authorization, botocore.authorization);
}

INSTANTIATE_TEST_SUITE_P(
    S3, S3BotocoreTest,
    ::testing::Values(S3Case{"put_virtual_hosted",
                             "PUT",
                             "https://my-bucket.s3.eu-west-1.amazonaws.com",
                             "my-bucket.s3.eu-west-1.amazonaws.com",
                             "/run%201/checkpoints/best_model.zip",
                             {},
                             "model bytes",
                             {{"x-amz-checksum-sha256", Base64Encode(Sha256("model bytes"))}}},
                      S3Case{"get_path_style_with_token",
                             "GET",
                             "http://127.0.0.1:4568",
                             "127.0.0.1:4568",
                             "/my.bucket/a/%C3%A9t%C3%A9/x~y.json",
                             {},
                             "",
                             {},
                             "FQoGZXIvYXdzEXAMPLETOKEN"},
                      S3Case{"list_with_continuation",
                             "GET",
                             "https://s3.eu-west-1.amazonaws.com",
                             "s3.eu-west-1.amazonaws.com",
                             "/my.bucket",
                             {{"list-type", "2"},
                              {"prefix", "run 1/"},
                              {"max-keys", "2"},
                              {"continuation-token", "1/abc+def=="}}},
                      S3Case{"multipart_upload_part",
                             "PUT",
                             "https://b.s3.eu-west-1.amazonaws.com",
                             "b.s3.eu-west-1.amazonaws.com",
                             "/big.bin",
                             {{"partNumber", "2"}, {"uploadId", "VXBsb2FkIElE/+="}},
                             std::string(1000, 'x'),
                             {{"content-md5", Base64Encode(Md5(std::string(1000, 'x')))}}},
                      S3Case{"create_multipart",
                             "POST",
                             "https://b.s3.eu-west-1.amazonaws.com",
                             "b.s3.eu-west-1.amazonaws.com",
                             "/big.bin",
                             {{"uploads", ""}}},
                      S3Case{"unsigned_payload",
                             "PUT",
                             "https://b.s3.eu-west-1.amazonaws.com",
                             "b.s3.eu-west-1.amazonaws.com",
                             "/k",
                             {},
                             "abc",
                             {{"x-amz-checksum-sha256", Base64Encode(Sha256("abc"))}},
                             "",
                             true}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rlpipe
