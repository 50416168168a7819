#pragma once

// CHECK(cond) << "context": aborts with a message when an invariant is broken. Only for
// "cannot happen"; never for network, disk or config input, which get a Status.

#include <sstream>
#include <string_view>

namespace starling::base::internal {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;

  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets `CHECK(x) << ...` be a void expression in both branches of the ternary.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace starling::base::internal

#define CHECK(cond)                                \
  (cond) ? (void)0                                 \
         : ::starling::base::internal::Voidify() & \
               ::starling::base::internal::CheckFailure(__FILE__, __LINE__, #cond)
