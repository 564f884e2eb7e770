/**
 * The local API on a real daemon: token, Host and method checks.
 */
import { request } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess } from './harness.js'

interface Reply { status: number, body: string, headers: Record<string, unknown> }

async function call (port: number, method: string, path: string, headers: Record<string, string>): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, res => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, headers: res.headers }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('local API security on a real daemon', () => {
  const d = new DaemonProcess({ name: 'api' })
  let port = 0
  let token = ''

  beforeAll(async () => {
    await d.start()
    const m = /api on http:\/\/127\.0\.0\.1:(\d+)/.exec(d.log)
    port = Number(m?.[1])
    token = (await readFile(join(d.home, 'api.token'), 'utf8')).trim()
  }, 30_000)

  afterAll(async () => { await d.cleanup() })

  it('answers the status document with the right token', async () => {
    const r = await call(port, 'GET', '/api/v1/status', { authorization: `Bearer ${token}` })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body)).toHaveProperty('peerId')
  })

  it('no token → 401', async () => {
    const r = await call(port, 'GET', '/api/v1/status', {})
    expect(r.status).toBe(401)
    expect(JSON.parse(r.body).error.name).toBeTypeOf('string')
  })

  it('wrong token → 401', async () => {
    const r = await call(port, 'GET', '/api/v1/status', { authorization: `Bearer ${'0'.repeat(token.length)}` })
    expect(r.status).toBe(401)
  })

  it('Host: evil.example → 403 (DNS rebinding)', async () => {
    const r = await call(port, 'GET', '/api/v1/status', { authorization: `Bearer ${token}`, host: 'evil.example' })
    expect(r.status).toBe(403)
  })

  it('GET on a mutating route → 405', async () => {
    const r = await call(port, 'GET', '/api/v1/team/create', { authorization: `Bearer ${token}` })
    expect(r.status).toBe(405)
    expect(String(r.headers.allow)).toMatch(/POST/)
  })

  it('no CORS headers, even for a foreign Origin', async () => {
    const r = await call(port, 'GET', '/api/v1/status', { authorization: `Bearer ${token}`, origin: 'http://evil.example' })
    expect(r.status).toBe(403)
    expect(r.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('token, key and socket files are 0600', async () => {
    for (const f of ['api.token', 'key', 'api.sock']) {
      expect(((await stat(join(d.home, f))).mode & 0o777).toString(8), f).toBe('600')
    }
  })
})
