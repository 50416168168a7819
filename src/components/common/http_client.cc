#include "components/common/http_client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <variant>

#include "base/env.h"
#include "components/common/aws_credentials.h"
#include "net/aws_keys.h"
#include "net/azure_identity.h"
#include "net/oauth2.h"

namespace starling::components {
namespace {

std::string TrimSpace(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

// The whole file, or the reason it cannot be read as Go's os.ReadFile puts it.
base::Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return base::Status::NotFound("open " + path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return base::Status::Internal("read " + path + ": I/O error");
  return ss.str();
}

// A secret file's content as Prometheus uses it: surrounding whitespace trimmed.
base::Result<std::string> ReadSecret(const std::string& path, const std::string& what) {
  base::Result<std::string> got = ReadFile(path);
  if (!got.ok()) {
    return base::Status::InvalidArgument("unable to read " + what + " " + path + ": " +
                                         got.error().message());
  }
  return TrimSpace(*got);
}

void DecodeBasicAuth(component::ArgDecoder& d, HttpClientArgs::BasicAuth* b) {
  d.Optional("username", &b->username);
  d.Optional("password", &b->password);
  d.Optional("password_file", &b->password_file);
  if (!b->password.text.empty() && !b->password_file.empty()) {
    d.AddError("password_file",
               "at most one of basic_auth password & password_file must be configured");
  }
}

void DecodeAuthorization(component::ArgDecoder& d, HttpClientArgs::Authorization* a) {
  d.Optional("type", &a->type);
  d.Optional("credentials", &a->credentials);
  d.Optional("credentials_file", &a->credentials_file);
  if (!a->credentials.text.empty() && !a->credentials_file.empty()) {
    d.AddError("credentials_file",
               "at most one of authorization credentials & credentials_file must be configured");
    return;
  }
  a->type = TrimSpace(a->type);
  if (a->type.empty()) a->type = "Bearer";
  if (ToLower(a->type) == "basic") {
    d.AddError("type",
               "authorization type cannot be set to \"basic\", use \"basic_auth\" block instead");
  }
}

// Go's names of the TLS versions, as Prometheus's TLS config takes them.
std::optional<net::ClientConfig::TlsVersion> ParseTlsVersion(std::string_view s) {
  using V = net::ClientConfig::TlsVersion;
  if (s.empty() || s == "TLS12") return V::kTls12;
  if (s == "TLS10") return V::kTls10;
  if (s == "TLS11") return V::kTls11;
  if (s == "TLS13") return V::kTls13;
  return std::nullopt;
}

void DecodeTls(component::ArgDecoder& d, HttpClientArgs::Tls* t) {
  d.Optional("ca_pem", &t->ca_pem);
  d.Optional("ca_file", &t->ca_file);
  d.Optional("cert_pem", &t->cert_pem);
  d.Optional("cert_file", &t->cert_file);
  d.Optional("key_pem", &t->key_pem);
  d.Optional("key_file", &t->key_file);
  d.Optional("server_name", &t->server_name);
  d.Optional("insecure_skip_verify", &t->insecure_skip_verify);
  if (d.Optional("min_version", &t->min_version) && !ParseTlsVersion(t->min_version)) {
    d.AddError("min_version", "unknown TLS version: " + t->min_version);
    return;
  }
  if (!t->ca_pem.empty() && !t->ca_file.empty()) {
    d.AddError("ca_file", "at most one of ca_pem and ca_file must be configured");
    return;
  }
  if (!t->cert_pem.empty() && !t->cert_file.empty()) {
    d.AddError("cert_file", "at most one of cert_pem and cert_file must be configured");
    return;
  }
  if (!t->key_pem.text.empty() && !t->key_file.empty()) {
    d.AddError("key_file", "at most one of key_pem and key_file must be configured");
    return;
  }
  bool has_cert = !t->cert_pem.empty() || !t->cert_file.empty();
  bool has_key = !t->key_pem.text.empty() || !t->key_file.empty();
  if (has_cert && !has_key) {
    d.AddError(t->cert_file.empty() ? "cert_pem" : "cert_file",
               "exactly one of key_pem or key_file must be configured when a client "
               "certificate is configured");
  } else if (has_key && !has_cert) {
    d.AddError(t->key_file.empty() ? "key_pem" : "key_file",
               "exactly one of cert_pem or cert_file must be configured when a client key is "
               "configured");
  }
}

// The proxy attributes of the client and of its oauth2 block, with Prometheus's checks.
template <typename Args>
void DecodeProxy(component::ArgDecoder& d, Args* a) {
  d.Optional("proxy_url", &a->proxy_url);
  d.Optional("no_proxy", &a->no_proxy);
  d.Optional("proxy_from_environment", &a->proxy_from_environment);
  d.Optional("proxy_connect_header", &a->proxy_connect_header);
  if (a->proxy_from_environment && !a->proxy_url.empty()) {
    d.AddError("proxy_url",
               "if proxy_from_environment is configured, proxy_url must not be configured");
  } else if (a->proxy_from_environment && !a->no_proxy.empty()) {
    d.AddError("no_proxy",
               "if proxy_from_environment is configured, no_proxy must not be configured");
  } else if (a->proxy_url.empty() && !a->no_proxy.empty()) {
    d.AddError("no_proxy", "if no_proxy is configured, proxy_url must also be configured");
  } else if (!a->proxy_connect_header.empty() && a->proxy_url.empty() &&
             !a->proxy_from_environment) {
    d.AddError("proxy_connect_header",
               "if proxy_connect_header is configured, proxy_url or proxy_from_environment must "
               "also be configured");
  }
}

// The environment's proxies, as Go's clients take them.
net::ClientConfig::EnvironmentProxy EnvironmentProxies() {
  return {base::GetenvFirst("HTTP_PROXY", "http_proxy"),
          base::GetenvFirst("HTTPS_PROXY", "https_proxy"),
          base::GetenvFirst("NO_PROXY", "no_proxy")};
}

template <typename Args>
void BuildProxy(const Args& a, net::ClientConfig* cfg) {
  cfg->proxy_url = a.proxy_url;
  cfg->no_proxy = a.no_proxy;
  if (a.proxy_from_environment) {
    cfg->environment_proxy = EnvironmentProxies();
  }
  for (const auto& [name, values] : a.proxy_connect_header) {
    for (const component::Secret& v : values) cfg->proxy_connect_headers.push_back({name, v.text});
  }
}

// Agent's checks of an oauth2 block.
void DecodeOAuth2(component::ArgDecoder& d, HttpClientArgs::OAuth2* o) {
  d.Optional("client_id", &o->client_id);
  d.Optional("client_secret", &o->client_secret);
  d.Optional("client_secret_file", &o->client_secret_file);
  d.Optional("scopes", &o->scopes);
  d.Optional("token_url", &o->token_url);
  d.Optional("endpoint_params", &o->endpoint_params);
  DecodeProxy(d, o);
  d.OptionalBlock("tls_config", &o->tls_config, DecodeTls);
  if (o->client_id.empty()) {
    d.AddError("", "oauth2 client_id must be configured");
  } else if (o->client_secret.text.empty() && o->client_secret_file.empty()) {
    d.AddError("", "either oauth2 client_secret or client_secret_file must be configured");
  } else if (o->token_url.empty()) {
    d.AddError("", "oauth2 token_url must be configured");
  } else if (!o->client_secret.text.empty() && !o->client_secret_file.empty()) {
    d.AddError("client_secret_file",
               "at most one of oauth2 client_secret & client_secret_file must be configured");
  }
}

void DecodeSigV4(component::ArgDecoder& d, HttpClientArgs::SigV4* s) {
  d.Optional("region", &s->region);
  d.Optional("access_key", &s->access_key);
  d.Optional("secret_key", &s->secret_key);
  d.Optional("profile", &s->profile);
  d.Optional("role_arn", &s->role_arn);
  if (s->access_key.empty() != s->secret_key.text.empty()) {
    d.AddError("",
               "must provide an AWS SigV4 access key and secret key if credentials are "
               "specified in the SigV4 config");
  }
}

// A UUID as Go's uuid.Parse takes it: 32 hex digits, grouped 8-4-4-4-12 by dashes or not.
bool IsUuid(std::string_view s) {
  if (s.size() == 36) {
    for (std::size_t i : {8, 13, 18, 23}) {
      if (s[i] != '-') return false;
    }
  } else if (s.size() != 32) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || (c == '-' && s.size() == 36);
  });
}

// Azure Monitor's audience in each cloud, as the resource a managed identity token is for.
std::optional<std::string> AzureMonitorResource(std::string_view cloud) {
  if (cloud == "AzurePublic") return "https://monitor.azure.com/";
  if (cloud == "AzureChina") return "https://monitor.azure.cn/";
  if (cloud == "AzureGovernment") return "https://monitor.azure.us/";
  return std::nullopt;
}

void DecodeAzureAd(component::ArgDecoder& d, HttpClientArgs::AzureAd* a) {
  d.Optional("cloud", &a->cloud);
  d.Block<HttpClientArgs::AzureAd>(
      "managed_identity", a,
      [](component::ArgDecoder& m, HttpClientArgs::AzureAd* out) {
        m.Required("client_id", &out->client_id);
      },
      /*required=*/true);
  if (!AzureMonitorResource(a->cloud)) {
    d.AddError("cloud", "must provide a cloud in the Azure AD config");
  } else if (!a->client_id.empty() && !IsUuid(a->client_id)) {
    d.AddError("", "the provided Azure Managed Identity client_id provided is invalid");
  }
}

// The TLS settings, with the files named checked for readability.
base::Result<net::ClientConfig::Tls> BuildTls(const HttpClientArgs::Tls& t) {
  // The files are read again by the TLS library when a connection is made; reading them
  // here turns a wrong path into an error that names it.
  if (!t.ca_file.empty()) {
    base::Result<std::string> ca = ReadFile(t.ca_file);
    if (!ca.ok()) {
      return base::Status::InvalidArgument("unable to load specified CA cert " + t.ca_file + ": " +
                                           ca.error().message());
    }
  }
  for (const std::string* f : {&t.cert_file, &t.key_file}) {
    if (f->empty()) continue;
    base::Result<std::string> got = ReadFile(*f);
    if (!got.ok()) {
      return base::Status::InvalidArgument("unable to read specified client cert (" + t.cert_file +
                                           ") & key (" + t.key_file +
                                           "): " + got.error().message());
    }
  }
  return net::ClientConfig::Tls{
      t.ca_file,
      t.cert_file,
      t.key_file,
      t.server_name,
      t.insecure_skip_verify,
      t.ca_pem,
      t.cert_pem,
      t.key_pem.text,
      ParseTlsVersion(t.min_version).value_or(net::ClientConfig::TlsVersion::kTls12)};
}

base::Result<std::shared_ptr<net::OAuth2TokenSource>> BuildOAuth2(const HttpClientArgs::OAuth2& o) {
  net::OAuth2TokenSource::Options opts;
  opts.client_id = o.client_id;
  opts.client_secret = o.client_secret.text;
  if (!o.client_secret_file.empty()) {
    ASSIGN_OR_RETURN(opts.client_secret,
                     ReadSecret(o.client_secret_file, "oauth2 client secret file"));
  }
  opts.scopes = o.scopes;
  opts.token_url = o.token_url;
  opts.endpoint_params = o.endpoint_params;
  auto token_client = std::make_shared<net::ClientConfig>();
  BuildProxy(o, token_client.get());
  if (o.tls_config) {
    ASSIGN_OR_RETURN(token_client->tls, BuildTls(*o.tls_config));
  }
  opts.config = std::move(token_client);
  return std::make_shared<net::OAuth2TokenSource>(std::move(opts));
}

// A role's temporary keys from AWS STS (the SDK's endpoint variables apply, else the regional
// endpoint in the region's partition: China's regions are under amazonaws.com.cn), reached
// through the environment's proxies as the SDK's Go client reaches it.
std::shared_ptr<net::TokenSource> StsRole(net::AwsStsRole::Options sts, const std::string& region) {
  sts.region = region;
  sts.sts_url = base::GetenvFirst("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL");
  if (sts.sts_url.empty()) {
    const bool china = region.rfind("cn-", 0) == 0;
    sts.sts_url = "https://sts." + region + (china ? ".amazonaws.com.cn/" : ".amazonaws.com/");
  }
  auto sts_client = std::make_shared<net::ClientConfig>();
  sts_client->environment_proxy = EnvironmentProxies();
  sts.config = std::move(sts_client);
  return std::make_shared<net::AwsStsRole>(std::move(sts));
}

// SigV4 signing with the block's keys or those the AWS SDK would find: fixed keys, or the
// temporary keys of a web identity's role, a container's credentials endpoint or an EC2
// instance's metadata service. The roles a profile names, then the block's role_arn, are
// assumed in turn, each with the keys before it, and the last one's keys sign the requests,
// as the SDK's stscreds over the default chain.
base::Status BuildSigV4(const HttpClientArgs::SigV4& s, net::ClientConfig* cfg) {
  net::ClientConfig::SigV4 out;
  out.region = s.region.empty() ? FindAwsRegion(s.profile) : s.region;
  if (out.region.empty()) {
    return base::Status::InvalidArgument(
        "region not configured in sigv4 or in default credentials chain");
  }
  std::shared_ptr<net::TokenSource> temporary;  // when the keys found are temporary
  std::vector<AwsAssumedRole> roles;
  if (!s.access_key.empty()) {
    out.keys = {s.access_key, s.secret_key.text, ""};
  } else {
    base::Result<AwsCredentialChain> found = FindAwsCredentials(s.profile);
    if (!found.ok()) {
      return base::Status::InvalidArgument("could not get SigV4 credentials: " +
                                           found.error().message());
    }
    roles = std::move(found->roles);
    if (auto* keys = std::get_if<net::AwsKeys>(&found->source)) {
      out.keys = std::move(*keys);
    } else if (auto* role = std::get_if<AwsRoleWithWebIdentity>(&found->source)) {
      net::AwsStsRole::Options web;
      web.role_arn = role->role_arn;
      web.token_file = role->token_file;
      web.session_name = role->session_name;
      temporary = StsRole(std::move(web), out.region);
    } else if (auto* endpoint = std::get_if<AwsContainerEndpoint>(&found->source)) {
      temporary =
          std::make_shared<net::AwsContainerCredentials>(net::AwsContainerCredentials::Options{
              endpoint->url, endpoint->authorization, endpoint->authorization_file});
    } else {
      temporary = std::make_shared<net::AwsInstanceCredentials>(
          std::get<AwsInstanceMetadata>(found->source).endpoint);
    }
  }
  if (!s.role_arn.empty()) roles.push_back({s.role_arn, AwsSessionName(), ""});
  for (AwsAssumedRole& role : roles) {  // each signed with the keys before it
    net::AwsStsRole::Options assume;
    assume.role_arn = std::move(role.role_arn);
    assume.session_name = std::move(role.session_name);
    assume.external_id = std::move(role.external_id);
    assume.keys = std::exchange(out.keys, {});
    assume.base = std::move(temporary);
    temporary = StsRole(std::move(assume), out.region);
  }
  cfg->token_source = std::move(temporary);
  cfg->sigv4 = std::move(out);
  return base::Status::Ok();
}

}  // namespace

