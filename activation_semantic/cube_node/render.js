#!/usr/bin/env node
/*
 * activation-semantic Cube engine.
 *
 * Compiles a Cube data-model folder with Cube's own compiler
 * (@cubejs-backend/schema-compiler, pinned in package.json) and renders the
 * SQL of Cube REST queries for a dialect, without a Cube server and without
 * the Rust add-on @cubejs-backend/native (its binary cannot be downloaded
 * offline; the JS compiler and the JS SQL planner do not need it).
 *
 * stdin:  {"modelDir": "/abs/path", "dialect": "duckdb|postgres|snowflake|bigquery",
 *          "queries": [<Cube REST query>...], "meta": true|false}
 * stdout: {"ok": true, "results": [{"sql", "params", "preAggregation", "error", ...}], "meta"?: {"cubes": [...]}}
 *      or {"ok": false, "errors": [{"message", "file", "cube", "member"?}]}
 *         ("member": "Cube.member" whose sql Cube could not evaluate, when known)
 *
 * Each result also carries, when a rollup pre-aggregation matches the query:
 *   "rollupSql"/"rollupParams": the SQL Cube would run against the rollup table,
 *   "preAggregationTables": [{"name", "tableName", "sql", "params"}] to build it.
 * "sql"/"params" are always the SQL against the source tables (pre-aggregations
 * disabled), so they run on a database that only holds the raw tables.
 *
 * Each result has "aliasNameToMember": SQL column alias -> member key as in Cube's
 * REST responses ("accounts__created_at_month" -> "Accounts.createdAt.month").
 *
 * Exit code is 0 whenever a JSON document was written.
 * Everything Cube logs goes to stderr, so stdout holds only the JSON document.
 */

'use strict';

process.env.CUBEJS_TESSERACT_SQL_PLANNER = 'false';
process.env.CUBEJS_TRANSPILATION_NATIVE = 'false';

const fs = require('fs');
const path = require('path');

