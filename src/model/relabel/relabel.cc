#include "model/relabel/relabel.h"

#include <locale.h>
#include <openssl/evp.h>
#include <re2/re2.h>
#include <wctype.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "model/internal/go_text.h"

namespace starling::model::relabel {

namespace {

using internal::GoQuote;

constexpr std::string_view kDefaultPattern = "(.*)";
constexpr std::string_view kDefaultReplacement = "$1";
constexpr std::string_view kDefaultSeparator = ";";

// The C.UTF-8 locale for Unicode letter tests and case mapping, or null when the system lacks
// it (then only ASCII is mapped).
locale_t Utf8Locale() {
  static const locale_t kLocale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return kLocale;
}

bool IsAsciiWord(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's strings.ToLower / ToUpper: per rune, invalid bytes become U+FFFD.
void MapCase(std::string_view s, bool upper, std::string* out) {
  out->clear();
  const bool ascii =
      std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    out->reserve(s.size());
    for (char c : s) {
      out->push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                           : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return;
  }
  const locale_t loc = Utf8Locale();
  std::size_t i = 0;
  while (i < s.size()) {
    int width;
    char32_t r = internal::DecodeRune(s.substr(i), &width);
    if (r < 0x80) {
      r = upper ? static_cast<char32_t>(std::toupper(static_cast<int>(r)))
                : static_cast<char32_t>(std::tolower(static_cast<int>(r)));
    } else if (loc != static_cast<locale_t>(0) && r != internal::kRuneError) {
      const auto w = static_cast<wint_t>(r);
      r = static_cast<char32_t>(upper ? towupper_l(w, loc) : towlower_l(w, loc));
    }
    internal::AppendUtf8(out, r);
    i += static_cast<std::size_t>(width);
  }
}

// Go's `$name` characters: Unicode letters, digits and '_'. Returns the byte length of the
// name at the start of s.
std::size_t NameLength(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      if (!IsAsciiWord(s[i])) break;
      ++i;
      continue;
    }
    int width;
    const char32_t r = internal::DecodeRune(s.substr(i), &width);
    const locale_t loc = Utf8Locale();
    if (r == internal::kRuneError || loc == static_cast<locale_t>(0) ||
        !iswalnum_l(static_cast<wint_t>(r), loc)) {
      break;
    }
    i += static_cast<std::size_t>(width);
  }
  return i;
}

// Go's regexp extract(): the name after a '$', either `name` or `{name}`. *consumed is the
// number of template bytes it took.
bool ExtractName(std::string_view s, std::string_view* name, std::size_t* consumed) {
  if (s.empty()) return false;
  const bool brace = s[0] == '{';
  if (brace) s.remove_prefix(1);
  const std::size_t n = NameLength(s);
  if (n == 0) return false;
  if (brace && (n >= s.size() || s[n] != '}')) return false;
  *name = s.substr(0, n);
  *consumed = n + (brace ? 2 : 0);
  return true;
}

// The group number a name denotes, or -1 when it is not a plain number (leading zeros are
// not numbers, as in Go).
long GroupNumber(std::string_view name) {
  if (name.size() > 1 && name[0] == '0') return -1;
  long num = 0;
  for (char c : name) {
    if (c < '0' || c > '9' || num >= 100000000) return -1;
    num = num * 10 + (c - '0');
  }
  return num;
}

std::string_view ErrorCodeText(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "invalid regular expression";
  }
}

RE2::Options MatchOptions() {
  RE2::Options opts;
  opts.set_log_errors(false);
  return opts;
}

// Prometheus's relabelTarget: what a target_label with '$' (or a labelmap replacement) must
// look like.
bool IsValidTargetTemplate(std::string_view s) {
  static const RE2* const kTemplate =
      new RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)", MatchOptions());
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *kTemplate);
}

}  // namespace

struct Regex::Impl {
  std::string pattern;
  std::unique_ptr<RE2> re;
  std::map<std::string, int, std::less<>> names;
  int num_groups = 0;
};

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kReplace:
      return "replace";
    case Action::kKeep:
      return "keep";
    case Action::kDrop:
      return "drop";
    case Action::kKeepEqual:
      return "keepequal";
    case Action::kDropEqual:
      return "dropequal";
    case Action::kHashMod:
      return "hashmod";
    case Action::kLabelMap:
      return "labelmap";
    case Action::kLabelDrop:
      return "labeldrop";
    case Action::kLabelKeep:
      return "labelkeep";
    case Action::kLowercase:
      return "lowercase";
    case Action::kUppercase:
      return "uppercase";
  }
  return "unknown";
}

base::Result<Action> ParseAction(std::string_view name) {
  std::string lower;
  MapCase(name, /*upper=*/false, &lower);
  static constexpr std::array kAll = {
      Action::kReplace,   Action::kKeep,      Action::kDrop,      Action::kKeepEqual,
      Action::kDropEqual, Action::kHashMod,   Action::kLabelMap,  Action::kLabelDrop,
      Action::kLabelKeep, Action::kLowercase, Action::kUppercase,
  };
  for (Action a : kAll) {
    if (ActionName(a) == lower) return a;
  }
  return base::Status::InvalidArgument("unknown relabel action " + GoQuote(name));
}

