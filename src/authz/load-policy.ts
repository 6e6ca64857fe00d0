// Reads the policy file (if any) and compiles it with the --allow-* flags into the policy the proxy enforces.
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { allowSpecFromFlags } from './allow-rules.js';
import { trustedIssuersOf } from './issuer-scope.js';
import { parsePolicyFile } from './policy-file.js';
import { compilePolicy, type CompiledPolicy } from './route-policy.js';

export interface LoadedPolicy {
  policy: CompiledPolicy;
  digest: string;
}

/**
 * `caCerts` are the loaded client CAs: serial rules without an issuer are scoped to the one CA name, or refused when
 * several names are trusted. Without them (material that did not load) serial rules are checked for syntax only.
 */
export function loadPolicy(
  config: Pick<Config, 'policy' | 'allow' | 'allowAnyVerified'>,
  caCerts?: readonly X509Certificate[],
): LoadedPolicy {
  const flagSpec = allowSpecFromFlags(config.allow, config.allowAnyVerified);
  const trust = caCerts === undefined ? undefined : trustedIssuersOf(caCerts);
  if (config.policy === undefined) {
    return { policy: compilePolicy(null, flagSpec, 'policy', trust), digest: 'flags' };
  }
  let text: string;
  try {
    text = readFileSync(config.policy, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `--policy ${config.policy}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path`,
    ]);
  }
  const doc = parsePolicyFile(text, config.policy);
  return {
    policy: compilePolicy(doc, flagSpec, config.policy, trust),
    digest: createHash('sha256').update(text).digest('hex'),
  };
}
