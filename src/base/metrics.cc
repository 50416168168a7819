#include "base/metrics.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

namespace starling::base {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Appends v as Prometheus parses it: shortest round-trip digits, or +Inf/-Inf/NaN.
void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", v);
  }
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string_view s, bool quote, std::string* out) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quote && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// A metric whose value a function computes at render time.
class CallbackFamily final : public internal::FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, MetricType type, std::function<double()> fn)
      : FamilyBase(std::move(name), std::move(help), type, {}), fn_(std::move(fn)) {}

  void set_fn(std::function<double()> fn) { fn_ = std::move(fn); }

  int RenderSamples(std::string* out) const override {
    AppendSample({}, fn_(), out);
    return 1;
  }

 private:
  std::function<double()> fn_;  // guarded by the registry's mutex
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The fields of /proc/self/stat after the command name (which may contain spaces), so that
// field N of proc(5) is fields[N - 3].
std::vector<std::string> ReadProcSelfStat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  std::size_t paren = line.rfind(')');
  if (paren == std::string::npos) return fields;
  std::istringstream rest(line.substr(paren + 1));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

double StatField(int n) {
  std::vector<std::string> fields = ReadProcSelfStat();
  std::size_t i = static_cast<std::size_t>(n - 3);
  if (i >= fields.size()) return kNaN;
  return std::strtod(fields[i].c_str(), nullptr);
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = kNaN;
      in >> v;
      return v;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return kNaN;
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return kNaN;
  int n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

// Bytes received and sent (fields 1 and 9 of each interface's line) over every interface of
// /proc/net/dev, as the Agent's agent_resources_machine_*_bytes_total sum them.
std::pair<double, double> NetworkBytes() {
  std::ifstream in("/proc/net/dev");
  if (!in) return {kNaN, kNaN};
  double rx = 0;
  double tx = 0;
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::istringstream fields(line.substr(colon + 1));
    double v[9] = {};
    for (double& f : v) fields >> f;
    if (!fields) return {kNaN, kNaN};
    rx += v[0];
    tx += v[8];
  }
  return {rx, tx};
}

// The process statistics both RegisterProcessMetrics and RegisterAgentResourceMetrics export.
struct ProcessStats {
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  // The start time cannot change, so it is read once.
  double start = BootTimeSeconds() + StatField(22) / ticks;

  double CpuSeconds() const {
    std::vector<std::string> f = ReadProcSelfStat();
    if (f.size() < 13) return kNaN;
    return (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / ticks;
  }
  double ResidentBytes() const { return StatField(24) * page_size; }
  static double VirtualBytes() { return StatField(23); }
};

}  // namespace

