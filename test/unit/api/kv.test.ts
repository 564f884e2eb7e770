import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  MAX_KV_VALUE_BYTES, ValueTooLargeError, checkKey, checkPrefix, checkValue, valueBytes
} from '../../../src/api/index.js'
import { PEER_A, call, expectNotImplemented, named, startFixture, type Fixture, type Reply } from './helpers.js'

/** a JSON string value whose `JSON.stringify` is exactly `bytes` long */
function stringOfJsonBytes (bytes: number): string {
  return 'x'.repeat(bytes - 2)
}

describe('kv validation (pure)', () => {
  it('keys: 1 to 512 UTF-8 bytes, no control characters, well-formed', () => {
    expect(checkKey('a')).toBe('a')
    expect(checkKey('é'.repeat(256))).toBe('é'.repeat(256))
    expect(checkKey('app/config with spaces')).toBe('app/config with spaces')
    expect(() => checkKey('é'.repeat(257))).toThrow(/^key must be at most 512 UTF-8 bytes \(it is 514\)$/)
    expect(() => checkKey('')).toThrow(/^key must not be empty/)
    expect(() => checkKey(undefined)).toThrow(/^key is required/)
    expect(() => checkKey(7)).toThrow(/^key must be a string/)
    expect(() => checkKey('a\nb')).toThrow(/^key must not contain control characters \(U\+000A at position 2\)/)
    expect(() => checkKey('a\u0085')).toThrow(/U\+0085/)
    expect(() => checkKey('a\ud800')).toThrow(/^key must be valid Unicode/)
    expect(() => checkKey('a\tb', 'entries[3].key')).toThrow(/^entries\[3\]\.key must not contain/)
  })

  it('prefixes may be empty', () => {
    expect(checkPrefix(null)).toBe('')
    expect(checkPrefix('')).toBe('')
    expect(checkPrefix('app/')).toBe('app/')
    expect(() => checkPrefix('a\u0000')).toThrow(/^prefix must not contain control characters/)
  })

  it('values: the UTF-8 bytes of their JSON count, 1 MiB at most', () => {
    expect(valueBytes('é')).toBe(4)
    expect(valueBytes({ a: [1, null] })).toBe(14)
    expect(checkValue(null, 'k')).toBeNull()
    expect(checkValue(stringOfJsonBytes(MAX_KV_VALUE_BYTES), 'k')).toHaveLength(MAX_KV_VALUE_BYTES - 2)
    const big = stringOfJsonBytes(MAX_KV_VALUE_BYTES + 1)
    expect(() => checkValue(big, 'big')).toThrow(ValueTooLargeError)
    expect(() => checkValue(big, 'big')).toThrow('value of 1048577 bytes is over the 1 MiB limit (key big)')
    expect(() => checkValue(undefined, 'k')).toThrow(/^value is required/)
    expect(() => checkValue(() => 1, 'k')).toThrow(/^value must be a JSON value/)
    expect(() => checkValue(10n, 'k')).toThrow(/^value must be a JSON value/)
  })
})

