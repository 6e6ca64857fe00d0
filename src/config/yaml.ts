// YAML parsing, loaded on first use: a sidecar configured by flags or environment never pays for the parser.
import { createRequire } from 'node:module';
import type { Document } from 'yaml';

let parser: typeof import('yaml') | undefined;

/** `yaml`'s parseDocument with the options every caller here uses (pretty errors, duplicate keys refused). */
export function parseYamlDocument(text: string): Document.Parsed {
  parser ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return parser.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
}