const std::shared_ptr<const Regex::Impl>& Regex::DefaultImpl() {
  static const std::shared_ptr<const Impl> kDefault = [] {
    auto r = Compile(kDefaultPattern);
    CHECK(r.ok()) << r.error().ToString();
    return r->impl_;
  }();
  return kDefault;
}

Regex::Regex() : impl_(DefaultImpl()) {}

base::Result<Regex> Regex::Compile(std::string_view pattern) {
  auto impl = std::make_shared<Impl>();
  impl->pattern = std::string(pattern);
  const std::string anchored = "^(?:" + impl->pattern + ")$";
  impl->re = std::make_unique<RE2>(anchored, MatchOptions());
  if (!impl->re->ok()) {
    return base::Status::InvalidArgument(
        "error parsing regexp: " + std::string(ErrorCodeText(impl->re->error_code())) + ": `" +
        impl->re->error_arg() + "`");
  }
  impl->num_groups = impl->re->NumberOfCapturingGroups();
  for (const auto& [name, index] : impl->re->NamedCapturingGroups()) {
    impl->names.emplace(name, index);
  }
  return Regex(std::shared_ptr<const Impl>(std::move(impl)));
}

const std::string& Regex::pattern() const { return impl_->pattern; }

bool Regex::IsDefault() const { return impl_ == DefaultImpl(); }

int Regex::NumGroups() const { return impl_->num_groups; }

bool Regex::Matches(std::string_view s) const {
  return impl_->re->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::ANCHOR_BOTH,
                          nullptr, 0);
}

bool Regex::Match(std::string_view s, std::vector<std::string_view>* groups) const {
  const int n = impl_->num_groups + 1;
  std::array<re2::StringPiece, 16> small;
  std::vector<re2::StringPiece> large;
  re2::StringPiece* sub = small.data();
  if (n > static_cast<int>(small.size())) {
    large.resize(n);
    sub = large.data();
  }
  if (!impl_->re->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::ANCHOR_BOTH, sub,
                        n)) {
    return false;
  }
  groups->clear();
  for (int i = 0; i < n; ++i) {
    groups->emplace_back(sub[i].data() == nullptr ? std::string_view()
                                                  : std::string_view(sub[i].data(), sub[i].size()));
  }
  return true;
}

void Regex::Expand(std::string_view tmpl, std::span<const std::string_view> groups,
                   std::string* out) const {
  std::size_t i = 0;
  while (true) {
    const std::size_t dollar = tmpl.find('$', i);
    if (dollar == std::string_view::npos) {
      out->append(tmpl.substr(i));
      return;
    }
    out->append(tmpl.substr(i, dollar - i));
    const std::string_view rest = tmpl.substr(dollar + 1);
    if (!rest.empty() && rest[0] == '$') {
      out->push_back('$');
      i = dollar + 2;
      continue;
    }
    std::string_view name;
    std::size_t consumed;
    if (!ExtractName(rest, &name, &consumed)) {
      // Malformed: the '$' is literal text.
      out->push_back('$');
      i = dollar + 1;
      continue;
    }
    i = dollar + 1 + consumed;
    long index = GroupNumber(name);
    if (index < 0) {
      auto it = impl_->names.find(name);
      if (it != impl_->names.end()) index = it->second;
    }
    if (index >= 0 && static_cast<std::size_t>(index) < groups.size()) {
      out->append(groups[static_cast<std::size_t>(index)]);
    }
  }
}

base::Status Validate(const Config& c) {
  const std::string_view action = ActionName(c.action);
  auto fail = [&](std::string msg) { return base::Status::InvalidArgument(std::move(msg)); };
  auto invalid_target = [&] {
    return fail(GoQuote(c.target_label) + " is invalid 'target_label' for " + std::string(action) +
                " action");
  };
  const Action a = c.action;
  const bool equal_action = a == Action::kKeepEqual || a == Action::kDropEqual;
  const bool case_or_equal = a == Action::kLowercase || a == Action::kUppercase || equal_action;

  if (c.modulus == 0 && a == Action::kHashMod) {
    return fail("relabel configuration for hashmod requires non-zero modulus");
  }
  if ((a == Action::kReplace || a == Action::kHashMod || case_or_equal) && c.target_label.empty()) {
    return fail("relabel configuration for " + std::string(action) +
                " action requires 'target_label' value");
  }
  const bool templated = c.target_label.find('$') != std::string::npos;
  if (a == Action::kReplace && !templated && !IsValidLabelName(c.target_label)) {
    return invalid_target();
  }
  if (a == Action::kReplace && templated && !IsValidTargetTemplate(c.target_label)) {
    return invalid_target();
  }
  if (case_or_equal && !IsValidLabelName(c.target_label)) return invalid_target();
  if (case_or_equal && c.replacement != kDefaultReplacement) {
    return fail("'replacement' can not be set for " + std::string(action) + " action");
  }
  if (a == Action::kLabelMap && !IsValidTargetTemplate(c.replacement)) {
    return fail(GoQuote(c.replacement) + " is invalid 'replacement' for " + std::string(action) +
                " action");
  }
  if (a == Action::kHashMod && !IsValidLabelName(c.target_label)) return invalid_target();
  if (equal_action && (!c.regex.IsDefault() || c.modulus != 0 || c.separator != kDefaultSeparator ||
                       c.replacement != kDefaultReplacement)) {
    return fail(std::string(action) +
                " action requires only 'source_labels' and `target_label`, and no other fields");
  }
  if ((a == Action::kLabelDrop || a == Action::kLabelKeep) &&
      (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != 0 ||
       c.separator != kDefaultSeparator || c.replacement != kDefaultReplacement)) {
    return fail(std::string(action) + " action requires only 'regex', and no other fields");
  }
  return base::Status::Ok();
}

