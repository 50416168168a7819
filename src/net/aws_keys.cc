#include "net/aws_keys.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "net/http.h"

namespace starling::net {
namespace {

constexpr std::string_view kInstanceCredentials = "ec2 instance credentials";

base::Status StsError(const std::string& message) {
  return base::Status::Unavailable("sts: cannot fetch token: " + message);
}

base::Status InstanceError(const std::string& message) {
  return base::Status::Unavailable(std::string(kInstanceCredentials) +
                                   ": cannot fetch token: " + message);
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

// The parsed keys, checked: the credential carries them on lines, and headers carry them.
base::Result<ExpiringAwsKeys> CheckedKeys(std::optional<std::string> access,
                                          std::optional<std::string> secret,
                                          std::optional<std::string> token,
                                          const std::optional<std::string>& expiration,
                                          TokenSource::Clock::time_point now,
                                          std::chrono::system_clock::time_point system_now,
                                          const std::function<base::Status(std::string)>& error) {
  if (!access || access->empty() || !secret || secret->empty() || !token) {
    return error("the answer's Credentials lack a key");
  }
  for (const std::string* k : {&*access, &*secret, &*token}) {
    if (k->find_first_of("\r\n") != std::string::npos) {
      return error("the answer's keys hold a line break");
    }
  }
  std::optional<std::int64_t> expires = expiration ? ParseUtc(*expiration) : std::nullopt;
  if (!expires) return error("the answer's Credentials have no valid Expiration");
  return ExpiringAwsKeys{{std::move(*access), std::move(*secret), std::move(*token)},
                         ExpiryAt(*expires, now, system_now)};
}

// The keys of a credentials endpoint's JSON answer; `need_success`: the answer has a Code,
// which must be "Success" (the instance metadata service's answers).
base::Result<ExpiringAwsKeys> ParseJsonCredentials(
    std::string_view json, std::string_view who, bool need_success,
    TokenSource::Clock::time_point now, std::chrono::system_clock::time_point system_now) {
  auto error = [who](const std::string& m) {
    return base::Status::Unavailable(std::string(who) + ": cannot fetch token: " + m);
  };
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return error("the answer is not a JSON object");
  auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (need_success) {
    const std::optional<std::string> code = text("Code");
    if (code != "Success") {
      return error("the answer's Code is " + (code ? "\"" + *code + "\"" : "missing") + ": " +
                   text("Message").value_or(""));
    }
  }
  return CheckedKeys(text("AccessKeyId"), text("SecretAccessKey"), text("Token"),
                     text("Expiration"), now, system_now, error);
}

base::Result<std::string> ReadTokenFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return base::Status::Unavailable("unable to read " + what + " " + path + ": " +
                                     std::strerror(errno));
  }
  token.erase(token.find_last_not_of(" \t\r\n") + 1);
  return token;
}

}  // namespace

base::Result<ExpiringAwsKeys> ParseStsCredentials(
    std::string_view xml, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now) {
  const std::size_t at = xml.find("<Credentials>");
  if (at == std::string_view::npos) return StsError("the answer has no Credentials");
  xml.remove_prefix(at);
  return CheckedKeys(ElementText(xml, "AccessKeyId"), ElementText(xml, "SecretAccessKey"),
                     ElementText(xml, "SessionToken"), ElementText(xml, "Expiration"), now,
                     system_now, StsError);
}

base::Result<ExpiringAwsKeys> ParseContainerCredentials(
    std::string_view json, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now) {
  return ParseJsonCredentials(json, "container credentials", /*need_success=*/false, now,
                              system_now);
}

base::Result<ExpiringAwsKeys> ParseInstanceCredentials(
    std::string_view json, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now) {
  return ParseJsonCredentials(json, kInstanceCredentials, /*need_success=*/true, now, system_now);
}

std::optional<std::string> AwsTemporaryKeys::Cached(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!keys_ || keys_->expiry - kCloudRefreshMargin < now) return std::nullopt;
  return Serialize(keys_->keys);
}

void AwsTemporaryKeys::Apply(const std::string& credential, ClientRequest* request) const {
  const std::size_t a = credential.find('\n');
  const std::size_t b = credential.find('\n', a + 1);
  request->aws_keys = AwsKeys{credential.substr(0, a), credential.substr(a + 1, b - a - 1),
                              credential.substr(b + 1)};
}

base::Result<std::string> AwsTemporaryKeys::Keep(base::Result<ExpiringAwsKeys> keys) {
  if (!keys.ok()) return keys.error();
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(*keys);
  return Serialize(keys_->keys);
}

