#!/usr/bin/env node
// A `solc` look-alike for py-solc-x and brownie, backed by the solc-js (wasm) npm package.
//
// Why: no native solc can be downloaded on our machines, but py-solc-x only needs an
// executable at $SOLCX_BINARY_PATH/solc-v<version> that answers `--version` and
// `--standard-json`. We call the solc-js *library* (not the `solcjs` CLI, which prints an
// SMT notice on stdout and would corrupt the JSON answer).
//
// Imports are resolved, in order: as given (absolute or relative to the working directory),
// under each --allow-paths / --base-path / --include-path entry, under the project root
// (CITYPASS_ROOT), and under the project's node_modules.
"use strict";

const fs = require("fs");
const path = require("path");

const projectRoot = process.env.CITYPASS_ROOT || path.resolve(__dirname, "..", "..");
const solc = require(path.join(projectRoot, "node_modules", "solc"));

function parseArgs(argv) {
  const roots = [];
  let mode = null;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--version" || arg === "-v") mode = mode || "version";
    else if (arg === "--standard-json") mode = "standard-json";
    else if (arg === "--help" || arg === "-h") mode = mode || "help";
    else if (["--allow-paths", "--base-path", "--include-path"].includes(arg)) {
      const value = argv[i + 1] || "";
      i += 1;
      for (const entry of value.split(",")) if (entry) roots.push(entry);
    } else if (arg.startsWith("--allow-paths=") || arg.startsWith("--base-path=")) {
      for (const entry of arg.split("=")[1].split(",")) if (entry) roots.push(entry);
    } else {
      return { mode: "error", message: `unsupported argument '${arg}': this front only answers --version and --standard-json` };
    }
  }
  return { mode: mode || "help", roots };
}

function makeImportResolver(roots) {
  const searchRoots = [
    ...roots,
    process.cwd(),
    projectRoot,
    path.join(projectRoot, "node_modules"),
  ];
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : searchRoots.map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      try {
        if (fs.statSync(candidate).isFile()) {
          return { contents: fs.readFileSync(candidate, "utf8") };
        }
      } catch (_) {
        // not under this root; try the next one
      }
    }
    return { error: `File not found: ${importPath} (searched ${searchRoots.join(", ")})` };
  };
}

function readStdin() {
  return fs.readFileSync(0, "utf8");
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.mode === "error") {
    process.stderr.write(`solc-front: ${args.message}\n`);
    return 2;
  }
  if (args.mode === "version") {
    process.stdout.write(`solc, the solidity compiler commandline interface (solc-js front)\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (args.mode === "help") {
    process.stdout.write("usage: solc --version | solc --standard-json [--allow-paths P,...] < input.json\n");
    return 0;
  }
  let input;
  try {
    input = readStdin();
    JSON.parse(input);
  } catch (err) {
    // Standard-JSON callers expect a JSON answer even for unusable input.
    process.stdout.write(JSON.stringify({ errors: [{ type: "JSONError", component: "general", severity: "error", message: `input is not valid JSON: ${err.message}`, formattedMessage: `JSONError: input is not valid JSON: ${err.message}` }] }));
    return 0;
  }
  const output = solc.compile(input, { import: makeImportResolver(args.roots) });
  process.stdout.write(output);
  return 0;
}

process.exitCode = main();
