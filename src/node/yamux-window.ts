/**
 * js-yamux (8.x) answers every data frame a stream receives with a window update, however
 * little of its 256 KiB window the frame used. An idle team's traffic is heartbeats of
 * ~0.5 kB: each one then cost its receiver a second frame back (through Noise, the team
 * pnet and a write syscall) and its sender the read of it, half of all the frames an idle
 * daemon handles. A receiver here tells the sender about consumed window only once half of
 * it is used, as go-yamux and the yamux spec's reference do: a sender still holds at least
 * half a window to go on with while the update travels, so bulk transfers do not stall.
 * Frames that carry a flag (the ACK of a new stream) and a stream resumed after a pause
 * still go through yamux's own logic unchanged.
 */
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'

interface WindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

let patched = false

/**
 * Make every yamux stream of this process send window updates only once half its receive
 * window is used. Idempotent. Throws if yamux's internals moved, so an upgrade cannot
 * silently bring back a frame per message (nor skip one yamux needs).
 */
export function lazyWindowUpdates (): void {
  if (patched) return
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate?: (this: WindowFields) => void }
  const eager = proto.sendWindowUpdate
  if (typeof eager !== 'function' || StreamState.Established == null) {
    throw new Error('@libp2p/yamux changed: no YamuxStream.sendWindowUpdate to patch (see lazyWindowUpdates)')
  }
  proto.sendWindowUpdate = function (this: WindowFields): void {
    // no flag due (established) and at least half the window still open: nothing to say yet
    if (this.state === StreamState.Established && this.recvWindowCapacity * 2 >= this.recvWindow) return
    eager.call(this)
  }
  patched = true
}
