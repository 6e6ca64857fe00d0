// The verdict on a request as the listener received it, for both ways in (the authorize hook and the direct path).
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { ChainTrust } from '../gate/judge-chain.js';
import { callerStandingOf, type VerifiedConnection } from '../gate/verified-connection.js';
import { judgeRequest, type JudgedSnapshot, type RequestVerdict } from './judge-request.js';
import { requestHeadOf, type RequestHead } from './request-head.js';

/** The snapshot store: policy, CAs and CRLs in force now, and a version that changes with them. */
export interface JudgingStore {
  readonly current: JudgedSnapshot & { version: number; material: ChainTrust };
}

/** judgeRequest on `raw` from the verified connection `conn`, under the snapshot in force now. */
export function judgeArrived(
  raw: IncomingMessage | Http2ServerRequest,
  transport: RequestHead['transport'],
  conn: VerifiedConnection,
  store: JudgingStore,
  draining: boolean,
): RequestVerdict {
  const snapshot = store.current;
  return judgeRequest(requestHeadOf(raw, transport), callerStandingOf(conn, snapshot), snapshot, draining);
}
