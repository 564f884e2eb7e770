import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../../src/team/index.js'
import {
  RECEIPT_DOMAIN, hashJson, isReceipt, signReceipt, verifyReceipt,
  type Receipt, type ReceiptBody
} from '../../../src/tasks/receipt.js'
import { T0, clone, makePeers, type TestPeer } from '../team/helpers.js'

const input = { files: ['a.ts', 'b.ts'], flags: { watch: false } }
const output = { passed: 41, failed: 1, log: 'FAIL b.ts › adds' }

let executor: TestPeer
let other: TestPeer

beforeAll(async () => {
  [executor, other] = await makePeers(2)
})

function body (over: Partial<ReceiptBody> = {}): ReceiptBody {
  return {
    v: 1,
    teamId: '0123456789abcdef0123456789abcdef',
    taskId: 'task-01J9Z',
    attempt: 2,
    agent: 'test',
    inputHash: hashJson(input),
    outputHash: hashJson(output),
    exitCode: 1,
    executor: executor.peerId,
    startedWall: T0,
    endedWall: T0 + 5_000,
    ...over
  }
}

const reasonOf = (value: unknown, expect_?: Parameters<typeof verifyReceipt>[1]): string => {
  const check = verifyReceipt(value, expect_)
  return check.ok ? 'ok' : check.reason
}

describe('hashJson', () => {
  it('is sha256 hex of the canonical JSON, whatever the key order', () => {
    expect(hashJson({ b: 1, a: [1, 'x'] })).toBe(createHash('sha256').update('{"a":[1,"x"],"b":1}').digest('hex'))
    expect(hashJson({ a: [1, 'x'], b: 1 })).toBe(hashJson({ b: 1, a: [1, 'x'] }))
    expect(hashJson(null)).toMatch(/^[0-9a-f]{64}$/)
    expect(() => hashJson(Number.NaN)).toThrow(TypeError)
  })
})

