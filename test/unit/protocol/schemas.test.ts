import { describe, expect, it } from 'vitest'
import type { StatusDoc } from '../../../src/model/docs.js'
import { taskMessage } from '../../../src/protocol/schemas/task.js'
import { MAX_HINT_ADDRS, helloAnswer, helloAnswerHints, helloClose, helloOpen, helloOpenHints } from '../../../src/protocol/schemas/team.js'
import { queryReply, queryRequest } from '../../../src/protocol/schemas/query.js'
import { WireStatusSchema, fromWire, toWire } from '../../../src/protocol/schemas/status.js'
import { keyRotation, rekeyRequest } from '../../../src/protocol/schemas/rekey.js'
import { gossipBatch, syncFrame, syncMore, syncPull } from '../../../src/protocol/schemas/sync.js'
import { heartbeat, rosterGossip } from '../../../src/protocol/schemas/gossip.js'
import { validator } from '../../../src/model/schema.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const SIG = 'A'.repeat(86)
const OFFER = {
  t: 'offer',
  id: 1,
  task: { taskId: 't-1', attempt: 1, agent: 'echo', input: null, priority: 'normal', leaseMs: 5000, coordinator: PEER, grant: { coordinator: PEER, epoch: 0, sig: SIG } }
}

describe('task messages', () => {
  it('takes each well-formed message', () => {
    for (const m of [
      OFFER,
      { t: 'cancel', taskId: 't-1' },
      { t: 'logs', id: 2, taskId: 't-1' },
      { t: 'reply', id: 3, accepted: true, startedWall: 1_700_000_000_000, others: 0 },
      { t: 'reply', id: 3, lines: ['a'], truncated: true },
      { t: 'started', taskId: 't-1', attempt: 1, startedWall: 1 },
      { t: 'renew', taskId: 't-1', attempt: 1, expiresWall: 1 },
      { t: 'log', taskId: 't-1', lines: [] },
      { t: 'finished', taskId: 't-1', attempt: 2, others: 3 },
      { t: 'done', taskId: 't-1', attempt: 1, batch: { author: PEER } }
    ]) expect(taskMessage.problem(m), JSON.stringify(m)).toBeNull()
  })

  it('checks what reached lease arithmetic unchecked: a reply\'s startedWall, a finished\'s others', () => {
    expect(taskMessage.problem({ t: 'reply', id: 1, accepted: true, startedWall: 'soon' })).toMatchObject({ field: 'startedWall' })
    expect(taskMessage.problem({ t: 'reply', id: 1, startedWall: 1.5 })).toMatchObject({ field: 'startedWall' })
    expect(taskMessage.problem({ t: 'reply', id: 1, startedWall: -1 })).toMatchObject({ field: 'startedWall' })
    expect(taskMessage.problem({ t: 'finished', taskId: 't-1', attempt: 1, others: 'NaN' })).toMatchObject({ field: 'others' })
    expect(taskMessage.problem({ t: 'finished', taskId: 't-1', attempt: 1, others: 2 ** 53 + 2 })).toMatchObject({ field: 'others' })
  })

  it('names the field inside an offer, an unknown message and an extra key', () => {
    expect(taskMessage.problem({ ...OFFER, task: { ...OFFER.task, attempt: 0 } })).toMatchObject({ field: 'task.attempt' })
    expect(taskMessage.problem({ ...OFFER, task: { ...OFFER.task, priority: 'urgent' } })).toMatchObject({ field: 'task.priority' })
    expect(taskMessage.problem({ ...OFFER, task: { ...OFFER.task, grant: { ...OFFER.task.grant, epoch: -1 } } })).toMatchObject({ field: 'task.grant.epoch' })
    expect(taskMessage.problem({ t: 'shout' })).toMatchObject({ field: 't' })
    expect(taskMessage.problem({ t: 'cancel', taskId: 't-1', x: 1 })).toMatchObject({ field: 'x' })
    expect(taskMessage.problem([])).toMatchObject({ field: '' })
    expect(taskMessage.problem({ t: 'done', taskId: 't-1', attempt: 1, batch: [] })).toMatchObject({ field: 'batch' })
    expect(taskMessage.problem({ t: 'log', taskId: 't-1', lines: ['x'.repeat(4_097)] })).toMatchObject({ field: 'lines.0' })
  })
})

const DOC: StatusDoc = {
  peerId: PEER,
  name: 'ada',
  version: '0.1.0',
  team: { teamId: 'team-1', name: 'crew', role: 'admin', removed: { kind: 'removed', by: PEER, byName: null, at: 5, text: 'removed' } },
  addresses: ['/ip4/127.0.0.1/tcp/1'],
  connectedPeers: 2,
  members: 3,
  uptimeMs: 10,
  stateHash: 'h',
  stateDigest: 'd',
  api: { url: 'http://127.0.0.1:1', socket: '/tmp/api.sock' }
}

