#pragma once

// Fakes of the AWS services that issue temporary keys, on 127.0.0.1, for tests of SigV4
// credentials. Each records the requests to POST /data, for clients to sign them.
//
// FakeSts answers (POST /sts/) AssumeRoleWithWebIdentity for the tokens "jwt-..." and
// AssumeRole signed for "sts" (with keys of SecretKeyOf, and their session token) with the keys
// "ASIA<n>", "secret/<n>+x" and "token-<n>" (n counting its answers) that expire `lifetime`
// after now.
//
// FakeImds is an EC2 instance metadata service whose instance has the role "writer" with the
// keys "ASIAEC2<n>", "ec2/<n>" and "ec2-token-<n>" (n counting its answers), which expire
// `lifetime` after now. It issues session tokens "imds-<n>" and wants one of them on every
// other request; with `v1_only`, it refuses to issue them (403) and wants none.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http_server.h"
#include "net/oauth2_testing.h"
#include "net/sigv4_testing.h"

namespace starling::net::testing {

// A time `from_now` away, as AWS writes expirations: "2014-10-24T23:00:23Z".
inline std::string AwsTimeIn(std::chrono::seconds from_now) {
  const std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// STS's answer, as its API reference shows it.
inline std::string StsAnswer(const std::string& n, const std::string& expiration) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
         "  <AssumeRoleWithWebIdentityResult>\n"
         "    "
         "<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>\n"
         "    <Credentials>\n"
         "      <SessionToken>token-" +
         n +
         "</SessionToken>\n"
         "      <SecretAccessKey>secret/" +
         n +
         "+x</SecretAccessKey>\n"
         "      <Expiration>" +
         expiration +
         "</Expiration>\n"
         "      <AccessKeyId>ASIA" +
         n +
         "</AccessKeyId>\n"
         "    </Credentials>\n"
         "  </AssumeRoleWithWebIdentityResult>\n"
         "</AssumeRoleWithWebIdentityResponse>\n";
}

// What the fakes share: the lifetime of the keys they issue, and the requests to POST /data.
class FakeKeyIssuer {
 public:
  void set_lifetime(std::chrono::seconds s) {
    std::lock_guard<std::mutex> lock(mu_);
    lifetime_ = s;
  }
  std::vector<Request> Data() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }

 protected:
  Response Record(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    data_.push_back(r);
    return Response::Text(200, "ok");
  }

  std::mutex mu_;
  std::chrono::seconds lifetime_{3600};  // guarded by mu_

 private:
  std::vector<Request> data_;  // guarded by mu_
};

// The secret key the fakes pair with an access key: their own temporary keys' ("ASIA<n>",
// "ASIAEC2<n>"), else "base-secret".
inline std::string SecretKeyOf(const std::string& access_key) {
  if (access_key.rfind("ASIAEC2", 0) == 0) return "ec2/" + access_key.substr(7);
  if (access_key.rfind("ASIA", 0) == 0) return "secret/" + access_key.substr(4) + "+x";
  return "base-secret";
}

// The session token that goes with an access key of SecretKeyOf; none for "base-secret".
inline std::optional<std::string> SessionTokenOf(const std::string& access_key) {
  if (access_key.rfind("ASIAEC2", 0) == 0) return "ec2-token-" + access_key.substr(7);
  if (access_key.rfind("ASIA", 0) == 0) return "token-" + access_key.substr(4);
  return std::nullopt;
}

// The access key r is signed with, when its signature and session token are those the fakes
// pair with that key (SecretKeyOf, SessionTokenOf); else what is wrong.
inline std::string SignedBy(const Request& r) {
  const std::string key = CheckSigV4(r, "").access_key;
  const SigV4Check c = CheckSigV4(r, SecretKeyOf(key));
  if (!c.error.empty()) return c.error;
  if (r.HeaderValue("X-Amz-Security-Token") != SessionTokenOf(key)) {
    return "not the session token of " + key;
  }
  return key;
}

class FakeSts : public FakeKeyIssuer {
 public:
  FakeSts()
      : server_([this](HttpServer& s) {
          s.Handle("POST", "/sts/", [this](const Request& r) { return Answer(r); });
          s.Handle("POST", "/data", [this](const Request& r) { return Record(r); });
        }) {}