// Keep stdout clean: Cube's ErrorReporter and friends log with console.log.
const realStdoutWrite = process.stdout.write.bind(process.stdout);
const toStderr = (...args) => {
  process.stderr.write(`${args.map((a) => (typeof a === 'string' ? a : require('util').inspect(a))).join(' ')}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.debug = toStderr;

function emit(doc, code = 0) {
  realStdoutWrite(`${JSON.stringify(doc)}\n`, () => process.exit(code));
}

const MODEL_EXTENSIONS = ['.yml', '.yaml', '.js'];

function listModelFiles(root) {
  const out = [];
  const walk = (dir) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.isFile() && MODEL_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) {
        out.push({
          fileName: path.relative(root, full).split(path.sep).join('/'),
          content: fs.readFileSync(full, 'utf8'),
        });
      }
    }
  };
  walk(root);
  return out;
}

const QUERY_CLASSES = {
  duckdb: () => require('@cubejs-backend/duckdb-driver/dist/src/DuckDBQuery.js').DuckDBQuery,
  postgres: () => require('@cubejs-backend/schema-compiler/dist/src/adapter/PostgresQuery.js').PostgresQuery,
  snowflake: () => require('@cubejs-backend/schema-compiler/dist/src/adapter/SnowflakeQuery.js').SnowflakeQuery,
  bigquery: () => require('@cubejs-backend/schema-compiler/dist/src/adapter/BigqueryQuery.js').BigqueryQuery,
};

// Stand-in for @cubejs-backend/native: only needed for Jinja templates and
// Python (globals.py) which the generated models never use.
// Cube routes a .yml/.yaml file to Jinja when its raw text contains `{{`, `}}`,
// `{%` or `%}` anywhere (comments and quoted strings included).
function jinjaError(fileName) {
  const e = new Error(`${fileName}: Cube treats this file as a Jinja template because its text contains `
    + '`{{`, `}}`, `{%` or `%}` (anywhere, comments included); Jinja needs @cubejs-backend/native, '
    + 'which this engine does not load. Write such characters escaped (e.g. \\x7B / \\x7D in a double-quoted YAML string).');
  e.activationSemanticFile = fileName;
  return e;
}

const NATIVE_STUB = {
  newJinjaEngine: () => ({
    loadTemplate: (fileName) => {
      throw jinjaError(fileName);
    },
    renderTemplate: async (fileName) => {
      throw jinjaError(fileName);
    },
  }),
  loadPythonContext: async () => ({}),
};

function errorMessage(e) {
  if (e === null || e === undefined) return String(e);
  if (typeof e === 'string') return e;
  if (e.messages && typeof e.messages === 'string') return e.messages;
  return e.message || String(e);
}

// Cube's messages name the cube as "Accounts cube: ...", "... in cube 'Accounts'",
// "cube Accounts", or via a context path "Accounts.measures.x".
function cubeFromMessage(message, cubeNames) {
  const patterns = [
    /^\s*(?:[\w-]+ -> )*([A-Za-z_][\w]*) (?:cube|view)\b/m,
    /\b(?:cube|view) '([A-Za-z_][\w]*)'/,
    /\b(?:cube|view) "([A-Za-z_][\w]*)"/,
    /\b(?:cube|view) `([A-Za-z_][\w]*)`/,
    /\b(?:cube|view) ([A-Za-z_][\w]*)\b/i,
  ];
  for (const re of patterns) {
    const m = message.match(re);
    if (m && (!cubeNames.length || cubeNames.includes(m[1]))) return m[1];
  }
  for (const name of cubeNames) {
    if (new RegExp(`(^|[^\\w.])${name}\\.[A-Za-z_]`).test(message)) return name;
  }
  return null;
}

// Fallback when the structured error list is not reachable: split Cube's
// "Compile errors:\n<file> Errors:\n<msg>\n..." text into file groups.
function parseCompileErrorText(text, files, cubeNames) {
  const out = [];
  let currentFile = null;
  let buf = [];
  const flush = () => {
    const msg = buf.join('\n').trim();
    if (msg) out.push({ message: msg, file: currentFile, cube: cubeFromMessage(msg, cubeNames) });
    buf = [];
  };
  for (const line of text.split('\n')) {
    if (line === 'Compile errors:') continue;
    const m = line.match(/^(.*?) ?Errors:$/);
    if (m) {
      flush();
      currentFile = m[1] && files.includes(m[1]) ? m[1] : (m[1] || null);
      continue;
    }
    buf.push(line);
  }
  flush();
  return out.length ? out : [{ message: text, file: null, cube: cubeFromMessage(text, cubeNames) }];
}

const cubeNamesCache = new Map();

// Names of the cubes and views a model file defines.
function cubeNamesInFile(f) {
  if (cubeNamesCache.has(f.fileName)) return cubeNamesCache.get(f.fileName);
  const names = [];
  if (/\.ya?ml$/i.test(f.fileName)) {
    try {
      const doc = require('js-yaml').load(f.content) || {};
      for (const key of ['cubes', 'views']) {
        for (const c of (Array.isArray(doc[key]) ? doc[key] : [])) {
          if (c && typeof c.name === 'string') names.push(c.name);
        }
      }
    } catch (e) {
      // unparsable YAML: no names
    }
  } else {
    for (const m of f.content.matchAll(/\b(?:cube|view)\s*\(\s*[`'"]([A-Za-z_]\w*)[`'"]/g)) names.push(m[1]);
  }
  cubeNamesCache.set(f.fileName, names);
  return names;
}

function cubeNamesInFiles(files) {
  return [...new Set(files.flatMap((f) => cubeNamesInFile(f)))];
}

