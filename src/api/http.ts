/**
 * Small HTTP helpers of the API server: JSON replies, error replies and a bounded JSON
 * body reader.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { InvalidArgumentError } from '../errors.js'
import { PayloadTooLargeError, errorBody, statusForError } from './errors.js'

/** largest request body accepted, unless a route sets its own `maxBody` */
export const MAX_BODY_BYTES = 1024 * 1024

export function sendJson (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value) + '\n'
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers
  })
  res.end(body)
}

/** `{ error: { name, message } }` with the status its name maps to */
export function sendError (res: ServerResponse, err: unknown, headers: Record<string, string> = {}): number {
  const body = errorBody(err)
  const status = statusForError(body.error.name)
  if (res.headersSent) {
    res.destroy()
    return status
  }
  sendJson(res, status, body, headers)
  return status
}

/**
 * The request body as a JSON object. An empty body is `{}`. Throws
 * `PayloadTooLargeError` past `limit` bytes (the rest of the body is read and dropped,
 * so the client sees the answer), `InvalidArgumentError` for anything but a JSON object.
 */
export async function readJsonBody (req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    throw new PayloadTooLargeError(`request body is ${declared} bytes; the limit is ${limit}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  let tooLarge = false
  await new Promise<void>((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) tooLarge = true
      if (!tooLarge) chunks.push(chunk)
    })
    req.on('end', resolve)
    req.on('error', reject)
  })
  if (tooLarge) throw new PayloadTooLargeError(`request body is over the limit of ${limit} bytes`)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new InvalidArgumentError(`request body is not valid JSON: ${(err as Error).message}`)
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`request body must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`)
  }
  return value as Record<string, unknown>
}
