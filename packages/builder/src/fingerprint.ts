/**
 * The SSH key fingerprint the controller stores for every key: MD5 of the decoded key blob in colon hex
 * (`54:6d:da:…`), so the builder can ask the controller who owns the key a pusher offers.
 * @module
 */
import { createHash } from 'node:crypto';

/** MD5 colon-hex fingerprint of a key blob in SSH wire format (the base64-decoded middle field of a public key line). */
export function md5Fingerprint(keyBlob: Buffer): string {
  const hex = createHash('md5').update(keyBlob).digest('hex');
  return hex.match(/../g)!.join(':');
}