function yamlSyntaxErrors(files) {
  let yaml;
  try {
    yaml = require('js-yaml');
  } catch (e) {
    return [];
  }
  const out = [];
  for (const f of files) {
    if (!/\.ya?ml$/i.test(f.fileName)) continue;
    try {
      yaml.load(f.content);
    } catch (e) {
      out.push({ fileName: f.fileName, message: errorMessage(e) });
    }
  }
  return out;
}

function cubesDefinedIn(file) {
  return file ? cubeNamesInFiles([file]) : [];
}

function fileForCube(cube, files) {
  if (!cube) return null;
  const hits = files.filter((f) => cubeNamesInFile(f).includes(cube));
  return hits.length === 1 ? hits[0].fileName : null;
}

// Cube's ErrorReporter keeps only the message of most errors (ReferenceErrors
// from evaluating a member's sql, Joi validation messages, ...). Record, next to
// each reported error, the file and cube it came from: the file the reporter is
// in, the "<Cube> cube" context, the cube being prepared, or the model file
// named in the stack of an error thrown by the model's own (transpiled) code.
const captured = [];
let knownFiles = [];

function fileFromStack(stack) {
  if (typeof stack !== 'string') return null;
  let best = null;
  let bestIdx = Infinity;
  for (const f of knownFiles) {
    const idx = stack.indexOf(`${f}:`);
    if (idx >= 0 && idx < bestIdx) {
      best = f;
      bestIdx = idx;
    }
  }
  return best;
}

function installErrorCapture() {
  const { ErrorReporter } = require('@cubejs-backend/schema-compiler/dist/src/compiler/ErrorReporter.js');
  const { CubeEvaluator } = require('@cubejs-backend/schema-compiler/dist/src/compiler/CubeEvaluator.js');
  const origError = ErrorReporter.prototype.error;
  ErrorReporter.prototype.error = function patchedError(e, fileName, ...rest) {
    try {
      const message = `${this.context.length ? `${this.context.join(' -> ')}: ` : ''}${e && e.message ? e.message : ((e && e.stack) || e)}`;
      let cube = (e && e.cubeName) || null;
      const member = (e && e.memberName) || null;
      for (const c of this.context) {
        const m = /^([A-Za-z_]\w*) (?:cube|view)$/.exec(c);
        if (m) {
          cube = m[1];
          break;
        }
      }
      const file = fileName || (this.file && this.file.fileName) || (e && e.fileName) || fileFromStack(e && e.stack) || null;
      captured.push({ message, file, cube, member });
    } catch (ignored) {
      // never let bookkeeping hide Cube's own error
    }
    return origError.call(this, e, fileName, ...rest);
  };
  // A member whose sql cannot be evaluated (e.g. `{noSuchMember}`) throws out of
  // prepareMembers without its name: find it by re-evaluating each member's sql.
  const origPrepareMembers = CubeEvaluator.prototype.prepareMembers;
  CubeEvaluator.prototype.prepareMembers = function patchedPrepareMembers(members, cube, errorReporter) {
    try {
      return origPrepareMembers.call(this, members, cube, errorReporter);
    } catch (e) {
      if (e && typeof e === 'object' && !e.memberName) {
        for (const [name, def] of Object.entries(members || {})) {
          if (!def || typeof def.sql !== 'function' || def.subQuery) continue;
          try {
            this.collectUsedCubeReferences(cube.name, def.sql);
          } catch (inner) {
            if (errorMessage(inner) === errorMessage(e)) {
              try {
                e.memberName = `${cube.name}.${name}`;
              } catch (ignored) {
                // frozen error object
              }
              break;
            }
          }
        }
      }
      throw e;
    }
  };
  const origPrepareCube = CubeEvaluator.prototype.prepareCube;
  CubeEvaluator.prototype.prepareCube = function patchedPrepareCube(cube, errorReporter) {
    try {
      return origPrepareCube.call(this, cube, errorReporter);
    } catch (e) {
      if (e && typeof e === 'object' && !e.cubeName) {
        try {
          e.cubeName = cube.name;
          if (!e.fileName && cube.fileName) e.fileName = cube.fileName;
        } catch (ignored) {
          // frozen error object
        }
      }
      throw e;
    }
  };
}

