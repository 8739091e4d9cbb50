// Status: the outcome of an operation that can fail, and Result<T>: a value or a Status.
//
// Every fallible function of kiln returns one of these; no exception crosses a function
// boundary of ours. A Status carries a coarse Code (what kind of failure, which decides how a
// caller reacts), a human message, and optionally the EC2 error code that the API layer puts
// on the wire (set by service/, e.g. "InvalidSnapshot.NotFound").
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

enum class Code {
  kOk = 0,
  kNotFound,          // the named thing does not exist
  kAlreadyExists,     // a create found the name taken
  kInvalidArgument,   // the caller's input is wrong; retrying the same call fails the same way
  kFailedPrecondition,// the system is not in a state that allows the call (e.g. volume in use)
  kCorruption,        // stored data failed a check (hash, magic, checksum): never returned as data
  kIoError,           // the environment failed (disk full, EIO); may succeed later
  kAborted,           // the operation was cancelled or raced and gave up cleanly
  kUnavailable,       // transient: try again
  kDeadlineExceeded,  // the time allowed ran out before the operation finished
  kInternal,          // an invariant of ours broke
  kUnimplemented,
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The EC2 error code for the wire, if a service layer set one.
  const std::optional<std::string>& ec2_code() const { return ec2_code_; }
  Status& WithEc2Code(std::string ec2_code) & {
    ec2_code_ = std::move(ec2_code);
    return *this;
  }
  Status&& WithEc2Code(std::string ec2_code) && {
    ec2_code_ = std::move(ec2_code);
    return std::move(*this);
  }

  // Returns a copy whose message is "context: message"; code and EC2 code are kept.
  Status Annotate(const std::string& context) const;

  // "Corruption: chunk ab12..: hash mismatch"
  std::string ToString() const;

  // Explicitly discards a Status where failure truly does not matter (cleanup on an error
  // path). Greppable, unlike a cast.
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::optional<std::string> ec2_code_;
};

inline Status NotFoundError(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
inline Status InvalidArgumentError(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status FailedPreconditionError(std::string m) { return Status(Code::kFailedPrecondition, std::move(m)); }
inline Status CorruptionError(std::string m) { return Status(Code::kCorruption, std::move(m)); }
inline Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
inline Status AbortedError(std::string m) { return Status(Code::kAborted, std::move(m)); }
inline Status DeadlineExceededError(std::string m) { return Status(Code::kDeadlineExceeded, std::move(m)); }
inline Status InternalError(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status UnimplementedError(std::string m) { return Status(Code::kUnimplemented, std::move(m)); }

// An IoError from errno: "context: strerror(err)". ENOENT becomes NotFound, EEXIST AlreadyExists.
Status ErrnoError(const std::string& context, int err);

// A value of type T, or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result from an OK Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace kiln

#define KILN_CONCAT_INNER(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::kiln::Status kiln_status_ = (expr);       \
    if (!kiln_status_.ok()) return kiln_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Fallible());` declares x from a Result, or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  KILN_ASSIGN_OR_RETURN_IMPL(KILN_CONCAT(kiln_result_, __LINE__), lhs, expr)
#define KILN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
