/**
 * Coded errors of the content layer. The server maps `code` to an HTTP status or a TFTP error
 * in one place (DESIGN.md lesson 8); content code never knows about transports.
 */
export type ContentErrorCode =
  | 'not-found' // no such blob, content object, version or file (404, TFTP "file not found")
  | 'hash-mismatch' // bytes do not hash to what the caller or the record expected
  | 'size-mismatch' // bytes are not as long as the caller expected
  | 'hostile-path' // a path or hash string that could escape the store root, or a symlink out of a folder
  | 'range-not-satisfiable' // a byte range outside the blob (416)
  | 'corrupt' // stored data no longer matches its hash or record
  | 'exists' // creating something that is already there (409)
  | 'invalid'; // input that breaks a shape rule (400)

export class ContentError extends Error {
  readonly code: ContentErrorCode;

  constructor(code: ContentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContentError';
    this.code = code;
  }
}

export const isContentError = (e: unknown, code?: ContentErrorCode): e is ContentError =>
  e instanceof ContentError && (code === undefined || e.code === code);