function cubeFileFromCompilers(compilers, cube) {
  try {
    const defs = compilers.cubeEvaluator.cubeDefinitions || {};
    if (defs[cube] && defs[cube].fileName) return defs[cube].fileName;
    const hit = (compilers.cubeEvaluator.cubeList || []).find((c) => c.name === cube);
    return (hit && hit.fileName) || null;
  } catch (e) {
    return null;
  }
}

function compileErrors(err, compilers, files) {
  const fileNames = files.map((f) => f.fileName);
  const cubeNames = cubeNamesInFiles(files);
  const reporter = compilers && compilers.compiler && compilers.compiler.errorsReporter;
  const structured = reporter && typeof reporter.getErrors === 'function' ? reporter.getErrors() : [];
  let errors;
  if (err && err.activationSemanticFile) {
    errors = [{ message: errorMessage(err), file: err.activationSemanticFile, cube: null }];
  } else if (structured && structured.length) {
    errors = structured.map((e) => {
      const message = typeof e === 'string' ? e : (e.plainMessage || e.message || String(e));
      const fullMessage = typeof e === 'string' ? e : (e.message || message);
      const info = captured.find((c) => c.message === fullMessage) || {};
      const cube = info.cube || cubeFromMessage(fullMessage, cubeNames);
      let file = (e && e.fileName) || info.file || null;
      if (!file && cube) file = cubeFileFromCompilers(compilers, cube) || fileForCube(cube, files);
      return { message: fullMessage, file, cube, member: info.member || null };
    });
  } else {
    errors = parseCompileErrorText(errorMessage(err), fileNames, cubeNames)
      .map((e) => ({ ...e, file: e.file || fileForCube(e.cube, files) }));
    // YAML parse errors are thrown from Cube's transpiler worker without the
    // file name: find the file that js-yaml (Cube's own parser) refuses.
    if (errors.every((e) => !e.file)) {
      const bad = yamlSyntaxErrors(files);
      if (bad.length === 1 && errors.length === 1) {
        errors[0].file = bad[0].fileName;
      } else if (bad.length) {
        errors = bad.map((b) => ({ message: `${b.fileName}: ${b.message}`, file: b.fileName, cube: null }));
      }
    }
  }
  for (const e of errors) {
    if (e.file && !e.cube) {
      const inFile = cubesDefinedIn(files.find((f) => f.fileName === e.file));
      if (inFile.length === 1) e.cube = inFile[0];
    }
  }
  return errors;
}

function safeJson(value) {
  return JSON.parse(JSON.stringify(value, (k, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'function') return undefined;
    return v;
  }));
}

const RAW_SQL_SCHEMA = 'activation_semantic_no_pre_aggregations';

function newQuery(QueryClass, compilers, query, extra = {}) {
  const { joinGraph, cubeEvaluator, compiler } = compilers;
  return new QueryClass({ joinGraph, cubeEvaluator, compiler }, { timezone: 'UTC', ...query, ...extra });
}

