#pragma once

// Test helpers for TLS: a throwaway certificate authority that issues certificates, all
// written as PEM files by the `openssl` command, so that tests need not link OpenSSL. Not
// thread-safe; make the files before starting the servers and clients that read them.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace starling::net::testing {

// A certificate and its private key, as file paths.
struct CertFiles {
  std::string cert;
  std::string key;
};

// A CA in `dir` (which must exist and outlive the files), named `name`. Its certificates are
// valid from now for a day, for both server and client authentication.
class TestCa {
 public:
  TestCa(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
    config_ = dir_ + "/" + name_ + "-openssl.cnf";
    // A config of our own: the system's may be missing, and it must not prompt.
    std::ofstream(config_) << "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n";
    files_ = {dir_ + "/" + name_ + "-ca.crt", dir_ + "/" + name_ + "-ca.key"};
    Run("openssl req -x509 -config " + config_ + " -newkey ec -pkeyopt " + kCurve +
        " -nodes -days 1 -subj /CN=" + name_ + " -addext basicConstraints=critical,CA:TRUE" +
        " -addext keyUsage=critical,keyCertSign,cRLSign -keyout " + files_.key + " -out " +
        files_.cert);
  }

  const std::string& cert_file() const { return files_.cert; }

  // A certificate with common name `name` for the subject alternative names `alt_names`
  // ("IP:127.0.0.1", "DNS:node.test").
  CertFiles Issue(const std::string& name,
                  const std::vector<std::string>& alt_names = {"IP:127.0.0.1", "DNS:localhost"}) {
    const std::string base = dir_ + "/" + name_ + "-" + name;
    CertFiles out{base + ".crt", base + ".key"};
    std::string sans;
    for (const std::string& s : alt_names) sans += (sans.empty() ? "" : ",") + s;
    std::ofstream(base + ".ext") << "[leaf]\nbasicConstraints = CA:FALSE\n"
                                 << "keyUsage = critical,digitalSignature,keyEncipherment\n"
                                 << "extendedKeyUsage = serverAuth,clientAuth\n"
                                 << "subjectAltName = " << sans << "\n";
    Run("openssl req -new -config " + config_ + " -newkey ec -pkeyopt " + kCurve +
        " -nodes -subj /CN=" + name + " -keyout " + out.key + " -out " + base + ".csr");
    Run("openssl x509 -req -in " + base + ".csr -CA " + files_.cert + " -CAkey " + files_.key +
        " -set_serial " + std::to_string(++serial_) + " -days 1 -extfile " + base +
        ".ext -extensions leaf -out " + out.cert);
    return out;
  }

 private:
  static constexpr const char* kCurve = "ec_paramgen_curve:prime256v1";

  // Runs a shell command; a failure fails the test with the command's output.
  void Run(const std::string& command) const {
    const std::string log = dir_ + "/openssl.log";
    if (std::system((command + " >" + log + " 2>&1").c_str()) != 0) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      ADD_FAILURE() << command << " failed:\n" << text.str();
    }
  }

  std::string dir_;
  std::string name_;
  std::string config_;
  CertFiles files_;
  int serial_ = 0;
};

}  // namespace starling::net::testing
