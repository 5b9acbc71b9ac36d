import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/** The official GS1 EPCIS 2.0 JSON Schema, vendored in test/fixtures (never read from outside the repo). */
const FIXTURES = resolve(import.meta.dirname, '../fixtures/epcis-2.0');

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    // ajv-formats is CommonJS: under nodenext its default import is module.exports; .default is the plugin.
    ajvFormats.default(ajv);
    compiled = ajv.compile(
      JSON.parse(readFileSync(join(FIXTURES, 'EPCIS-JSON-Schema.json'), 'utf8')) as object,
    );
  }
  return compiled;
}

/** Schema errors of an EPCIS document or event, one readable line each; [] when it validates. */
export function epcisSchemaErrors(document: unknown): string[] {
  const validate = validator();
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}