function renderQuery(QueryClass, compilers, query) {
  const result = { sql: null, params: [], preAggregation: null, error: null };
  try {
    // 1. Which pre-aggregation would Cube's matcher pick (first applicable, in model order)?
    const matcher = newQuery(QueryClass, compilers, query);
    let found = null;
    try {
      found = matcher.preAggregations.findPreAggregationForQuery() || null;
    } catch (e) {
      result.preAggregationError = errorMessage(e);
    }
    if (found) {
      result.preAggregation = `${found.cube}.${found.preAggregationName}`;
      try {
        const [rollupSql, rollupParams] = matcher.buildSqlAndParams();
        result.rollupSql = rollupSql;
        result.rollupParams = safeJson(rollupParams);
        result.preAggregationTables = matcher.preAggregations.preAggregationsDescription().map((d) => ({
          name: d.preAggregationId || null,
          tableName: d.tableName,
          sql: d.loadSql ? d.loadSql[0] : null,
          params: d.loadSql ? safeJson(d.loadSql[1]) : [],
        }));
      } catch (e) {
        result.preAggregationError = errorMessage(e);
      }
    }
    // 2. The SQL against the source tables: same query with the matcher switched off.
    //    A distinct pre-aggregation schema gives this query its own entry in Cube's
    //    per-query cache (keyed by the query options), so the rollup SQL that the
    //    matcher query above cached is not handed back here.
    const q = newQuery(QueryClass, compilers, query, { preAggregationsSchema: RAW_SQL_SCHEMA });
    q.preAggregations.findPreAggregationForQuery = () => undefined;
    q.preAggregations.findPreAggregationToUseForCube = () => null;
    const [sql, params] = q.buildSqlAndParams();
    result.sql = sql;
    result.params = safeJson(params);
    // Column alias -> REST member key ("Accounts.createdAt.month" for a time
    // dimension with a granularity), as Cube's API gateway maps result rows.
    result.aliasNameToMember = safeJson(q.aliasNameToMember);
  } catch (e) {
    result.error = errorMessage(e);
    result.sql = null;
    result.params = [];
  }
  return result;
}

const MEMBER_FIELDS = ['type', 'format', 'title', 'description', 'public', 'shown', 'primaryKey',
  'subQuery', 'propagateFiltersToSubQuery', 'drillMembers', 'rollingWindow', 'granularities',
  'aliasMember', 'ownedByCube', 'meta'];

function plainValue(v) {
  if (typeof v === 'function') return undefined;
  if (Array.isArray(v)) return v.map(plainValue);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      const pv = plainValue(v[k]);
      if (pv !== undefined) o[k] = pv;
    }
    return o;
  }
  return v;
}

function memberSql(QueryClass, compilers, kind, pathName) {
  const opts = kind === 'measure' ? { measures: [pathName] }
    : kind === 'segment' ? { segments: [pathName] } : { dimensions: [pathName] };
  try {
    const q = newQuery(QueryClass, compilers, opts, { preAggregationsSchema: RAW_SQL_SCHEMA });
    q.preAggregations.findPreAggregationForQuery = () => undefined;
    q.preAggregations.findPreAggregationToUseForCube = () => null;
    return compilers.compiler.withQuery(q, () => {
      if (kind === 'measure') return { sql: q.measures[0].measureSql() };
      if (kind === 'segment') return { sql: q.segments[0].segmentSql() };
      return { sql: q.dimensions[0].dimensionSql() };
    });
  } catch (e) {
    return { sql: null, sqlError: errorMessage(e) };
  }
}

