// The policy agrees with real routers: every spelling that Grape, Rails, Django REST framework or Flask send to the
// handler of a protected route is refused to a caller that route does not admit (or refused with 400 before any
// upstream sees it). Each framework, run here on the paths the proxy would forward, is the oracle.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { compilePolicy } from '../../src/authz/route-policy.js';
import { normalizePath } from '../../src/http/normalize-path.js';
import { makeIdentity } from '../unit/authz/identity-fixture.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/frameworks');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Raw targets as a caller may send them; each is normalized first, as the proxy does.
const SPELLINGS = [
  '/admin',
  '/admin/',
  '/admin//',
  '/./admin.json',
  '/admin.json',
  '/admin.json/',
  '/admin.xml',
  '/admin.txt',
  '/admin.html',
  '/admin.JSON',
  '/admin.',
  '/admin..json',
  '/admin.tar.gz',
  '/admin.json.xml',
  '/admin/.json',
  '/admin%2Ejson',
  '/admin%2ejson',
  '/admin.j%73on',
  '/admin%2E',
  '/admin%20',
  '/admin.json%20',
  '/admin~',
  '/admin-',
  '/admin_',
  '/admin:json',
  '/admin@x',
  '/admin!',
  '/admin.json/x',
  '/admin/x',
  '/admin/x.json',
  '/ADMIN',
  '/Admin',
  '/ADMIN.JSON',
  '/Admin/',
  '/%41dmin.json',
  '/admin.%6Ason',
];

const ops = makeIdentity({ commonNames: ['ops'] });
const orders = makeIdentity({ commonNames: ['orders'] });
const POLICIES = {
  '/admin': compilePolicy(
    { routes: [{ path: '/admin', allow: [{ cn: 'ops' }] }], default: { allow: 'any-verified' } },
    null,
  ),
  '/users/': compilePolicy(
    { routes: [{ path: '/users/', allow: [{ cn: 'ops' }] }], default: { allow: 'any-verified' } },
    null,
  ),
};

/** Which policy guards each framework's protected handler, and how a spelling of /admin is spelled for it. */
const GUARDED_BY: Record<string, { policy: keyof typeof POLICIES; respell: (p: string) => string }> = {
  grape: { policy: '/admin', respell: (p) => p },
  'grape-format-json': { policy: '/admin', respell: (p) => p },
  rails: { policy: '/admin', respell: (p) => p },
  'django-drf': { policy: '/admin', respell: (p) => p },
  'django-drf-slash': { policy: '/users/', respell: (p) => p.replace('/admin', '/users') },
  flask: { policy: '/admin', respell: (p) => p },
};

const forwarded = [
  ...new Set(
    SPELLINGS.flatMap((s) => {
      const n = normalizePath(s);
      return n.ok ? [n.path] : [];
    }),
  ),
];

/** Runs one fixture and returns { framework: { path: routedToTheHandler } }, or the reason it cannot run here. */
function ask(command: string, script: string): Record<string, Record<string, boolean>> | string {
  try {
    const out = execFileSync(command, [join(FIXTURES, script), ...forwarded], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out) as Record<string, Record<string, boolean>>;
  } catch (err) {
    return `${script} did not run (${(err as Error).message.split('\n')[0]}); Debian: apt-get install ruby-grape ruby-actionpack python3-djangorestframework python3-flask`;
  }
}

for (const [command, script] of [
  ['ruby', 'grape.rb'],
  ['ruby', 'rails.rb'],
  [PYTHON, 'django_drf.py'],
  [PYTHON, 'flask_app.py'],
] as const) {
  const answer = ask(command, script);
  t.test(script, { skip: typeof answer === 'string' ? answer : false }, async (t) => {
    if (typeof answer === 'string') return;
    for (const [framework, routed] of Object.entries(answer)) {
      const guard = GUARDED_BY[framework];
      if (guard === undefined) throw new Error(`no guard for ${framework}`);
      const policy = POLICIES[guard.policy];
      const reached = forwarded.filter((p) => routed[p] === true);
      t.ok(
        reached.length > 0,
        `${framework}: the handler is reached (premise): ${reached.map(guard.respell).join(' ')}`,
      );
      for (const p of reached) {
        const path = guard.respell(p);
        t.equal(
          policy.decide('GET', path, orders).allowed,
          false,
          `${framework} runs the handler for ${path}: refused to the workload`,
        );
        t.equal(
          policy.decide('GET', path, ops).allowed,
          true,
          `${framework} runs the handler for ${path}: admitted for ops`,
        );
      }
    }
  });
}
