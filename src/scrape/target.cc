#include "scrape/target.h"

#include <xxhash.h>

#include <array>
#include <charconv>
#include <limits>
#include <utility>

#include "base/utf8.h"
#include "net/http.h"

namespace starling::scrape {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAddressLabel = "__address__";
constexpr std::string_view kSchemeLabel = "__scheme__";
constexpr std::string_view kMetricsPathLabel = "__metrics_path__";
constexpr std::string_view kIntervalLabel = "__scrape_interval__";
constexpr std::string_view kTimeoutLabel = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";
constexpr std::string_view kReservedPrefix = "__";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Go's net.SplitHostPort, reduced to "does it split".
bool SplitsHostPort(std::string_view s) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host;
  if (!s.empty() && s[0] == '[') {
    std::size_t end = s.find(']');
    if (end == std::string_view::npos) return false;
    if (end + 1 != colon) return false;  // missing port or too many colons
    host = s.substr(1, end - 1);
    if (s.substr(1).find('[') != std::string_view::npos) return false;
    if (s.substr(end + 1).find(']') != std::string_view::npos) return false;
  } else {
    host = s.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return false;
    if (host.find_first_of("[]") != std::string_view::npos) return false;
  }
  return s.substr(colon + 1).find_first_of("[]") == std::string_view::npos;
}

bool ValidUtf8(std::string_view s) {
  while (!s.empty()) {
    int width = 0;
    char32_t r = base::DecodeRune(s, &width);
    if (r == base::kRuneError && width == 1 && s.substr(0, 3) != "\xEF\xBF\xBD") return false;
    s.remove_prefix(static_cast<std::size_t>(width));
  }
  return true;
}

// Go's url.URL.EscapedPath for a path without a RawPath.
void PathEscape(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool keep = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                std::string_view("-_.~$&+,/:;=@!'()*").find(c) != std::string_view::npos;
    if (keep) {
      out->push_back(c);
    } else {
      out->push_back('%');
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    }
  }
}

}  // namespace

std::string FormatPromDuration(std::chrono::nanoseconds d) {
  std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms == 0) return "0s";
  std::string r;
  if (ms < 0) {
    r = "-";
    ms = -ms;
  }
  auto unit = [&](std::string_view name, std::int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (std::int64_t v = ms / mult; v > 0) {
      r += std::to_string(v);
      r += name;
      ms -= v * mult;
    }
  };
  constexpr std::int64_t kDay = 1000LL * 60 * 60 * 24;
  unit("y", kDay * 365, true);
  unit("w", kDay * 7, true);
  unit("d", kDay, false);
  unit("h", 1000LL * 60 * 60, false);
  unit("m", 1000LL * 60, false);
  unit("s", 1000, false);
  unit("ms", 1, false);
  return r;
}

base::Result<std::chrono::nanoseconds> ParsePromDuration(std::string_view s) {
  if (s.empty()) return base::Status::InvalidArgument("empty duration string");
  if (s == "0") return std::chrono::nanoseconds(0);
  auto invalid = [&] {
    return base::Status::InvalidArgument("not a valid duration string: \"" + std::string(s) + "\"");
  };
  struct Unit {
    std::string_view name;
    std::int64_t ms;
  };
  constexpr std::int64_t kDay = 1000LL * 60 * 60 * 24;
  static constexpr std::array<Unit, 7> kUnits = {{{"y", kDay * 365},
                                                  {"w", kDay * 7},
                                                  {"d", kDay},
                                                  {"h", 3600000},
                                                  {"m", 60000},
                                                  {"s", 1000},
                                                  {"ms", 1}}};
  std::size_t next_unit = 0;
  std::int64_t total_ms = 0;
  std::string_view rest = s;
  while (!rest.empty()) {
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0) return invalid();
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + digits, v);
    if (ec != std::errc()) return invalid();
    rest.remove_prefix(digits);
    std::size_t name_len = 0;
    while (name_len < rest.size() && (rest[name_len] < '0' || rest[name_len] > '9')) ++name_len;
    std::string_view name = rest.substr(0, name_len);
    rest.remove_prefix(name_len);
    bool found = false;
    for (; next_unit < kUnits.size(); ++next_unit) {
      if (kUnits[next_unit].name == name) {
        found = true;
        break;
      }
    }
    if (!found) return invalid();
    const std::int64_t mult = kUnits[next_unit].ms;
    ++next_unit;
    if (v > std::numeric_limits<std::int64_t>::max() / mult / 1000000 - total_ms / 1000000) {
      return base::Status::InvalidArgument("duration out of range");
    }
    total_ms += v * mult;
  }
  return std::chrono::nanoseconds(std::chrono::milliseconds(total_ms));
}

std::string FormatFloatF(double x) {
  std::array<char, 400> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(buf.data(), end);
}

std::string FormatSeconds(std::chrono::nanoseconds d) {
  return FormatFloatF(std::chrono::duration<double>(d).count());
}

