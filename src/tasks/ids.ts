import { randomBytes } from 'node:crypto'

/** A new task id: time-ordered (base36 ms) then random, e.g. `mdx3k2a1-7f3k9q2m1c`. */
export function newTaskId (now = Date.now()): string {
  const rand = randomBytes(8).toString('base64url').replace(/[-_]/g, '0').slice(0, 10).toLowerCase()
  return `${now.toString(36)}-${rand}`
}
