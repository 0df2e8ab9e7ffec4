// Typed errors. Library code throws; only apps/ turns them into messages and exit codes.
#pragma once
#include <stdexcept>
#include <string>

namespace mixprec {

// Invalid user input: names the file, the JSON pointer, what was expected and what was found.
// The CLI prints what() and exits with code 2.
class SpecError : public std::runtime_error {
 public:
  SpecError(std::string file, std::string pointer, std::string expected, std::string found);
  // Free-form variant for errors that are not about one JSON value (e.g. unreadable file).
  SpecError(std::string file, std::string pointer, std::string message);
  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const std::string& expected() const { return expected_; }
  const std::string& found() const { return found_; }

 private:
  std::string file_, pointer_, expected_, found_;
};

// Command-line misuse (unknown option values etc.); also exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An internal invariant that failed: a bug in mixprec, never the user's fault.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Assertion that stays on in release builds.
#define MIXPREC_CHECK(cond, msg)                                                          \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw ::mixprec::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                     ": check failed: " #cond ": " + (msg));             \
  } while (0)

}  // namespace mixprec
