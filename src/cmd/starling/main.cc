// starling: the telemetry agent's single binary. See commands.h for how commands are wired.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cmd/starling/commands.h"

namespace {

// Go's flag package, which the Agent uses, also accepts long flags with one dash
// (-server.http.listen-addr=...). CLI11 reads those as bundles of short flags, so spell them
// with two dashes. Arguments after "--" are left alone.
std::vector<std::string> NormalizeArgs(int argc, char** argv) {
  std::vector<std::string> args;
  bool end_of_flags = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") end_of_flags = true;
    if (!end_of_flags && arg.size() > 2 && arg[0] == '-' && arg[1] >= 'a' && arg[1] <= 'z' &&
        arg[2] != '=') {
      arg.insert(0, "-");
    }
    args.push_back(std::move(arg));
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Starling: a telemetry agent configured in River (the Grafana Agent Flow and "
      "Alloy configuration language).",
      "starling"};
  app.set_version_flag("--version", starling::cmd::VersionText(), "Print version information");
  app.require_subcommand(1);
  int exit_code = 0;
  starling::cmd::AddRunCommand(app, &exit_code);
  starling::cmd::AddFmtCommand(app, &exit_code);
  starling::cmd::AddToolsCommand(app, &exit_code);
  std::vector<std::string> args = NormalizeArgs(argc, argv);
  // CLI11 takes the arguments in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
