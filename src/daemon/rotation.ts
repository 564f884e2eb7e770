/**
 * Handing a key rotation to the members, in rounds: a member admitted while the key goes
 * out (a join that races the rotation) is a current, verified member by the next round and
 * gets the key too, so no one is told "joined" and then left behind on the old key. The
 * admin runs it before it switches; every member that takes a rotation runs it once more
 * (without waiting long) for the members it alone may have admitted meanwhile.
 */
import type { MemberCertificate } from '../team/index.js'
import type { KeyRotation } from './rekey.js'

/** what {@link handOut} needs of the session */
export interface RotationTarget {
  currentMembers: () => MemberCertificate[]
  isVerified: (peer: string) => boolean
  sendRekey: (peer: string, rotation: KeyRotation, signal?: AbortSignal) => Promise<void>
}

export interface HandOutOptions {
  /** peers not to send to (this daemon, the member the rotation came from) */
  skip: string[]
  /** per send; @default 5000 */
  timeoutMs?: number
  /** @default 5 */
  maxRounds?: number
}

/**
 * Sends `rotation` to every current member that passed the hello, round after round, until
 * a round finds nobody new. Returns who took it and who did not (by name), sorted.
 */
export async function handOut (target: RotationTarget, rotation: KeyRotation, options: HandOutOptions): Promise<{ delivered: string[], missed: string[] }> {
  const done = new Set<string>(options.skip)
  const delivered: MemberCertificate[] = []
  for (let round = 0; round < (options.maxRounds ?? 5); round++) {
    const todo = target.currentMembers().filter(c => !done.has(c.peerId) && target.isVerified(c.peerId))
    if (todo.length === 0) break
    await Promise.all(todo.map(async c => {
      done.add(c.peerId)
      try {
        await target.sendRekey(c.peerId, rotation, AbortSignal.timeout(options.timeoutMs ?? 5_000))
        delivered.push(c)
      } catch {}
    }))
  }
  const got = new Set(delivered.map(c => c.peerId))
  const missed = target.currentMembers().filter(c => !options.skip.includes(c.peerId) && !got.has(c.peerId))
  return { delivered: delivered.map(c => c.name).sort(), missed: missed.map(c => c.name).sort() }
}