namespace {

// Buffers reused across the rules of one ProcessBuilder call.
struct Scratch {
  std::string value;
  std::string target;
  std::string result;
  std::vector<std::string_view> groups;
};

std::uint64_t HashMod(std::string_view value, std::uint64_t modulus) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const int ok = EVP_Digest(value.data(), value.size(), digest, &len, EVP_md5(), nullptr);
  CHECK(ok == 1 && len == 16) << "MD5 failed";
  // Prometheus uses the last 8 bytes, big-endian.
  std::uint64_t h = 0;
  for (unsigned int i = 8; i < 16; ++i) h = (h << 8) | digest[i];
  return h % modulus;
}

bool Apply(const Config& cfg, LabelsBuilder& lb, Scratch& s) {
  s.value.clear();
  for (std::size_t i = 0; i < cfg.source_labels.size(); ++i) {
    if (i > 0) s.value.append(cfg.separator);
    s.value.append(lb.Get(cfg.source_labels[i]));
  }
  const std::string& val = s.value;

  switch (cfg.action) {
    case Action::kDrop:
      if (cfg.regex.Matches(val)) return false;
      break;
    case Action::kKeep:
      if (!cfg.regex.Matches(val)) return false;
      break;
    case Action::kDropEqual:
      if (lb.Get(cfg.target_label) == val) return false;
      break;
    case Action::kKeepEqual:
      if (lb.Get(cfg.target_label) != val) return false;
      break;
    case Action::kReplace: {
      // Setting a static value needs no match.
      if (val.empty() && cfg.regex.IsDefault() && cfg.target_label.find('$') == std::string::npos &&
          cfg.replacement.find('$') == std::string::npos) {
        lb.Set(cfg.target_label, cfg.replacement);
        break;
      }
      if (!cfg.regex.Match(val, &s.groups)) break;
      s.target.clear();
      cfg.regex.Expand(cfg.target_label, s.groups, &s.target);
      if (!IsValidLabelName(s.target)) break;
      s.result.clear();
      cfg.regex.Expand(cfg.replacement, s.groups, &s.result);
      if (s.result.empty()) {
        lb.Del(s.target);
      } else {
        lb.Set(s.target, s.result);
      }
      break;
    }
    case Action::kLowercase:
    case Action::kUppercase:
      MapCase(val, cfg.action == Action::kUppercase, &s.result);
      lb.Set(cfg.target_label, s.result);
      break;
    case Action::kHashMod:
      lb.Set(cfg.target_label, std::to_string(HashMod(val, cfg.modulus)));
      break;
    case Action::kLabelMap:
      lb.Range([&](std::string_view name, std::string_view value) {
        if (cfg.regex.Match(name, &s.groups)) {
          s.result.clear();
          cfg.regex.Expand(cfg.replacement, s.groups, &s.result);
          lb.Set(s.result, value);
        }
      });
      break;
    case Action::kLabelDrop:
      lb.Range([&](std::string_view name, std::string_view) {
        if (cfg.regex.Matches(name)) lb.Del(name);
      });
      break;
    case Action::kLabelKeep:
      lb.Range([&](std::string_view name, std::string_view) {
        if (!cfg.regex.Matches(name)) lb.Del(name);
      });
      break;
  }
  return true;
}

}  // namespace

bool ProcessBuilder(LabelsBuilder& builder, std::span<const Config> configs) {
  Scratch scratch;
  for (const Config& cfg : configs) {
    if (!Apply(cfg, builder, scratch)) return false;
  }
  return true;
}

std::optional<Labels> Process(const Labels& labels, std::span<const Config> configs) {
  LabelsBuilder builder(labels);
  if (!ProcessBuilder(builder, configs)) return std::nullopt;
  return builder.Labels();
}

}  // namespace starling::model::relabel
