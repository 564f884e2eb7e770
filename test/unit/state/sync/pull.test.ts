/**
 * The puller's pipeline (`src/state/sync/pull.ts`) over a scripted channel that decodes
 * real frame bytes as the stream would: several batches are handed to the store before
 * the first is applied, credit goes back half a window at a time, a malformed frame in
 * mid-stream is refused (and counted) after what came before it is applied, and the
 * server's raw frames (`rawBatchesSince` + `batchFrame`) are byte for byte the JSON ones.
 */
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../../../src/protocol/frames.js'
import { protocolViolations } from '../../../../src/protocol/violations.js'
import type { OpDraft } from '../../../../src/state/ops/index.js'
import { PROTOCOL_SYNC } from '../../../../src/state/sync/index.js'
import { batchFrame, decodePulled, type PulledFrame } from '../../../../src/state/sync/channel.js'
import { pullFrames, type PullChannel } from '../../../../src/state/sync/pull.js'
import { makeAuthor } from '../ops/helpers.js'
import { tempStore } from '../store/helpers.js'

const enc = new TextEncoder()
const json = (value: unknown): Uint8Array => enc.encode(JSON.stringify(value))

/** a channel that reads `frames` in turn (decoded and schema-checked as on a stream) and records what is written */
function scripted (frames: Uint8Array[]): PullChannel & { written: unknown[], reads: number } {
  const ch = {
    written: [] as unknown[],
    reads: 0,
    async readPulled (): Promise<PulledFrame> {
      const bytes = frames[ch.reads++]
      if (bytes === undefined) throw new Error('read past the script')
      await new Promise(resolve => setImmediate(resolve))
      return decodePulled(PROTOCOL_SYNC, bytes)
    },
    async write (value: unknown): Promise<void> { ch.written.push(value) }
  }
  return ch
}

/** an author's log of `batches` batches of `per` ops: the stored bytes and the parsed records */
async function authored (batches: number, per: number): Promise<{ author: string, records: Uint8Array[], parsed: unknown[] }> {
  const a = await makeAuthor()
  const { store } = await tempStore({ signer: a.signer })
  for (let b = 0; b < batches; b++) {
    const drafts: OpDraft[] = Array.from({ length: per }, (_, i) => ({ kind: 'kv:set', body: { key: `k/${b}/${i}`, value: { b, i } } }))
    await store.write(drafts, { sync: false })
  }
  const records: Uint8Array[] = []
  for await (const raw of store.rawBatchesSince(a.peerId, 1)) records.push(raw)
  const parsed: unknown[] = []
  for await (const record of store.batchesSince(a.peerId, 1)) parsed.push(record)
  return { author: a.peerId, records, parsed }
}

