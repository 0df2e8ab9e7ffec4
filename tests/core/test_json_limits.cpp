// The one JSON reader's limits (core/json_reader.hpp): nesting depth and numbers beyond a double
// are checked while parsing, the document size before; each error names file and pointer.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "core/io.hpp"
#include "core/json_reader.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {
std::string message_of(const std::string& text, const std::string& label = "t.json") {
  try {
    JsonDoc::parse(text, label);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "accepted";
}
std::string zeros(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "/0";
  return s;
}
}  // namespace

TEST_CASE("json limits: nesting up to the limit is read, one level more is refused", "[json][limits]") {
  const int d = int(kJsonMaxDepth);
  CHECK(message_of(std::string(d, '[') + std::string(d, ']')) == "accepted");
  CHECK(message_of(std::string(d + 1, '[') + std::string(d + 1, ']')) ==
        "t.json: " + zeros(d) + ": expected JSON nested at most 64 levels deep, found deeper nesting");
  // Objects and arrays count alike; the pointer follows keys and indices.
  std::string mixed = R"({"a": [1, {"b": )";
  for (int i = 0; i < d; ++i) mixed += "[";
  CHECK(message_of(mixed) == "t.json: /a/1/b" + zeros(d - 3) +
                                 ": expected JSON nested at most 64 levels deep, found deeper nesting");
}

TEST_CASE("json limits: a million open brackets are refused without recursion", "[json][limits]") {
  // Before issue 19 this parsed and then crashed the copy of the tree (stack overflow).
  CHECK(message_of(std::string(1000000, '[')) ==
        "t.json: " + zeros(64) + ": expected JSON nested at most 64 levels deep, found deeper nesting");
  CHECK(message_of(std::string(1000000, '{')) ==
        "t.json: /: expected valid JSON (line 1, column 2), found syntax error while parsing object key - "
        "unexpected '{'; expected string literal");
}

TEST_CASE("json limits: numbers beyond a double name their pointer", "[json][limits]") {
  CHECK(message_of(R"({"a": {"b": [1, 2, -1e400]}})") ==
        "t.json: /a/b/2: expected a number within the range of a double (magnitude at most 1.8e308), "
        "found -1e400");
  CHECK(message_of("[" + std::string(400, '9') + "]") ==
        "t.json: /0: expected a number within the range of a double (magnitude at most 1.8e308), found " +
            std::string(37, '9') + "...");
  CHECK(message_of("1e400") ==
        "t.json: /: expected a number within the range of a double (magnitude at most 1.8e308), found 1e400");
  CHECK(message_of(R"({"x": 1.7e308, "y": 4.9e-324, "z": 1e-400})") == "accepted");  // underflow is 0
}

TEST_CASE("json limits: a document over the size limit is refused before it is read", "[json][limits]") {
  const std::string dir = test::temp_dir("json_limits");
  const std::string path = dir + "/big.json";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, off_t(kJsonMaxBytes) + 1) == 0);  // sparse: no disk space used
  ::close(fd);
  try {
    JsonDoc::load(path);
    FAIL("accepted");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) == path + ": /: expected a JSON document of at most 64 MiB, found 67108865 bytes");
  }
  CHECK(message_of(std::string(kJsonMaxBytes + 1, ' ')) ==
        "t.json: /: expected a JSON document of at most 64 MiB, found 67108865 bytes");
  std::remove(path.c_str());
}
