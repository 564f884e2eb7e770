import { describe, expect, it } from 'vitest'
import { GossipOutbox, gossipBacklog } from '../../../src/node/gossip-outbox.js'
import { ManualClock } from '../../helpers/manual-clock.js'

const msg = (n: number, bytes = 100): Uint8Array => new Uint8Array(bytes).fill(n)

function setup (options: { highWaterBytes?: number, maxQueuedBytes?: number } = {}): {
  outbox: GossipOutbox
  sent: number[]
  clock: ManualClock
  setBacklog: (n: number) => void
  dropped: number[]
} {
  const sent: number[] = []
  const dropped: number[] = []
  let backlog = 0
  const clock = new ManualClock()
  const outbox = new GossipOutbox({
    publish: async data => { sent.push(data[0]) },
    backlog: () => backlog,
    onDropped: n => { dropped.push(n) },
    highWaterBytes: options.highWaterBytes ?? 1_000,
    maxQueuedBytes: options.maxQueuedBytes ?? 10_000,
    pollMs: 5,
    clock
  })
  return { outbox, sent, clock, setBacklog: n => { backlog = n }, dropped }
}

describe('gossip outbox', () => {
  it('publishes at once while no subscriber is backed up', () => {
    const { outbox, sent, clock } = setup()
    for (let i = 0; i < 5; i++) outbox.send(msg(i))
    expect(sent).toEqual([0, 1, 2, 3, 4])
    expect(clock.pending).toBe(0)
    expect(outbox.stats).toMatchObject({ published: 5, deferred: 0, dropped: 0, queued: 0 })
  })

  it('holds messages while a stream is backed up and sends them in order once it drains', () => {
    const { outbox, sent, clock, setBacklog } = setup()
    outbox.send(msg(1))
    setBacklog(5_000)
    outbox.send(msg(2))
    outbox.send(msg(3))
    expect(sent).toEqual([1])
    clock.advance(50)
    expect(sent).toEqual([1]) // still backed up: nothing more is written into the stream
    setBacklog(0)
    outbox.send(msg(4)) // behind the queue, never ahead of it
    expect(sent).toEqual([1])
    clock.advance(5)
    expect(sent).toEqual([1, 2, 3, 4])
    expect(outbox.stats).toMatchObject({ published: 4, deferred: 3, queued: 0, queuedBytes: 0 })
  })

  it('stops between messages when the stream backs up again mid-flush', () => {
    const clock = new ManualClock()
    const sent: number[] = []
    let backlog = 5_000
    // each publish adds 600 bytes to the stream: two fit under the high-water mark of 1,000
    const outbox = new GossipOutbox({
      publish: async data => { sent.push(data[0]); backlog += 600 },
      backlog: () => backlog,
      highWaterBytes: 1_000,
      clock
    })
    for (let i = 0; i < 4; i++) outbox.send(msg(i))
    backlog = 0
    clock.advance(5)
    expect(sent).toEqual([0, 1])
    backlog = 0
    clock.advance(5)
    expect(sent).toEqual([0, 1, 2, 3])
  })

  it('bounds what waits: the oldest go first, are counted, and the newest always stays', () => {
    const { outbox, sent, clock, setBacklog, dropped } = setup({ maxQueuedBytes: 300 })
    setBacklog(5_000)
    for (let i = 0; i < 10; i++) outbox.send(msg(i))
    expect(outbox.stats).toMatchObject({ queued: 3, queuedBytes: 300, dropped: 7 })
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(7)
    outbox.send(msg(99, 1_000)) // alone over the cap: kept, everything older dropped
    expect(outbox.stats).toMatchObject({ queued: 1, dropped: 10 })
    setBacklog(0)
    clock.advance(5)
    expect(sent).toEqual([99])
  })

  it('sends nothing after close', () => {
    const { outbox, sent, clock, setBacklog } = setup()
    setBacklog(5_000)
    outbox.send(msg(1))
    outbox.close()
    setBacklog(0)
    clock.advance(100)
    outbox.send(msg(2))
    expect(sent).toEqual([])
    expect(clock.pending).toBe(0)
  })

  it('a publish that rejects does not stop the outbox', async () => {
    const sent: number[] = []
    const outbox = new GossipOutbox({
      publish: async data => { sent.push(data[0]); if (data[0] === 1) throw new Error('PublishError.NoPeersSubscribedToTopic') },
      backlog: () => 0
    })
    outbox.send(msg(1))
    outbox.send(msg(2))
    await new Promise(resolve => setTimeout(resolve, 1))
    expect(sent).toEqual([1, 2])
  })
})

describe('gossipBacklog', () => {
  it('reads the largest unsent byte count among the topic subscribers\' outbound streams', () => {
    const stream = (n: number): { rawStream: { writeBufferLength: number } } => ({ rawStream: { writeBufferLength: n } })
    const pubsub = {
      streamsOutbound: new Map([['a', stream(10)], ['b', stream(700)], ['c', stream(9_999)]]),
      getSubscribers: () => [{ toString: () => 'a' }, { toString: () => 'b' }, { toString: () => 'gone' }]
    }
    // c is not subscribed to the topic: its stream does not hold the topic back
    expect(gossipBacklog(pubsub, 't')()).toBe(700)
  })

  it('throws at once if gossipsub no longer has the map it reads', () => {
    expect(() => gossipBacklog({ getSubscribers: () => [] }, 't')).toThrow(/gossipsub changed/)
  })
})
