#pragma once

// The model module: the data a scrape produces and the pipeline carries. Labels identify a
// series or a target; they are a sorted set of (name, value) pairs with unique names, as in
// Prometheus. Labels are values (copyable, comparable) and thread-compatible: concurrent reads
// are safe, writes need external synchronisation. A LabelsBuilder edits a base set without
// copying it until the result is asked for, which is what relabeling needs.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace starling::model {

// (name, value).
using Label = std::pair<std::string, std::string>;

// Prometheus's legacy label name rule: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);
// Prometheus's legacy metric name rule: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

class LabelsBuilder;

// An immutable set of labels sorted by name, names unique. Empty values are kept as given
// (a LabelsBuilder treats an empty value as "no label", as Prometheus's builder does).
class Labels {
 public:
  using Builder = LabelsBuilder;
  using const_iterator = std::vector<Label>::const_iterator;

  Labels() = default;
  // Sorts by name; when a name repeats, the later pair wins.
  Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);
  explicit Labels(std::vector<Label> labels);

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::size_t Size() const { return labels_.size(); }
  bool Empty() const { return labels_.empty(); }
  const_iterator begin() const { return labels_.begin(); }
  const_iterator end() const { return labels_.end(); }
  const Label& operator[](std::size_t i) const { return labels_[i]; }
  const std::vector<Label>& Items() const { return labels_; }

  // A 64-bit hash of the names and values (XXH3), for hash tables; equal sets hash equal.
  std::uint64_t Hash() const;
  // XXH64 over the labels other than __meta_* (name, 0xff, value, 0xff for each, in order):
  // the key that places a discovered target on a cluster node, the same on every node
  // whatever discovery metadata each saw.
  std::uint64_t NonMetaHash() const;

  // Prometheus's form: {a="b", c="d"} with values quoted as Go's strconv.Quote does.
  std::string String() const;

  // Label by label (name, then value); a prefix sorts first. Same order as Prometheus's
  // labels.Compare.
  friend bool operator==(const Labels&, const Labels&) = default;
  friend auto operator<=>(const Labels&, const Labels&) = default;

 private:
  friend class LabelsBuilder;
  struct SortedTag {};
  Labels(SortedTag, std::vector<Label> sorted) : labels_(std::move(sorted)) {}
  void SortAndDedupe();

  std::vector<Label> labels_;
};

// Edits a base Labels with Set/Del and builds the result, with Prometheus's labels.Builder
// semantics: setting an empty value deletes the label; Range visits the base labels that are
// neither deleted nor overridden (in name order), then the added labels in the order they
// were first set. A builder can be Reset and reused, which reuses its buffers.
// Not thread-safe. string_views it returns are valid until the next mutation.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const model::Labels& base) : base_(base) {}
  explicit LabelsBuilder(model::Labels&& base) : base_(std::move(base)) {}

  void Reset(const model::Labels& base);
  void Reset(model::Labels&& base);

  // Sets name to value; an empty value deletes the label.
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  // The current value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }

  // Calls f(name, value) for every current label, over a snapshot taken at the start so that
  // f may call Set and Del. Not reentrant.
  template <typename F>
  void Range(F&& f);

  // The result as a new Labels.
  model::Labels Labels() const;
  // The result into *out, reusing its storage.
  void Build(model::Labels* out) const;

 private:
  bool Deleted(std::string_view name, const std::vector<std::string>& del) const;
  static const Label* FindAdded(std::string_view name, const std::vector<Label>& add);

  model::Labels base_;
  std::vector<Label> add_;
  std::vector<std::string> del_;
  // Range's snapshots, kept to reuse their storage.
  std::vector<Label> range_add_;
  std::vector<std::string> range_del_;
};

template <typename F>
void LabelsBuilder::Range(F&& f) {
  range_add_ = add_;
  range_del_ = del_;
  for (const Label& l : base_) {
    if (!Deleted(l.first, range_del_) && FindAdded(l.first, range_add_) == nullptr) {
      f(std::string_view(l.first), std::string_view(l.second));
    }
  }
  for (const Label& l : range_add_) {
    f(std::string_view(l.first), std::string_view(l.second));
  }
}

}  // namespace starling::model