void DecodeHttpClientArgs(component::ArgDecoder& d, HttpClientArgs* args) {
  d.Optional("bearer_token", &args->bearer_token);
  d.Optional("bearer_token_file", &args->bearer_token_file);
  DecodeProxy(d, args);
  d.Optional("follow_redirects", &args->follow_redirects);
  d.Optional("enable_http2", &args->enable_http2);

  d.OptionalBlock("basic_auth", &args->basic_auth, DecodeBasicAuth);
  d.OptionalBlock("authorization", &args->authorization, DecodeAuthorization);
  d.OptionalBlock("oauth2", &args->oauth2, DecodeOAuth2);
  d.OptionalBlock("tls_config", &args->tls_config, DecodeTls);

  int auth_methods = (args->basic_auth ? 1 : 0) + (args->authorization ? 1 : 0) +
                     (args->oauth2 ? 1 : 0) + (!args->bearer_token.text.empty() ? 1 : 0) +
                     (!args->bearer_token_file.empty() ? 1 : 0);
  if (auth_methods > 1) {
    d.AddError("",
               "at most one of basic_auth, authorization, oauth2, bearer_token & "
               "bearer_token_file must be configured");
  }
}

void DecodeCloudAuthBlocks(component::ArgDecoder& d, HttpClientArgs* args) {
  d.OptionalBlock("sigv4", &args->sigv4, DecodeSigV4);
  d.OptionalBlock("azuread", &args->azuread, DecodeAzureAd);
  const bool client_auth = args->basic_auth || args->authorization || args->oauth2 ||
                           !args->bearer_token.text.empty() || !args->bearer_token_file.empty();
  if ((args->sigv4 || args->azuread) && (client_auth || (args->sigv4 && args->azuread))) {
    d.AddError("",
               "at most one of sigv4, azuread, basic_auth, oauth2, bearer_token & "
               "bearer_token_file must be configured");
  }
}

