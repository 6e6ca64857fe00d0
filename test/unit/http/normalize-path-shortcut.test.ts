// normalizePath's shortcut for plain paths answers exactly what the full algorithm answers: every short target over a
// tricky alphabet, and 200,000 seeded random targets, half of them made only of characters the shortcut accepts.
import t from 'tap';
import { normalizePath, normalizePathFully } from '../../../src/http/normalize-path.js';

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PLAIN = "ABCXYZabcxyz0189-._~!$&'()*+,=:@/";
const TOKENS = [
  ...PLAIN.split(''),
  '/',
  '/',
  '.',
  '..',
  '%',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%25',
  '%252e',
  '%41',
  '%7e',
  '%3b',
  '%00',
  '%zz',
  '%4',
  ';',
  '\\',
  '#',
  '?',
  '?a=1&b=/../',
  ' ',
  '\t',
  '\u0000',
  '\u007f',
  'é',
  '\u{1F600}',
  '"',
  '<',
  '>',
  '`',
  '{',
  '}',
  '|',
  '[',
  ']',
  '^',
];

function mismatch(target: string): string | null {
  const a = JSON.stringify(normalizePath(target));
  const b = JSON.stringify(normalizePathFully(target));
  return a === b ? null : `${JSON.stringify(target)}: shortcut ${a}, full ${b}`;
}

t.test('every target of up to 4 tokens after "/" over a small alphabet', async (t) => {
  const alphabet = ['a', '/', '.', '%', '2', 'e', ';', '?', '~', '%2e', '\\'];
  const failures: string[] = [];
  let count = 0;
  const walk = (prefix: string, depth: number): void => {
    count += 1;
    const m = mismatch(prefix);
    if (m !== null && failures.length < 5) failures.push(m);
    if (depth === 0) return;
    for (const tok of alphabet) walk(prefix + tok, depth - 1);
  };
  walk('/', 4);
  walk('', 2);
  t.same(failures, [], `${count} targets agree`);
});

t.test('seeded random targets', async (t) => {
  const rand = seeded(7);
  const failures: string[] = [];
  let plainOnly = 0;
  let unchanged = 0;
  for (let i = 0; i < 200_000; i++) {
    const plain = rand() < 0.5;
    const length = Math.floor(rand() * 24);
    let target = rand() < 0.98 ? '/' : '';
    for (let k = 0; k < length; k++) {
      target += plain ? PLAIN[Math.floor(rand() * PLAIN.length)] : TOKENS[Math.floor(rand() * TOKENS.length)];
    }
    if (plain) plainOnly += 1;
    const result = normalizePathFully(target);
    if (result.ok && result.path + result.query === target) unchanged += 1;
    const m = mismatch(target);
    if (m !== null && failures.length < 5) failures.push(m);
  }
  t.same(failures, [], 'no disagreement');
  t.ok(
    plainOnly > 90_000 && unchanged > 20_000,
    `both branches exercised (${plainOnly} plain-alphabet targets, ${unchanged} left unchanged by the full algorithm)`,
  );
});
