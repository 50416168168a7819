#pragma once

// A server's check of an AWS Signature Version 4 request signed in the Authorization header,
// for tests of clients that sign: written from AWS's description of the algorithm, so it
// checks libcurl's signer rather than repeating it. Users link OpenSSL::Crypto.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.h"

namespace starling::net::testing {

struct SigV4Check {
  std::string access_key;
  std::string date;  // of the credential scope: 20150830
  std::string region;
  std::string service;
  std::string signed_headers;  // as listed: "host;x-amz-date"
  std::string error;           // empty: the signature is right
};

namespace sigv4_internal {

inline std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

inline std::string Sha256Hex(std::string_view s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return Hex(md, sizeof(md));
}

inline std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return std::string(reinterpret_cast<const char*>(md), n);
}

// The value after `key` in "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
inline std::string AuthField(std::string_view auth, std::string_view key) {
  std::size_t at = auth.find(key);
  if (at == std::string_view::npos) return "";
  at += key.size();
  return std::string(auth.substr(at, auth.find(',', at) - at));
}

// A header's canonical value: all its values joined by commas, trimmed, inner runs of spaces
// folded to one.
inline std::string CanonicalValue(const Request& r, std::string_view lower_name, bool* found) {
  std::string joined;
  *found = false;
  for (const Header& h : r.headers) {
    std::string name = h.name;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name != lower_name) continue;
    std::string v;
    for (char c : h.value) {
      if (c == ' ' && (v.empty() || v.back() == ' ')) continue;
      v += c;
    }
    while (!v.empty() && v.back() == ' ') v.pop_back();
    if (*found) joined += ',';
    joined += v;
    *found = true;
  }
  return joined;
}

// The query's parameters sorted by name, then value (they arrive already URI-encoded).
inline std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    std::string_view p = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), p.size() + 1));
    if (p.empty()) continue;
    const std::size_t eq = p.find('=');
    params.emplace_back(std::string(p.substr(0, eq)),
                        eq == std::string_view::npos ? "" : std::string(p.substr(eq + 1)));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

}  // namespace sigv4_internal

// Checks r's signature as AWS would with the secret key of its credential.
inline SigV4Check CheckSigV4(const Request& r, std::string_view secret_key) {
  using namespace sigv4_internal;
  SigV4Check c;
  const std::string_view auth = r.HeaderValue("Authorization").value_or("");
  if (auth.rfind("AWS4-HMAC-SHA256 ", 0) != 0) {
    c.error = "no AWS4-HMAC-SHA256 Authorization header";
    return c;
  }
  const std::string credential = AuthField(auth, "Credential=");
  c.signed_headers = AuthField(auth, "SignedHeaders=");
  const std::string signature = AuthField(auth, "Signature=");
  std::vector<std::string> scope;
  for (std::size_t at = 0; at <= credential.size();) {
    std::size_t end = std::min(credential.find('/', at), credential.size());
    scope.push_back(credential.substr(at, end - at));
    at = end + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request") {
    c.error = "malformed credential: " + credential;
    return c;
  }
  c.access_key = scope[0];
  c.date = scope[1];
  c.region = scope[2];
  c.service = scope[3];
  const std::string amz_date(r.HeaderValue("X-Amz-Date").value_or(""));
  if (amz_date.rfind(c.date, 0) != 0) {
    c.error = "X-Amz-Date " + amz_date + " is not of the credential's day " + c.date;
    return c;
  }

  std::string canonical = r.method + "\n" + r.path + "\n" + CanonicalQuery(r.query) + "\n";
  std::string_view names = c.signed_headers;
  while (!names.empty()) {
    const std::string name(names.substr(0, names.find(';')));
    names.remove_prefix(std::min(names.size(), name.size() + 1));
    bool found = false;
    const std::string value = CanonicalValue(r, name, &found);
    if (!found) {
      c.error = "signed header " + name + " was not received";
      return c;
    }
    canonical += name + ":" + value + "\n";
  }
  canonical += "\n" + c.signed_headers + "\n" + Sha256Hex(r.body);

  const std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + c.date + "/" + c.region +
                              "/" + c.service + "/aws4_request\n" + Sha256Hex(canonical);
  std::string key = Hmac("AWS4" + std::string(secret_key), c.date);
  for (const std::string& part : {c.region, c.service, std::string("aws4_request")}) {
    key = Hmac(key, part);
  }
  const std::string want = Hmac(key, to_sign);
  if (Hex(reinterpret_cast<const unsigned char*>(want.data()), want.size()) != signature) {
    c.error = "signature mismatch; canonical request:\n" + canonical;
  }
  return c;
}

}  // namespace starling::net::testing