base::Result<std::shared_ptr<const net::ClientConfig>> BuildClientConfig(
    const HttpClientArgs& args) {
  auto cfg = std::make_shared<net::ClientConfig>();
  if (args.basic_auth) {
    net::ClientConfig::BasicAuth basic{args.basic_auth->username, args.basic_auth->password.text};
    if (!args.basic_auth->password_file.empty()) {
      ASSIGN_OR_RETURN(basic.password,
                       ReadSecret(args.basic_auth->password_file, "basic auth password file"));
    }
    cfg->basic_auth = std::move(basic);
  }
  if (args.authorization) {
    std::string credentials = args.authorization->credentials.text;
    if (!args.authorization->credentials_file.empty()) {
      ASSIGN_OR_RETURN(credentials, ReadSecret(args.authorization->credentials_file,
                                               "authorization credentials file"));
    }
    cfg->authorization = args.authorization->type + " " + credentials;
  } else if (!args.bearer_token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token,
                     ReadSecret(args.bearer_token_file, "authorization credentials file"));
    cfg->authorization = "Bearer " + token;
  } else if (!args.bearer_token.text.empty()) {
    cfg->authorization = "Bearer " + args.bearer_token.text;
  }
  if (args.oauth2) {
    ASSIGN_OR_RETURN(cfg->token_source, BuildOAuth2(*args.oauth2));
  }
  if (args.sigv4) {
    RETURN_IF_ERROR(BuildSigV4(*args.sigv4, cfg.get()));
  }
  if (args.azuread) {
    net::AzureManagedIdentity::Options identity;
    identity.client_id = args.azuread->client_id;
    identity.resource = AzureMonitorResource(args.azuread->cloud).value_or("");
    // App Service and its kin name their identity endpoint here; VMs have the metadata one.
    const std::string endpoint = base::Getenv("IDENTITY_ENDPOINT");
    const std::string header = base::Getenv("IDENTITY_HEADER");
    if (!endpoint.empty() && !header.empty()) {
      identity.identity_endpoint = endpoint;
      identity.identity_header = header;
    }
    cfg->token_source = std::make_shared<net::AzureManagedIdentity>(std::move(identity));
  }
  if (args.tls_config) {
    ASSIGN_OR_RETURN(cfg->tls, BuildTls(*args.tls_config));
  }
  cfg->follow_redirects = args.follow_redirects;
  cfg->enable_http2 = args.enable_http2;
  BuildProxy(args, cfg.get());
  return std::shared_ptr<const net::ClientConfig>(std::move(cfg));
}

}  // namespace starling::components
