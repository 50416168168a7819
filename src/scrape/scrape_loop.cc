#include "scrape/scrape_loop.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/go_duration.h"
#include "base/utf8.h"
#include "model/internal/go_text.h"

namespace starling::scrape {
namespace {

// The report series, in Prometheus's order; the last three only with extra_metrics.
constexpr std::array<std::string_view, 8> kReportNames = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
};
constexpr std::size_t kBasicReports = 5;

constexpr std::string_view kExportedPrefix = "exported_";

std::int64_t ToMillis(base::Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Go's %.Ns: at most n runes.
std::string_view TruncateRunes(std::string_view s, int n) {
  std::size_t pos = 0;
  for (int i = 0; i < n && pos < s.size(); ++i) {
    int width = 0;
    base::DecodeRune(s.substr(pos), &width);
    pos += static_cast<std::size_t>(width);
  }
  return s.substr(0, pos);
}

// Whether an append of a cached ref without labels failed because the appendable no longer
// knows the ref (see storage.h: it may forget series).
bool Forgotten(const base::Result<storage::SeriesRef>& got, storage::SeriesRef ref,
               const model::Labels& labels) {
  return !got.ok() && ref != 0 && labels.Empty() &&
         got.error().code() == base::StatusCode::kNotFound;
}

// The quantiles of Prometheus's scrape summaries.
const std::vector<double> kPrometheusQuantiles = {0.01, 0.05, 0.5, 0.9, 0.99};

}  // namespace

ScrapeMetrics::ScrapeMetrics(base::MetricsRegistry& registry)
    : exceeded_sample_limit(registry.AddCounter(
          "prometheus_target_scrapes_exceeded_sample_limit_total",
          "Total number of scrapes that hit the sample limit and were rejected.")),
      exceeded_body_size_limit(
          registry.AddCounter("prometheus_target_scrapes_exceeded_body_size_limit_total",
                              "Total number of scrapes that hit the body size limit")),
      exceeded_label_limits(registry.AddCounter(
          "prometheus_target_scrape_pool_exceeded_label_limits_total",
          "Total number of times scrape pools hit the label limits, during sync or config "
          "reload.")),
      exceeded_target_limit(registry.AddCounter(
          "prometheus_target_scrape_pool_exceeded_target_limit_total",
          "Total number of times scrape pools hit the target limit, during sync or config "
          "reload.")),
      sample_out_of_order(registry.AddCounter(
          "prometheus_target_scrapes_sample_out_of_order_total",
          "Total number of samples rejected due to not being out of the expected order.")),
      sample_duplicate(registry.AddCounter(
          "prometheus_target_scrapes_sample_duplicate_timestamp_total",
          "Total number of samples rejected due to duplicate timestamps but different values.")),
      samples_scraped(registry.AddCounter("starling_scrape_samples_scraped_total",
                                          "Total number of samples parsed from scrape responses.")),
      pools_created(registry.AddCounter("prometheus_target_scrape_pools_total",
                                        "Total number of scrape pool creation attempts.")),
      pools_failed(registry.AddCounter("prometheus_target_scrape_pools_failed_total",
                                       "Total number of scrape pool creations that failed.")),
      pool_reloads(registry.AddCounter("prometheus_target_scrape_pool_reloads_total",
                                       "Total number of scrape pool reloads.")),
      pool_reloads_failed(registry.AddCounter("prometheus_target_scrape_pool_reloads_failed_total",
                                              "Total number of failed scrape pool reloads.")),
      pool_targets(registry.AddGaugeFamily("prometheus_target_scrape_pool_targets",
                                           "Current number of targets in this scrape pool.",
                                           {"scrape_job"})),
      pool_syncs(registry.AddCounterFamily(
          "prometheus_target_scrape_pool_sync_total",
          "Total number of syncs that were executed on a scrape pool.", {"scrape_job"})),
      sync_length(registry.AddSummaryFamily("prometheus_target_sync_length_seconds",
                                            "Actual interval to sync the scrape pool.",
                                            {"scrape_job"}, kPrometheusQuantiles)),
      sync_failed(registry.AddCounterFamily("prometheus_target_sync_failed_total",
                                            "Total number of target sync failures.",
                                            {"scrape_job"})),
      interval_length(registry.AddSummaryFamily("prometheus_target_interval_length_seconds",
                                                "Actual intervals between scrapes.", {"interval"},
                                                kPrometheusQuantiles)) {}

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp:
      return "up";
    case TargetHealth::kDown:
      return "down";
    case TargetHealth::kUnknown:
      break;
  }
  return "unknown";
}

