#pragma once

// Status and Result<T>: how every Starling module reports errors. No exception crosses a
// module boundary; a function that can fail returns a Status (no value) or a Result<T> (a value
// or a non-OK Status). Codes carry meaning for callers: remote write retries kUnavailable and
// kResourceExhausted and drops kInvalidArgument. Both types are values and thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/check.h"

namespace starling::base {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kCancelled,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kResourceExhausted,
  kDeadlineExceeded,
  kUnavailable,
  kUnimplemented,
  kDataLoss,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status, shaped like std::expected<T, Status>.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status directly");

 public:
  using value_type = T;

  // Implicit, as std::expected: `return value;` and `return status;` both work.
  // NOLINTBEGIN(google-explicit-constructor,bugprone-forwarding-reference-overload)
  Result(const T& value) : v_(std::in_place_index<0>, value) {}
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}
  // Converting values (a string literal for Result<std::string>); never a Status or a Result.
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Status> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result<T>>) Result(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {
    CHECK(!std::get<1>(v_).ok()) << "Result constructed from an OK status";
  }
  // NOLINTEND(google-explicit-constructor,bugprone-forwarding-reference-overload)

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return Get(); }
  const T& value() const& { return Get(); }
  T&& value() && { return std::move(Get()); }
  T& operator*() & { return Get(); }
  const T& operator*() const& { return Get(); }
  T&& operator*() && { return std::move(Get()); }
  T* operator->() { return &Get(); }
  const T* operator->() const { return &Get(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  // The error; OK when a value is held.
  const Status& error() const& {
    static const Status kOkStatus;
    return has_value() ? kOkStatus : std::get<1>(v_);
  }
  Status status() const { return error(); }

 private:
  T& Get() {
    CHECK(has_value()) << "Result has no value: " << std::get<1>(v_).ToString();
    return std::get<0>(v_);
  }
  const T& Get() const {
    CHECK(has_value()) << "Result has no value: " << std::get<1>(v_).ToString();
    return std::get<0>(v_);
  }

  std::variant<T, Status> v_;
};

namespace internal {
inline Status ToStatus(Status s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.error();
}
}  // namespace internal

}  // namespace starling::base

#define STARLING_CONCAT_INNER(a, b) a##b
#define STARLING_CONCAT(a, b) STARLING_CONCAT_INNER(a, b)

// Returns the error of a Status or Result expression from the enclosing function.
#define RETURN_IF_ERROR(expr)                                                               \
  do {                                                                                      \
    ::starling::base::Status starling_status_ = ::starling::base::internal::ToStatus(expr); \
    if (!starling_status_.ok()) return starling_status_;                                    \
  } while (false)

// ASSIGN_OR_RETURN(auto x, F()): declares/assigns the value of a Result or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  STARLING_ASSIGN_OR_RETURN_IMPL(STARLING_CONCAT(starling_result_, __LINE__), lhs, expr)
#define STARLING_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.has_value()) return tmp.error();            \
  lhs = std::move(tmp).value()