void RegisterProcessMetrics(MetricsRegistry& registry) {
  const ProcessStats p;
  registry.AddCallback("process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", MetricType::kCounter,
                       [p] { return p.CpuSeconds(); });
  registry.AddCallback("process_resident_memory_bytes", "Resident memory size in bytes.",
                       MetricType::kGauge, [p] { return p.ResidentBytes(); });
  registry.AddCallback("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                       MetricType::kGauge, &ProcessStats::VirtualBytes);
  registry.AddCallback("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", MetricType::kGauge,
                       [p] { return p.start; });
  registry.AddCallback("process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
                       OpenFds);
  registry.AddCallback(
      "process_max_fds", "Maximum number of open file descriptors.", MetricType::kGauge, [] {
        rlimit rl{};
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return kNaN;
        return rl.rlim_cur == RLIM_INFINITY ? kNaN : static_cast<double>(rl.rlim_cur);
      });
}

void RegisterAgentResourceMetrics(MetricsRegistry& registry) {
  const ProcessStats p;
  registry.AddCallback("agent_resources_process_start_time_seconds",
                       "Start time of the process since Unix epoch in seconds.", MetricType::kGauge,
                       [p] { return p.start; });
  registry.AddCallback("agent_resources_process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", MetricType::kCounter,
                       [p] { return p.CpuSeconds(); });
  registry.AddCallback("agent_resources_process_resident_memory_bytes",
                       "Current resident memory size in bytes.", MetricType::kGauge,
                       [p] { return p.ResidentBytes(); });
  registry.AddCallback("agent_resources_process_virtual_memory_bytes",
                       "Current virtual memory size in bytes.", MetricType::kGauge,
                       &ProcessStats::VirtualBytes);
  registry.AddCallback("agent_resources_machine_rx_bytes_total",
                       "Total bytes, host-wide, received across all network interfaces.",
                       MetricType::kCounter, [] { return NetworkBytes().first; });
  registry.AddCallback("agent_resources_machine_tx_bytes_total",
                       "Total bytes, host-wide, sent across all network interfaces.",
                       MetricType::kCounter, [] { return NetworkBytes().second; });
}

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
  }
  return "untyped";
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  for (char c : name) {
    if (!IsNameStart(c) && !IsDigit(c) && c != ':') return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  for (char c : name) {
    if (!IsNameStart(c) && !IsDigit(c)) return false;
  }
  return true;
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double v) {
  // The first bucket whose bound is >= v; NaN lands in +Inf, as in client_golang.
  const std::size_t i =
      std::isnan(v) ? bounds_.size()
                    : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                               bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Summary::Summary(std::span<const double> quantiles, const Clock& clock)
    : quantiles_(quantiles),
      clock_(clock),
      head_start_(clock.Monotonic()),
      random_(0x9E3779B97F4A7C15ULL) {}

void Summary::Rotate(Clock::Duration now) const {
  constexpr Clock::Duration kWidth = kMaxAge / kAgeBuckets;
  if (now - head_start_ >= kMaxAge) {
    // Idle for the whole window: everything aged out.
    for (AgeBucket& b : buckets_) b = AgeBucket{};
    head_start_ = now;
    return;
  }
  while (now - head_start_ >= kWidth) {
    head_ = (head_ + 1) % kAgeBuckets;
    buckets_[head_] = AgeBucket{};
    head_start_ += kWidth;
  }
}

void Summary::Observe(double v) {
  const Clock::Duration now = clock_.Monotonic();
  std::lock_guard lock(mu_);
  Rotate(now);
  sum_ += v;
  ++count_;
  if (std::isnan(v)) return;  // it has no rank, and would break the sort of QuantileValues
  AgeBucket& b = buckets_[head_];
  ++b.seen;
  if (b.sample.size() < kSampleCap) {
    b.sample.push_back(v);
    return;
  }
  // Reservoir sampling: every observation of the bucket stays in it with the same chance.
  random_ = random_ * 6364136223846793005ULL + 1442695040888963407ULL;
  const std::uint64_t j = (random_ >> 11) % b.seen;
  if (j < kSampleCap) b.sample[j] = v;
}

std::vector<double> Summary::QuantileValues() const {
  const Clock::Duration now = clock_.Monotonic();
  // Each kept value stands for seen / kept observations of its bucket.
  std::vector<std::pair<double, double>> weighted;
  {
    std::lock_guard lock(mu_);
    Rotate(now);
    for (const AgeBucket& b : buckets_) {
      if (b.sample.empty()) continue;
      const double w = static_cast<double>(b.seen) / static_cast<double>(b.sample.size());
      for (double v : b.sample) weighted.emplace_back(v, w);
    }
  }
  std::vector<double> out(quantiles_.size(), kNaN);
  if (weighted.empty()) return out;
  std::sort(weighted.begin(), weighted.end());
  double total = 0;
  for (const auto& [v, w] : weighted) total += w;
  // The smallest value whose cumulative weight reaches q of the total.
  std::size_t i = 0;
  double cumulative = weighted[0].second;
  for (std::size_t k = 0; k < quantiles_.size(); ++k) {
    const double target = quantiles_[k] * total;
    while (cumulative < target && i + 1 < weighted.size()) cumulative += weighted[++i].second;
    out[k] = weighted[i].first;
  }
  return out;
}

double Summary::Sum() const {
  std::lock_guard lock(mu_);
  return sum_;
}

std::uint64_t Summary::Count() const {
  std::lock_guard lock(mu_);
  return count_;
}

namespace internal {

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  CHECK(IsValidMetricName(name_)) << "invalid metric name \"" << name_ << "\"";
  for (const std::string& l : label_names_) {
    CHECK(IsValidLabelName(l)) << "invalid label name \"" << l << "\" in metric " << name_;
  }
}

namespace {

// Appends `name{l1="v1",...,extra="bound"} value\n`, extra being "le" or "quantile"; bound is
// left out when null.
void AppendLine(std::string_view name, std::span<const std::string> label_names,
                std::span<const std::string> label_values, const double* bound, double value,
                std::string* out, std::string_view extra = "le") {
  out->append(name);
  if (!label_names.empty() || bound != nullptr) {
    out->push_back('{');
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out->push_back(',');
      out->append(label_names[i]);
      out->append("=\"");
      AppendEscaped(label_values[i], /*quote=*/true, out);
      out->push_back('"');
    }
    if (bound != nullptr) {
      if (!label_names.empty()) out->push_back(',');
      out->append(extra);
      out->append("=\"");
      AppendValue(*bound, out);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->push_back(' ');
  AppendValue(value, out);
  out->push_back('\n');
}

}  // namespace

void FamilyBase::AppendSample(std::span<const std::string> label_values, double value,
                              std::string* out) const {
  AppendLine(name_, label_names_, label_values, nullptr, value, out);
}

void FamilyBase::AppendHistogram(std::span<const std::string> label_values, const Histogram& h,
                                 std::string* out) const {
  const std::string bucket = name_ + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.BucketCount(i);
    AppendLine(bucket, label_names_, label_values, &h.bounds()[i], static_cast<double>(cumulative),
               out);
  }
  cumulative += h.BucketCount(h.bounds().size());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  AppendLine(bucket, label_names_, label_values, &kInf, static_cast<double>(cumulative), out);
  AppendLine(name_ + "_sum", label_names_, label_values, nullptr, h.Sum(), out);
  AppendLine(name_ + "_count", label_names_, label_values, nullptr, static_cast<double>(cumulative),
             out);
}

void FamilyBase::AppendSummary(std::span<const std::string> label_values, const Summary& s,
                               std::string* out) const {
  const std::vector<double> values = s.QuantileValues();
  for (std::size_t i = 0; i < values.size(); ++i) {
    AppendLine(name_, label_names_, label_values, &s.quantiles()[i], values[i], out, "quantile");
  }
  AppendLine(name_ + "_sum", label_names_, label_values, nullptr, s.Sum(), out);
  AppendLine(name_ + "_count", label_names_, label_values, nullptr, static_cast<double>(s.Count()),
             out);
}

}  // namespace internal