ScrapeLoop::ScrapeLoop(std::shared_ptr<const Target> target, LoopOptions options,
                       ScrapeMetrics* metrics)
    : target_(std::move(target)), metrics_(metrics), options_(options) {}

void ScrapeLoop::SetOptions(const LoopOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_options_ = options;
}

void ScrapeLoop::SetForcedError(base::Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  forced_error_ = std::move(error);
}

TargetStatus ScrapeLoop::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void ScrapeLoop::UseAppendable(const std::shared_ptr<storage::Appendable>& appendable) {
  if (had_appendable_ && last_appendable_.lock() == appendable) return;
  if (had_appendable_) {
    // Refs of the previous appendable mean nothing to this one.
    cache_.Clear();
    for (ReportSeries& r : report_) r.ref = 0;
  }
  last_appendable_ = appendable;
  had_appendable_ = true;
}

void ScrapeLoop::Process(const std::shared_ptr<storage::Appendable>& appendable,
                         const base::Clock& clock, base::Clock::TimePoint start,
                         base::Clock::Duration start_mono, const FetchResult& fetched) {
  base::Status forced;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_options_) {
      if (pending_options_->honor_labels != options_.honor_labels ||
          pending_options_->honor_timestamps != options_.honor_timestamps) {
        cache_.Clear();
      }
      options_ = *pending_options_;
      pending_options_.reset();
    }
    forced = forced_error_;
  }
  UseAppendable(appendable);
  if (metrics_ != nullptr && last_start_) {
    if (interval_length_ == nullptr) {
      interval_length_ =
          &metrics_->interval_length.WithLabels({base::FormatGoDuration(target_->interval())});
    }
    interval_length_->Observe(std::chrono::duration<double>(start_mono - *last_start_).count());
  }
  last_start_ = start_mono;
  ++attempt_;
  const std::int64_t ts = ToMillis(start);

  std::unique_ptr<storage::Appender> app = appendable->NewAppender();
  Counts counts;
  base::Status scrape_err;
  std::int64_t bytes = 0;
  if (!forced.ok()) {
    scrape_err = forced;
  } else if (!fetched.error.ok()) {
    scrape_err = fetched.error;
    if (fetched.body_too_large) bytes = -1;
  } else {
    bytes = static_cast<std::int64_t>(fetched.body.size());
    scrape_err = AppendBody(*app, fetched.body, fetched.content_type, ts, &counts);
    if (scrape_err.ok()) scrape_err = AppendStale(*app, ts);
    if (!scrape_err.ok()) {
      app->Rollback();
      app = appendable->NewAppender();
    }
  }
  if (metrics_ != nullptr) metrics_->samples_scraped.Add(static_cast<double>(counts.total));

  if (scrape_err.ok()) {
    // An empty body counts as a scrape, but does not flush the cache (as Prometheus).
    CommitAttempt(/*flush=*/!fetched.body.empty());
  } else {
    // A failed scrape is an empty one: every series of the last successful scrape is stale.
    ForgetAttempt();
    if (base::Status s = AppendStale(*app, ts); !s.ok()) {
      app->Rollback();
      app = appendable->NewAppender();
    }
    cache_.ForEach([](SeriesCache::Entry& e) { e.Set(SeriesCache::Entry::kInLastScrape, false); });
    last_success_ = attempt_;
  }

  const auto duration = clock.Monotonic() - start_mono;
  base::Status report = Report(*app, ts, std::chrono::duration<double>(duration).count(), counts,
                               bytes, scrape_err.ok());
  base::Status committed;
  if (report.ok()) {
    committed = app->Commit();
  } else {
    app->Rollback();
  }

  std::lock_guard<std::mutex> lock(mu_);
  status_.health = scrape_err.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  // As Prometheus, a commit that fails (the WAL's disk is full) leaves the target up: the
  // target answered. Its error is shown all the same, as the scrape's samples are lost.
  status_.last_error = !scrape_err.ok()  ? scrape_err.message()
                       : !committed.ok() ? "scrape commit failed: " + committed.message()
                                         : std::string();
  status_.last_scrape = start;
  status_.last_scrape_duration = duration;
  status_.cached_series = cache_.size();
}

