// An XFCC parser written from Envoy's grammar, not from our formatter: the independent reader of
// x-forwarded-client-cert.

export type Element = Array<[string, string]>;

export const PRINTABLE = /^[\x20-\x7e]*$/;

function hexValue(s: string, i: number): number {
  const h = s.slice(i, i + 2);
  if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw new Error(`bad escape at ${i} in ${s}`);
  return parseInt(h, 16);
}

/**
 * Envoy's grammar (elements split by `,`, pairs by `;`, key=value, `"`-quoted values with `\"`), plus the
 * SPEC's `\\` inside quotes and `\XX` bytes anywhere. Written from the grammar, not from the formatter.
 */
export function parseXfcc(header: string): Element[] {
  const elements: Element[] = [];
  let pairs: Element = [];
  let i = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const eq = header.indexOf('=', i);
    if (eq < 0) throw new Error(`missing = after ${i}`);
    const key = header.slice(i, eq);
    if (!/^[A-Za-z]+$/.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
    i = eq + 1;
    const bytes: number[] = [];
    if (header[i] === '"') {
      i++;
      for (;;) {
        const ch = header[i];
        if (ch === undefined) throw new Error('unterminated quote');
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\') {
          const next = header[i + 1];
          if (next === '"' || next === '\\') {
            bytes.push(next.charCodeAt(0));
            i += 2;
          } else {
            bytes.push(hexValue(header, i + 1));
            i += 3;
          }
          continue;
        }
        bytes.push(ch.charCodeAt(0));
        i++;
      }
    } else {
      for (;;) {
        const ch = header[i];
        if (ch === undefined || ch === ';' || ch === ',') break;
        if (ch === '"' || ch === '=') throw new Error(`${ch} in an unquoted value`);
        if (ch === '\\') {
          bytes.push(hexValue(header, i + 1));
          i += 3;
          continue;
        }
        bytes.push(ch.charCodeAt(0));
        i++;
      }
    }
    pairs.push([key, Buffer.from(bytes).toString('utf8')]);
    const sep = header[i];
    if (sep === undefined) {
      elements.push(pairs);
      return elements;
    }
    if (sep === ',') {
      elements.push(pairs);
      pairs = [];
    } else if (sep !== ';') throw new Error(`unexpected ${sep} at ${i}`);
    i++;
  }
  throw new Error('parser guard tripped');
}
