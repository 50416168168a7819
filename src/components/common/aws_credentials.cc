#include "components/common/aws_credentials.h"

#include <strings.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "base/env.h"

namespace starling::components {
namespace {

using base::Getenv;

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const std::size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string SharedFile(const char* variable, const char* name) {
  std::string path = Getenv(variable);
  if (path.empty()) path = Getenv("HOME") + "/.aws/" + name;
  return path;
}

// The keys of section `section` of an INI file (`key = value` lines under `[section]`;
// comment lines start with # or ;); nullopt when the file or the section is missing.
std::optional<std::map<std::string, std::string>> IniSection(const std::string& path,
                                                             std::string_view section) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::optional<std::map<std::string, std::string>> found;
  bool inside = false;
  for (std::string raw; std::getline(in, raw);) {
    const std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      inside = Trim(line.substr(1, line.size() - 2)) == section;
      if (inside && !found) found.emplace();
      continue;
    }
    const std::size_t eq = line.find('=');
    if (!inside || eq == std::string_view::npos) continue;
    (*found)[std::string(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 1)));
  }
  return found;
}

// The config file names profiles other than "default" "profile <name>".
std::string ConfigSection(const std::string& profile) {
  return profile == "default" ? profile : "profile " + profile;
}

// The profile's keys: its section of the credentials file, else of the config file.
std::optional<std::map<std::string, std::string>> ProfileKeys(const std::string& profile,
                                                              const std::string& credentials,
                                                              const std::string& config) {
  auto keys = IniSection(credentials, profile);
  if (keys && keys->count("aws_access_key_id") != 0) return keys;
  auto in_config = IniSection(config, ConfigSection(profile));
  return in_config ? in_config : keys;
}

std::string ProfileName(const std::string& profile) {
  if (!profile.empty()) return profile;
  std::string name = base::GetenvFirst("AWS_PROFILE", "AWS_DEFAULT_PROFILE");
  return name.empty() ? "default" : name;
}

// Where the SDK lets a container's authorization token go: anywhere over https; over http,
// to loopback and to the endpoints ECS and EKS run.
bool ContainerEndpointAllowed(const std::string& url) {
  if (url.rfind("https://", 0) == 0) return true;
  if (url.rfind("http://", 0) != 0) return false;
  std::string_view host = std::string_view(url).substr(7);
  host = host.substr(0, host.find_first_of("/?#"));
  if (host.find('@') != std::string_view::npos) return false;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

bool InstanceMetadataDisabled() {
  return strcasecmp(Getenv("AWS_EC2_METADATA_DISABLED").c_str(), "true") == 0;
}

base::Result<AwsCredentials> InstanceMetadata() {
  std::string endpoint = Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (!endpoint.empty()) {
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
      return base::Status::InvalidArgument("AWS_EC2_METADATA_SERVICE_ENDPOINT " + endpoint +
                                           " is not an http or https URL");
    }
    while (endpoint.back() == '/') endpoint.pop_back();
    return AwsInstanceMetadata{endpoint};
  }
  const std::string mode = Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
  if (strcasecmp(mode.c_str(), "IPv6") == 0) return AwsInstanceMetadata{"http://[fd00:ec2::254]"};
  if (mode.empty() || strcasecmp(mode.c_str(), "IPv4") == 0) {
    return AwsInstanceMetadata{"http://169.254.169.254"};
  }
  return base::Status::InvalidArgument("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE " + mode +
                                       " is neither IPv4 nor IPv6");
}

// AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) with AWS_SECRET_ACCESS_KEY (or AWS_SECRET_KEY) and
// AWS_SESSION_TOKEN, when both keys are set.
std::optional<net::AwsKeys> EnvironmentKeys() {
  net::AwsKeys env{base::GetenvFirst("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
                   base::GetenvFirst("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"),
                   Getenv("AWS_SESSION_TOKEN")};
  if (env.access_key.empty() || env.secret_key.empty()) return std::nullopt;
  return env;
}

// The container's credentials endpoint the environment names, if any.
base::Result<std::optional<AwsCredentials>> ContainerEndpoint() {
  const std::string relative = Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string url = relative.empty() ? Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
                                           : "http://169.254.170.2" + relative;
  if (url.empty()) return std::optional<AwsCredentials>();
  if (!ContainerEndpointAllowed(url)) {
    return base::Status::InvalidArgument(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI " + url +
        " must use https, or name a loopback address or 169.254.170.2, 169.254.170.23 or "
        "fd00:ec2::23");
  }
  return std::optional<AwsCredentials>(
      AwsContainerEndpoint{url, Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                           Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")});
}

struct SharedFiles {
  std::string credentials;
  std::string config;
  std::string Neither() const { return "neither " + credentials + " nor " + config; }
};

// The credentials of profile `name` (nullopt when neither file has it), in the SDK's order:
// those of its source_profile (followed; `seen` are the profiles that led here; itself: its
// own keys), its keys, its credential_source, or its role with its web_identity_token_file.
// Then its role_arn, if any, is assumed with them.
base::Result<std::optional<AwsCredentialChain>> ProfileChain(const std::string& name,
                                                             const SharedFiles& files,
                                                             std::set<std::string> seen) {
  std::optional<std::map<std::string, std::string>> keys =
      ProfileKeys(name, files.credentials, files.config);
  if (!keys) return std::optional<AwsCredentialChain>();
  auto error = [&](const std::string& why) {
    return base::Status::InvalidArgument("profile \"" + name + "\" " + why);
  };
  const net::AwsKeys fixed{(*keys)["aws_access_key_id"], (*keys)["aws_secret_access_key"],
                           (*keys)["aws_session_token"]};
  const bool has_keys = !fixed.access_key.empty() && !fixed.secret_key.empty();
  const std::string role_arn = (*keys)["role_arn"];
  const std::string source = (*keys)["source_profile"];
  const std::string credential_source = (*keys)["credential_source"];
  const std::string web_identity = (*keys)["web_identity_token_file"];
  std::string session = (*keys)["role_session_name"];
  if (session.empty()) session = AwsSessionName();
  if (!source.empty() && !credential_source.empty()) {
    return error("has both source_profile and credential_source");
  }
  AwsCredentialChain chain;
  if (!source.empty() && source != name) {
    seen.insert(name);
    if (seen.count(source) != 0) {
      return error("has source_profile \"" + source + "\", which leads back to it");
    }
    ASSIGN_OR_RETURN(std::optional<AwsCredentialChain> base, ProfileChain(source, files, seen));
    if (!base) {
      return error("has source_profile \"" + source + "\", which is in " + files.Neither());
    }
    chain = std::move(*base);
  } else if (has_keys) {
    chain.source = fixed;
  } else if (credential_source == "Environment") {
    std::optional<net::AwsKeys> env = EnvironmentKeys();
    if (!env) {
      return error(
          "has credential_source Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
          "are not set");
    }
    chain.source = *env;
  } else if (credential_source == "EcsContainer") {
    ASSIGN_OR_RETURN(std::optional<AwsCredentials> container, ContainerEndpoint());
    if (!container) {
      return error("has credential_source EcsContainer, but no container's endpoint is set");
    }
    chain.source = std::move(*container);
  } else if (credential_source == "Ec2InstanceMetadata") {
    ASSIGN_OR_RETURN(chain.source, InstanceMetadata());
  } else if (!credential_source.empty()) {
    return error("has credential_source \"" + credential_source +
                 "\", which is neither Environment, Ec2InstanceMetadata nor EcsContainer");
  } else if (!web_identity.empty() && !role_arn.empty()) {
    return std::optional<AwsCredentialChain>(
        AwsCredentialChain{AwsRoleWithWebIdentity{role_arn, web_identity, session}});
  } else {
    return error("has no aws_access_key_id and aws_secret_access_key in " + files.credentials +
                 " or " + files.config +
                 (role_arn.empty() ? ""
                                   : ", nor a source_profile, credential_source or "
                                     "web_identity_token_file for its role_arn"));
  }
  if (!role_arn.empty()) chain.roles.push_back({role_arn, session, (*keys)["external_id"]});
  return std::optional<AwsCredentialChain>(std::move(chain));
}

}  // namespace

base::Result<AwsCredentialChain> FindAwsCredentials(const std::string& profile) {
  if (profile.empty()) {
    if (std::optional<net::AwsKeys> env = EnvironmentKeys()) return AwsCredentialChain{*env};
    AwsRoleWithWebIdentity role{Getenv("AWS_ROLE_ARN"), Getenv("AWS_WEB_IDENTITY_TOKEN_FILE"),
                                Getenv("AWS_ROLE_SESSION_NAME")};
    if (!role.role_arn.empty() && !role.token_file.empty()) {
      if (role.session_name.empty()) role.session_name = AwsSessionName();
      return AwsCredentialChain{role};
    }
  }
  const std::string name = ProfileName(profile);
  const SharedFiles files{SharedFile("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
                          SharedFile("AWS_CONFIG_FILE", "config")};
  ASSIGN_OR_RETURN(std::optional<AwsCredentialChain> chain, ProfileChain(name, files, {}));
  if (chain) return std::move(*chain);
  if (profile.empty()) {
    ASSIGN_OR_RETURN(std::optional<AwsCredentials> container, ContainerEndpoint());
    if (container) return AwsCredentialChain{std::move(*container)};
    if (!InstanceMetadataDisabled()) {
      ASSIGN_OR_RETURN(AwsCredentials imds, InstanceMetadata());
      return AwsCredentialChain{std::move(imds)};
    }
  }
  return base::Status::NotFound(
      std::string("no AWS credentials: ") +
      (profile.empty() ? "neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY nor AWS_ROLE_ARN "
                         "and AWS_WEB_IDENTITY_TOKEN_FILE are set, nor a container's endpoint, "
                         "AWS_EC2_METADATA_DISABLED turns off the instance metadata service, "
                         "and "
                       : "") +
      "profile \"" + name + "\" is in " + files.Neither());
}

std::string AwsSessionName() {
  return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

std::string FindAwsRegion(const std::string& profile) {
  std::string region = base::GetenvFirst("AWS_REGION", "AWS_DEFAULT_REGION");
  if (!region.empty()) return region;
  auto keys =
      IniSection(SharedFile("AWS_CONFIG_FILE", "config"), ConfigSection(ProfileName(profile)));
  return keys ? (*keys)["region"] : "";
}

}  // namespace starling::components