void ScrapeLoop::EndOfRun(const std::shared_ptr<storage::Appendable>& appendable,
                          base::Clock::TimePoint stale_time) {
  if (attempt_ == 0) return;
  UseAppendable(appendable);
  ++attempt_;
  const std::int64_t ts = ToMillis(stale_time);
  std::unique_ptr<storage::Appender> app = appendable->NewAppender();
  if (base::Status s = AppendStale(*app, ts); !s.ok()) {
    app->Rollback();
    app = appendable->NewAppender();
  }
  if (ReportStale(*app, ts).ok()) {
    (void)app->Commit();
  } else {
    app->Rollback();
  }
  last_success_ = attempt_;
  cache_.Clear();
}

void ScrapeLoop::ForgetAttempt() {
  using E = SeriesCache::Entry;
  // Series first seen in a failed attempt were never delivered: forget them.
  cache_.RemoveIf([](const E& e) { return !e.Has(E::kEverScraped); });
  cache_.ForEach([](E& e) { e.Set(E::kSeen, false); });
}

void ScrapeLoop::CommitAttempt(bool flush) {
  using E = SeriesCache::Entry;
  if (flush) cache_.RemoveIf([](const E& e) { return !e.Has(E::kSeen); });
  cache_.ForEach([](E& e) {
    const bool seen = e.Has(E::kSeen);
    e.Set(E::kInLastScrape, seen);
    if (seen) e.Set(E::kEverScraped, true);
    e.Set(E::kSeen, false);
  });
  cache_.ShrinkToFit();
  last_success_ = attempt_;
}

base::Status ScrapeLoop::AppendStale(storage::Appender& app, std::int64_t ts) {
  if (last_success_ == 0) return base::Status::Ok();
  static const model::Labels kNoLabels;
  const double stale = storage::StaleNaN();
  base::Status err;
  using E = SeriesCache::Entry;
  cache_.ForEach([&](E& e) {
    // Stale: in the last successful scrape, not in this attempt.
    if (!err.ok() || !e.Has(E::kTrackStaleness) || !e.Has(E::kInLastScrape) || e.Has(E::kSeen)) {
      return;
    }
    const model::Labels* kept = e.ref() != 0 ? nullptr : cache_.Labels(e);
    const model::Labels& lset = kept != nullptr ? *kept : kNoLabels;
    base::Result<storage::SeriesRef> r = app.Append(e.ref(), lset, ts, stale);
    // A series the appendable forgot has been idle too long to need a marker.
    if (!r.ok() && !Forgotten(r, e.ref(), lset)) err = r.error();
  });
  return err;
}

void ScrapeLoop::BuildSeriesLabels(const model::Labels& metric, model::Labels* out) {
  const model::Labels& tl = target_->target_labels();
  merge_.clear();
  conflicts_.clear();
  auto m = metric.begin();
  auto t = tl.begin();
  while (m != metric.end() || t != tl.end()) {
    if (m != metric.end() && m->second.empty()) {
      ++m;
      continue;
    }
    if (t == tl.end() || (m != metric.end() && m->first < t->first)) {
      merge_.push_back(*m++);
    } else if (m == metric.end() || t->first < m->first) {
      merge_.push_back(*t++);
    } else {
      // Both have the label.
      if (options_.honor_labels) {
        merge_.push_back(*m);
      } else {
        merge_.push_back(*t);
        conflicts_.push_back(*m);
      }
      ++m;
      ++t;
    }
  }
  if (conflicts_.empty()) {
    *out = model::Labels(std::move(merge_));
    merge_ = {};
    return;
  }
  // The exposed values of labels the target overrides move to exported_<name> (shortest
  // names first, prefixing again while the name is taken), as Prometheus does.
  model::LabelsBuilder b{model::Labels(std::move(merge_))};
  merge_ = {};
  std::stable_sort(conflicts_.begin(), conflicts_.end(),
                   [](const auto& a, const auto& c) { return a.first.size() < c.first.size(); });
  for (const model::Label& l : conflicts_) {
    std::string name = l.first;
    while (true) {
      name.insert(0, kExportedPrefix);
      if (b.Get(name).empty()) {
        b.Set(name, l.second);
        break;
      }
    }
  }
  b.Build(out);
}

