#!/usr/bin/env node
// Presents the npm `solc` package (the official JavaScript build of the compiler) as a
// native `solc` binary to py-solc-x / brownie (and, minimally, to crytic-compile/slither).
//
// Supported command line (the subset those tools use):
//   solc --version
//   solc --help                      (only the `--combined-json` line matters to solcx)
//   solc --standard-json [--allow-paths a,b] [--base-path p] [--include-path p]...
//                                    (Standard JSON input on stdin, output on stdout)
//   solc --combined-json abi,bin,... [options] [prefix=target ...] file.sol... | -
//
// Imports are resolved the way native solc resolves them: the source unit name (after
// remapping, which the compiler applies itself) is looked up under the base path (or the
// working directory when none is given) and then under each include path; the file must
// lie inside the base path, an include path, an --allow-paths entry or the folder of a
// file named on the command line.
//
// Output is written with fs.writeSync in a loop: process.stdout.write to a pipe is
// asynchronous and is cut (at 64 KiB) when the process exits early.
'use strict';

const fs = require('fs');
const path = require('path');

const HELP_COMBINED_JSON =
  'abi,asm,ast,bin,bin-runtime,devdoc,function-debug,function-debug-runtime,' +
  'generated-sources,generated-sources-runtime,hashes,metadata,opcodes,srcmap,' +
  'srcmap-runtime,storage-layout,userdoc';

function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // pipe full: wait
    }
  }
}

