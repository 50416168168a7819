#include "net/aws_sts.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "net/http.h"

namespace starling::net {
namespace {

base::Status CredentialsError(const std::string& message) {
  return base::Status::Unavailable("sts: cannot fetch token: " + message);
}

// The text of the first <tag> element inside `xml` with XML's five entities decoded; nullopt
// when there is none.
std::optional<std::string> ElementText(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const std::size_t start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const std::size_t from = start + open.size();
  const std::size_t end = xml.find(close, from);
  if (end == std::string_view::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = from; i < end; ++i) {
    if (xml[i] != '&') {
      out += xml[i];
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    const auto* e = std::find_if(std::begin(kEntities), std::end(kEntities), [&](const auto& k) {
      return xml.substr(i, k.first.size()) == k.first;
    });
    if (e == std::end(kEntities)) {
      out += '&';
      continue;
    }
    out += e->second;
    i += e->first.size() - 1;
  }
  return out;
}

// Seconds since the epoch of an ISO 8601 UTC time, "2014-10-24T23:00:23Z" (fractions of a
// second ignored).
std::optional<std::int64_t> ParseUtc(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) {
    return std::nullopt;
  }
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!day.ok() || h > 23 || mi > 59 || sec > 60 || s.back() != 'Z') return std::nullopt;
  return std::chrono::sys_days(day).time_since_epoch() / std::chrono::seconds(1) + h * 3600 +
         mi * 60 + sec;
}

std::string Serialize(const AwsKeys& k) {
  return k.access_key + "\n" + k.secret_key + "\n" + k.session_token;
}

}  // namespace

base::Result<StsCredentials> ParseStsCredentials(std::string_view xml,
                                                 TokenSource::Clock::time_point now,
                                                 std::chrono::system_clock::time_point system_now) {
  const std::size_t at = xml.find("<Credentials>");
  if (at == std::string_view::npos) return CredentialsError("the answer has no Credentials");
  xml.remove_prefix(at);
  StsCredentials c;
  std::optional<std::string> access = ElementText(xml, "AccessKeyId");
  std::optional<std::string> secret = ElementText(xml, "SecretAccessKey");
  std::optional<std::string> token = ElementText(xml, "SessionToken");
  std::optional<std::string> expiration = ElementText(xml, "Expiration");
  if (!access || access->empty() || !secret || secret->empty() || !token) {
    return CredentialsError("the answer's Credentials lack a key");
  }
  // Keys travel on lines (see Serialize) and in headers.
  for (const std::string* k : {&*access, &*secret, &*token}) {
    if (k->find_first_of("\r\n") != std::string::npos) {
      return CredentialsError("the answer's keys hold a line break");
    }
  }
  std::optional<std::int64_t> expires = expiration ? ParseUtc(*expiration) : std::nullopt;
  if (!expires) return CredentialsError("the answer's Credentials have no valid Expiration");
  c.keys = {std::move(*access), std::move(*secret), std::move(*token)};
  c.expiry = ExpiryAt(*expires, now, system_now);
  return c;
}

AwsStsRole::AwsStsRole(Options options) : options_(std::move(options)) {
  if (options_.token_file.empty()) {
    auto signed_config = options_.config != nullptr
                             ? std::make_shared<ClientConfig>(*options_.config)
                             : std::make_shared<ClientConfig>();
    signed_config->sigv4 = ClientConfig::SigV4{options_.region, "sts", options_.keys};
    request_config_ = std::move(signed_config);
  } else {
    request_config_ = options_.config;
  }
}

std::optional<std::string> AwsStsRole::Cached(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!credentials_ || credentials_->expiry - kCloudRefreshMargin < now) return std::nullopt;
  return Serialize(credentials_->keys);
}

void AwsStsRole::Apply(const std::string& credential, ClientRequest* request) const {
  const std::size_t a = credential.find('\n');
  const std::size_t b = credential.find('\n', a + 1);
  request->aws_keys = AwsKeys{credential.substr(0, a), credential.substr(a + 1, b - a - 1),
                              credential.substr(b + 1)};
}

base::Result<ClientRequest> AwsStsRole::TokenRequest(bool /*retry*/,
                                                     std::chrono::milliseconds timeout) const {
  using Param = std::pair<std::string_view, std::string_view>;
  std::vector<Param> params = {{"Action", "AssumeRole"},
                               {"RoleArn", options_.role_arn},
                               {"RoleSessionName", options_.session_name},
                               {"Version", "2011-06-15"}};
  std::string token;
  if (!options_.token_file.empty()) {
    std::ifstream in(options_.token_file, std::ios::binary);
    token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return base::Status::Unavailable("unable to read web identity token file " +
                                       options_.token_file + ": " + std::strerror(errno));
    }
    token.erase(token.find_last_not_of(" \t\r\n") + 1);
    params[0].second = "AssumeRoleWithWebIdentity";
    params.emplace_back("WebIdentityToken", token);
  }
  ClientRequest r;
  r.method = "POST";
  r.url = options_.sts_url;
  r.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  for (const auto& [k, v] : params) {
    if (!r.body.empty()) r.body += '&';
    r.body.append(k).append("=");
    QueryEscape(v, &r.body);
  }
  r.timeout = timeout;
  r.config = request_config_;
  return r;
}

base::Result<std::string> AwsStsRole::Accept(bool /*retry*/,
                                             const base::Result<ClientResponse>& response,
                                             Clock::time_point now) {
  RETURN_IF_ERROR(FailedTokenFetch("sts", response));
  ASSIGN_OR_RETURN(StsCredentials c,
                   ParseStsCredentials(response->body, now, std::chrono::system_clock::now()));
  std::lock_guard<std::mutex> lock(mu_);
  credentials_ = std::move(c);
  return Serialize(credentials_->keys);
}

}  // namespace starling::net
