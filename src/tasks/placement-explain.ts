/**
 * The placement table of `paired task explain`: each eligible machine's score and its
 * parts, its share of this coordinator's work and what it got lately, then the held back,
 * the busy and the refused machines, the choice and why it waits.
 */
import type { Placement, Scored } from './placement-types.js'

const fixed = (n: number): string => n.toFixed(2)

export interface ExplainPlacementOptions {
  /** a member's name, shown beside its peer id */
  nameOf?: (peer: string) => string | undefined
  /** print `chosen:` and `waiting:` (false for a ranking made after the fact). @default true */
  choice?: boolean
}

/** Lines for `paired task explain`: the ranking table, the busy and refused machines, the choice and why it waits. */
export function explainPlacement (p: Placement, options: ExplainPlacementOptions = {}): string[] {
  const nameOf = options.nameOf ?? (() => undefined)
  const who = (peer: string): string => {
    const name = nameOf(peer)
    return name != null && name !== '' ? `${name} (${peer})` : peer
  }
  const header = ['#', 'name', 'peer', 'score', 'free', 'slots', 'load', 'mem', 'rep', 'rtt', 'share', 'lately']
  const row = (s: Scored, rank: string): string[] => [
    rank, nameOf(s.peerId) ?? '-', s.peerId, fixed(s.score), String(s.freeSlots),
    fixed(s.parts.slots), fixed(s.parts.load), fixed(s.parts.memory), fixed(s.parts.reputation), fixed(s.parts.rtt),
    `${Math.round(s.share * 100)}%`, s.recent.toFixed(0)
  ]
  const held = p.held
  const rows = [
    ...p.ranked.map((s, i) => row(s, String(i + 1))),
    ...held.map(s => row(s, 'held')),
    ...p.full.map(s => row(s, 'full'))
  ]
  const notes = [...p.ranked, ...held, ...p.full].filter(s => s.note != null).map(s => `  note ${who(s.peerId)}: ${s.note ?? ''}`)
  const lines: string[] = []
  if (rows.length > 0) {
    const table = [header, ...rows]
    const widths = header.map((_, i) => Math.max(...table.map(r => r[i].length)))
    for (const r of table) lines.push(r.map((cell, i) => i <= 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ').trimEnd())
    lines.push(...notes)
  } else {
    lines.push('no eligible machine')
  }
  for (const r of p.refused) lines.push(`refused ${who(r.peerId)}: ${r.reason}`)
  if (options.choice !== false) {
    if (p.chosen.length > 0) lines.push(`chosen: ${p.chosen.map(who).join(', ')}`)
    if (p.waiting != null) lines.push(`waiting: ${p.waiting}`)
  }
  return lines
}
