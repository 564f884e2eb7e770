import { describe, expect, it } from 'vitest'
import { bearerMatches, hostAllowed, hostHeaderName, isLoopbackName, originAllowed } from '../../../src/api/guard.js'

describe('request guards', () => {
  it('loopback names', () => {
    for (const n of ['localhost', '127.0.0.1', '127.255.255.254', '::1', 'LocalHost']) expect(isLoopbackName(n), n).toBe(true)
    for (const n of ['0.0.0.0', '128.0.0.1', '127.0.0.256', '127.0.0', 'localhost.', 'mylocalhost', '::2']) expect(isLoopbackName(n), n).toBe(false)
  })

  it('Host header names', () => {
    expect(hostHeaderName('localhost:8080')).toBe('localhost')
    expect(hostHeaderName('[::1]:8080')).toBe('::1')
    expect(hostHeaderName('[::1]')).toBe('::1')
    expect(hostHeaderName('[::1')).toBeUndefined()
    expect(hostHeaderName('[nothex]:1')).toBeUndefined()
    expect(hostHeaderName('::1')).toBeUndefined()
    expect(hostHeaderName('localhost:80:80')).toBeUndefined()
    expect(hostHeaderName(':80')).toBeUndefined()
  })

  it('Host: missing only on the unix socket; configured extra addresses', () => {
    expect(hostAllowed(undefined, 'unix')).toBe(true)
    expect(hostAllowed(undefined, 'tcp')).toBe(false)
    expect(hostAllowed('192.168.1.5:9000', 'tcp')).toBe(false)
    expect(hostAllowed('192.168.1.5:9000', 'tcp', ['192.168.1.5'])).toBe(true)
  })

  it('Origin', () => {
    expect(originAllowed('http://127.0.0.1:9000', 9000)).toBe(true)
    expect(originAllowed('http://localhost:9000', 9000)).toBe(true)
    expect(originAllowed('http://localhost:9001', 9000)).toBe(false)
    expect(originAllowed('http://localhost', 9000)).toBe(false)
    expect(originAllowed('null', 9000)).toBe(false)
  })

  it('bearer tokens', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true)
    expect(bearerMatches('bearer  abc ', 'abc')).toBe(true)
    expect(bearerMatches('Bearer abd', 'abc')).toBe(false)
    expect(bearerMatches('Bearer abc extra', 'abc')).toBe(false)
    expect(bearerMatches('abc', 'abc')).toBe(false)
    expect(bearerMatches(undefined, 'abc')).toBe(false)
    expect(bearerMatches('Bearer ', '')).toBe(false)
  })
})