describe('the wire status', () => {
  const wireStatus = validator(WireStatusSchema)

  it('goes on the wire without the local API address, and comes back as the same document', () => {
    const wire = toWire(DOC)
    expect(wireStatus.problem(wire)).toBeNull()
    expect('api' in wire).toBe(false)
    const { api: _api, ...rest } = DOC
    expect(fromWire(wire)).toStrictEqual(rest)
    expect(fromWire(toWire({ ...DOC, team: null }))).toMatchObject({ team: null })
  })

  it('refuses a peer\'s status with a wrong field, naming it', () => {
    expect(wireStatus.problem({ ...toWire(DOC), uptimeMs: -1 })).toMatchObject({ field: 'uptimeMs' })
    expect(wireStatus.problem({ ...toWire(DOC), team: { teamId: 'x', name: 'y', role: 'owner' } })).not.toBeNull()
    expect(wireStatus.problem({ ...toWire(DOC), api: DOC.api })).toMatchObject({ field: 'api' })
    expect(queryReply.problem({ status: { ...toWire(DOC), members: '3' } })).toMatchObject({ field: 'status.members' })
    expect(queryRequest.problem({ type: 'tasks' })).toMatchObject({ field: 'type' })
  })
})

describe('the other protocols', () => {
  const rotation = { v: 1, teamId: 't', keyEpoch: 2, psk: 'ab'.repeat(32), at: 1, by: PEER, sig: SIG }

  it('hello: each step takes only its own messages', () => {
    expect(helloOpen.problem({ type: 'hello', cert: { peerId: PEER }, roster: [], departures: [] })).toBeNull()
    expect(helloOpen.problem({ type: 'welcome', cert: {} })).toMatchObject({ field: 'type' })
    expect(helloOpen.problem({ type: 'hello', cert: 'x' })).toMatchObject({ field: 'cert' })
    expect(helloAnswer.problem({ type: 'refused', error: { name: 'E', message: 'no' } })).toBeNull()
    expect(helloClose.problem({ type: 'ack' })).toBeNull()
    expect(helloClose.problem({ type: 'welcome', cert: {} })).toMatchObject({ field: 'type' })
  })

  it('hello 1.1.0: hello and welcome may carry address hints, bounded; 1.0.0 takes none (why 1.1.0 is a protocol id of its own)', () => {
    const addrs = [{ id: PEER, addrs: ['/ip4/127.0.0.1/tcp/4001'] }]
    expect(helloOpenHints.problem({ type: 'hello', cert: { peerId: PEER }, roster: [], departures: [], addrs })).toBeNull()
    expect(helloAnswerHints.problem({ type: 'welcome', cert: { peerId: PEER }, addrs })).toBeNull()
    expect(helloAnswerHints.problem({ type: 'refused', error: { name: 'E', message: 'no' } })).toBeNull()
    expect(helloOpen.problem({ type: 'hello', cert: { peerId: PEER }, addrs })).not.toBeNull()
    expect(helloAnswer.problem({ type: 'welcome', cert: { peerId: PEER }, addrs })).not.toBeNull()
    const tooMany = Array.from({ length: MAX_HINT_ADDRS + 1 }, (_, i) => `/ip4/127.0.0.1/tcp/${i + 1}`)
    expect(helloOpenHints.problem({ type: 'hello', cert: {}, addrs: [{ id: PEER, addrs: tooMany }] })).toMatchObject({ field: expect.stringContaining('addrs') })
    expect(helloOpenHints.problem({ type: 'hello', cert: {}, addrs: [{ id: PEER, addrs: ['x'.repeat(300)] }] })).not.toBeNull()
    expect(helloOpenHints.problem({ type: 'hello', cert: {}, addrs: [{ id: PEER }] })).not.toBeNull()
  })

  it('rekey: the rotation\'s fields', () => {
    expect(rekeyRequest.problem({ type: 'rekey', rotation })).toBeNull()
    expect(keyRotation.problem({ ...rotation, psk: 'AB'.repeat(32) })).toMatchObject({ field: 'psk' })
    expect(rekeyRequest.problem({ type: 'rekey', rotation: { ...rotation, keyEpoch: 0 } })).toMatchObject({ field: 'rotation.keyEpoch' })
  })

  it('sync: the pull, the grants and the server\'s frames', () => {
    expect(syncPull.problem({ type: 'pull', vv: { [PEER]: 3 }, window: 8 })).toBeNull()
    expect(syncPull.problem({ type: 'pull', vv: { [PEER]: -3 } })).toMatchObject({ field: `vv.${PEER}` })
    expect(syncPull.problem({ type: 'pull', vv: {}, window: 0 })).toMatchObject({ field: 'window' })
    expect(syncMore.problem({ type: 'more', frames: 'many' })).toMatchObject({ field: 'frames' })
    expect(syncFrame.problem({ type: 'batch', batch: { author: PEER } })).toBeNull()
    expect(syncFrame.problem({ type: 'done' })).toBeNull()
    expect(syncFrame.problem({ type: 'batch' })).toMatchObject({ field: 'batch' })
    expect(gossipBatch.problem({ author: 5 })).toMatchObject({ field: 'author' })
  })

  it('gossip: the roster message and the heartbeat', () => {
    expect(rosterGossip.problem({ certs: [], departures: [] })).toBeNull()
    expect(rosterGossip.problem({ departures: [] })).toMatchObject({ field: 'certs' })
    const hb = { v: 1, type: 'beat', peerId: PEER, seq: 5, intervalMs: 1000, direct: ['abcdefgh'], sig: SIG }
    expect(heartbeat.problem(hb)).toBeNull()
    expect(heartbeat.problem({ ...hb, intervalMs: 0 })).toMatchObject({ field: 'intervalMs' })
    expect(heartbeat.problem({ ...hb, direct: ['short'] })).toMatchObject({ field: 'direct.0' })
  })
})