AwsStsRole::AwsStsRole(Options options) : options_(std::move(options)) {
  if (options_.token_file.empty()) {
    auto signed_config = options_.config != nullptr
                             ? std::make_shared<ClientConfig>(*options_.config)
                             : std::make_shared<ClientConfig>();
    signed_config->sigv4 = ClientConfig::SigV4{options_.region, "sts", options_.keys};
    signed_config->token_source = options_.base;
    request_config_ = std::move(signed_config);
  } else {
    request_config_ = options_.config;
  }
}

base::Result<ClientRequest> AwsStsRole::TokenRequest(int /*step*/,
                                                     std::chrono::milliseconds timeout) const {
  std::vector<std::pair<std::string, std::string>> params = {{"Action", "AssumeRole"}};
  if (!options_.external_id.empty()) params.emplace_back("ExternalId", options_.external_id);
  params.insert(params.end(), {{"RoleArn", options_.role_arn},
                               {"RoleSessionName", options_.session_name},
                               {"Version", "2011-06-15"}});
  if (!options_.token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token,
                     ReadTokenFile(options_.token_file, "web identity token file"));
    params[0].second = "AssumeRoleWithWebIdentity";
    params.emplace_back("WebIdentityToken", std::move(token));
  }
  return FormPost(options_.sts_url, params, timeout, request_config_);
}

base::Result<std::string> AwsStsRole::Accept(int /*step*/,
                                             const base::Result<ClientResponse>& response,
                                             Clock::time_point now) {
  RETURN_IF_ERROR(FailedTokenFetch("sts", response));
  return Keep(ParseStsCredentials(response->body, now, std::chrono::system_clock::now()));
}

base::Result<ClientRequest> AwsContainerCredentials::TokenRequest(
    int /*step*/, std::chrono::milliseconds timeout) const {
  ClientRequest r;
  r.url = options_.url;
  std::string authorization = options_.authorization;
  if (!options_.authorization_file.empty()) {
    ASSIGN_OR_RETURN(authorization,
                     ReadTokenFile(options_.authorization_file, "authorization token file"));
  }
  if (!authorization.empty()) r.headers.push_back({"Authorization", authorization});
  r.timeout = timeout;
  return r;  // default config: the endpoints are local and never proxied
}

base::Result<std::string> AwsContainerCredentials::Accept(
    int /*step*/, const base::Result<ClientResponse>& response, Clock::time_point now) {
  RETURN_IF_ERROR(FailedTokenFetch("container credentials", response));
  return Keep(ParseContainerCredentials(response->body, now, std::chrono::system_clock::now()));
}

base::Result<ClientRequest> AwsInstanceCredentials::TokenRequest(
    int step, std::chrono::milliseconds timeout) const {
  static constexpr char kCredentialsPath[] = "/latest/meta-data/iam/security-credentials/";
  ClientRequest r;
  r.timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(5));
  if (step == kSessionToken) {
    r.method = "PUT";
    r.url = endpoint_ + "/latest/api/token";
    r.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "21600"});
    return r;  // default config: the service is local and never proxied
  }
  std::lock_guard<std::mutex> lock(fetch_mu_);
  r.url = endpoint_ + kCredentialsPath + (step == kKeys ? role_ : "");
  if (!session_token_.empty()) r.headers.push_back({"X-aws-ec2-metadata-token", session_token_});
  return r;
}

base::Result<std::string> AwsInstanceCredentials::Accept(
    int step, const base::Result<ClientResponse>& response, Clock::time_point now) {
  if (step == kSessionToken && response.ok() &&
      (response->status == 403 || response->status == 404 || response->status == 405)) {
    std::lock_guard<std::mutex> lock(fetch_mu_);
    session_token_.clear();
    return std::string();
  }
  RETURN_IF_ERROR(FailedTokenFetch(kInstanceCredentials, response));
  if (step == kKeys) {
    return Keep(ParseInstanceCredentials(response->body, now, std::chrono::system_clock::now()));
  }
  std::string_view found = response->body;
  if (step == kSessionToken && found.find_first_of("\r\n") != std::string_view::npos) {
    return InstanceError("the session token holds a line break");
  }
  if (step == kRoleName) {  // the first of the listed roles, as the SDK takes
    found = found.substr(0, found.find_first_of("\r\n"));
    // Role names are of [\w+=,.@-]; anything else cannot go in the next request's path.
    const bool valid = std::all_of(found.begin(), found.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
             std::string_view("_+=,.@-").find(c) != std::string_view::npos;
    });
    if (found.empty() || !valid) {
      return InstanceError(found.empty() ? "the instance has no IAM role"
                                         : "the instance's role name \"" + std::string(found) +
                                               "\" is not valid");
    }
  }
  std::lock_guard<std::mutex> lock(fetch_mu_);
  (step == kSessionToken ? session_token_ : role_) = std::string(found);
  return std::string();
}

bool AwsInstanceCredentials::NextStep(int step, const base::Result<std::string>& accepted) const {
  return accepted.ok() && step < kKeys;
}

}  // namespace starling::net
