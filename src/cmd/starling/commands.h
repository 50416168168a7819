#pragma once

// The starling command line: each command adds itself to the CLI11 app in its own file
// (cmd_*.cc) and runs from the subcommand's callback, storing the process exit code. This
// header is what main.cc and the command files share.

#include <string>
#include <string_view>

#include "base/status.h"
#include "syntax/diag.h"

namespace CLI {  // NOLINT(readability-identifier-naming): third-party name
class App;
}  // namespace CLI

namespace starling::cmd {

// `starling run`: loads a configuration and serves the HTTP endpoints until SIGINT/SIGTERM.
void AddRunCommand(CLI::App& app, int* exit_code);
// `starling fmt`: prints or rewrites a configuration file in canonical form.
void AddFmtCommand(CLI::App& app, int* exit_code);
// `starling tools ...`: `tools eval` evaluates River with the standard library.
void AddToolsCommand(CLI::App& app, int* exit_code);
// `starling tools simulate`: runs a cluster of membership state machines over a simulated
// network and prints how fast joins and failures spread.
void AddSimulateCommand(CLI::App& tools, int* exit_code);

// What --version prints and starling_build_info reports.
struct BuildInfo {
  std::string version;   // "v0.1.0"
  std::string branch;    // of the source tree at configure time, "unknown" outside git
  std::string revision;  // short commit hash, "unknown" outside git
  std::string build_user;
  std::string build_date;  // RFC 3339, UTC
  std::string compiler;    // "GNU 12.2.0"
  std::string platform;    // "linux/amd64"
  std::string tags;        // build type and instrumentation: "relwithdebinfo", "debug,sanitize"
};
const BuildInfo& GetBuildInfo();
// The multi-line --version text, in the Agent's layout.
std::string VersionText();

// The contents of path, or of standard input when path is "-".
base::Result<std::string> ReadInput(const std::string& path);
// Replaces path's contents by writing a sibling temporary file and renaming it over path, so
// readers never see a half-written file. Keeps the file's permission bits.
base::Status WriteFileAtomically(const std::string& path, std::string_view data);
// Prints "FILE:LINE:COL: message" lines to stderr.
void PrintDiagnostics(const syntax::Diagnostics& diags, const std::string& filename);
// Prints "Error: message" to stderr, as the Agent's commands report failures.
void PrintError(std::string_view message);

}  // namespace starling::cmd
