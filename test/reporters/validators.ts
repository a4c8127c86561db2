// Schema validators for the machine-readable reports. ajv and its plugins are CommonJS whose module.exports is
// also their `default`; under NodeNext the default import is module.exports, so `.default` is the class either way.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ajvModule from 'ajv';
import ajvDraft04Module from 'ajv-draft-04';
import ajvFormatsModule from 'ajv-formats';

export const REPO = join(import.meta.dirname, '..', '..');

const Ajv = ajvModule.default;
const AjvDraft04 = ajvDraft04Module.default;
const addFormats = ajvFormatsModule.default;

export type Validate = (data: unknown) => string[];

function wrap(fn: { (data: unknown): boolean; errors?: { instancePath: string; message?: string; params?: unknown }[] | null }): Validate {
  return (data) =>
    fn(data) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params ?? {})}`);
}

/** docs/schema/report-v1.json, compiled in ajv's strict mode with format checks. */
export function reportSchemaValidator(): Validate {
  const schema = JSON.parse(readFileSync(join(REPO, 'docs/schema/report-v1.json'), 'utf8')) as object;
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  return wrap(ajv.compile(schema));
}

/**
 * The OASIS SARIF 2.1.0 schema as Microsoft's SARIF team ships it in @microsoft/jest-sarif (the schemastore
 * "sarif-2.1.0-rtm.5" file; draft-04). Formats are checked: helpUri and the like must be absolute URIs.
 */
export function sarifSchemaFile(): string {
  return createRequire(import.meta.url).resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
}

export function sarifSchemaValidator(): Validate {
  const schema = JSON.parse(readFileSync(sarifSchemaFile(), 'utf8')) as object;
  // Strict mode stays on, except where the official schema itself trips it: its `anyOf` branches require
  // properties that only the enclosing object defines (strictRequired, a schema-authoring lint), and the
  // `language` pattern has a stray `]` (`...{2}]?$`) that is only legal in a non-unicode RegExp.
  const ajv = new AjvDraft04({ strict: true, strictRequired: false, unicodeRegExp: false, allErrors: true });
  addFormats(ajv);
  return wrap(ajv.compile(schema));
}
