import { multiaddr } from '@multiformats/multiaddr'
import { beforeAll, describe, expect, it } from 'vitest'
import { Departures, signDeparture, signRemoval } from '../../../src/daemon/departures.js'
import { MAX_ROSTER_ENTRIES } from '../../../src/daemon/roster-gossip.js'
import {
  addressPeer, currentMembers, discoveryAction, helloDeadlineCoolOffMs, helloPayload, isCurrentMember, pausedReason, presenceNotice
} from '../../../src/daemon/session-policy.js'
import { Roster } from '../../../src/team/index.js'
import { HOUR, T0, invite, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(3)
})

/** founder + two invited members */
function world (): { roster: Roster, departures: Departures } {
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  for (const p of peers.slice(0, 2)) roster.add(invite(t, { cert: t.founderCert, signer: t.founder.signer }, p).cert, T0 + 2000)
  const departures = new Departures(t.team.teamId)
  departures.isAdmin = peer => peer === t.founder.peerId
  return { roster, departures }
}

describe('who counts as a member', () => {
  it('every roster member, until it leaves or an admin removes it', () => {
    const w = world()
    const now = T0 + HOUR
    expect(currentMembers(w.roster, w.departures).map(c => c.peerId).sort()).toStrictEqual([t.founder.peerId, peers[0].peerId, peers[1].peerId].sort())
    expect(isCurrentMember(w.roster, w.departures, peers[0].peerId, now)).toBe(true)
    w.departures.merge([signDeparture(t.team.teamId, peers[0].signer, now)])
    w.departures.merge([signRemoval(t.team.teamId, peers[1].peerId, t.founder.signer, now)])
    expect(currentMembers(w.roster, w.departures).map(c => c.peerId)).toStrictEqual([t.founder.peerId])
    expect(isCurrentMember(w.roster, w.departures, peers[0].peerId, now)).toBe(false)
    expect(isCurrentMember(w.roster, w.departures, peers[1].peerId, now)).toBe(false)
    expect(isCurrentMember(w.roster, w.departures, t.founder.peerId, now)).toBe(true)
  })

  it('nobody outside the roster', () => {
    const w = world()
    expect(isCurrentMember(w.roster, w.departures, peers[2].peerId, T0 + HOUR)).toBe(false)
  })

  it('a removal signed by a non-admin counts for nothing', () => {
    const w = world()
    w.departures.merge([signRemoval(t.team.teamId, peers[1].peerId, peers[0].signer, T0 + HOUR)])
    expect(isCurrentMember(w.roster, w.departures, peers[1].peerId, T0 + HOUR)).toBe(true)
  })
})

describe('what a discovered peer gets', () => {
  const facts = { self: false, shutOut: false, inRoster: false, connected: false }
  const never = (): boolean => { throw new Error('the stranger budget must not be asked') }

  it('itself, and anyone while shut out: nothing at all', () => {
    expect(discoveryAction({ ...facts, self: true, inRoster: true, mayDialStranger: never })).toBe('ignore')
    expect(discoveryAction({ ...facts, shutOut: true, inRoster: true, mayDialStranger: never })).toBe('ignore')
    expect(discoveryAction({ ...facts, shutOut: true, mayDialStranger: never })).toBe('ignore')
  })

  it('a roster member: redialed, connected or not, without spending the stranger budget', () => {
    expect(discoveryAction({ ...facts, inRoster: true, mayDialStranger: never })).toBe('redial')
    expect(discoveryAction({ ...facts, inRoster: true, connected: true, mayDialStranger: never })).toBe('redial')
  })

  it('a stranger: one dial while its budget lasts, none when connected', () => {
    let tokens = 1
    const take = (): boolean => tokens-- > 0
    expect(discoveryAction({ ...facts, connected: true, mayDialStranger: never })).toBe('none')
    expect(discoveryAction({ ...facts, mayDialStranger: take })).toBe('dial')
    expect(discoveryAction({ ...facts, mayDialStranger: take })).toBe('none')
  })
})

