#include "model/textparse/validate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/internal/go_text.h"
#include "model/textparse/openmetricsparse.h"

namespace starling::model::textparse {
namespace {

using internal::LabelSpan;
using model::internal::GoQuote;

std::vector<std::string_view> Suffixes(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return {"_total", "_created"};
    case MetricType::kSummary:
      return {"", "_sum", "_count", "_created"};
    case MetricType::kHistogram:
      return {"_bucket", "_sum", "_count", "_created"};
    case MetricType::kGaugeHistogram:
      return {"_bucket", "_gsum", "_gcount"};
    case MetricType::kInfo:
      return {"_info"};
    default:
      return {""};
  }
}

// A le or quantile label value: a number, with infinities spelled as OpenMetrics does.
bool ParseCanonicalFloat(std::string_view s, double* out) {
  if (s == "+Inf" || s == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  for (char c : s) {
    if (!(internal::IsDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return false;
    }
  }
  return ParseGoFloat(s, out);
}

// One histogram metric (a label set without le) as its samples arrive.
struct Histogram {
  std::vector<std::pair<double, double>> buckets;  // (le, value)
  bool negative_bucket = false;
  std::optional<double> sum;
  std::optional<double> count;
};

// The metric family being read.
struct Family {
  std::string name;
  MetricType type = MetricType::kUnknown;
  bool has_type = false, has_help = false, has_unit = false;
  bool registered = false, has_samples = false;
  std::set<std::string> metrics;
  std::string metric;  // the current metric's key
  bool in_metric = false;
  Histogram histogram;
  std::map<std::string, std::optional<std::int64_t>> series_ts;
};

// Applies the rules of validate.h to a stream of entries.
class Validator {
 public:
  Status Metadata(Entry e, std::string_view name, MetricType type);
  Status Sample(const OpenMetricsParser& p);
  Status Finish() { return FinishFamily(); }

 private:
  Status Register();
  Status FinishMetric();
  Status FinishFamily();
  bool Owns(std::string_view sample) const;

  std::optional<Family> cur_;
  std::set<std::string, std::less<>> owned_;
};

Status Validator::Metadata(Entry e, std::string_view name, MetricType type) {
  if (!cur_ || cur_->name != name) {
    RETURN_IF_ERROR(FinishFamily());
    cur_.emplace();
    cur_->name = std::string(name);
  }
  Family& f = *cur_;
  if (f.has_samples) {
    return Status::InvalidArgument("metadata for " + GoQuote(name) + " after its samples");
  }
  bool* seen = e == Entry::kType ? &f.has_type : e == Entry::kHelp ? &f.has_help : &f.has_unit;
  if (*seen) return Status::InvalidArgument("repeated metadata for " + GoQuote(name));
  *seen = true;
  if (e == Entry::kType) f.type = type;
  return Status::Ok();
}

bool Validator::Owns(std::string_view sample) const {
  if (!sample.starts_with(cur_->name)) return false;
  std::string_view suffix = sample.substr(cur_->name.size());
  for (std::string_view s : Suffixes(cur_->type)) {
    if (s == suffix) return true;
  }
  return false;
}

Status Validator::Register() {
  Family& f = *cur_;
  if (f.registered) return Status::Ok();
  f.registered = true;
  if (f.has_unit && (f.type == MetricType::kInfo || f.type == MetricType::kStateset)) {
    return Status::InvalidArgument("UNIT on " + std::string(MetricTypeName(f.type)) + " " +
                                   GoQuote(f.name));
  }
  std::vector<std::string> names = {f.name};
  for (std::string_view s : Suffixes(f.type)) names.push_back(f.name + std::string(s));
  for (const std::string& n : names) {
    if (owned_.contains(n)) return Status::InvalidArgument("clashing name " + GoQuote(n));
  }
  owned_.insert(names.begin(), names.end());
  return Status::Ok();
}

Status Validator::FinishMetric() {
  Family& f = *cur_;
  if (!f.in_metric) return Status::Ok();
  f.in_metric = false;
  Histogram h = std::move(f.histogram);
  f.histogram = Histogram();
  if (f.type != MetricType::kHistogram && f.type != MetricType::kGaugeHistogram) {
    return Status::Ok();
  }
  if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
    return Status::InvalidArgument("histogram " + GoQuote(f.name) + " has no +Inf bucket");
  }
  if (h.sum.has_value() != h.count.has_value()) {
    return Status::InvalidArgument("histogram " + GoQuote(f.name) +
                                   " has one of sum and count without the other");
  }
  if (h.count && *h.count != h.buckets.back().second) {
    return Status::InvalidArgument("histogram " + GoQuote(f.name) +
                                   " count differs from its +Inf bucket");
  }
  if (f.type == MetricType::kHistogram && h.negative_bucket && h.sum) {
    return Status::InvalidArgument("histogram " + GoQuote(f.name) +
                                   " has a sum and negative buckets");
  }
  if (f.type == MetricType::kGaugeHistogram && h.sum && *h.sum < 0 && !h.negative_bucket) {
    return Status::InvalidArgument("gauge histogram " + GoQuote(f.name) +
                                   " has a negative sum without negative buckets");
  }
  return Status::Ok();
}

Status Validator::FinishFamily() {
  if (!cur_) return Status::Ok();
  RETURN_IF_ERROR(Register());
  RETURN_IF_ERROR(FinishMetric());
  cur_.reset();
  return Status::Ok();
}

Status Validator::Sample(const OpenMetricsParser& p) {
  std::string_view name = p.MetricName();
  if (!cur_ || !Owns(name)) {
    RETURN_IF_ERROR(FinishFamily());
    cur_.emplace();
    cur_->name = std::string(name);
  }
  Family& f = *cur_;
  f.has_samples = true;
  RETURN_IF_ERROR(Register());
  std::string_view suffix = name.substr(f.name.size());
  const std::vector<LabelSpan>& labels = p.LabelSpans();
  SeriesView s = p.Series();
  double v = s.value;

  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (std::size_t j = i + 1; j < labels.size(); ++j) {
      if (labels[i].name == labels[j].name) {
        return Status::InvalidArgument("duplicate label " + GoQuote(labels[i].name));
      }
    }
  }
  auto find = [&](std::string_view n) -> const LabelSpan* {
    for (const auto& l : labels) {
      if (l.name == n) return &l;
    }
    return nullptr;
  };
  auto counter_like = [&]() -> Status {
    if (std::isnan(v) || v < 0) {
      return Status::InvalidArgument(GoQuote(name) + " must not be NaN or negative");
    }
    return Status::Ok();
  };

  bool histogram = f.type == MetricType::kHistogram || f.type == MetricType::kGaugeHistogram;
  std::optional<double> le;
  switch (f.type) {
    case MetricType::kCounter:
      if (suffix == "_total") RETURN_IF_ERROR(counter_like());
      break;
    case MetricType::kHistogram:
    case MetricType::kGaugeHistogram:
      if (suffix == "_bucket") {
        RETURN_IF_ERROR(counter_like());
        const LabelSpan* l = find("le");
        double d = 0;
        if (l == nullptr || !ParseCanonicalFloat(l->raw_value, &d) || std::isnan(d)) {
          return Status::InvalidArgument(GoQuote(name) + " needs a valid le label");
        }
        le = d;
      } else if (suffix == "_count" || suffix == "_gcount") {
        RETURN_IF_ERROR(counter_like());
      } else if (suffix == "_sum") {
        RETURN_IF_ERROR(counter_like());
      } else if (suffix == "_gsum" && std::isnan(v)) {
        return Status::InvalidArgument(GoQuote(name) + " must not be NaN");
      }
      break;
    case MetricType::kSummary:
      if (suffix == "_sum" || suffix == "_count") {
        RETURN_IF_ERROR(counter_like());
      } else if (suffix.empty()) {
        const LabelSpan* l = find("quantile");
        double q = 0;
        if (l == nullptr || !ParseCanonicalFloat(l->raw_value, &q) || !(q >= 0 && q <= 1)) {
          return Status::InvalidArgument(GoQuote(name) + " needs a quantile label in [0, 1]");
        }
        if (v < 0) return Status::InvalidArgument(GoQuote(name) + " must not be negative");
      }
      break;
    case MetricType::kInfo:
      if (v != 1) return Status::InvalidArgument("info " + GoQuote(name) + " must be 1");
      break;
    case MetricType::kStateset:
      if (find(f.name) == nullptr) {
        return Status::InvalidArgument("stateset " + GoQuote(name) + " needs a label " +
                                       GoQuote(f.name));
      }
      if (v != 0 && v != 1) {
        return Status::InvalidArgument("stateset " + GoQuote(name) + " must be 0 or 1");
      }
      break;
    default:
      break;
  }

  Exemplar ex;
  if (p.Exemplar(&ex)) {
    bool allowed = (f.type == MetricType::kCounter && suffix == "_total") ||
                   (histogram && suffix == "_bucket");
    if (!allowed) return Status::InvalidArgument("exemplar not allowed on " + GoQuote(name));
  }

  // The metric: the labels without the ones that tell a family's samples apart.
  std::vector<std::pair<std::string_view, std::string_view>> sorted;
  sorted.reserve(labels.size());
  for (const auto& l : labels) sorted.emplace_back(l.name, l.raw_value);
  std::sort(sorted.begin(), sorted.end());
  std::string metric;
  std::string series(name);
  for (const auto& [n, val] : sorted) {
    std::string part = std::string(n) + "=" + std::string(val) + '\xff';
    series += '\xff' + part;
    if ((histogram && n == "le") || (f.type == MetricType::kSummary && n == "quantile")) continue;
    metric += part;
  }
  if (!f.in_metric || metric != f.metric) {
    RETURN_IF_ERROR(FinishMetric());
    if (f.metrics.contains(metric)) {
      return Status::InvalidArgument("interleaved metrics in family " + GoQuote(f.name));
    }
    f.metrics.insert(metric);
    f.metric = metric;
    f.in_metric = true;
  }

  auto [it, inserted] = f.series_ts.try_emplace(series, s.timestamp);
  if (!inserted) {
    if (it->second.has_value() != s.timestamp.has_value()) {
      return Status::InvalidArgument("series " + GoQuote(s.series) +
                                     " mixes samples with and without timestamps");
    }
    if (!s.timestamp) {
      return Status::InvalidArgument("duplicate sample for series " + GoQuote(s.series));
    }
    if (*s.timestamp < *it->second) {
      return Status::InvalidArgument("timestamps of series " + GoQuote(s.series) + " go backwards");
    }
    it->second = s.timestamp;
  }

  if (histogram) {
    Histogram& h = f.histogram;
    if (le) {
      if (!h.buckets.empty() && h.buckets.back().first >= *le) {
        return Status::InvalidArgument("buckets of " + GoQuote(f.name) + " are not sorted");
      }
      if (!h.buckets.empty() && h.buckets.back().second > v) {
        return Status::InvalidArgument("buckets of " + GoQuote(f.name) + " are not cumulative");
      }
      if (*le < 0) h.negative_bucket = true;
      h.buckets.emplace_back(*le, v);
    } else if (suffix == "_sum" || suffix == "_gsum") {
      h.sum = v;
    } else if (suffix == "_count" || suffix == "_gcount") {
      h.count = v;
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateOpenMetrics(std::string_view body) {
  OpenMetricsParser p(body);
  Validator v;
  for (;;) {
    ASSIGN_OR_RETURN(Entry e, p.Next());
    switch (e) {
      case Entry::kEof:
        return v.Finish();
      case Entry::kSeries:
        RETURN_IF_ERROR(v.Sample(p));
        break;
      case Entry::kType:
        RETURN_IF_ERROR(v.Metadata(e, p.Type().metric, p.Type().type));
        break;
      case Entry::kHelp:
      case Entry::kUnit:
        RETURN_IF_ERROR(v.Metadata(e, p.Unit().metric, MetricType::kUnknown));
        break;
      default:
        return Status::InvalidArgument("unexpected entry");
    }
  }
}

}  // namespace starling::model::textparse
