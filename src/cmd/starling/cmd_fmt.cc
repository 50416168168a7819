// `starling fmt [-w] FILE|-`: the canonical formatting of a River file, as `agent fmt`.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/starling/commands.h"
#include "syntax/parser.h"
#include "syntax/printer.h"

namespace starling::cmd {
namespace {

struct FmtOptions {
  std::string file = "-";
  bool write = false;
};

int RunFmt(const FmtOptions& opts) {
  if (opts.write && opts.file == "-") {
    PrintError("cannot use -w with standard input");
    return 1;
  }
  base::Result<std::string> src = ReadInput(opts.file);
  if (!src.ok()) {
    PrintError(src.error().message());
    return 1;
  }
  syntax::ParseResult parsed = syntax::ParseFile(opts.file, *src);
  if (!parsed.diags.empty()) PrintDiagnostics(parsed.diags, opts.file);
  if (parsed.diags.HasErrors()) return 1;

  std::string out = syntax::Format(*parsed.file);
  if (!opts.write) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (out == *src) return 0;  // leave the file (and its modification time) alone
  base::Status s = WriteFileAtomically(opts.file, out);
  if (!s.ok()) {
    PrintError(s.message());
    return 1;
  }
  return 0;
}

}  // namespace

void AddFmtCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<FmtOptions>();
  CLI::App* fmt = app.add_subcommand(
      "fmt", "Format a River file: print its canonical form, or rewrite it with --write.");
  fmt->add_option("file", opts->file, "File to format; - (the default) reads standard input");
  fmt->add_flag("-w,--write", opts->write, "Write the result to the file instead of stdout");
  fmt->callback([opts, exit_code] { *exit_code = RunFmt(*opts); });
}

}  // namespace starling::cmd
