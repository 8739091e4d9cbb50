#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace kiln {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kCorruption: return "Corruption";
    case Code::kIoError: return "IoError";
    case Code::kAborted: return "Aborted";
    case Code::kUnavailable: return "Unavailable";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kInternal: return "Internal";
    case Code::kUnimplemented: return "Unimplemented";
  }
  return "Unknown";
}

Status Status::Annotate(const std::string& context) const {
  if (ok()) return *this;
  Status s(code_, context + ": " + message_);
  s.ec2_code_ = ec2_code_;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  if (ec2_code_) s += " (" + *ec2_code_ + ")";
  s += ": ";
  s += message_;
  return s;
}

Status ErrnoError(const std::string& context, int err) {
  std::string m = context + ": " + std::strerror(err);
  if (err == ENOENT) return NotFoundError(std::move(m));
  if (err == EEXIST) return AlreadyExistsError(std::move(m));
  return IoError(std::move(m));
}

}  // namespace kiln
