/**
 * State hashes: a sha256 over the canonical encoding of one or more views, so two
 * replicas can check in one comparison that they hold identical state.
 */
import { createHash } from 'node:crypto'
import { canonicalEncode } from '../../model/canonical.js'

/** Version tag mixed into every hash, bumped if the canonical encoding ever changes. */
export const STATE_HASH_VERSION = 'paired/state-hash/v1'

/**
 * Lowercase hex sha256 of `canonicalEncode([...views])` prefixed by `STATE_HASH_VERSION`.
 * Key and insertion order never matter; view order does (`stateHash(a, b)` differs from
 * `stateHash(b, a)`). Throws `CanonicalEncodingError` on values it cannot encode.
 */
export function stateHash (...views: unknown[]): string {
  return createHash('sha256')
    .update(STATE_HASH_VERSION)
    .update('\n')
    .update(canonicalEncode(views))
    .digest('hex')
}
