#!/usr/bin/env node
// Generates the JSON Schema of the JSON report from its TypeScript types (JsonReport in src/reporters/json.ts)
// and writes docs/schema/report-v<schemaVersion>.json. With --check, writes nothing and exits 1 when the
// committed schema differs from what the types generate (CI drift check).
//
// The types are the source of truth: to change the schema, change the types and re-run this script. A change
// that is not additive also bumps SCHEMA_VERSION (and the `schemaVersion` literal), which makes this script write
// a new report-v<N>.json next to the old one instead of rewriting it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const ROOT = new URL('../', import.meta.url);
const SOURCE = 'src/reporters/json.ts';
const TYPE = 'JsonReport';

function generateReportSchema() {
  const generated = createGenerator({
    path: fileURLToPath(new URL(SOURCE, ROOT)),
    tsconfig: fileURLToPath(new URL('tsconfig.json', ROOT)),
    type: TYPE,
    // Interfaces and object literals are closed: a report with a field the types do not name is invalid.
    additionalProperties: false,
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    sortProps: true,
    // The rest of the tree may be mid-change; only the report types need to be sound, and tsc checks them.
    skipTypeCheck: true,
  }).createSchema(TYPE);
  const version = generated.definitions?.[TYPE]?.properties?.schemaVersion?.const;
  if (!Number.isInteger(version)) throw new Error(`gen-schema: ${TYPE}.schemaVersion must be a number literal`);
  const { $schema, ...rest } = generated;
  const schema = {
    $schema,
    title: `bindcheck JSON report, schemaVersion ${version}`,
    description: `Generated from ${TYPE} in ${SOURCE} by scripts/gen-schema.mjs; do not edit by hand.`,
    ...rest,
  };
  return { version, file: `docs/schema/report-v${version}.json`, text: JSON.stringify(schema, null, 2) + '\n' };
}

const { file, text } = generateReportSchema();
// `--against PATH` checks another copy instead of the committed file (the drift test uses it for the failing case).
const against = process.argv.indexOf('--against');
const target = against > 0 && process.argv[against + 1] ? pathToFileURL(resolve(process.argv[against + 1])) : new URL(file, ROOT);
if (process.argv.includes('--check')) {
  const committed = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  if (committed !== text) {
    console.error(
      committed === undefined
        ? `gen-schema: ${fileURLToPath(target)} is missing; run node scripts/gen-schema.mjs`
        : `gen-schema: ${fileURLToPath(target)} differs from what the types in ${SOURCE} generate; run node scripts/gen-schema.mjs`,
    );
    process.exit(1);
  }
  console.log(`gen-schema: ${fileURLToPath(target)} is up to date`);
} else {
  mkdirSync(new URL('docs/schema/', ROOT), { recursive: true });
  writeFileSync(target, text);
  console.log(`gen-schema: wrote ${file}`);
}