function fail(message, code = 1) {
  writeAll(2, message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}

function loadSolc() {
  // Node resolution from this file's real location finds <repo>/node_modules/solc.
  return require('solc');
}

// `0.8.28+commit.7893614a.Emscripten.clang` -> `0.8.28+commit.7893614a`
function versionCore(solc) {
  const m = /^(\d+\.\d+\.\d+(?:-nightly\.[\d.]+)?\+commit\.[0-9a-f]+)/.exec(solc.version());
  if (!m) fail(`solc adapter: cannot parse version '${solc.version()}'`);
  return m[1];
}

function parseArgs(argv) {
  const opts = {
    standardJson: false, combinedJson: null, allowPaths: [], basePath: '', includePaths: [],
    remappings: [], files: [], stdin: false, evmVersion: null, optimize: false,
    optimizeRuns: 200, viaIR: false, outputDir: null, version: false, help: false,
  };
  const takesValue = new Set([
    '--combined-json', '--allow-paths', '--base-path', '--include-path', '--evm-version',
    '--optimize-runs', '--output-dir', '-o', '--libraries', '--revert-strings',
    '--debug-info', '--model-checker-engine', '--model-checker-targets',
    '--model-checker-timeout', '--stop-after', '--pretty-json', '--json-indent',
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    } else if (takesValue.has(arg)) {
      if (i + 1 >= argv.length) fail(`Error: option '${arg}' needs a value`);
      value = argv[++i];
    }
    switch (arg) {
      case '--version': opts.version = true; break;
      case '--help': case '-h': opts.help = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--combined-json': opts.combinedJson = value.split(',').filter(Boolean); break;
      case '--allow-paths': opts.allowPaths.push(...value.split(',').filter(Boolean)); break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--evm-version': opts.evmVersion = value; break;
      case '--optimize': opts.optimize = true; break;
      case '--optimize-runs': opts.optimizeRuns = parseInt(value, 10); break;
      case '--via-ir': case '--experimental-via-ir': opts.viaIR = true; break;
      case '--output-dir': case '-o': opts.outputDir = value; break;
      case '--overwrite': case '--no-color': case '--color': case '--pretty-json': break;
      case '-': opts.stdin = true; break;
      default:
        if (arg.startsWith('-')) {
          fail(`unrecognised option '${arg}'`);
        } else if (arg.includes('=') && !fs.existsSync(arg)) {
          opts.remappings.push(arg);
        } else {
          opts.files.push(arg);
        }
    }
  }
  return opts;
}

function isInside(child, parent) {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOrSelf(p) {
  try { return fs.realpathSync(p); } catch (e) { return p; }
}

function makeImportCallback(opts, extraAllowedDirs) {
  const base = path.resolve(opts.basePath || '.');
  const includes = opts.includePaths.map((p) => path.resolve(p));
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => path.resolve(p)),
    ...extraAllowedDirs];
  const allowedReal = allowed.map(realOrSelf);
  const prefixes = [opts.basePath ? base : '', ...includes];

  return function importCallback(sourceUnitName) {
    const tried = [];
    for (const prefix of prefixes) {
      const candidate = path.isAbsolute(sourceUnitName) && prefix === ''
        ? sourceUnitName
        : path.resolve(prefix || '.', sourceUnitName);
      tried.push(candidate);
      if (!fs.existsSync(candidate) || !fs.statSync(candidate).isFile()) continue;
      const real = realOrSelf(candidate);
      const ok = allowed.some((dir) => isInside(candidate, dir)) ||
        allowedReal.some((dir) => isInside(real, dir));
      if (!ok) {
        return { error: `File outside of allowed directories: ${candidate} ` +
          `(allowed: ${allowed.join(', ')})` };
      }
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
    return { error: `File not found. Searched: ${tried.join(', ')}` };
  };
}

function runStandardJson(solc, opts) {
  const input = fs.readFileSync(0, 'utf8');
  const output = solc.compile(input, { import: makeImportCallback(opts, []) });
  writeAll(1, output);
  process.exit(0); // like native solc: errors are reported inside the JSON
}

const COMBINED_TO_SELECTION = {
  abi: ['abi'],
  asm: ['evm.legacyAssembly'],
  bin: ['evm.bytecode.object'],
  'bin-runtime': ['evm.deployedBytecode.object'],
  devdoc: ['devdoc'],
  userdoc: ['userdoc'],
  'function-debug': ['evm.bytecode.functionDebugData'],
  'function-debug-runtime': ['evm.deployedBytecode.functionDebugData'],
  'generated-sources': ['evm.bytecode.generatedSources'],
  'generated-sources-runtime': ['evm.deployedBytecode.generatedSources'],
  hashes: ['evm.methodIdentifiers'],
  metadata: ['metadata'],
  opcodes: ['evm.bytecode.opcodes'],
  srcmap: ['evm.bytecode.sourceMap'],
  'srcmap-runtime': ['evm.deployedBytecode.sourceMap'],
  'storage-layout': ['storageLayout'],
};

function pick(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function runCombinedJson(solc, opts) {
  const wanted = opts.combinedJson.filter((k) => k !== 'compact-format');
  for (const k of wanted) {
    if (k !== 'ast' && !COMBINED_TO_SELECTION[k]) {
      fail(`Invalid option to --combined-json: ${k}`);
    }
  }
  const base = path.resolve(opts.basePath || '.');
  const sources = {};
  const fileDirs = [];
  if (opts.stdin) sources['<stdin>'] = { content: fs.readFileSync(0, 'utf8') };
  for (const f of opts.files) {
    const abs = path.resolve(f);
    if (!fs.existsSync(abs)) fail(`"${f}" is not found.`);
    let name;
    if (opts.basePath && isInside(abs, base)) name = path.relative(base, abs);
    else name = path.isAbsolute(f) ? path.normalize(f) : path.normalize(f).replace(/^\.\//, '');
    sources[name.split(path.sep).join('/')] = { content: fs.readFileSync(abs, 'utf8') };
    fileDirs.push(path.dirname(abs));
  }
  if (Object.keys(sources).length === 0) fail('No input files given.');

  const contractSel = [];
  for (const k of wanted) if (COMBINED_TO_SELECTION[k]) contractSel.push(...COMBINED_TO_SELECTION[k]);
  const settings = {
    remappings: opts.remappings,
    optimizer: { enabled: opts.optimize, runs: opts.optimizeRuns },
    outputSelection: { '*': { '*': contractSel, '': wanted.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  const input = { language: 'Solidity', sources, settings };
  const out = JSON.parse(solc.compile(JSON.stringify(input),
    { import: makeImportCallback(opts, fileDirs) }));

  let hasError = false;
  for (const e of out.errors || []) {
    writeAll(2, (e.formattedMessage || e.message) + '\n');
    if (e.severity === 'error') hasError = true;
  }
  if (hasError) process.exit(1);

  const result = { contracts: {}, version: solc.version() };
  for (const [file, contracts] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const entry = {};
      for (const k of wanted) {
        if (!COMBINED_TO_SELECTION[k]) continue;
        const v = pick(c, COMBINED_TO_SELECTION[k][0]);
        entry[k] = v === undefined ? '' : v;
      }
      result.contracts[`${file}:${name}`] = entry;
    }
  }
  const sourceNames = Object.keys(out.sources || {}).sort(
    (a, b) => out.sources[a].id - out.sources[b].id);
  result.sourceList = sourceNames;
  result.sources = {};
  for (const n of sourceNames) {
    result.sources[n] = { id: out.sources[n].id };
    if (wanted.includes('ast')) result.sources[n].AST = out.sources[n].ast;
  }
  const text = JSON.stringify(result);
  if (opts.outputDir) {
    fs.mkdirSync(opts.outputDir, { recursive: true });
    fs.writeFileSync(path.join(opts.outputDir, 'combined.json'), text);
  } else {
    writeAll(1, text + '\n');
  }
  process.exit(0);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    writeAll(1, 'solc, the Solidity commandline compiler (npm solc adapter).\n\n' +
      'Usage: solc [options] [input_file...]\n\nOutput Components:\n' +
      `  --combined-json ${HELP_COMBINED_JSON}\n`);
    process.exit(0);
  }
  const solc = loadSolc();
  if (opts.version) {
    // Same text as the native Linux build prints; solcx parses `x.y.z+commit.hash`.
    writeAll(1, 'solc, the solidity compiler commandline interface\n' +
      `Version: ${versionCore(solc)}.Linux.g++\n`);
    process.exit(0);
  }
  if (opts.standardJson) return runStandardJson(solc, opts);
  if (opts.combinedJson) return runCombinedJson(solc, opts);
  fail('solc adapter: only --version, --help, --standard-json and --combined-json are supported');
}

main();
