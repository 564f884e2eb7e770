/**
 * The LevelDB key schema, one line per prefix (values are JSON):
 *
 * | key | value |
 * |---|---|
 * | `/version` | the store format version (number); checked at open, migrated when older |
 * | `peers/<teamId>/<peerId>` | a known peer of that team: `{ addrs: string[], name?: string, lastSeen: number }` |
 * | `departed/<teamId>` | members that left that team: their signed departures (`Departure[]`) |
 * | `roster/<teamId>` | the team roster's whole state (`Roster.toJSON()`: every certificate that counts) |
 * | `ops/<teamId>/<author>/<toSeq16>` | one log record of `author`, keyed by its last seq (16 digits): a signed `OpBatch` (after compaction pruned to its live ops, hash list kept) or an unsigned `FoldRecord` of superseded seqs, never last; the first key >= `…/<seq16>` holds op `seq` (the per-op index) |
 * | `head/<teamId>/<author>` | highest contiguous seq of `author` applied (number): the version vector, one author per key |
 * | `kv/<teamId>/<key>` | the LWW view of kv key `key`: `{ value, hlc, author, seq }` of the winning op, a tombstone without `value` |
 * | `task/<teamId>/<taskId>` | the task view: the join of every fact of that task (`TaskRecord`; the placeholder spec until its `task:create` arrives) |
 * | `rep/<teamId>/<peerId>` | this daemon's reputation of a peer (`ReputationState`, local: not replicated) |
 * | `clock/<teamId>` | the last hlc this store's clock issued or received, so it resumes after it on restart |
 * | `sync/<teamId>` | a counter written with `sync: true` to make earlier unsynced writes durable (`OpStore.durable`) |
 * | `snap/<teamId>` | the last compaction's fold point: `{ vv, at, droppedOps }`; below `vv`, ops superseded in the view are gone from `ops/` |
 *
 * A record, the head it advances, the view entries it changes and the clock are always
 * written in one atomic LevelDB batch.
 */

export const STORE_VERSION = 1
export const VERSION_KEY = '/version'

export const peerKey = (teamId: string, peerId: string): string => `peers/${teamId}/${peerId}`
export const peerPrefix = (teamId: string): string => `peers/${teamId}/`
export const rosterKey = (teamId: string): string => `roster/${teamId}`
export const departedKey = (teamId: string): string => `departed/${teamId}`

/** digits of a seq in a key: every safe integer fits, and string order is numeric order */
export const SEQ_DIGITS = 16
export const seqKeyPart = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0')

export const opsPrefix = (teamId: string, author: string): string => `ops/${teamId}/${author}/`
export const opsKey = (teamId: string, author: string, toSeq: number): string => `${opsPrefix(teamId, author)}${seqKeyPart(toSeq)}`
export const headPrefix = (teamId: string): string => `head/${teamId}/`
export const headKey = (teamId: string, author: string): string => `${headPrefix(teamId)}${author}`
export const kvPrefix = (teamId: string): string => `kv/${teamId}/`
export const kvKey = (teamId: string, key: string): string => `${kvPrefix(teamId)}${key}`
export const taskPrefix = (teamId: string): string => `task/${teamId}/`
export const taskKey = (teamId: string, taskId: string): string => `${taskPrefix(teamId)}${taskId}`
export const repPrefix = (teamId: string): string => `rep/${teamId}/`
export const repKey = (teamId: string, peerId: string): string => `${repPrefix(teamId)}${peerId}`
export const clockKey = (teamId: string): string => `clock/${teamId}`
export const syncKey = (teamId: string): string => `sync/${teamId}`
export const snapKey = (teamId: string): string => `snap/${teamId}`

/**
 * The first key after every key that starts with `prefix`, for a prefix ending in an
 * ASCII character (all of ours end in `/`): its last character plus one. Exact in
 * LevelDB's byte order whatever UTF-8 follows the prefix.
 */
export function prefixEnd (prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1)
  if (!(last < 0x7f)) throw new RangeError('prefixEnd needs a prefix ending in an ASCII character')
  return prefix.slice(0, -1) + String.fromCharCode(last + 1)
}
