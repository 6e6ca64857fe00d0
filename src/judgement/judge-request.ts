// The verdict on one request head, from the connection it came on and the policy in force: pure, for every protocol.
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledPolicy, Refusal } from '../authz/route-policy.js';
import { duplicateHost, hostConflict } from '../http/host-header.js';
import { normalizePath } from '../http/normalize-path.js';
import type { Identity } from '../identity/types.js';
import type { RequestHead } from './request-head.js';

/** The verified caller of the connection, and whether its chains still stand under the snapshot being judged. */
export interface CallerStanding {
  identity: Identity;
  /** Revoked by a CRL, no longer anchored in a loaded CA, or expired since the handshake. */
  revoked: boolean;
}

/** What of the snapshot a request is judged under. */
export interface JudgedSnapshot {
  readonly policy: Pick<CompiledPolicy, 'decide'>;
}

export type RequestVerdict =
  /** A head that cannot be judged safely: the path without its query, for the log. */
  | {
      decision: 'bad_request';
      path: string;
      /** Nothing more on this HTTP/1.1 connection can be trusted to be framed. */ unframed: boolean;
    }
  | { decision: 'revoked'; path: string }
  | { decision: 'deny'; path: string; route: string; rule: string | null; refusal: Refusal | undefined }
  /** `forwardTarget` is the judged path and the untouched query; while `draining`, judged but not forwarded. */
  | { decision: 'allow'; path: string; route: string; rule: string | null; forwardTarget: string; draining: boolean };

/**
 * An HTTP/1 connection carries HTTP/1.0 and HTTP/1.1 request lines only. Node's parser also takes `HTTP/2.0` and
 * `HTTP/0.9` lines there (httpVersionMajor 2 or 0): they are refused, so nothing downstream meets a version number
 * that disagrees with the connection.
 */
function isHttp1Line(version: RequestHead['httpVersion']): boolean {
  return version.major === 1 && (version.minor === 0 || version.minor === 1);
}

/**
 * RFC 9112 §6.1: a request with Transfer-Encoding whose final coding is not `chunked` has a body of unknowable length
 * (400, and the connection closes). Node's parser lets such a request through and fails on its body afterwards.
 */
function chunkedLast(headers: IncomingHttpHeaders): boolean {
  const te = headers['transfer-encoding'];
  if (te === undefined) return true;
  const codings = te.split(',');
  return codings[codings.length - 1]?.trim().toLowerCase() === 'chunked';
}

/**
 * Bad request (path, framing, Host), then revoked, then the policy's decision on the normalized path. Draining
 * changes nothing in the judgement: an allowed request is still judged allowed, only not forwarded.
 */
export function judgeRequest(
  head: RequestHead,
  caller: CallerStanding,
  snapshot: JudgedSnapshot,
  draining: boolean,
): RequestVerdict {
  const normalized = normalizePath(head.target);
  const http1 = head.transport === 'h1';
  const unframed = http1 && (!isHttp1Line(head.httpVersion) || !chunkedLast(head.headers));
  if (
    !normalized.ok ||
    unframed ||
    (http1 && head.headers.host === undefined) ||
    hostConflict(head.headers) ||
    duplicateHost(head.rawHeaders)
  ) {
    return { decision: 'bad_request', path: head.target.split('?', 1)[0] ?? '', unframed };
  }
  const path = normalized.path;
  if (caller.revoked) return { decision: 'revoked', path };
  const { allowed, route, rule, refusal } = snapshot.policy.decide(head.method, path, caller.identity);
  if (!allowed) return { decision: 'deny', path, route, rule, refusal };
  return { decision: 'allow', path, route, rule, forwardTarget: path + normalized.query, draining };
}
