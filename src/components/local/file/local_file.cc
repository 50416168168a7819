#include "components/local/file/local_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "base/check.h"
#include "components/common/file_watcher.h"

namespace starling::components {
namespace {

// Go's wording of a failed open: "open /x: no such file or directory".
base::Result<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return base::Status::FailedPrecondition("read " + path + ": is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string msg = strerror(errno != 0 ? errno : ENOENT);
    if (!msg.empty()) msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
    return base::Status::NotFound("open " + path + ": " + msg);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return base::Status::DataLoss("read " + path + ": read error");
  return ss.str();
}

std::string ParentDir(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path).parent_path();
  return p.empty() ? "/" : p.string();
}

// Thread-safety: Update, Run and the accessors synchronise on mu_.
class LocalFile final : public component::Component {
 public:
  LocalFile(component::Options opts, LocalFileArgs args, std::unique_ptr<FileWatcher> watcher)
      : opts_(std::move(opts)), watcher_(std::move(watcher)), args_(std::move(args)) {}

  // Sets up change detection, reads the file once and publishes it; the error when it cannot
  // be read.
  base::Status Init() {
    std::lock_guard<std::mutex> lock(mu_);
    ConfigureLocked();
    return ReadLocked();
  }

  base::Status Run(std::stop_token stop) override {
    std::stop_callback on_stop(stop, [this] { watcher_->Wake(); });
    while (!stop.stop_requested()) {
      base::Clock::Duration deadline;
      {
        std::lock_guard<std::mutex> lock(mu_);
        deadline = next_poll_;
      }
      FileWatcher::Event ev = watcher_->Wait(WaitBudget(*opts_.clock, deadline));
      if (stop.stop_requested()) break;
      std::lock_guard<std::mutex> lock(mu_);
      bool reload = false;
      for (const std::string& p : ev.changed) reload = reload || p == watched_;
      base::Clock::Duration now = opts_.clock->Monotonic();
      if (now >= next_poll_) {
        reload = true;
        next_poll_ = now + args_.poll_frequency;
        // The directory may have come into existence since the last attempt.
        if (args_.detector == "fsnotify") watcher_->SetDirs({ParentDir(args_.filename)});
      }
      if (reload) (void)ReadLocked();  // failures are logged and reported as health
    }
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) override {
    const auto& a = component::ArgsAs<LocalFileArgs>(args);
    if (a.poll_frequency <= std::chrono::nanoseconds::zero()) {
      return base::Status::InvalidArgument("poll_frequency must be greater than 0");
    }
    std::lock_guard<std::mutex> lock(mu_);
    args_ = a;
    ConfigureLocked();
    watcher_->Wake();  // Run recomputes its deadline
    base::Status s = ReadLocked();
    if (!s.ok()) return base::Status(s.code(), "failed to read file: " + s.message());
    return base::Status::Ok();
  }

  component::Health CurrentHealth() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return health_;
  }

 private:
  void ConfigureLocked() {
    watched_ = std::filesystem::absolute(args_.filename).string();
    watcher_->SetDirs(args_.detector == "fsnotify"
                          ? std::vector<std::string>{ParentDir(args_.filename)}
                          : std::vector<std::string>{});
    next_poll_ = opts_.clock->Monotonic() + args_.poll_frequency;
  }

  base::Status ReadLocked() {
    base::Result<std::string> content = ReadWholeFile(args_.filename);
    if (!content.ok()) {
      health_ = {component::HealthState::kUnhealthy,
                 "failed to read file: " + content.error().message(), opts_.clock->Now()};
      opts_.logger.Error("failed to read file: {}", content.error().message());
      return content.error();
    }
    health_ = {component::HealthState::kHealthy, "read file", opts_.clock->Now()};
    if (published_ && *published_ == *content && published_secret_ == args_.is_secret) {
      return base::Status::Ok();
    }
    published_ = *content;
    published_secret_ = args_.is_secret;
    syntax::Value v =
        args_.is_secret ? syntax::Value::Secret(*content) : syntax::Value::String(*content);
    if (opts_.on_state_change) opts_.on_state_change(syntax::Value::Object({{"content", v}}));
    return base::Status::Ok();
  }

  const component::Options opts_;
  const std::unique_ptr<FileWatcher> watcher_;
  mutable std::mutex mu_;
  LocalFileArgs args_;                    // guarded by mu_
  std::string watched_;                   // guarded by mu_: the file's absolute path
  base::Clock::Duration next_poll_{};     // guarded by mu_: on opts_.clock's monotonic time
  component::Health health_;              // guarded by mu_
  std::optional<std::string> published_;  // guarded by mu_
  bool published_secret_ = false;         // guarded by mu_
};

}  // namespace

void DecodeLocalFileArgs(component::ArgDecoder& d, LocalFileArgs* args) {
  d.Required("filename", &args->filename);
  if (d.Optional("detector", &args->detector)) {
    if (args->detector.empty()) args->detector = "fsnotify";
    if (args->detector != "fsnotify" && args->detector != "poll") {
      d.AddError("detector",
                 "unrecognized detector \"" + args->detector + "\", expected fsnotify or poll");
    }
  }
  d.Optional("poll_frequency", &args->poll_frequency);
  d.Optional("is_secret", &args->is_secret);
}

component::Registration LocalFileRegistration() {
  component::Registration r = component::MakeRegistration<LocalFileArgs>(
      "local.file", DecodeLocalFileArgs,
      [](const component::Options& o,
         const LocalFileArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        if (a.poll_frequency <= std::chrono::nanoseconds::zero()) {
          return base::Status::InvalidArgument("poll_frequency must be greater than 0");
        }
        ASSIGN_OR_RETURN(std::unique_ptr<FileWatcher> w, FileWatcher::Create());
        auto c = std::make_unique<LocalFile>(o, a, std::move(w));
        base::Status s = c->Init();
        if (!s.ok()) return base::Status(s.code(), "failed to read file: " + s.message());
        return std::unique_ptr<component::Component>(std::move(c));
      });
  r.exports = {{"content", "string or secret: the content of the file (secret when is_secret)"}};
  return r;
}

}  // namespace starling::components