describe('kv routes', () => {
  let f: Fixture
  let tcp: { port: number }
  const post = async (path: string, body: unknown): Promise<Reply> =>
    await call(tcp, 'POST', `/api/v1/${path}`, { headers: f.auth, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const get = async (path: string): Promise<Reply> => await call(tcp, 'GET', `/api/v1/${path}`, { headers: f.auth })
  const kvSetCalls = (): number => f.control.calls.filter(c => c.method === 'kvSet').length

  beforeAll(async () => {
    f = await startFixture()
    tcp = { port: f.server.port }
  })
  afterAll(async () => { await f.cleanup() })
  beforeEach(() => { f.control.kv.clear() })

  it('set → get → list → del → get 404', async () => {
    const set = await post('kv/set', { key: 'app/color', value: 'blue' })
    expect(set.status).toBe(200)
    expect(set.body).toEqual({ key: 'app/color', value: 'blue', updatedBy: PEER_A, hlc: expect.any(String) })
    expect(f.control.calls.at(-1)).toEqual({ method: 'kvSet', args: [[{ key: 'app/color', value: 'blue' }]] })

    const got = await get('kv/get?key=app%2Fcolor')
    expect(got.status).toBe(200)
    expect(got.body).toEqual(set.body)

    await post('kv/set', { key: 'app/size', value: { w: 3, h: [1, 2] } })
    await post('kv/set', { key: 'other', value: null })
    const all = await get('kv/list')
    expect(all.status).toBe(200)
    expect((all.body as Array<{ key: string }>).map(e => e.key)).toEqual(['app/color', 'app/size', 'other'])
    expect(f.control.calls.at(-1)).toEqual({ method: 'kvList', args: [''] })
    const some = await get('kv/list?prefix=app%2F')
    expect(some.body).toEqual([set.body, expect.objectContaining({ key: 'app/size', value: { w: 3, h: [1, 2] } })])
    expect((await get('kv/list?prefix=')).body).toHaveLength(3)
    expect((await get('kv/list?prefix=zzz')).body).toEqual([])
    expect((await get('kv/get?key=other')).body.value).toBeNull()

    const del = await post('kv/del', { key: 'app/color' })
    expect(del.status).toBe(200)
    expect(del.body).toEqual({ key: 'app/color', deleted: true })
    expect((await post('kv/del', { key: 'app/color' })).body).toEqual({ key: 'app/color', deleted: false })

    const missing = await get('kv/get?key=app%2Fcolor')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ error: { name: 'NotFoundError', message: 'no key app/color' } })
  })

  it('a key longer than the API writes (another client wrote it) can still be read and deleted', async () => {
    const key = 'k'.repeat(600)
    const r = await get(`kv/get?key=${key}`)
    expect(r.body).toEqual({ error: { name: 'NotFoundError', message: `no key ${key}` } })
    expect((await post('kv/del', { key })).body).toEqual({ key, deleted: false })
    expect((await post('kv/set', { key, value: 1 })).body).toMatchObject({ error: { name: 'InvalidArgumentError' } })
    expect((await get(`kv/get?key=${'k'.repeat(1025)}`)).body).toMatchObject({ error: { name: 'InvalidArgumentError' } })
  })

  it('keys with spaces, + and non-ASCII survive the query string', async () => {
    const key = 'a b+c/ü?&='
    await post('kv/set', { key, value: 1 })
    const r = await get(`kv/get?key=${encodeURIComponent(key)}`)
    expect(r.status).toBe(200)
    expect(r.body.key).toBe(key)
  })

  it('set-many: one kvSet call with every entry, answers {count}', async () => {
    const before = kvSetCalls()
    const entries = [{ key: 'a', value: 1 }, { key: 'b', value: 'two' }, { key: 'c', value: [3] }]
    const r = await post('kv/set-many', { entries })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ count: 3 })
    expect(kvSetCalls()).toBe(before + 1)
    expect(f.control.calls.at(-1)).toEqual({ method: 'kvSet', args: [entries] })
    expect((await get('kv/get?key=c')).body.value).toEqual([3])
  })

  it('set-many takes 10,000 entries and refuses 10,001 or none', async () => {
    const entries = (n: number): Array<{ key: string, value: number }> => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: i }))
    const ok = await post('kv/set-many', { entries: entries(10_000) })
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ count: 10_000 })
    const before = kvSetCalls()
    for (const body of [{ entries: entries(10_001) }, { entries: [] }]) {
      const r = await post('kv/set-many', body)
      expect(r.status).toBe(400)
      expect(r.body.error.name).toBe('InvalidArgumentError')
      expect(r.body.error.message).toMatch(/^entries must hold 1 to 10000 entries/)
    }
    expect(kvSetCalls()).toBe(before)
  })

  it('a value of exactly 1 MiB of JSON is accepted; 1 MiB + 1 byte is a 413 ValueTooLargeError', async () => {
    const exact = stringOfJsonBytes(MAX_KV_VALUE_BYTES)
    const ok = await post('kv/set', { key: 'exact', value: exact })
    expect(ok.status).toBe(200)
    expect(f.control.kv.get('exact')?.value).toBe(exact)

    const before = kvSetCalls()
    const tooBig = await post('kv/set', { key: 'big', value: stringOfJsonBytes(MAX_KV_VALUE_BYTES + 1) })
    expect(tooBig.status).toBe(413)
    expect(tooBig.body).toEqual({ error: { name: 'ValueTooLargeError', message: 'value of 1048577 bytes is over the 1 MiB limit (key big)' } })
    const inBatch = await post('kv/set-many', { entries: [{ key: 'small', value: 1 }, { key: 'big2', value: { text: stringOfJsonBytes(MAX_KV_VALUE_BYTES) } }] })
    expect(inBatch.status).toBe(413)
    expect(inBatch.body.error.message).toMatch(/over the 1 MiB limit \(key big2\)$/)
    expect(kvSetCalls()).toBe(before)
    expect(f.control.kv.has('small')).toBe(false)
  })

  it('per-route body limits: kv/set 2 MiB, kv/set-many 16 MiB, others 1 MiB', async () => {
    const setBody = JSON.stringify({ key: 'k', value: 'x'.repeat(2 * 1024 * 1024) })
    const set = await post('kv/set', setBody)
    expect(set.status).toBe(413)
    expect(set.body.error.name).toBe('PayloadTooLargeError')

    // three values of nearly 1 MiB each: over the default limit, under set-many's
    const value = stringOfJsonBytes(MAX_KV_VALUE_BYTES - 100)
    const many = await post('kv/set-many', { entries: [0, 1, 2].map(i => ({ key: `m${i}`, value })) })
    expect(many.status).toBe(200)
    expect(many.body).toEqual({ count: 3 })
    const tooMany = await post('kv/set-many', { entries: Array.from({ length: 17 }, (_, i) => ({ key: `m${i}`, value })) })
    expect(tooMany.status).toBe(413)
    expect(tooMany.body.error.name).toBe('PayloadTooLargeError')

    const del = await post('kv/del', JSON.stringify({ key: 'k', pad: 'x'.repeat(1024 * 1024) }))
    expect(del.status).toBe(413)
  })

  it('bad keys, values and fields are 400s that name the field', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['kv/set', {}, /^key is required/],
      ['kv/set', { value: 1 }, /^key is required/],
      ['kv/set', { key: 5, value: 1 }, /^key must be a string/],
      ['kv/set', { key: '', value: 1 }, /^key must not be empty/],
      ['kv/set', { key: 'x'.repeat(513), value: 1 }, /^key must be at most 512 UTF-8 bytes/],
      ['kv/set', { key: 'line\nbreak', value: 1 }, /^key must not contain control characters/],
      ['kv/set', { key: 'del\u007f', value: 1 }, /^key must not contain control characters/],
      ['kv/set', { key: 'k' }, /^value is required/],
      ['kv/set', { key: 'k', value: 1, extra: true }, /"extra"/],
      ['kv/set-many', {}, /^entries is required/],
      ['kv/set-many', { entries: { key: 'k', value: 1 } }, /^entries must be an array/],
      ['kv/set-many', { entries: ['k'] }, /^entries\[0\] must be an object/],
      ['kv/set-many', { entries: [{ key: 'a', value: 1 }, { key: '', value: 1 }] }, /^entries\[1\]\.key must not be empty/],
      ['kv/set-many', { entries: [{ key: 'a' }] }, /^entries\[0\]\.value is required/],
      ['kv/set-many', { entries: [{ key: 'a', value: 1, ttl: 3 }] }, /^entries\[0\]: unknown field "ttl"/],
      ['kv/del', {}, /^key is required/],
      ['kv/del', { key: 'tab\there' }, /^key must not contain control characters/],
      ['kv/del', { key: 'k', value: 1 }, /"value"/]
    ]
    const before = f.control.calls.length
    for (const [path, body, message] of cases) {
      const r = await post(path, body)
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      expect(r.body.error.name).toBe('InvalidArgumentError')
      expect(r.body.error.message, `${path} ${JSON.stringify(body)}`).toMatch(message)
    }
    const queries: Array<[string, RegExp]> = [
      ['kv/get', /^key is required/],
      ['kv/get?key=', /^key must not be empty/],
      ['kv/get?key=a%0Ab', /^key must not contain control characters/],
      ['kv/get?key=a&key=b', /^key must be given once/],
      ['kv/get?key=a&prefix=b', /^unknown query parameter "prefix"/],
      ['kv/list?prefix=a%00', /^prefix must not contain control characters/],
      ['kv/list?key=a', /^unknown query parameter "key"/]
    ]
    for (const [path, message] of queries) {
      const r = await get(path)
      expect(r.status, path).toBe(400)
      expect(r.body.error.message, path).toMatch(message)
    }
    expect(f.control.calls.length).toBe(before)
  })

  it('the methods are fixed: GET on kv/set → 405 Allow: POST, POST on kv/get → 405 Allow: GET', async () => {
    for (const path of ['kv/set', 'kv/set-many', 'kv/del']) {
      const r = await get(path)
      expect(r.status, path).toBe(405)
      expect(r.headers.allow).toBe('POST')
      expect(r.body.error.name).toBe('MethodNotAllowedError')
    }
    for (const path of ['kv/get?key=k', 'kv/list']) {
      const r = await post(path, {})
      expect(r.status, path).toBe(405)
      expect(r.headers.allow).toBe('GET')
    }
  })

  it('the kv routes need the token', async () => {
    expect((await call(tcp, 'GET', '/api/v1/kv/list')).status).toBe(401)
  })

  it('errors of the store keep their name and status', async () => {
    f.control.fail = new ValueTooLargeError('value of 5 bytes is over the 1 MiB limit (key k)')
    expect((await post('kv/set', { key: 'k', value: 1 })).status).toBe(413)
    f.control.fail = named('PermissionDeniedError', 'guests cannot write')
    const r = await post('kv/del', { key: 'k' })
    expect(r.status).toBe(403)
    expect(r.body).toEqual({ error: { name: 'PermissionDeniedError', message: 'guests cannot write' } })
  })
})

describe('kv routes on a daemon without a key-value store', () => {
  it('answer 501 NotImplementedError, whatever the input', async () => {
    await expectNotImplemented([
      ['POST', '/api/v1/kv/set', '{"key":"k","value":1}'],
      ['POST', '/api/v1/kv/set-many', '{}'],
      ['GET', '/api/v1/kv/get?key=k', undefined],
      ['GET', '/api/v1/kv/list', undefined],
      ['POST', '/api/v1/kv/del', '{"key":""}']
    ], 'this daemon has no key-value store')
  })
})
