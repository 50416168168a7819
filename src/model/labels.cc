#include "model/labels.h"

#include <algorithm>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "model/internal/go_text.h"

namespace starling::model {

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool LessByName(const Label& a, const Label& b) { return a.first < b.first; }

}  // namespace

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  for (char c : name.substr(1)) {
    if (!IsNameStart(c) && !IsDigit(c)) return false;
  }
  return true;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || (!IsNameStart(name[0]) && name[0] != ':')) return false;
  for (char c : name.substr(1)) {
    if (!IsNameStart(c) && !IsDigit(c) && c != ':') return false;
  }
  return true;
}

Labels::Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  labels_.reserve(pairs.size());
  for (const auto& [name, value] : pairs) labels_.emplace_back(name, value);
  SortAndDedupe();
}

Labels::Labels(std::vector<Label> labels) : labels_(std::move(labels)) { SortAndDedupe(); }

void Labels::SortAndDedupe() {
  if (std::is_sorted(labels_.begin(), labels_.end(),
                     [](const Label& a, const Label& b) { return a.first <= b.first; })) {
    return;  // strictly increasing: already sorted and unique
  }
  std::stable_sort(labels_.begin(), labels_.end(), LessByName);
  // Keep the last of each run of equal names.
  std::size_t out = 0;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (i + 1 < labels_.size() && labels_[i + 1].first == labels_[i].first) continue;
    if (out != i) labels_[out] = std::move(labels_[i]);
    ++out;
  }
  labels_.resize(out);
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.first < n; });
  if (it != labels_.end() && it->first == name) return it->second;
  return {};
}

bool Labels::Has(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.first < n; });
  return it != labels_.end() && it->first == name;
}

std::uint64_t Labels::Hash() const {
  // 0xff cannot occur in UTF-8, so it separates names and values unambiguously.
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  static constexpr char kSep = '\xff';
  for (const Label& l : labels_) {
    XXH3_64bits_update(&state, l.first.data(), l.first.size());
    XXH3_64bits_update(&state, &kSep, 1);
    XXH3_64bits_update(&state, l.second.data(), l.second.size());
    XXH3_64bits_update(&state, &kSep, 1);
  }
  return XXH3_64bits_digest(&state);
}

std::uint64_t Labels::NonMetaHash() const {
  // One update per label, from a buffer: feeding the 1-byte separator on its own trips g++'s
  // -Warray-bounds inside the inlined XXH64_update at -O3.
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  std::string buf;
  for (const Label& l : labels_) {
    if (l.first.starts_with("__meta_")) continue;
    buf.assign(l.first).push_back('\xff');
    buf.append(l.second).push_back('\xff');
    XXH64_update(&state, buf.data(), buf.size());
  }
  return XXH64_digest(&state);
}

std::string Labels::String() const {
  std::string out;
  out.push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels_) {
    if (!first) out.append(", ");
    first = false;
    out.append(name);
    out.push_back('=');
    internal::AppendGoQuote(value, &out);
  }
  out.push_back('}');
  return out;
}

void LabelsBuilder::Reset(const model::Labels& base) {
  base_ = base;
  add_.clear();
  del_.clear();
}

void LabelsBuilder::Reset(model::Labels&& base) {
  base_ = std::move(base);
  add_.clear();
  del_.clear();
}

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) return Del(name);
  for (Label& l : add_) {
    if (l.first == name) {
      l.second.assign(value);
      return *this;
    }
  }
  // Copy before growing add_: name or value may point into it.
  Label l{std::string(name), std::string(value)};
  add_.push_back(std::move(l));
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  // Record first: name may point into add_, which the erase below shifts.
  del_.emplace_back(name);
  const std::string& n = del_.back();
  std::erase_if(add_, [&](const Label& l) { return l.first == n; });
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  // Set does not clear a name from del_, so the added labels win.
  if (const Label* l = FindAdded(name, add_)) return l->second;
  if (Deleted(name, del_)) return {};
  return base_.Get(name);
}

bool LabelsBuilder::Deleted(std::string_view name, const std::vector<std::string>& del) const {
  return std::find(del.begin(), del.end(), name) != del.end();
}

const Label* LabelsBuilder::FindAdded(std::string_view name, const std::vector<Label>& add) {
  for (const Label& l : add) {
    if (l.first == name) return &l;
  }
  return nullptr;
}

model::Labels LabelsBuilder::Labels() const {
  model::Labels out;
  Build(&out);
  return out;
}

void LabelsBuilder::Build(model::Labels* out) const {
  std::vector<Label>& v = out->labels_;
  if (add_.empty() && del_.empty()) {
    v = base_.labels_;
    return;
  }
  std::size_t n = 0;
  auto put = [&](const Label& l) {
    if (n < v.size()) {
      v[n].first.assign(l.first);
      v[n].second.assign(l.second);
    } else {
      v.push_back(l);
    }
    ++n;
  };
  for (const Label& l : base_) {
    if (!Deleted(l.first, del_) && FindAdded(l.first, add_) == nullptr) put(l);
  }
  for (const Label& l : add_) put(l);
  v.resize(n);
  std::sort(v.begin(), v.end(), LessByName);
}

}  // namespace starling::model
