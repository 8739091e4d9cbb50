#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace kiln {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_FALSE(s.ec2_code().has_value());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, ConstructorsSetCodeAndMessage) {
  struct Case {
    Status status;
    Code code;
    const char* name;
  };
  const Case cases[] = {
      {NotFoundError("m"), Code::kNotFound, "NotFound"},
      {AlreadyExistsError("m"), Code::kAlreadyExists, "AlreadyExists"},
      {InvalidArgumentError("m"), Code::kInvalidArgument, "InvalidArgument"},
      {FailedPreconditionError("m"), Code::kFailedPrecondition, "FailedPrecondition"},
      {CorruptionError("m"), Code::kCorruption, "Corruption"},
      {IoError("m"), Code::kIoError, "IoError"},
      {AbortedError("m"), Code::kAborted, "Aborted"},
      {InternalError("m"), Code::kInternal, "Internal"},
      {UnimplementedError("m"), Code::kUnimplemented, "Unimplemented"},
      {Status(Code::kUnavailable, "m"), Code::kUnavailable, "Unavailable"},
      {DeadlineExceededError("m"), Code::kDeadlineExceeded, "DeadlineExceeded"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.ok()) << c.name;
    EXPECT_EQ(c.status.code(), c.code) << c.name;
    EXPECT_EQ(c.status.message(), "m") << c.name;
    EXPECT_STREQ(CodeName(c.code), c.name);
    EXPECT_EQ(c.status.ToString(), std::string(c.name) + ": m");
  }
  EXPECT_STREQ(CodeName(Code::kOk), "OK");
}

TEST(StatusTest, Ec2CodeRidesAlong) {
  Status s =
      NotFoundError("snapshot snap-1 does not exist").WithEc2Code("InvalidSnapshot.NotFound");
  ASSERT_TRUE(s.ec2_code().has_value());
  EXPECT_EQ(*s.ec2_code(), "InvalidSnapshot.NotFound");
  EXPECT_EQ(s.ToString(), "NotFound (InvalidSnapshot.NotFound): snapshot snap-1 does not exist");

  Status t = IoError("x");
  t.WithEc2Code("InternalError");  // the lvalue overload edits in place
  EXPECT_EQ(t.ec2_code().value_or(""), "InternalError");
}

TEST(StatusTest, AnnotateKeepsCodeAndEc2Code) {
  Status s = CorruptionError("hash mismatch").WithEc2Code("X");
  Status a = s.Annotate("chunk ab12");
  EXPECT_EQ(a.code(), Code::kCorruption);
  EXPECT_EQ(a.message(), "chunk ab12: hash mismatch");
  EXPECT_EQ(a.ec2_code().value_or(""), "X");
  EXPECT_EQ(s.message(), "hash mismatch");  // the original is unchanged
}

TEST(StatusTest, AnnotateOfOkIsOk) {
  Status a = Status::Ok().Annotate("context");
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.message(), "");
}

TEST(StatusTest, ErrnoErrorMapsCodes) {
  EXPECT_EQ(ErrnoError("open x", ENOENT).code(), Code::kNotFound);
  EXPECT_EQ(ErrnoError("mkdir x", EEXIST).code(), Code::kAlreadyExists);
  EXPECT_EQ(ErrnoError("write x", EIO).code(), Code::kIoError);
  EXPECT_EQ(ErrnoError("write x", ENOSPC).code(), Code::kIoError);
  Status s = ErrnoError("open /a/b", ENOENT);
  EXPECT_EQ(s.message().rfind("open /a/b: ", 0), 0u) << s.message();
  EXPECT_GT(s.message().size(), std::string("open /a/b: ").size());
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(ResultTest, HoldsError) {
  Result<int> r = NotFoundError("gone");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "gone");
}

TEST(ResultTest, ArrowAndMoveOnlyValues) {
  Result<std::string> s = std::string("hello");
  EXPECT_EQ(s->size(), 5u);

  Result<std::unique_ptr<int>> p = std::make_unique<int>(3);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> taken = std::move(p).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 3);
}

// --- Macros ---

Status FailIf(bool fail) { return fail ? IoError("boom") : Status::Ok(); }

Result<int> ValueOrError(bool fail, int v) {
  if (fail) return InvalidArgumentError("bad");
  return v;
}

Status UseReturnIfError(bool fail, int* reached) {
  RETURN_IF_ERROR(FailIf(fail));
  ++*reached;
  return Status::Ok();
}

TEST(MacroTest, ReturnIfErrorPassesOkThrough) {
  int reached = 0;
  EXPECT_TRUE(UseReturnIfError(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(MacroTest, ReturnIfErrorReturnsError) {
  int reached = 0;
  Status s = UseReturnIfError(true, &reached);
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ(s.message(), "boom");
  EXPECT_EQ(reached, 0);
}

Result<int> Sum(bool fail_first, bool fail_second) {
  ASSIGN_OR_RETURN(int a, ValueOrError(fail_first, 1));
  ASSIGN_OR_RETURN(const int b, ValueOrError(fail_second, 2));
  return a + b;
}

TEST(MacroTest, AssignOrReturn) {
  Result<int> ok = Sum(false, false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  EXPECT_EQ(Sum(true, false).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Sum(false, true).status().code(), Code::kInvalidArgument);
}

Status AssignToExisting(int* out) {
  int x = 0;
  ASSIGN_OR_RETURN(x, ValueOrError(false, 9));
  *out = x;
  return Status::Ok();
}

TEST(MacroTest, AssignOrReturnIntoExistingVariable) {
  int out = 0;
  ASSERT_TRUE(AssignToExisting(&out).ok());
  EXPECT_EQ(out, 9);
}

Result<std::unique_ptr<int>> MakePtr() { return std::make_unique<int>(5); }

Result<int> Deref() {
  ASSIGN_OR_RETURN(auto p, MakePtr());  // move-only values are moved out
  return *p;
}

TEST(MacroTest, AssignOrReturnMovesMoveOnlyValues) {
  Result<int> r = Deref();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
}

Status ResultStatusInReturnIfError() {
  RETURN_IF_ERROR(ValueOrError(true, 0).status());
  return Status::Ok();
}

TEST(MacroTest, ReturnIfErrorOnResultStatus) {
  EXPECT_EQ(ResultStatusInReturnIfError().code(), Code::kInvalidArgument);
}

Status TwoMacrosOnOneScope() {
  // Two ASSIGN_OR_RETURN on different lines must not clash in their temporaries.
  ASSIGN_OR_RETURN(int a, ValueOrError(false, 1));
  ASSIGN_OR_RETURN(int b, ValueOrError(false, 2));
  return a + b == 3 ? Status::Ok() : InternalError("wrong sum");
}

TEST(MacroTest, SeveralAssignsInOneScope) { EXPECT_TRUE(TwoMacrosOnOneScope().ok()); }

TEST(MacroTest, ReturnIfErrorInsideIfElse) {
  // The do/while(0) wrapper makes the macro one statement.
  auto f = [](bool c) -> Status {
    if (c)
      RETURN_IF_ERROR(FailIf(true));
    else
      RETURN_IF_ERROR(FailIf(false));
    return Status::Ok();
  };
  EXPECT_FALSE(f(true).ok());
  EXPECT_TRUE(f(false).ok());
}

}  // namespace
}  // namespace kiln
