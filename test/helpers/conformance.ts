/**
 * The standards' reference tools written in Python, in a venv of their own
 * (.local/conformance-venv), pinned by test/conformance/requirements.txt: installed once,
 * again only when the pins change.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { localDir, packageRoot } from '../../localcloud/settings';

const exec = promisify(execFile);
const requirements = path.join(packageRoot, 'test', 'conformance', 'requirements.txt');
const venv = path.join(localDir, 'conformance-venv');
export const conformancePython = path.join(venv, 'bin', 'python');

export function ensureConformanceVenv(): Promise<string> {
  return ensureVenv(venv, requirements);
}

/** A venv with a pinned requirements file, installed once, again only when the pins change: its python. */
export async function ensureVenv(dir: string, requirementsFile: string): Promise<string> {
  const python = path.join(dir, 'bin', 'python');
  const stamp = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  const stampFile = path.join(dir, '.datacycle-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return python;
  if (!existsSync(python)) await exec('python3', ['-m', 'venv', dir]);
  await exec(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirementsFile], {
    timeout: 600_000,
  });
  writeFileSync(stampFile, stamp);
  return python;
}

/** Runs a Python snippet in the conformance venv with `input` as JSON on stdin; its stdout parsed as JSON. */
export async function runConformancePython<T>(code: string, input: unknown): Promise<T> {
  const python = await ensureConformanceVenv();
  const child = execFile(python, ['-c', code], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`python exited ${code}: ${stderr}`)),
    );
  });
  child.stdin?.end(JSON.stringify(input));
  return JSON.parse(await output) as T;
}

/**
 * Verifies deliveries with the Python reference library of Standard Webhooks
 * (`standardwebhooks`): for each, 'ok' or why it refused it.
 */
export function verifyWithPythonStandardWebhooks(
  deliveries: { secret: string; headers: Record<string, string>; body: string }[],
): Promise<string[]> {
  return runConformancePython<string[]>(
    `
import json, sys
from standardwebhooks.webhooks import Webhook
verdicts = []
for delivery in json.load(sys.stdin):
    try:
        Webhook(delivery["secret"]).verify(delivery["body"], delivery["headers"])
        verdicts.append("ok")
    except Exception as error:
        verdicts.append(f"{type(error).__name__}: {error}")
print(json.dumps(verdicts))
`,
    deliveries,
  );
}

/**
 * `frictionless validate` (frictionless-py, the Frictionless reference implementation) on a
 * datapackage.json and the files beside it: every error, package- or resource-level, as text.
 */
export async function validateDataPackage(descriptor: string): Promise<{ valid: boolean; errors: string[] }> {
  const python = await ensureConformanceVenv();
  const frictionless = path.join(path.dirname(python), 'frictionless');
  const { stdout } = await exec(frictionless, ['validate', '--json', path.basename(descriptor)], {
    cwd: path.dirname(descriptor),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '{}' }));
  const report = JSON.parse(stdout) as {
    valid: boolean;
    errors?: { type: string; message: string }[];
    tasks?: { name: string; errors: { type: string; message: string }[] }[];
  };
  const errors = [
    ...(report.errors ?? []).map((error) => `package: ${error.type}: ${error.message}`),
    ...(report.tasks ?? []).flatMap((task) =>
      task.errors.map((error) => `${task.name}: ${error.type}: ${error.message}`),
    ),
  ];
  return { valid: report.valid, errors };
}

/** What GeoPandas (the GeoParquet reader of the Python world) reads from a GeoParquet file. */
export interface GeoParquetReading {
  /** The file's `geo` metadata, as written. */
  geo: { version: string; primary_column: string; columns: Record<string, Record<string, unknown>> };
  /** The CRS GeoPandas understood, as an authority:code (EPSG:4326 for the default OGC:CRS84). */
  crs: string | null;
  /** Each row's geometry as WKT (null for none). */
  wkt: (string | null)[];
  /** The bounds of every geometry read: [xmin, ymin, xmax, ymax]. */
  totalBounds: number[];
  /** Each column's Arrow type as pyarrow reads the file's schema (e.g. date32[day]). */
  types: Record<string, string>;
  /** Non-geometry cells as pandas reads them, rendered by json.dumps(default=str). */
  records: Record<string, unknown>[];
}

export function readGeoParquet(file: string): Promise<GeoParquetReading> {
  return runConformancePython<GeoParquetReading>(
    `
import json, sys
import geopandas, pyarrow.parquet as pq
path = json.load(sys.stdin)
geo = json.loads(pq.read_metadata(path).metadata[b"geo"])
frame = geopandas.read_parquet(path)
crs = frame.crs.to_authority() if frame.crs is not None else None
print(json.dumps({
  "geo": geo,
  "crs": ":".join(crs) if crs else None,
  "wkt": [None if g is None else g.wkt for g in frame.geometry],
  "totalBounds": [float(v) for v in frame.total_bounds],
  "types": {field.name: str(field.type) for field in pq.read_schema(path)},
  "records": json.loads(frame.drop(columns=list(geo["columns"])).to_json(orient="records", date_format="iso")),
}, default=str))
`,
    file,
  );
}