function buildMeta(QueryClass, compilers) {
  const { cubeEvaluator } = compilers;
  const names = Object.keys(cubeEvaluator.evaluatedCubes).sort();
  const cubes = [];
  for (const name of names) {
    const cube = cubeEvaluator.evaluatedCubes[name];
    const entry = {
      name,
      isView: !!cube.isView,
      public: cube.public === undefined ? true : !!cube.public,
      title: cube.title || null,
      description: cube.description || null,
      fileName: cube.fileName || null,
      sql: null,
    };
    if (!cube.isView) {
      try {
        const q = newQuery(QueryClass, compilers, {});
        q.preAggregations.findPreAggregationToUseForCube = () => null;
        entry.sql = compilers.compiler.withQuery(q, () => (cube.sqlTable
          ? q.evaluateSql(name, cube.sqlTable) : q.evaluateSql(name, cube.sql)));
      } catch (e) {
        entry.sqlError = errorMessage(e);
      }
      const joins = Array.isArray(cube.joins) ? cube.joins
        : Object.entries(cube.joins || {}).map(([n, j]) => ({ ...j, name: j.name || n }));
      entry.joins = joins.map((join) => {
        let sql = null;
        try {
          const q = newQuery(QueryClass, compilers, {});
          sql = compilers.compiler.withQuery(q, () => q.evaluateSql(name, join.sql));
        } catch (e) {
          sql = null;
        }
        return { name: join.name, relationship: join.relationship, sql };
      }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      entry.preAggregations = Object.keys(cube.preAggregations || {}).sort().map((p) => {
        const pa = cube.preAggregations[p];
        let refs = null;
        try {
          refs = cubeEvaluator.evaluatePreAggregationReferences(name, pa);
        } catch (e) {
          refs = null;
        }
        return {
          name: p,
          type: pa.type,
          granularity: pa.granularity || null,
          measures: refs ? refs.measures : null,
          dimensions: refs ? refs.dimensions : null,
          timeDimensions: refs ? refs.timeDimensions : null,
        };
      });
    }
    for (const kind of ['measure', 'dimension', 'segment']) {
      const members = cube[`${kind}s`] || {};
      entry[`${kind}s`] = Object.keys(members).sort().map((m) => {
        const def = members[m];
        const out = { name: m };
        for (const f of MEMBER_FIELDS) {
          if (def[f] !== undefined) {
            const v = plainValue(def[f]);
            if (v !== undefined) out[f] = v;
          }
        }
        if (def.filters) {
          out.filtersCount = def.filters.length;
        }
        Object.assign(out, memberSql(QueryClass, compilers, kind, `${name}.${m}`));
        return out;
      });
    }
    cubes.push(entry);
  }
  return { cubes };
}

async function main() {
  let input;
  try {
    const raw = fs.readFileSync(0, 'utf8');
    input = JSON.parse(raw);
  } catch (e) {
    emit({ ok: false, errors: [{ message: `render.js: cannot read the JSON request on stdin: ${errorMessage(e)}`, file: null, cube: null }] });
    return;
  }
  const modelDir = input.modelDir;
  const dialect = input.dialect || 'duckdb';
  const queries = Array.isArray(input.queries) ? input.queries : [];
  if (!modelDir || !fs.existsSync(modelDir) || !fs.statSync(modelDir).isDirectory()) {
    emit({ ok: false, errors: [{ message: `model folder not found: ${modelDir}`, file: null, cube: null }] });
    return;
  }
  if (!QUERY_CLASSES[dialect]) {
    emit({ ok: false, errors: [{ message: `unknown dialect '${dialect}' (expected one of ${Object.keys(QUERY_CLASSES).join(', ')})`, file: null, cube: null }] });
    return;
  }
  const files = listModelFiles(path.resolve(modelDir));
  const QueryClass = QUERY_CLASSES[dialect]();
  knownFiles = files.map((f) => f.fileName).sort((a, b) => b.length - a.length);
  installErrorCapture();
  const { prepareCompiler } = require('@cubejs-backend/schema-compiler');
  const repo = {
    localPath: () => path.resolve(modelDir),
    dataSchemaFiles: () => Promise.resolve(files),
  };
  let compilers;
  try {
    compilers = prepareCompiler(repo, { nativeInstance: NATIVE_STUB });
    await compilers.compiler.compile();
  } catch (e) {
    emit({ ok: false, errors: compileErrors(e, compilers, files), files: files.map((f) => f.fileName) });
    return;
  }
  const results = queries.map((q) => renderQuery(QueryClass, compilers, q || {}));
  const doc = { ok: true, dialect, files: files.map((f) => f.fileName), results };
  if (input.meta) {
    try {
      doc.meta = buildMeta(QueryClass, compilers);
    } catch (e) {
      doc.meta = null;
      doc.metaError = errorMessage(e);
    }
  }
  emit(doc);
}

main().catch((e) => {
  emit({ ok: false, errors: [{ message: `render.js internal error: ${(e && e.stack) || errorMessage(e)}`, file: null, cube: null }] });
});
