/**
 * The LevelDB key schema, one line per prefix (values are JSON):
 *
 * | key | value |
 * |---|---|
 * | `/version` | the store format version (number); checked at open, migrated when older |
 * | `peers/<teamId>/<peerId>` | a known peer of that team: `{ addrs: string[], name?: string, lastSeen: number }` |
 * | `departed/<teamId>` | members that left that team: their signed departures (`Departure[]`) |
 * | `roster/<teamId>` | the team roster's whole state (`Roster.toJSON()`: every certificate that counts) |
 */

export const STORE_VERSION = 1
export const VERSION_KEY = '/version'

export const peerKey = (teamId: string, peerId: string): string => `peers/${teamId}/${peerId}`
export const peerPrefix = (teamId: string): string => `peers/${teamId}/`
export const rosterKey = (teamId: string): string => `roster/${teamId}`
export const departedKey = (teamId: string): string => `departed/${teamId}`
