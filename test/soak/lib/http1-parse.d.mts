// Types for http1-parse.mjs.
export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  close: boolean;
}

export declare function parseResponses(
  onResponse: (res: ParsedResponse) => void,
  onGarbage: () => void,
): { push(chunk: Buffer): void; midResponse(): boolean };
