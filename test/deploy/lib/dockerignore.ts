// A .dockerignore matcher following Docker's rules (last matching pattern wins, `!` re-includes,
// `**` spans directories, a pattern matching a parent directory matches everything below it).
export type IgnoreMatcher = (path: string) => boolean;

interface Rule {
  negate: boolean;
  regex: RegExp;
}

function toRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      const slashAfter = pattern[i + 2] === '/';
      out += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += `\\${pattern[++i] as string}`;
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      out += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
      i = end;
    } else {
      out += c.replace(/[.+^${}()|]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/** Builds a matcher from .dockerignore text; it returns true for paths left out of the build context. */
export function compileDockerignore(text: string): IgnoreMatcher {
  const rules: Rule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    // Docker cleans each pattern like a path: no leading or trailing slash, no `./`.
    line = line.replace(/^\/+|\/+$/g, '').replace(/^(\.\/)+/, '');
    if (line === '') continue;
    rules.push({ negate, regex: toRegex(line) });
  }
  return (path: string) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.regex.test(c))) excluded = !rule.negate;
    }
    return excluded;
  };
}