base::Status ScrapeLoop::CheckLabelLimits(const model::Labels& lset) const {
  const std::string_view metric = TruncateRunes(lset.Get("__name__"), 50);
  if (options_.label_limit > 0 && lset.Size() > options_.label_limit) {
    return base::Status::InvalidArgument("label_limit exceeded (metric: " + std::string(metric) +
                                         ", number of labels: " + std::to_string(lset.Size()) +
                                         ", limit: " + std::to_string(options_.label_limit) + ")");
  }
  if (options_.label_name_length_limit == 0 && options_.label_value_length_limit == 0) {
    return base::Status::Ok();
  }
  for (const auto& [name, value] : lset) {
    if (options_.label_name_length_limit > 0 && name.size() > options_.label_name_length_limit) {
      return base::Status::InvalidArgument(
          "label_name_length_limit exceeded (metric: " + std::string(metric) + ", label name: " +
          std::string(TruncateRunes(name, 50)) + ", length: " + std::to_string(name.size()) +
          ", limit: " + std::to_string(options_.label_name_length_limit) + ")");
    }
    if (options_.label_value_length_limit > 0 && value.size() > options_.label_value_length_limit) {
      return base::Status::InvalidArgument(
          "label_value_length_limit exceeded (metric: " + std::string(metric) +
          ", label name: " + std::string(TruncateRunes(name, 50)) +
          ", value: " + model::internal::GoQuote(TruncateRunes(value, 50)) +
          ", length: " + std::to_string(value.size()) +
          ", limit: " + std::to_string(options_.label_value_length_limit) + ")");
    }
  }
  return base::Status::Ok();
}

namespace {

// The series a scrape loop's cache expects next, for textparse::Parser::NextKnown, which asks
// whether a text is it. The key of the text last asked about is kept, so that it is not hashed
// again.
struct Expectation {
  SeriesKey want;
  std::string_view text;
  SeriesKey got;

  static bool Known(void* ctx, std::string_view text) {
    auto* x = static_cast<Expectation*>(ctx);
    x->text = text;
    x->got = SeriesCache::Key(text);
    return x->got == x->want;
  }
};

}  // namespace

base::Status ScrapeLoop::AppendBody(storage::Appender& app, std::string_view body,
                                    std::string_view content_type, std::int64_t ts,
                                    Counts* counts) {
  static const model::Labels kNoLabels;
  std::unique_ptr<model::textparse::Parser> p = model::textparse::New(body, content_type);
  using E = SeriesCache::Entry;
  std::uint64_t limited = 0;
  bool sample_limit_hit = false;
  while (true) {
    // The cache vouches for the series it expects next, so that the parser need not scan
    // again the labels of a series it accepted in an earlier scrape.
    Expectation x;
    const E* expected = cache_.Expected();
    if (expected != nullptr) x.want = expected->key;
    const std::size_t len = x.want.length();
    base::Result<model::textparse::Entry> entry = len > 0 && len < SeriesKey::kLongText
                                                      ? p->NextKnown(len, &Expectation::Known, &x)
                                                      : p->Next();
    if (!entry.ok()) return entry.error();
    if (*entry == model::textparse::Entry::kEof) break;
    if (*entry != model::textparse::Entry::kSeries) continue;
    ++counts->total;
    const model::textparse::SeriesView sv = p->Series();
    const bool explicit_ts = options_.honor_timestamps && sv.timestamp.has_value();
    const std::int64_t t = explicit_ts ? *sv.timestamp : ts;
    const SeriesKey key = sv.series.data() == x.text.data() && sv.series.size() == x.text.size()
                              ? x.got
                              : SeriesCache::Key(sv.series);

    SeriesCache::Entry* e = cache_.Find(key);
    model::Labels fresh;  // empty unless the series is new; no allocation then
    storage::SeriesRef ref = 0;
    const model::Labels* lset = nullptr;
    if (e != nullptr) {
      if (e->Has(E::kSeen)) {
        // The same series twice in one exposition: the later sample would collide. As in
        // Prometheus, it still counts as a sample left after relabeling.
        if (metrics_ != nullptr) metrics_->sample_duplicate.Inc();
        ++counts->added;
        continue;
      }
      ref = e->ref();
      const model::Labels* kept = ref != 0 ? nullptr : cache_.Labels(*e);
      lset = kept != nullptr ? kept : &kNoLabels;
    } else {
      if (base::Status s = p->Metric(&scratch_); !s.ok()) return s;
      BuildSeriesLabels(scratch_, &fresh);
      if (!fresh.Has("__name__")) {
        return base::Status::InvalidArgument("missing metric name (__name__ label)");
      }
      if (base::Status s = CheckLabelLimits(fresh); !s.ok()) {
        if (metrics_ != nullptr) metrics_->exceeded_label_limits.Inc();
        return s;
      }
      lset = &fresh;
    }
    if (options_.sample_limit > 0 && !storage::IsStaleNaN(sv.value) &&
        ++limited > options_.sample_limit) {
      // Keep counting what the target exposes, so that scrape_samples_post_metric_relabeling
      // shows by how much the limit was exceeded, as in Prometheus; the scrape fails at the end.
      sample_limit_hit = true;
      ++counts->added;
      continue;
    }
    base::Result<storage::SeriesRef> got = app.Append(ref, *lset, t, sv.value);
    if (Forgotten(got, ref, *lset)) {
      // The appendable dropped the series (a WAL forgets series idle past its keepalive, which
      // a long scrape interval can exceed): append it by its labels again. They were checked
      // when the series was first scraped.
      (void)p->Metric(&scratch_);
      BuildSeriesLabels(scratch_, &fresh);
      lset = &fresh;
      got = app.Append(0, fresh, t, sv.value);
      if (got.ok()) {
        e->set_ref(*got);
        if (*got == 0) {
          cache_.SetLabels(*e, fresh);  // a copy, on a rare path: fresh stays lset
        } else {
          cache_.DropLabels(*e);
        }
      }
    }
    if (!got.ok()) return got.error();
    if (e == nullptr) {
      e = cache_.Insert(key);
      e->set_ref(*got);
      if (*got == 0) cache_.SetLabels(*e, std::move(fresh));
      const model::Labels* kept = cache_.Labels(*e);
      lset = kept != nullptr ? kept : &kNoLabels;
      ++counts->series_added;
    } else if (*got != 0 && *got != e->ref()) {
      e->set_ref(*got);
      cache_.DropLabels(*e);
    }
    e->Set(E::kSeen, true);
    e->Set(E::kTrackStaleness, !explicit_ts || options_.track_timestamps_staleness);
    ++counts->added;

    if (p->Exemplar(&exemplar_)) {
      storage::Exemplar ex;
      ex.labels = std::move(exemplar_.labels);
      ex.value = exemplar_.value;
      ex.has_timestamp = true;
      ex.timestamp_ms = exemplar_.timestamp.value_or(t);
      // An exemplar that does not fit is dropped without failing the scrape.
      (void)app.AppendExemplar(e->ref(), e->ref() != 0 ? kNoLabels : *lset, ex);
    }
  }
  if (sample_limit_hit) {
    if (metrics_ != nullptr) metrics_->exceeded_sample_limit.Inc();
    return base::Status::ResourceExhausted("sample limit exceeded");
  }
  return base::Status::Ok();
}

