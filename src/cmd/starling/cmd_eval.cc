// `starling tools eval [--expr] FILE|-`: evaluates River with only the standard library in
// scope and prints the result as JSON. A debugging aid for configuration authors, and how the
// evaluator is tested end to end.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "cmd/starling/commands.h"
#include "syntax/eval.h"
#include "syntax/parser.h"
#include "syntax/stdlib.h"
#include "syntax/value_json.h"

namespace starling::cmd {
namespace {

struct EvalOptions {
  std::string file = "-";
  bool expr = false;
};

nlohmann::json StmtsToJson(const std::vector<syntax::EvaluatedStmt>& stmts) {
  nlohmann::json out = nlohmann::json::array();
  for (const syntax::EvaluatedStmt& s : stmts) {
    nlohmann::json j;
    if (s.is_block) {
      j["block"] = s.name;
      if (s.has_label) j["label"] = s.label;
      j["body"] = StmtsToJson(s.body);
    } else {
      j["attr"] = s.name;
      j["value"] = syntax::ValueToJson(s.value);
    }
    out.push_back(std::move(j));
  }
  return out;
}

int PrintJson(const nlohmann::json& j) {
  // River strings may hold any bytes; never let invalid UTF-8 abort the dump.
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int RunEval(const EvalOptions& opts) {
  base::Result<std::string> src = ReadInput(opts.file);
  if (!src.ok()) {
    PrintError(src.error().message());
    return 1;
  }
  const syntax::Scope scope(syntax::StdlibValues());
  if (opts.expr) {
    syntax::Diagnostics diags;
    syntax::ExprPtr expr = syntax::ParseExpression(*src, &diags);
    if (expr == nullptr || diags.HasErrors()) {
      PrintDiagnostics(diags, opts.file);
      return 1;
    }
    std::variant<syntax::Value, syntax::Diagnostic> result = syntax::Evaluate(*expr, scope);
    if (const auto* d = std::get_if<syntax::Diagnostic>(&result)) {
      syntax::Diagnostics one;
      one.Add(d->start, d->message, d->end);
      PrintDiagnostics(one, opts.file);
      return 1;
    }
    return PrintJson(syntax::ValueToJson(std::get<syntax::Value>(result)));
  }

  syntax::ParseResult parsed = syntax::ParseFile(opts.file, *src);
  if (parsed.diags.HasErrors()) {
    PrintDiagnostics(parsed.diags, opts.file);
    return 1;
  }
  auto result = syntax::EvaluateBody(parsed.file->body, scope);
  if (const auto* diags = std::get_if<syntax::Diagnostics>(&result)) {
    PrintDiagnostics(*diags, opts.file);
    return 1;
  }
  return PrintJson(StmtsToJson(std::get<std::vector<syntax::EvaluatedStmt>>(result)));
}

}  // namespace

void AddToolsCommand(CLI::App& app, int* exit_code) {
  CLI::App* tools = app.add_subcommand("tools", "Utilities for working with River files.");
  tools->require_subcommand(1);

  auto opts = std::make_shared<EvalOptions>();
  CLI::App* eval = tools->add_subcommand(
      "eval",
      "Evaluate a River body (or, with --expr, one expression) with only the standard library "
      "in scope, and print the result as JSON.");
  eval->add_option("file", opts->file, "File to evaluate; - (the default) reads standard input");
  eval->add_flag("--expr", opts->expr, "The input is one expression rather than a body");
  eval->callback([opts, exit_code] { *exit_code = RunEval(*opts); });

  AddSimulateCommand(*tools, exit_code);
}

}  // namespace starling::cmd
