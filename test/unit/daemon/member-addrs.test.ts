import { describe, expect, it } from 'vitest'
import { AddressBook, MAX_ADDRS_PER_PEER, MAX_HINT_CHARS, dialableAddress, readHints } from '../../../src/daemon/member-addrs.js'
import { MAX_HINT_PEERS } from '../../../src/protocol/schemas/team.js'

const A = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const B = '12D3KooWRm3AETNFH3jxkYr4mXpEhsLU3pThsDbpXnPMWj5eP1dG'
const SELF = '12D3KooWCxnyz1JxC9y1RniRQVFe2cLaLHsYNc2SnXbM7yq5JBbJ'

describe('a dialable address from a hint', () => {
  it('keeps an IP or DNS host with a TCP port, loopback and private ones as they are, without its /p2p/', () => {
    expect(dialableAddress('/ip4/127.0.0.1/tcp/4001', A)?.toString()).toBe('/ip4/127.0.0.1/tcp/4001')
    expect(dialableAddress(`/ip4/10.1.2.3/tcp/4001/p2p/${A}`, A)?.toString()).toBe('/ip4/10.1.2.3/tcp/4001')
    expect(dialableAddress('/ip6/::1/tcp/9', A)?.toString()).toBe('/ip6/::1/tcp/9')
    expect(dialableAddress('/dns4/laptop.local/tcp/4001', A)?.toString()).toBe('/dns4/laptop.local/tcp/4001')
  })

  it('refuses another peer\'s /p2p/, other transports, unspecified hosts, port 0, junk and overlong text', () => {
    expect(dialableAddress(`/ip4/127.0.0.1/tcp/4001/p2p/${B}`, A)).toBeUndefined()
    expect(dialableAddress('/ip4/127.0.0.1/udp/4001/quic-v1', A)).toBeUndefined()
    expect(dialableAddress(`/ip4/127.0.0.1/tcp/4001/p2p/${B}/p2p-circuit/p2p/${A}`, A)).toBeUndefined()
    expect(dialableAddress('/ip4/127.0.0.1/tcp/4001/ws', A)).toBeUndefined()
    expect(dialableAddress('/ip4/0.0.0.0/tcp/4001', A)).toBeUndefined()
    expect(dialableAddress('/ip6/::/tcp/4001', A)).toBeUndefined()
    expect(dialableAddress('/ip4/127.0.0.1/tcp/0', A)).toBeUndefined()
    expect(dialableAddress('/tcp/4001', A)).toBeUndefined()
    expect(dialableAddress('not an address', A)).toBeUndefined()
    expect(dialableAddress(42, A)).toBeUndefined()
    expect(dialableAddress(`/dns4/${'a'.repeat(300)}/tcp/1`, A)).toBeUndefined()
  })
})

describe('reading the hints a hello carried', () => {
  it('takes dialable addresses of the peers wanted, never this daemon\'s own, deduplicated and bounded', () => {
    const many = Array.from({ length: 20 }, (_, i) => `/ip4/127.0.0.1/tcp/${4000 + i}`)
    const hints = readHints([
      { id: A, addrs: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/1', `/ip4/127.0.0.1/tcp/1/p2p/${A}`, 'junk', '/ip4/127.0.0.1/tcp/2'] },
      { id: B, addrs: many },
      { id: SELF, addrs: ['/ip4/127.0.0.1/tcp/3'] },
      { id: 'stranger', addrs: ['/ip4/127.0.0.1/tcp/4'] },
      { id: A, addrs: ['/ip4/127.0.0.1/tcp/5'] },
      'junk', null, { id: 7, addrs: [] }
    ], SELF, id => id !== 'stranger')
    expect([...hints.keys()]).toEqual([A, B])
    expect(hints.get(A)?.map(String)).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    expect(hints.get(B)).toHaveLength(MAX_ADDRS_PER_PEER)
  })

  it('reads no more peers than one hello may carry, and nothing from what is not a list', () => {
    const entries = Array.from({ length: MAX_HINT_PEERS + 5 }, (_, i) => ({ id: `peer-${i}`, addrs: [`/ip4/127.0.0.1/tcp/${1 + (i % 60_000)}`] }))
    expect(readHints(entries, SELF, () => true).size).toBe(MAX_HINT_PEERS)
    expect(readHints({ id: A, addrs: ['/ip4/127.0.0.1/tcp/1'] }, SELF, () => true).size).toBe(0)
    expect(readHints(undefined, SELF, () => true).size).toBe(0)
  })
})

describe('the address book', () => {
  it('tells when an address is new, keeps the newest first, bounded per peer', () => {
    const book = new AddressBook()
    expect(book.learn(A, ['/ip4/127.0.0.1/tcp/1'])).toBe(true)
    expect(book.learn(A, [`/ip4/127.0.0.1/tcp/1/p2p/${A}`])).toBe(false)
    expect(book.learn(A, ['/ip4/0.0.0.0/tcp/1', 'junk'])).toBe(false)
    expect(book.learn(A, ['/ip4/127.0.0.1/tcp/2'])).toBe(true)
    expect(book.get(A)).toEqual(['/ip4/127.0.0.1/tcp/2', '/ip4/127.0.0.1/tcp/1'])
    book.learn(A, Array.from({ length: 10 }, (_, i) => `/ip4/127.0.0.1/tcp/${100 + i}`))
    expect(book.get(A)).toHaveLength(MAX_ADDRS_PER_PEER)
    expect(book.get(A)[0]).toBe('/ip4/127.0.0.1/tcp/100')
  })

  it('hints the peers asked for that have addresses, in order, within the size bound', () => {
    const book = new AddressBook()
    book.learn(A, ['/ip4/127.0.0.1/tcp/1'])
    book.learn(B, ['/ip4/127.0.0.1/tcp/2'])
    expect(book.hints([B, SELF, A])).toEqual([{ id: B, addrs: ['/ip4/127.0.0.1/tcp/2'] }, { id: A, addrs: ['/ip4/127.0.0.1/tcp/1'] }])
    const big = new AddressBook()
    const ids = Array.from({ length: 5_000 }, (_, i) => `${A}-${i}`)
    for (const id of ids) big.learn(id, Array.from({ length: 6 }, (_, k) => `/dns4/${'h'.repeat(60)}${k}.example/tcp/4001`))
    const hints = big.hints(ids)
    expect(JSON.stringify(hints).length).toBeLessThanOrEqual(MAX_HINT_CHARS)
    expect(hints.length).toBeGreaterThan(100)
  })
})