base::Status ScrapeLoop::AddReportSample(storage::Appender& app, std::size_t i, std::int64_t ts,
                                         double v) {
  if (report_.empty()) {
    report_.resize(kReportNames.size());
    for (std::size_t n = 0; n < kReportNames.size(); ++n) {
      std::vector<model::Label> ls(target_->target_labels().Items());
      ls.emplace_back("__name__", kReportNames[n]);
      report_[n].labels = model::Labels(std::move(ls));
    }
  }
  static const model::Labels kNoLabels;
  ReportSeries& r = report_[i];
  base::Result<storage::SeriesRef> got =
      app.Append(r.ref, r.ref != 0 ? kNoLabels : r.labels, ts, v);
  if (Forgotten(got, r.ref, kNoLabels)) got = app.Append(0, r.labels, ts, v);
  if (!got.ok()) return got.error();
  r.ref = *got;
  return base::Status::Ok();
}

base::Status ScrapeLoop::Report(storage::Appender& app, std::int64_t ts, double duration_s,
                                const Counts& counts, std::int64_t bytes, bool up) {
  const std::array<double, kReportNames.size()> values = {
      up ? 1.0 : 0.0,
      duration_s,
      static_cast<double>(counts.total),
      static_cast<double>(counts.added),
      static_cast<double>(counts.series_added),
      std::chrono::duration<double>(options_.timeout).count(),
      static_cast<double>(options_.sample_limit),
      static_cast<double>(bytes),
  };
  const std::size_t n = options_.extra_metrics ? kReportNames.size() : kBasicReports;
  for (std::size_t i = 0; i < n; ++i) RETURN_IF_ERROR(AddReportSample(app, i, ts, values[i]));
  return base::Status::Ok();
}

base::Status ScrapeLoop::ReportStale(storage::Appender& app, std::int64_t ts) {
  const std::size_t n = options_.extra_metrics ? kReportNames.size() : kBasicReports;
  for (std::size_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(AddReportSample(app, i, ts, storage::StaleNaN()));
  }
  return base::Status::Ok();
}

}  // namespace starling::scrape
