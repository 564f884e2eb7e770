import { describe, expect, it } from 'vitest'
import { logger } from '@libp2p/logger'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import { Uint8ArrayList } from 'uint8arraylist'
import { lazyWindowUpdates } from '../../../src/node/yamux-window.js'

const DATA = 0
const WINDOW_UPDATE = 1
const ACK = 2
const WINDOW = 256 * 1024

interface Sent { type: number, flag: number, length: number }

/** one receiving yamux stream whose outgoing frames are kept */
function receiver (state: StreamState): { stream: YamuxStream, sent: Sent[], receive: (bytes: number) => void } {
  const sent: Sent[] = []
  const stream = new YamuxStream({
    id: '1',
    streamId: 1,
    state,
    direction: 'inbound',
    log: logger('test:yamux-window'),
    getRTT: () => -1,
    sendFrame: (header: { type: number, flag: number, length: number }) => { sent.push({ type: header.type, flag: header.flag, length: header.length }); return true }
  } as unknown as ConstructorParameters<typeof YamuxStream>[0])
  const receive = (bytes: number): void => {
    const h = stream as unknown as { handleData: (frame: unknown) => void }
    h.handleData({ header: { type: DATA, flag: 0, streamID: 1, length: bytes }, data: new Uint8ArrayList(new Uint8Array(bytes)) })
  }
  return { stream, sent, receive }
}

describe('lazyWindowUpdates: a yamux receiver updates the window once half of it is used', () => {
  it('a heartbeat-sized frame costs no window update until half the window is used; then one restores it all', () => {
    lazyWindowUpdates()
    const { sent, receive } = receiver(StreamState.Established)
    for (let i = 0; i < 100; i++) receive(500)
    expect(sent).toEqual([])
    // 50,000 bytes so far; past 128 KiB the next frame brings the window back to full
    const before = 100 * 500
    let total = before
    while (total <= WINDOW / 2) { receive(8_000); total += 8_000 }
    expect(sent).toEqual([{ type: WINDOW_UPDATE, flag: 0, length: total }])
  })

  it('a sender that only sends what the window allows moves 4 MiB and never waits on a full window', () => {
    lazyWindowUpdates()
    const { sent, receive } = receiver(StreamState.Established)
    let credit = WINDOW
    let moved = 0
    let stalls = 0
    while (moved < 4 * 1024 * 1024) {
      const n = Math.min(16 * 1024, credit)
      if (n === 0) { stalls++; break }
      receive(n)
      credit -= n
      moved += n
      for (const f of sent.splice(0)) credit += f.length
    }
    expect(stalls).toBe(0)
    expect(moved).toBe(4 * 1024 * 1024)
  })

  it('a new inbound stream still acknowledges with the first frame it receives', () => {
    lazyWindowUpdates()
    const { sent, receive } = receiver(StreamState.SYNReceived)
    receive(500)
    expect(sent).toEqual([{ type: WINDOW_UPDATE, flag: ACK, length: 500 }])
    receive(500)
    expect(sent).toHaveLength(1)
  })
})
