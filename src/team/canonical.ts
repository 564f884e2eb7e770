/**
 * Canonical encodings: the JSON that signatures cover, and strict base64url / hex.
 */
import { CERT_DOMAIN, GRANT_DOMAIN } from './constants.js'

/** Deepest nesting `canonicalJson` walks; a certificate chain of 8 is ~20 levels. */
const MAX_JSON_DEPTH = 64

/**
 * JSON with object keys sorted (by UTF-16 code unit), no whitespace, `undefined`
 * properties omitted and arrays in order. Only plain objects, arrays, strings, finite
 * numbers, booleans and `null` are allowed; anything else (non-finite numbers, bigint,
 * class instances, `undefined` in an array, cycles) throws a `TypeError`.
 */
export function canonicalJson (value: unknown): string {
  return encode(value, 0)
}

function encode (value: unknown, depth: number): string {
  if (depth > MAX_JSON_DEPTH) throw new TypeError('canonicalJson: value is nested too deeply')
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`)
      return JSON.stringify(value)
    case 'object':
      break
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`)
  }
  if (Array.isArray(value)) {
    const items = value.map((item: unknown, i) => {
      if (item === undefined) throw new TypeError(`canonicalJson: undefined at array index ${i}`)
      return encode(item, depth + 1)
    })
    return `[${items.join(',')}]`
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError('canonicalJson: only plain objects can be encoded')
  }
  const record = value as Record<string, unknown>
  const parts: string[] = []
  for (const key of Object.keys(record).sort()) {
    const item = record[key]
    if (item === undefined) continue
    parts.push(`${JSON.stringify(key)}:${encode(item, depth + 1)}`)
  }
  return `{${parts.join(',')}}`
}

/** The bytes a certificate or grant signature covers: domain line + canonical JSON. */
export function signingBytes (domain: 'cert' | 'grant', body: object): Uint8Array {
  const prefix = domain === 'cert' ? CERT_DOMAIN : GRANT_DOMAIN
  return new TextEncoder().encode(prefix + canonicalJson(body))
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

export function toBase64url (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Strict unpadded base64url: only the alphabet, and only the one canonical spelling of
 * the bytes (unused trailing bits zero). Returns `undefined` for anything else.
 */
export function fromBase64url (text: string, length?: number): Uint8Array | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined
  const bytes = Buffer.from(text, 'base64url')
  if (bytes.toString('base64url') !== text) return undefined
  if (length != null && bytes.length !== length) return undefined
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** True when `text` is exactly `bytes` bytes as lowercase hex. */
export function isHex (text: unknown, bytes: number): text is string {
  return typeof text === 'string' && text.length === bytes * 2 && /^[0-9a-f]*$/.test(text)
}