describe('whether this daemon takes work', () => {
  const at = (h: number, m = 0): Date => new Date(2025, 0, 1, h, m)

  it('always, by default', () => {
    expect(pausedReason({ pauseOnBattery: false, workHours: null }, 'battery', at(3))).toBeUndefined()
  })

  it('not on battery when so configured', () => {
    expect(pausedReason({ pauseOnBattery: true, workHours: null }, 'battery', at(12))).toBe('on battery')
    expect(pausedReason({ pauseOnBattery: true, workHours: null }, 'ac', at(12))).toBeUndefined()
    expect(pausedReason({ pauseOnBattery: true, workHours: null }, undefined, at(12))).toBeUndefined()
  })

  it('only within work hours (local time, end excluded, wrapping midnight)', () => {
    const day = { pauseOnBattery: false, workHours: '09:00-17:30' }
    expect(pausedReason(day, 'ac', at(9))).toBeUndefined()
    expect(pausedReason(day, 'ac', at(17, 29))).toBeUndefined()
    expect(pausedReason(day, 'ac', at(17, 30))).toBe('outside work hours 09:00-17:30')
    expect(pausedReason(day, 'ac', at(8, 59))).toBe('outside work hours 09:00-17:30')
    const night = { pauseOnBattery: false, workHours: '22:00-06:00' }
    expect(pausedReason(night, 'ac', at(23))).toBeUndefined()
    expect(pausedReason(night, 'ac', at(5, 59))).toBeUndefined()
    expect(pausedReason(night, 'ac', at(12))).toBe('outside work hours 22:00-06:00')
  })

  it('battery is named before the hours', () => {
    expect(pausedReason({ pauseOnBattery: true, workHours: '09:00-10:00' }, 'battery', at(12))).toBe('on battery')
  })
})

describe('what a presence change tells', () => {
  it('a first alive: the event only (the hello logged the join)', () => {
    expect(presenceNotice({ peer: 'p1', from: undefined, to: 'alive', at: T0 }, 'bob')).toStrictEqual({
      event: { type: 'peer:alive', data: { peerId: 'p1', name: 'bob', from: null } }
    })
  })

  it('any other change: a line and the event with the former state', () => {
    expect(presenceNotice({ peer: 'p1', from: 'alive', to: 'suspect', at: T0 }, 'bob')).toStrictEqual({
      line: 'peer suspect bob p1 (was alive)',
      event: { type: 'peer:suspect', data: { peerId: 'p1', name: 'bob', from: 'alive' } }
    })
    expect(presenceNotice({ peer: 'p1', from: 'suspect', to: 'alive', at: T0 }, '').line).toBe('peer alive  p1 (was suspect)')
    expect(presenceNotice({ peer: 'p1', from: undefined, to: 'dead', at: T0 }, 'bob').line).toBe('peer dead bob p1')
  })
})

describe('the hello this daemon sends', () => {
  it('carries its certificate, the roster and the departures', () => {
    const w = world()
    w.departures.merge([signDeparture(t.team.teamId, peers[0].signer, T0 + HOUR)])
    const hello = helloPayload('welcome', t.founderCert, w.roster, w.departures)
    expect(hello.type).toBe('welcome')
    expect(hello.cert).toBe(t.founderCert)
    expect(hello.roster).toStrictEqual(w.roster.toJSON())
    expect(hello.departures).toStrictEqual(w.departures.toJSON())
    expect(hello.departures).toHaveLength(1)
  })

  it('never more roster entries than a peer takes', () => {
    const w = world()
    const big = { toJSON: () => Array.from({ length: MAX_ROSTER_ENTRIES + 5 }, () => t.founderCert) } as unknown as Roster
    expect(helloPayload('hello', t.founderCert, big, w.departures).roster).toHaveLength(MAX_ROSTER_ENTRIES)
  })
})

describe('the peer an address names', () => {
  it('its /p2p/ part, unless it is this daemon or missing', () => {
    const a = peers[0].peerId
    expect(addressPeer(multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${a}`), peers[1].peerId)).toBe(a)
    expect(addressPeer(multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${a}`), a)).toBeUndefined()
    expect(addressPeer(multiaddr('/ip4/127.0.0.1/tcp/4001'), a)).toBeUndefined()
  })
})

describe('a connection that outlived the hello deadline without proving membership', () => {
  it('keeps a non-member out for a minute, and a current member not at all (it is redialed)', () => {
    expect(helloDeadlineCoolOffMs(false)).toBe(60_000)
    expect(helloDeadlineCoolOffMs(true)).toBe(0)
  })
})
