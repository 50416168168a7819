#pragma once

// A fake AWS STS on 127.0.0.1 for tests of role credentials: it answers (POST /sts/)
// AssumeRoleWithWebIdentity for the tokens "jwt-..." and AssumeRole signed for "sts" with the
// secret key "base-secret" with the keys "ASIA<n>", "secret/<n>+x" and "token-<n>" (n
// counting its answers) that expire `lifetime` after now, and records the requests to
// POST /data, for clients to sign them.

#include <chrono>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "net/http_server.h"
#include "net/oauth2_testing.h"
#include "net/sigv4_testing.h"

namespace starling::net::testing {

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

class FakeSts {
 public:
  FakeSts()
      : server_([this](HttpServer& s) {
          s.Handle("POST", "/sts/", [this](const Request& r) { return Answer(r); });
          s.Handle("POST", "/data", [this](const Request& r) {
            std::lock_guard<std::mutex> lock(mu_);
            data_.push_back(r);
            return Response::Text(200, "ok");
          });
        }) {}

  std::string Url(const std::string& path) const { return server_.Url(path); }
  void set_lifetime(std::chrono::seconds s) {
    std::lock_guard<std::mutex> lock(mu_);
    lifetime_ = s;
  }
  // The bodies of the AssumeRoleWithWebIdentity requests.
  std::vector<std::string> Forms() {
    std::lock_guard<std::mutex> lock(mu_);
    return forms_;
  }
  std::vector<Request> Data() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }

 private:
  Response Answer(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    forms_.push_back(r.body);
    if (r.body.rfind("Action=AssumeRole&", 0) == 0) {
      const SigV4Check c = CheckSigV4(r, "base-secret");
      if (!c.error.empty() || c.service != "sts") {
        return Response::Text(403, "<ErrorResponse>SignatureDoesNotMatch</ErrorResponse>");
      }
    } else if (r.body.find("WebIdentityToken=jwt-") == std::string::npos) {
      return Response::Text(400, "<ErrorResponse>InvalidIdentityToken</ErrorResponse>");
    }
    const std::time_t expires =
        std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + lifetime_);
    std::tm utc{};
    gmtime_r(&expires, &utc);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return Response::Text(200, StsAnswer(std::to_string(forms_.size()), text));
  }

  std::mutex mu_;
  std::chrono::seconds lifetime_{3600};
  std::vector<std::string> forms_;
  std::vector<Request> data_;
  TokenEndpoint server_;  // last: its handlers use the members above
};

}  // namespace starling::net::testing