describe('sync pull pipeline', () => {
  it('the server\'s raw batch frames are the bytes of the JSON frames', async () => {
    const { records, parsed } = await authored(3, 5)
    expect(records).toHaveLength(3)
    records.forEach((raw, i) => {
      expect(Buffer.from(batchFrame(raw)).toString()).toBe(JSON.stringify({ type: 'batch', batch: parsed[i] }))
    })
  })

  it('hands several batches to the store before the first is applied; order and credit kept', async () => {
    const { author, records } = await authored(10, 3)
    const ch = scripted([...records.map(batchFrame), json({ type: 'done' })])
    const started: number[] = []
    const finish: Array<() => void> = []
    const { store } = await tempStore()
    const target = {
      isKnownAuthor: (a: string) => a === author,
      ingest: async (batch: unknown, raw?: Uint8Array) => {
        started.push((batch as { fromSeq: number }).fromSeq)
        await new Promise<void>(resolve => finish.push(resolve))
        return await store.ingest(batch, { raw })
      }
    }
    let applied = 0
    const run = pullFrames(ch, target, { window: 8, depth: 4, onApplied: n => { applied += n } })
    for (let i = 0; i < 50 && started.length < 4; i++) await new Promise(resolve => setImmediate(resolve))
    // four in flight, none applied yet
    expect(started).toEqual([1, 4, 7, 10])
    expect(applied).toBe(0)
    // let them finish as they come; the store applies them in order
    const release = setInterval(() => { finish.shift()?.() }, 1)
    try {
      expect(await run).toBe(30)
    } finally { clearInterval(release) }
    expect(started).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28])
    expect(applied).toBe(30)
    expect(await store.headOf(author)).toBe(30)
    // each record was stored as the bytes it came in
    const stored: Uint8Array[] = []
    for await (const raw of store.rawBatchesSince(author, 1)) stored.push(raw)
    expect(stored.map(r => Buffer.from(r).toString())).toEqual(records.map(r => Buffer.from(r).toString()))
    // credit: half the window (4 frames) each time 4 were consumed
    expect(ch.written).toEqual([{ type: 'more', frames: 4 }, { type: 'more', frames: 4 }])
  })

  it('a malformed frame mid-stream is refused and counted, after the batches before it are applied', async () => {
    const { author, records } = await authored(4, 2)
    const before = protocolViolations()[PROTOCOL_SYNC] ?? 0
    const ch = scripted([batchFrame(records[0]), batchFrame(records[1]), json({ type: 'batch' }), batchFrame(records[2]), json({ type: 'done' })])
    const { store } = await tempStore()
    let applied = 0
    const err = await pullFrames(ch, { isKnownAuthor: () => true, ingest: async b => await store.ingest(b) }, { window: 8, onApplied: n => { applied += n } }).catch(e => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as ProtocolError).field).toBe('batch')
    expect(protocolViolations()[PROTOCOL_SYNC]).toBe(before + 1)
    expect(ch.reads).toBe(3) // nothing read past the bad frame
    expect(applied).toBe(4)
    expect(await store.headOf(author)).toBe(4)
  })

  it('a refused batch fails the pull; a batch by an unknown author is skipped, not ingested', async () => {
    const { records } = await authored(2, 2)
    const ingested: unknown[] = []
    const ch = scripted([batchFrame(records[0]), batchFrame(records[1]), json({ type: 'done' })])
    expect(await pullFrames(ch, { isKnownAuthor: () => false, ingest: async b => { ingested.push(b); return { applied: 1 } } }, { window: 8 })).toBe(0)
    expect(ingested).toEqual([])
    const failing = scripted([batchFrame(records[0]), batchFrame(records[1]), json({ type: 'done' })])
    let calls = 0
    await expect(pullFrames(failing, {
      isKnownAuthor: () => true,
      ingest: async () => { if (++calls === 1) throw new Error('bad signature'); return { applied: 2 } }
    }, { window: 8 })).rejects.toThrow('bad signature')
  })

  it('takes a batch frame\'s record bytes only when they are the batch on their own', async () => {
    const { records, parsed } = await authored(2, 2)
    const plain = decodePulled(PROTOCOL_SYNC, batchFrame(records[0]))
    expect(plain.msg).toEqual({ type: 'batch', batch: parsed[0] })
    expect(Buffer.from(plain.raw as Uint8Array).toString()).toBe(Buffer.from(records[0]).toString())
    // a duplicated key: the frame's text around the first value is not the batch
    const a = Buffer.from(records[0]).toString()
    const b = Buffer.from(records[1]).toString()
    const twice = decodePulled(PROTOCOL_SYNC, enc.encode(`{"type":"batch","batch":${a},"batch":${b}}`))
    expect(twice.msg).toEqual({ type: 'batch', batch: parsed[1] })
    expect(twice.raw).toBeUndefined()
    // another layout: decoded whole, no bytes kept
    const spaced = decodePulled(PROTOCOL_SYNC, enc.encode(`{ "type": "batch", "batch": ${a} }`))
    expect(spaced.msg).toEqual({ type: 'batch', batch: parsed[0] })
    expect(spaced.raw).toBeUndefined()
    // still checked by the schema: a record part that is JSON but not an object
    expect(() => decodePulled(PROTOCOL_SYNC, enc.encode('{"type":"batch","batch":42}'))).toThrow(ProtocolError)
  })
})
