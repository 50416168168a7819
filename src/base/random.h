#pragma once

// Random: injected randomness, so simulations and tests can be replayed from a seed.
// Instances are not thread-safe; give each thread or state machine its own.

#include <cstdint>
#include <random>

namespace starling::base {

class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t Next() = 0;
  // Uniform in [0, n); n > 0.
  std::uint64_t Uniform(std::uint64_t n);
  // Uniform in [0, 1).
  double UniformDouble();
};

// A seeded 64-bit Mersenne Twister.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t Next() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// Seeded from std::random_device.
SeededRandom MakeRandomFromDevice();

}  // namespace starling::base
