// The daemon's event stream (`GET /api/v1/events`, server-sent events) for the benches:
// `onEvent(type, data)` for every event until the returned close() is called.
import { request } from 'node:http'

export function readEvents ({ socketPath, token, onEvent }) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/api/v1/events', headers: { host: 'localhost', authorization: `Bearer ${token}` } }, res => {
      // the daemon drops a subscriber that does not keep up: that ends this stream, not the bench
      res.on('error', () => {})
      let buf = ''
      res.on('data', chunk => {
        // one split per chunk: a chunk can hold thousands of events
        const blocks = (buf + chunk).split('\n\n')
        buf = blocks.pop()
        for (const block of blocks) {
          const type = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (type != null && data != null) onEvent(type, JSON.parse(data))
        }
      })
      resolve(() => req.destroy())
    })
    req.on('error', err => { if (err.code !== 'ECONNRESET') reject(err) })
    req.end()
  })
}