  std::string Url(const std::string& path) const { return server_.Url(path); }
  // The bodies of the AssumeRoleWithWebIdentity and AssumeRole requests.
  std::vector<std::string> Forms() {
    std::lock_guard<std::mutex> lock(mu_);
    return forms_;
  }
  // The access keys that signed the AssumeRole requests.
  std::vector<std::string> Signers() {
    std::lock_guard<std::mutex> lock(mu_);
    return signers_;
  }

 private:
  Response Answer(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    forms_.push_back(r.body);
    if (r.body.rfind("Action=AssumeRole&", 0) == 0) {
      const SigV4Check c = CheckSigV4(r, "");
      signers_.push_back(c.access_key);
      if (SignedBy(r) != c.access_key || c.service != "sts") {
        return Response::Text(403, "<ErrorResponse>SignatureDoesNotMatch</ErrorResponse>");
      }
    } else if (r.body.find("WebIdentityToken=jwt-") == std::string::npos) {
      return Response::Text(400, "<ErrorResponse>InvalidIdentityToken</ErrorResponse>");
    }
    return Response::Text(200, StsAnswer(std::to_string(forms_.size()), AwsTimeIn(lifetime_)));
  }

  std::vector<std::string> forms_;
  std::vector<std::string> signers_;
  TokenEndpoint server_;  // last: its handlers use the members above
};

class FakeImds : public FakeKeyIssuer {
 public:
  static constexpr char kCredentialsPath[] = "/latest/meta-data/iam/security-credentials/";

  explicit FakeImds(bool v1_only = false)
      : v1_only_(v1_only), server_([this](HttpServer& s) {
          s.Handle("PUT", "/latest/api/token", [this](const Request& r) { return Token(r); });
          s.Handle("GET", kCredentialsPath, [this](const Request& r) {
            return Answer(r, [] { return "writer\nother\n"; });
          });
          s.Handle("GET", std::string(kCredentialsPath) + "writer",
                   [this](const Request& r) { return Answer(r, [this] { return Keys(); }); });
          s.Handle("POST", "/data", [this](const Request& r) { return Record(r); });
        }) {}

  // The service's endpoint, as AWS_EC2_METADATA_SERVICE_ENDPOINT names it.
  std::string Endpoint() const {
    const std::string url = server_.Url("/");
    return url.substr(0, url.size() - 1);
  }
  std::string Url(const std::string& path) const { return server_.Url(path); }
  // The paths asked, in order.
  std::vector<std::string> Asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

 private:
  Response Token(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    asked_.push_back(r.path);
    if (v1_only_) return Response::Text(403, "");
    if (r.HeaderValue("X-aws-ec2-metadata-token-ttl-seconds") != "21600") {
      return Response::Text(400, "bad ttl");
    }
    issued_.push_back("imds-" + std::to_string(issued_.size() + 1));
    return Response::Text(200, issued_.back());
  }
  Response Answer(const Request& r, const std::function<std::string()>& body) {
    std::lock_guard<std::mutex> lock(mu_);
    asked_.push_back(r.path);
    const auto token = r.HeaderValue("X-aws-ec2-metadata-token");
    const bool known =
        token.has_value() && std::find(issued_.begin(), issued_.end(), *token) != issued_.end();
    if (v1_only_ ? token.has_value() : !known) return Response::Text(401, "");
    return Response::Text(200, body());
  }
  std::string Keys() {  // mu_ held
    const std::string n = std::to_string(++keys_);
    return R"({"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC",)"
           R"("AccessKeyId":"ASIAEC2)" +
           n + R"(","SecretAccessKey":"ec2/)" + n + R"(","Token":"ec2-token-)" + n +
           R"(","Expiration":")" + AwsTimeIn(lifetime_) + R"("})";
  }

  const bool v1_only_;
  std::vector<std::string> issued_;  // session tokens
  int keys_ = 0;
  std::vector<std::string> asked_;
  TokenEndpoint server_;  // last: its handlers use the members above
};

}  // namespace starling::net::testing
