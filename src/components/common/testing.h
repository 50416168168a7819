#pragma once

// Test support for components: decoding a block body from source through a registration,
// and an export sink tests can wait on. Only for tests.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "base/testing.h"
#include "component/component.h"
#include "syntax/parser.h"

namespace starling::components::testing {

// Decodes `src` (a block body, as if the block started at 1:1) with `reg`'s decoder in a
// scope of `vars`. Returns the formatted diagnostics ("" when none) and sets *out.
inline std::string DecodeBody(const component::Registration& reg, const std::string& src,
                              std::unique_ptr<component::Arguments>* out,
                              syntax::ValueObject vars = {}) {
  syntax::ParseResult parsed = syntax::ParseFile("t", src);
  if (parsed.diags.HasErrors()) return parsed.diags.Format("t");
  syntax::Scope scope(std::move(vars));
  auto evaluated = component::EvaluateArgs(parsed.file->body, scope, src);
  if (auto* d = std::get_if<syntax::Diagnostics>(&evaluated)) return d->Format("t");
  syntax::Diagnostics diags;
  component::ArgDecoder decoder(std::get<component::ArgBody>(evaluated), syntax::Pos{0, 1, 1},
                                syntax::Pos{}, &diags);
  *out = reg.decode(decoder);
  decoder.Finish();
  return diags.Format("t");
}

// Collects published exports; Wait blocks until a predicate over the latest holds.
class ExportSink {
 public:
  std::function<void(syntax::Value)> Callback() {
    return [this](syntax::Value v) {
      std::lock_guard<std::mutex> lock(mu_);
      latest_ = std::move(v);
      ++count_;
      cv_.notify_all();
    };
  }
  syntax::Value Latest() {
    std::lock_guard<std::mutex> lock(mu_);
    return latest_;
  }
  int Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  // Waits (generously) for pred(latest); returns whether it held.
  bool Wait(const std::function<bool(const syntax::Value&)>& pred,
            std::chrono::seconds deadline = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return pred(latest_); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  syntax::Value latest_;
  int count_ = 0;
};

using base::testing::TempDir;

// Runs a component's Run on a thread; stops and joins on destruction.
class Runner {
 public:
  explicit Runner(component::Component* c)
      : thread_([this, c](std::stop_token st) { status_ = c->Run(st); }) {}
  ~Runner() { (void)Stop(); }
  // Stops Run and returns what it returned.
  base::Status Stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
    return status_;
  }

 private:
  base::Status status_;  // written by the thread before it ends
  std::jthread thread_;
};

}  // namespace starling::components::testing