/** One SHACL result: its severity, the node and property it is about, and the shape's message. */
export interface ShaclResult {
  severity: string;
  focus: string;
  path: string | null;
  message: string;
}

/**
 * pyshacl (the Python SHACL reference validator) with the DCAT-AP 3.0.0 shapes shipped in
 * test/fixtures/standards, on an RDF document (`json-ld` or `turtle`): every result.
 */
export function validateDcatAp(
  document: string,
  format: 'json-ld' | 'turtle',
): Promise<{ conforms: boolean; triples: number; results: ShaclResult[] }> {
  const shapes = path.join(packageRoot, 'test', 'fixtures', 'standards', 'dcat-ap-3.0.0-SHACL.ttl');
  return runConformancePython(
    `
import json, sys
from pyshacl import validate
from rdflib import Graph, Namespace
SH = Namespace("http://www.w3.org/ns/shacl#")
request = json.load(sys.stdin)
data = Graph().parse(data=request["document"], format=request["format"])
shapes = Graph().parse(request["shapes"], format="turtle")
conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
results = []
for result in report.subjects(SH.resultSeverity, None):
    path = report.value(result, SH.resultPath)
    results.append({
        "severity": str(report.value(result, SH.resultSeverity)).split("#")[-1],
        "focus": str(report.value(result, SH.focusNode)),
        "path": None if path is None else str(path),
        "message": str(report.value(result, SH.resultMessage)),
    })
print(json.dumps({"conforms": conforms, "triples": len(data), "results": results}))
`,
    { document, format, shapes },
  );
}

/**
 * `schemathesis run` (the OpenAPI reference fuzzer) with test/conformance/schemathesis.toml:
 * every phase, every check, against `baseUrl`; its exit code and what it printed.
 */
export async function runSchemathesis(options: {
  document: string;
  baseUrl: string;
  headers: Record<string, string>;
  env: Record<string, string>;
}): Promise<{ code: number; output: string }> {
  const python = await ensureConformanceVenv();
  const schemathesis = path.join(path.dirname(python), 'schemathesis');
  const config = path.join(packageRoot, 'test', 'conformance', 'schemathesis.toml');
  const args = [
    '--no-color',
    '--config-file',
    config,
    'run',
    options.document,
    '--url',
    options.baseUrl,
    '--phases',
    'examples,coverage,fuzzing,stateful',
    '--checks',
    'all',
    // One worker: with two threads, CPython 3.11's AST construction (hypothesis describes each
    // filter by parsing its source) can fail at random with "SystemError: AST constructor
    // recursion depth mismatch" (python/cpython#106905), a runtime error of the tool, not a
    // finding: seen once in a fresh-clone CI run.
    '--workers',
    '1',
    ...Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
  ];
  return exec(schemathesis, args, {
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 900_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : 1,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
}

/**
 * OpenLineage events checked with the `jsonschema` library against the specification's own
 * JSON Schemas (test/fixtures/openlineage): each event as a RunEvent, and each facet against
 * the schema its `_schemaURL` names (a facet of an unknown schema is an error). Returns the
 * errors found, none when every event is valid.
 */
export function validateOpenLineage(events: unknown[]): Promise<string[]> {
  return runConformancePython<string[]>(
    `
import json, pathlib, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
root = pathlib.Path(${JSON.stringify(path.join(packageRoot, 'test', 'fixtures', 'openlineage'))})
resources = []
for file in root.rglob('*.json'):
    schema = json.loads(file.read_text())
    resources.append((schema['$id'], Resource.from_contents(schema)))
registry = Registry().with_resources(resources)
known = dict(resources)
def check(schema_ref, value, where, errors):
    validator = Draft202012Validator({'$ref': schema_ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(value):
        errors.append(f"{where}: {error.message} at {'/'.join(map(str, error.absolute_path))}")
errors = []
for index, event in enumerate(json.load(sys.stdin)):
    where = f"event {index} ({event.get('job', {}).get('name')} {event.get('eventType')})"
    check('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent', event, where, errors)
    facets = [('job', event.get('job', {}).get('facets', {})), ('run', event.get('run', {}).get('facets', {}))]
    for kind in ('inputs', 'outputs'):
        for dataset in event.get(kind, []):
            for group in ('facets', 'inputFacets', 'outputFacets'):
                facets.append((f"{kind} {dataset.get('name')} {group}", dataset.get(group, {})))
    for place, group in facets:
        for name, value in group.items():
            url = value.get('_schemaURL', '')
            base = url.split('#')[0]
            if base not in known:
                errors.append(f"{where} {place} {name}: no known schema {url}")
                continue
            check(url, value, f"{where} {place} {name}", errors)
print(json.dumps(errors))
`,
    events,
  );
}