describe('receipts', () => {
  it('round-trips: a signed receipt verifies, with and without expectations', () => {
    const r = signReceipt(body(), executor.signer)
    expect(isReceipt(r)).toBe(true)
    expect(verifyReceipt(r)).toEqual({ ok: true })
    expect(verifyReceipt(r, {
      teamId: r.teamId, taskId: 'task-01J9Z', attempt: 2, executor: executor.peerId, input: clone(input), output: { ...output }
    })).toEqual({ ok: true })
    // it survives JSON transport and key reordering
    const reordered = Object.fromEntries(Object.entries(clone(r)).reverse())
    expect(verifyReceipt(reordered)).toEqual({ ok: true })
  })

  it('signs the domain line plus the canonical JSON of the body', () => {
    const r = signReceipt(body(), executor.signer)
    const { sig, ...rest } = r
    const expected = Buffer.from(executor.signer.sign(new TextEncoder().encode(RECEIPT_DOMAIN + canonicalJson(rest)))).toString('base64url')
    expect(sig).toBe(expected)
    expect(RECEIPT_DOMAIN).toBe('paired/receipt/v1\n')
  })

  it('fails when any field is tampered with', () => {
    const r = signReceipt(body(), executor.signer)
    const flipHex = (h: string): string => (h[0] === '0' ? '1' : '0') + h.slice(1)
    const tampered: { [K in keyof Receipt]: Receipt[K] } = {
      v: 2 as unknown as 1,
      teamId: r.teamId.replace(/^0/, 'f'),
      taskId: `${r.taskId}x`,
      attempt: r.attempt + 1,
      agent: 'deploy',
      inputHash: flipHex(r.inputHash),
      outputHash: flipHex(r.outputHash),
      exitCode: 0,
      executor: other.peerId,
      startedWall: r.startedWall - 1,
      endedWall: r.endedWall + 1,
      sig: signReceipt(body({ exitCode: 0 }), executor.signer).sig
    }
    for (const key of Object.keys(tampered) as Array<keyof Receipt>) {
      const copy = { ...clone(r), [key]: tampered[key] }
      const reason = reasonOf(copy)
      expect(reason, key).not.toBe('ok')
      expect(reason, key).toMatch(key === 'v' ? /^malformed receipt: v must be 1$/ : /^signature does not verify with the key of executor 12D3/)
    }
  })

  it('fails when the executor field names someone else (whose key does not verify)', () => {
    const r = signReceipt(body(), executor.signer)
    expect(reasonOf({ ...r, executor: other.peerId })).toBe(`signature does not verify with the key of executor ${other.peerId}`)
    // a receipt signed by another peer claiming to be the executor
    const forged = { ...r, sig: Buffer.from(other.signer.sign(new TextEncoder().encode(RECEIPT_DOMAIN + canonicalJson(body())))).toString('base64url') }
    expect(reasonOf(forged)).toBe(`signature does not verify with the key of executor ${executor.peerId}`)
  })

  it('checks the expected team, task, attempt, executor, input and output', () => {
    const r = signReceipt(body(), executor.signer)
    expect(reasonOf(r, { output: { ...output, failed: 0 } })).toBe('output does not match outputHash')
    expect(reasonOf(r, { input: { files: ['a.ts'] } })).toBe('input does not match inputHash')
    expect(reasonOf(r, { input: 1n })).toMatch(/^input cannot be hashed: /)
    expect(reasonOf(r, { taskId: 'task-other' })).toBe('receipt is for task "task-01J9Z", expected "task-other"')
    expect(reasonOf(r, { attempt: 1 })).toBe('receipt is for attempt 2, expected 1')
    expect(reasonOf(r, { executor: other.peerId })).toBe(`receipt is by executor ${executor.peerId}, expected ${other.peerId}`)
    expect(reasonOf(r, { teamId: 'f'.repeat(32) })).toMatch(/^receipt is for team /)
    // null is a valid output, distinct from "not given"
    expect(reasonOf(r, { output: null })).toBe('output does not match outputHash')
    const nothing = signReceipt(body({ outputHash: hashJson(null) }), executor.signer)
    expect(verifyReceipt(nothing, { output: null })).toEqual({ ok: true })
  })

  it('refuses to sign a malformed body or for another executor', () => {
    expect(() => signReceipt(body({ attempt: 0 }), executor.signer)).toThrow(/attempt must be a positive integer/)
    expect(() => signReceipt(body(), other.signer)).toThrow(/cannot be signed by/)
    expect(() => signReceipt(body({ endedWall: T0 - 1 }), executor.signer)).toThrow(/endedWall is before startedWall/)
    let caught: unknown
    try {
      signReceipt(body({ inputHash: 'nope' }), executor.signer)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(Error)
    expect((caught as Error).name).toBe('InvalidArgumentError')
    // extra properties on the runtime object are not signed, so they cannot break the receipt
    const extra = { ...body(), note: 'hi' } as ReceiptBody
    const r = signReceipt(extra, executor.signer)
    expect(Object.hasOwn(r, 'note')).toBe(false)
    expect(verifyReceipt(r)).toEqual({ ok: true })
  })

  it('names what is malformed', () => {
    const r = signReceipt(body(), executor.signer)
    const cases: Array<[unknown, string]> = [
      [null, 'malformed receipt: expected an object, got null'],
      [[r], 'malformed receipt: expected an object, got an array'],
      ['receipt', 'malformed receipt: expected an object, got string'],
      [{ ...r, attempt: 0 }, 'malformed receipt: attempt must be a positive integer'],
      [{ ...r, attempt: 1.5 }, 'malformed receipt: attempt must be a positive integer'],
      [{ ...r, extra: 1 }, 'malformed receipt: unknown field "extra"'],
      [{ ...r, taskId: '' }, 'malformed receipt: taskId must be a non-empty string of at most 256 characters'],
      [{ ...r, outputHash: r.outputHash.toUpperCase() }, 'malformed receipt: outputHash must be 64 lowercase hex characters (sha256)'],
      [{ ...r, exitCode: '0' }, 'malformed receipt: exitCode must be an integer'],
      [{ ...r, executor: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }, 'malformed receipt: executor must be an Ed25519 peer id'],
      [{ ...r, startedWall: -1 }, 'malformed receipt: startedWall must be a time in ms since the epoch'],
      [{ ...r, endedWall: r.startedWall - 1 }, 'malformed receipt: endedWall is before startedWall'],
      [{ ...r, sig: `${r.sig}=` }, 'malformed receipt: sig must be a base64url Ed25519 signature'],
      [{ ...r, sig: undefined }, 'malformed receipt: sig must be a base64url Ed25519 signature']
    ]
    for (const [value, reason] of cases) expect(reasonOf(value)).toBe(reason)
    for (const key of Object.keys(r)) {
      const { [key]: _gone, ...missing } = r as unknown as Record<string, unknown>
      expect(reasonOf(missing), key).toMatch(/^malformed receipt: /)
      expect(isReceipt(missing)).toBe(false)
    }
  })

  it('never throws on huge strings, hostile objects or random values', () => {
    const r = signReceipt(body(), executor.signer)
    const huge = 'x'.repeat(5_000_000)
    for (const key of ['teamId', 'taskId', 'agent', 'inputHash', 'executor', 'sig']) {
      expect(reasonOf({ ...r, [key]: huge })).toMatch(/^malformed receipt: /)
    }
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('boom') } })
    expect(reasonOf(hostile)).toBe('malformed receipt: boom')
    const getter = { ...r }
    Object.defineProperty(getter, 'agent', { enumerable: true, get: () => { throw new Error('no') } })
    expect(reasonOf(getter)).toMatch(/^malformed receipt: /)
    fc.assert(fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }), value => {
      const check = verifyReceipt(value)
      expect(check.ok).toBe(false)
      expect(isReceipt(value)).toBe(false)
    }), { numRuns: 300 })
    fc.assert(fc.property(
      fc.constantFrom(...Object.keys(r)), fc.anything(),
      (key, value) => {
        const check = verifyReceipt({ ...r, [key]: value }, { input, output })
        if (check.ok) expect((r as unknown as Record<string, unknown>)[key]).toEqual(value)
      }
    ), { numRuns: 300 })
  })
})