template <typename M>
Family<M>& MetricsRegistry::AddFamily(std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds, const Clock* clock) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<Family<M>*>(it->second.get());
    CHECK(existing != nullptr && existing->label_names() == label_names &&
          existing->bounds() == bounds)
        << "metric " << name << " registered twice with different types, labels or buckets";
    return *existing;
  }
  auto family = std::make_unique<Family<M>>(name, std::move(help), std::move(label_names),
                                            std::move(bounds), clock);
  Family<M>& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

Family<Counter>& MetricsRegistry::AddCounterFamily(std::string name, std::string help,
                                                   std::vector<std::string> label_names) {
  return AddFamily<Counter>(std::move(name), std::move(help), std::move(label_names));
}

Family<Gauge>& MetricsRegistry::AddGaugeFamily(std::string name, std::string help,
                                               std::vector<std::string> label_names) {
  return AddFamily<Gauge>(std::move(name), std::move(help), std::move(label_names));
}

Family<Histogram>& MetricsRegistry::AddHistogramFamily(std::string name, std::string help,
                                                       std::vector<std::string> label_names,
                                                       std::vector<double> bounds) {
  CHECK(std::find(label_names.begin(), label_names.end(), "le") == label_names.end())
      << "histogram " << name << " has a label named le";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    CHECK(std::isfinite(bounds[i]) && (i == 0 || bounds[i - 1] < bounds[i]))
        << "histogram " << name << " needs increasing, finite bucket bounds";
  }
  return AddFamily<Histogram>(std::move(name), std::move(help), std::move(label_names),
                              std::move(bounds));
}

Family<Summary>& MetricsRegistry::AddSummaryFamily(std::string name, std::string help,
                                                   std::vector<std::string> label_names,
                                                   std::vector<double> quantiles,
                                                   const Clock& clock) {
  CHECK(std::find(label_names.begin(), label_names.end(), "quantile") == label_names.end())
      << "summary " << name << " has a label named quantile";
  for (std::size_t i = 0; i < quantiles.size(); ++i) {
    CHECK(quantiles[i] >= 0 && quantiles[i] <= 1 && (i == 0 || quantiles[i - 1] < quantiles[i]))
        << "summary " << name << " needs increasing quantiles in [0, 1]";
  }
  return AddFamily<Summary>(std::move(name), std::move(help), std::move(label_names),
                            std::move(quantiles), &clock);
}

Counter& MetricsRegistry::AddCounter(std::string name, std::string help) {
  return AddCounterFamily(std::move(name), std::move(help), {}).WithLabels({});
}

Gauge& MetricsRegistry::AddGauge(std::string name, std::string help) {
  return AddGaugeFamily(std::move(name), std::move(help), {}).WithLabels({});
}

void MetricsRegistry::AddCallback(std::string name, std::string help, MetricType type,
                                  std::function<double()> fn) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<CallbackFamily*>(it->second.get());
    CHECK(existing != nullptr && existing->type() == type)
        << "metric " << name << " registered twice with different types";
    existing->set_fn(std::move(fn));
    return;
  }
  auto family = std::make_unique<CallbackFamily>(name, std::move(help), type, std::move(fn));
  families_.emplace(std::move(name), std::move(family));
}

bool MetricsRegistry::Remove(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return false;
  families_.erase(it);
  return true;
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::string samples;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    samples.clear();
    if (family->RenderSamples(&samples) == 0) continue;
    out.append("# HELP ").append(name).push_back(' ');
    AppendEscaped(family->help(), /*quote=*/false, &out);
    out.append("\n# TYPE ").append(name).push_back(' ');
    out.append(MetricTypeName(family->type())).push_back('\n');
    out.append(samples);
  }
  return out;
}

}  // namespace starling::base