base::Result<model::Labels> PopulateLabels(const model::Labels& discovered, const JobConfig& cfg) {
  model::LabelsBuilder lb(discovered);
  // Discovered labels with empty values count as absent, as Prometheus's builder does.
  for (const auto& [name, value] : discovered) {
    if (value.empty()) lb.Del(name);
  }
  const std::pair<std::string_view, std::string> defaults[] = {
      {"job", cfg.job_name},
      {kIntervalLabel, FormatPromDuration(cfg.interval)},
      {kTimeoutLabel, FormatPromDuration(cfg.timeout)},
      {kMetricsPathLabel, cfg.metrics_path},
      {kSchemeLabel, cfg.scheme},
  };
  for (const auto& [name, value] : defaults) {
    if (lb.Get(name).empty()) lb.Set(name, value);
  }
  for (const auto& [name, values] : cfg.params) {
    if (!values.empty()) lb.Set(std::string(kParamPrefix) + name, values[0]);
  }

  std::string addr(lb.Get(kAddressLabel));
  if (addr.empty()) return base::Status::InvalidArgument("no address");
  if (!SplitsHostPort(addr) && SplitsHostPort(addr + ":1234")) {
    std::string_view scheme = lb.Get(kSchemeLabel);
    if (scheme == "http" || scheme.empty()) {
      addr += ":80";
    } else if (scheme == "https") {
      addr += ":443";
    } else {
      return base::Status::InvalidArgument("invalid scheme: \"" + cfg.scheme + "\"");
    }
    lb.Set(kAddressLabel, addr);
  }
  if (addr.find('/') != std::string::npos) {
    return base::Status::InvalidArgument("\"" + addr + "\" is not a valid hostname");
  }

  std::string interval_text(lb.Get(kIntervalLabel));
  base::Result<std::chrono::nanoseconds> interval = ParsePromDuration(interval_text);
  if (!interval.ok()) {
    return base::Status::InvalidArgument("error parsing scrape interval: " +
                                         interval.error().message());
  }
  if (*interval == 0ns) return base::Status::InvalidArgument("scrape interval cannot be 0");
  std::string timeout_text(lb.Get(kTimeoutLabel));
  base::Result<std::chrono::nanoseconds> timeout = ParsePromDuration(timeout_text);
  if (!timeout.ok()) {
    return base::Status::InvalidArgument("error parsing scrape timeout: " +
                                         timeout.error().message());
  }
  if (*timeout == 0ns) return base::Status::InvalidArgument("scrape timeout cannot be 0");
  if (*timeout > *interval) {
    return base::Status::InvalidArgument(
        "scrape timeout cannot be greater than scrape interval (\"" + timeout_text + "\" > \"" +
        interval_text + "\")");
  }

  lb.Range([&](std::string_view name, std::string_view) {
    if (StartsWith(name, kMetaPrefix)) lb.Del(name);
  });
  if (lb.Get("instance").empty()) lb.Set("instance", addr);

  model::Labels res = lb.Labels();
  for (const auto& [name, value] : res) {
    if (!ValidUtf8(value)) {
      std::string msg = "invalid label value for \"";
      msg += name;
      msg += "\": \"";
      msg += value;
      msg += "\"";
      return base::Status::InvalidArgument(std::move(msg));
    }
  }
  return res;
}

Target::Target(model::Labels labels, model::Labels discovered,
               const std::map<std::string, std::vector<std::string>>& params)
    : labels_(std::move(labels)), discovered_(std::move(discovered)) {
  std::vector<model::Label> pub;
  pub.reserve(labels_.Size());
  for (const auto& l : labels_) {
    if (!StartsWith(l.first, kReservedPrefix)) pub.push_back(l);
  }
  target_labels_ = model::Labels(std::move(pub));

  // Query parameters: the job's, with the first value of each replaced by a __param_ label.
  std::map<std::string, std::vector<std::string>> query = params;
  for (const auto& [name, value] : labels_) {
    if (!StartsWith(name, kParamPrefix)) continue;
    std::vector<std::string>& vs = query[name.substr(kParamPrefix.size())];
    if (vs.empty()) {
      vs.push_back(value);
    } else {
      vs[0] = value;
    }
  }
  url_ = std::string(labels_.Get(kSchemeLabel)) + "://" + std::string(labels_.Get(kAddressLabel));
  std::string_view path = labels_.Get(kMetricsPathLabel);
  if (!path.empty() && path[0] != '/') url_.push_back('/');
  PathEscape(path, &url_);
  bool first = true;
  for (const auto& [name, values] : query) {
    for (const std::string& v : values) {
      url_.push_back(first ? '?' : '&');
      first = false;
      net::QueryEscape(name, &url_);
      url_.push_back('=');
      net::QueryEscape(v, &url_);
    }
  }

  XXH64_state_t* st = XXH64_createState();
  XXH64_reset(st, 0);
  for (const auto& [name, value] : labels_) {
    XXH64_update(st, name.data(), name.size());
    XXH64_update(st, "\xff", 1);
    XXH64_update(st, value.data(), value.size());
    XXH64_update(st, "\xff", 1);
  }
  XXH64_update(st, url_.data(), url_.size());
  hash_ = XXH64_digest(st);
  XXH64_freeState(st);

  // PopulateLabels validated both.
  interval_ = ParsePromDuration(labels_.Get(kIntervalLabel)).value_or(std::chrono::minutes(1));
  timeout_ = ParsePromDuration(labels_.Get(kTimeoutLabel)).value_or(std::chrono::seconds(10));
}

std::chrono::nanoseconds Target::Offset(std::int64_t now_unix_ns, std::uint64_t seed) const {
  const auto interval = static_cast<std::uint64_t>(interval_.count());
  if (interval == 0) return 0ns;
  // The slot is pinned to absolute time: the same phase whenever this is computed.
  std::uint64_t now = static_cast<std::uint64_t>(now_unix_ns);
  std::uint64_t base = interval - now % interval;
  std::uint64_t offset = (hash_ ^ seed) % interval;
  std::uint64_t next = base + offset;
  if (next > interval) next -= interval;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(next));
}

}  // namespace starling::scrape
