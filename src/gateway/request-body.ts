import { invalidRequest } from '../core/errors.js';

/** A body past `server.max_body_bytes`, refused before it is buffered. */
export function tooLarge(limit: number) {
  return invalidRequest(`The request body is larger than the limit of ${limit} bytes.`, undefined, 'BODY_TOO_LARGE', 413);
}
