// The daemon's local API for the benches: requests over its unix socket with its bearer
// token (read once), and its event stream. One copy for every bench that drives daemons.
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { readEvents } from './sse.js'

/**
 * A client for the daemon whose home is `home`. `call(method, path, body?, timeoutMs?)`
 * resolves with the parsed answer (null when empty) and rejects with `METHOD path: status
 * text` on any status ≥ 300; `path` is under /api/v1/. `maxSockets` keeps that many
 * connections alive, so a bench that sends at a rate is not limited by its own connects;
 * without it each call connects anew. `close()` frees them.
 */
export async function apiClient (home, { maxSockets } = {}) {
  const token = (await readFile(join(home, 'api.token'), 'utf8')).trim()
  const socketPath = join(home, 'api.sock')
  const agent = maxSockets == null ? undefined : new Agent({ keepAlive: true, maxSockets })
  const headers = { host: 'localhost', authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const call = (method, path, body, timeoutMs) => new Promise((resolve, reject) => {
    const req = request({ socketPath, agent, method, path: `/api/v1/${path}`, headers, timeout: timeoutMs }, res => {
      let text = ''
      res.on('data', c => { text += c })
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text.trim()}`))
        else resolve(text === '' ? null : JSON.parse(text))
      })
    })
    if (timeoutMs != null) req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body != null ? JSON.stringify(body) : undefined)
  })
  /** the daemon's event stream; `onEvent(type, data)` until the returned close() */
  const events = onEvent => readEvents({ socketPath, token, onEvent })
  return { call, events, close: () => agent?.destroy() }
}
