/**
 * Human output: aligned key/value lines, aligned columns, short peer ids. `--json` output
 * never goes through here.
 */
import { formatDuration } from '../model/duration.js'
import type { StatusDoc } from '../model/docs.js'

/** `…` and the last 8 characters of a peer id */
export function shortId (id: string): string {
  return id.length > 9 ? `…${id.slice(-8)}` : id
}

/** `text` cut to at most `max` characters, ending in `…` when cut */
export function truncate (text: string, max: number): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : chars.slice(0, Math.max(0, max - 1)).join('') + '…'
}

/** C0, DEL and C1 control characters, line breaks among them */
const CONTROL = /\p{Cc}/u

/**
 * A key-value value on one line: a string as it is (JSON-quoted when it holds a line
 * break or another control character), anything else as compact JSON.
 */
export function oneLineValue (value: unknown): string {
  if (typeof value === 'string') return CONTROL.test(value) ? JSON.stringify(value) : value
  return JSON.stringify(value) ?? 'null'
}

/** a key-value value as `paired kv get` prints it: a string raw, anything else pretty JSON */
export function valueText (value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2) ?? 'null'
}

/** `0.42 ms`, or `-` when unknown */
export function formatRtt (ms: number | null | undefined): string {
  return ms == null || !Number.isFinite(ms) ? '-' : `${ms.toFixed(2)} ms`
}

/** `key   value` lines, values aligned; a list value continues on indented lines */
export function keyValues (pairs: Array<[string, string | string[]]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length))
  const lines: string[] = []
  for (const [key, value] of pairs) {
    const values = Array.isArray(value) ? (value.length > 0 ? value : ['-']) : [value]
    lines.push(`${key.padEnd(width)}  ${values[0]}`)
    for (const more of values.slice(1)) lines.push(`${' '.repeat(width)}  ${more}`)
  }
  return lines.join('\n')
}

/** aligned columns under upper-case headers */
export function table (headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

export function formatStatus (doc: StatusDoc): string {
  const team = doc.team == null ? 'none' : `${doc.team.name} (${doc.team.role}, ${doc.team.teamId})${doc.team.removed != null ? `: ${doc.team.removed.text}` : ''}`
  return keyValues([
    ['peer id', doc.peerId],
    ['name', doc.name],
    ['version', doc.version],
    ['team', team],
    ['members', String(doc.members)],
    ['connected', `${doc.connectedPeers} peer${doc.connectedPeers === 1 ? '' : 's'}`],
    ['uptime', formatDuration(doc.uptimeMs)],
    ['addresses', doc.addresses],
    ...(doc.api != null ? [['api', [doc.api.url, doc.api.socket]] as [string, string[]]] : [])
  ])
}
