// The build context carries the sources the Dockerfile copies and nothing else: no keys, dev certificates, tests, .git
// or node_modules.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { compileDockerignore } from './lib/dockerignore.js';
import { DOCKERFILE, DOCKERIGNORE, REPO_ROOT } from './lib/paths.js';

const excluded = compileDockerignore(readFileSync(DOCKERIGNORE, 'utf8'));

t.test('secrets, tests and repository internals stay out', async (t) => {
  for (const path of [
    '.git/config',
    'node_modules/fastify/package.json',
    '.mtls-dev/server.key',
    '.mtls-dev/ca.crt',
    'certs-example/server.key',
    'certs-example/ca.crt',
    'deploy/compose/certs/server.key',
    'src/tls/fixture.key',
    'src/tls/fixture.pem',
    'src/http/x.test.ts',
    'test/deploy/grape-e2e.test.ts',
    '.env',
    '.env.local',
    'dist/main.js',
    'coverage/index.html',
  ]) {
    t.ok(excluded(path), `${path} is excluded`);
  }
});

t.test('everything the Dockerfile copies from the context is sent', async (t) => {
  const sources = DockerfileParser.parse(readFileSync(DOCKERFILE, 'utf8'))
    .getCOPYs()
    .filter((c) => !c.getFlags().some((f) => f.getName() === 'from'))
    .flatMap((c) =>
      c
        .getArguments()
        .slice(0, -1)
        .map((a) => a.getValue()),
    );
  t.ok(sources.includes('src'), 'copies src');
  for (const source of sources) {
    t.ok(existsSync(join(REPO_ROOT, source)), `${source} exists`);
    t.notOk(excluded(source.replace(/\/$/, '')), `${source} is sent`);
  }
});

// Walk the real tree: whatever is there today (keys others generated, tests) must not reach the context.
t.test('no file in the working tree that would be sent is a key or a test', async (t) => {
  const sent: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // another test run removed it (.tap/, temp dirs) while we walked
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const rel = relative(REPO_ROOT, path);
      if (excluded(rel) && !entry.isDirectory()) continue;
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name === '.git') {
          t.ok(excluded(rel), `${rel} is excluded`);
          continue;
        }
        walk(path);
      } else {
        sent.push(rel);
      }
    }
  };
  walk(REPO_ROOT);
  t.ok(sent.includes('package.json') && sent.some((p) => p.startsWith('src/')), 'the sources are sent');
  t.same(
    sent.filter((p) => /\.(key|pem|p12|pfx)$|\.test\.ts$|^test\/|^\.mtls-dev\//.test(p)),
    [],
  );
  t.same(
    sent.filter((p) => !/^(src\/|package\.json$|package-lock\.json$|tsconfig(\.build)?\.json$)/.test(p)),
    [],
    'nothing but sources and build config',
  );
});
