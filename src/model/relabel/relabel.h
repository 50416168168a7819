#pragma once

// Prometheus relabeling: an ordered list of rules that rewrite, filter or drop a label set
// (targets before a scrape, samples before remote write). The semantics, defaults and error
// messages are Prometheus 2.x's model/relabel (legacy label names): regexes are RE2, fully
// anchored; `$1`, `${1}`, `$name` and `${name}` in target_label and replacement expand as Go's
// regexp.Expand does; hashmod takes the MD5 of the joined source values.
//
// Config and Regex are immutable values once built and safe to share between threads;
// Process and ProcessBuilder only read them.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/labels.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace starling::model::relabel {

enum class Action : std::uint8_t {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// The configuration name: "replace", "hashmod", ...
std::string_view ActionName(Action action);
// Case-insensitive, as Prometheus's YAML decoding; `unknown relabel action "X"` otherwise.
base::Result<Action> ParseAction(std::string_view name);

// A compiled relabel regex: the pattern as written, matched as ^(?:pattern)$.
// Copies share the compiled program. Thread-safe.
class Regex {
 public:
  // The default regex "(.*)". Only a default-constructed Regex counts as the default for
  // Validate, as Prometheus compares against its default instance, not the pattern text.
  Regex();
  // "error parsing regexp: ..." when the pattern does not compile.
  static base::Result<Regex> Compile(std::string_view pattern);

  const std::string& pattern() const;
  bool IsDefault() const;
  // Whether the whole of s matches.
  bool Matches(std::string_view s) const;
  // On a match, fills *groups with group 0 (the whole match) and every capture group (empty
  // for groups that did not participate) and returns true.
  bool Match(std::string_view s, std::vector<std::string_view>* groups) const;
  // Go's regexp.Expand of `tmpl` against the groups of a match, appended to *out.
  void Expand(std::string_view tmpl, std::span<const std::string_view> groups,
              std::string* out) const;
  int NumGroups() const;

 private:
  struct Impl;
  static const std::shared_ptr<const Impl>& DefaultImpl();
  explicit Regex(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// One rule. Defaults are Prometheus's DefaultRelabelConfig.
struct Config {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  Regex regex;
  std::uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  Action action = Action::kReplace;
};

// Prometheus's Config.Validate, with its messages. An empty source_labels stands for an
// unset one.
base::Status Validate(const Config& config);

// Applies the rules in order. nullopt when a rule drops the set.
std::optional<Labels> Process(const Labels& labels, std::span<const Config> configs);

// As Process, editing the builder in place: returns false when a rule drops the set (the
// builder is then left part-way). Reusing one builder across calls avoids most allocation.
bool ProcessBuilder(LabelsBuilder& builder, std::span<const Config> configs);

}  // namespace starling::model::relabel
