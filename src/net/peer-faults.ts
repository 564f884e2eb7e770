/**
 * What happens when something on one peer's path throws (a stream handler, an event
 * listener, a codec): that peer's connections are closed, it is refused for
 * {@link FAULT_COOL_OFF_MS} (a hostile peer cannot retry at once, a broken one comes back
 * by itself), and it is told to the log once per cool-off. The daemon goes on serving
 * everyone else. A throw no peer can be blamed for is this daemon's own bug: logged with its
 * stack, every time.
 */
import type { CoolOff } from './cool-off.js'
import { COOL_OFF_MS } from './limits.js'

/** how long a peer whose connection made something throw is refused */
export const FAULT_COOL_OFF_MS = COOL_OFF_MS

export interface PeerFaultsComponents {
  coolOff: CoolOff
  /** close every connection to `peer` (best effort) */
  hangUp: (peer: string) => void
  /** the peer counts it against its reputation too (members only) */
  blame?: (peer: string) => void
  /** this daemon's own peer id */
  selfId: () => string
  line: (text: string) => void
}

export class PeerFaults {
  /** faults seen so far (for status and tests) */
  count = 0

  constructor (private readonly components: PeerFaultsComponents) {}

  fault (peer: string | undefined, err: Error, where: string, now = Date.now()): void {
    this.count++
    const { coolOff, line } = this.components
    if (peer == null || peer === this.components.selfId()) {
      line(`error in ${where}, not caused by a peer (a bug here; please report it): ${err.stack ?? `${err.name}: ${err.message}`}`)
      return
    }
    const known = coolOff.has(peer, now)
    coolOff.add(peer, now + FAULT_COOL_OFF_MS)
    if (!known) line(`closing ${peer} and refusing it for ${FAULT_COOL_OFF_MS / 1000} s: ${where} failed on its input (${err.name}: ${err.message})`)
    this.components.blame?.(peer)
    this.components.hangUp(peer)
  }
}
