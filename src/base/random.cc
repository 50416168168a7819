#include "base/random.h"

#include "base/check.h"

namespace starling::base {

std::uint64_t Random::Uniform(std::uint64_t n) {
  CHECK(n > 0);
  // Rejection sampling keeps the result unbiased.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  std::uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

double Random::UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

SeededRandom MakeRandomFromDevice() {
  std::random_device rd;
  return SeededRandom((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
}

}  // namespace starling::base
