/**
 * Only the right author may end a task, and only the executor's own doing counts against
 * it: three real daemons (a submitter that runs nothing, two executors) and an insider, a
 * stock libp2p node that joined with a real member invite and signs its ops with its own,
 * real member key. Loopback only; every daemon and node is stopped at the end.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { stateTopic } from '../../src/node/constants.js'
import { signBatch, type Op } from '../../src/state/ops/index.js'
import { signGrant } from '../../src/tasks/grant.js'
import { hashJson, signReceipt } from '../../src/tasks/receipt.js'
import { acceptInvite, decodeInvite, type MemberCertificate } from '../../src/team/index.js'
import { DaemonProcess, apiGet, apiPost, eventually, formTeam } from './harness.js'
import { PROTOCOL_TASK } from '../../src/tasks/constants.js'
import { addrOf, answerHellos, createAttacker, exchange, publishState, sayHello, waitForSubscriber, type Attacker } from './attacker.js'
import { allAlive, allFinal, configuredDaemon, peerId } from './tasks-helpers.js'

interface ResultRow { executor: string, attempt: number, exitCode: number, output?: unknown, error?: string, notCounted?: string }
interface TaskDoc {
  taskId: string
  state: string
  executor: string | null
  result: ResultRow | null
  results: ResultRow[]
  failRequests?: string[]
}
interface PeerRow { peerId: string, reputation: number | null, reputationStatus?: string | null }

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

describe('who may end a task, and who is blamed', () => {
  let a: DaemonProcess, b: DaemonProcess, c: DaemonProcess
  const ids: Record<string, string> = {}
  let teamId = ''
  let x: Attacker
  let cert: MemberCertificate
  let seq = 0

  async function doc (d: DaemonProcess, taskId: string): Promise<TaskDoc> {
    return await apiGet<TaskDoc>(d, `tasks/${taskId}`)
  }

  async function peerRow (d: DaemonProcess, peer: string): Promise<PeerRow> {
    return (await apiGet<PeerRow[]>(d, 'peers')).find(p => p.peerId === peer) ?? { peerId: peer, reputation: null }
  }

  /** the insider's next op, signed by its own member key, gossiped to the team */
  async function forge (kind: string, body: Record<string, unknown>): Promise<void> {
    const op: Op = { author: x.peerId, seq: seq + 1, hlc: { wall: Date.now(), logical: 0, node: x.peerId }, kind, body }
    const batch = signBatch([op], x.signer, teamId)
    seq++
    const recipients = await publishState(x.node, teamId, json(batch))
    expect(recipients.length).toBeGreaterThan(0)
  }

  /** submits a long sleep on `a` and waits until an executor runs it */
  async function runningSleep (ms: number): Promise<{ taskId: string, executor: string }> {
    const { taskId } = await apiPost<{ taskId: string }>(a, 'tasks/submit', { agent: 'sleep', input: { ms } })
    const t = await eventually('the sleep runs', async () => {
      const t = await doc(a, taskId)
      return t.state === 'running' && t.executor != null ? t : undefined
    }, 20_000, 100)
    return { taskId, executor: t.executor as string }
  }

  beforeAll(async () => {
    a = await configuredDaemon('fa', { slots: 0 })
    b = await configuredDaemon('fb', { slots: 2 })
    c = await configuredDaemon('fc', { slots: 2 })
    await Promise.all([a.start(), b.start(), c.start()])
    await formTeam(a, [b, c], 'forgery')
    await allAlive([a, b, c])
    for (const d of [a, b, c]) ids[d.name] = await peerId(d)
    const { token } = await a.json<{ token: string }>(['team', 'invite', '--role', 'member'])
    const invite = decodeInvite(token)
    teamId = invite.team.teamId
    x = await createAttacker({ psk: invite.team.psk })
    cert = acceptInvite({ token: invite, signer: x.signer, name: 'mallory', now: Date.now() })
    await answerHellos(x.node, cert)
    x.node.services.pubsub.subscribe(stateTopic(teamId))
    for (const d of [a, b, c]) {
      const target = addrOf((await apiGet<{ addresses: string[] }>(d, 'status')).addresses)
      await eventually(`${d.name} admits the insider`, async () => {
        const open = x.node.getConnections(peerIdFromString(ids[d.name])).some(conn => conn.status === 'open')
        if (open && (await apiGet<Array<{ peerId: string, state: string }>>(d, 'peers')).find(p => p.peerId === x.peerId)?.state !== 'unverified') return true
        return (await sayHello(x.node, target, cert)).ok ? true : undefined
      }, 15_000, 300)
      await waitForSubscriber(x.node, teamId, ids[d.name])
    }
  }, 90_000)

  afterAll(async () => {
    await x?.stop().catch(() => {})
    await Promise.all([a, b, c].map(async d => { await d?.cleanup(); await rm(d?.home ?? '', { recursive: true, force: true }) }))
  })

  describe('bad input blames the executor no more', () => {
    it('ten tasks whose input the agent refuses, a cancel and four timeouts the submitter chose leave both executors in good standing', async () => {
      const cancelled = await runningSleep(60_000)
      await a.json(['task', 'cancel', cancelled.taskId])
      await allFinal(a, [cancelled.taskId], 20_000)
      const refused = await Promise.all(Array.from({ length: 10 }, async () =>
        (await apiPost<{ taskId: string }>(a, 'tasks/submit', { agent: 'sleep', input: { ms: 10, oops: 1 }, retries: 0 })).taskId))
      const timedOut = await Promise.all(Array.from({ length: 4 }, async () =>
        (await apiPost<{ taskId: string }>(a, 'tasks/submit', { agent: 'sleep', input: { ms: 60_000 }, timeoutMs: 100, retries: 0 })).taskId))
      const rows = await allFinal(a, [...refused, ...timedOut], 60_000)
      expect(rows.map(r => r.state)).toEqual(Array(14).fill('failed'))
      for (const peer of [ids.fb, ids.fc]) {
        const row = await peerRow(a, peer)
        expect(row.reputationStatus).not.toBe('quarantined')
        expect(row.reputation ?? 0.5).toBeGreaterThanOrEqual(0.5)
        const shown = await a.cli(['peer', 'show', peer])
        expect(shown.stdout).not.toMatch(/\b(failure|timeout)\b/)
      }
      // the next valid task runs at once, on either executor
      const { taskId } = await apiPost<{ taskId: string }>(a, 'tasks/submit', { agent: 'echo', input: 'after' })
      const [done] = await allFinal(a, [taskId], 20_000)
      expect(done).toMatchObject({ state: 'succeeded', result: { output: 'after' } })
      // and explain says why a refusal is not held against the executor
      const explain = await apiGet<{ lines: string[] }>(a, `tasks/${refused[0]}/explain`)
      expect(explain.lines.join('\n')).toMatch(/not held against it: the agent refused the input/)
    }, 120_000)

    it('refused input fails the task at once with the agent\'s error: no retry on another machine', async () => {
      const r = await a.cli(['submit', 'sleep', '--input', '{"ms":10,"oops":1}', '--wait'])
      expect(r.code).toBe(5)
      expect(r.stderr).toMatch(/failed: sleep input must be .*unknown key "oops"/)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      const rows = await apiGet<Array<{ taskId: string, state: string, createdWall: number }>>(a, 'tasks?state=failed&limit=1')
      const t = await doc(a, rows[0].taskId)
      expect(t.results).toHaveLength(1)
      expect(t.results[0]).toMatchObject({ exitCode: 2, reason: 'invalid-input' })
    }, 60_000)
  })

  describe('forged ends of a task', () => {
    it('a member\'s forged `task:result` (exit 0, its own output and receipt) does not commit; the real result does', async () => {
      const { taskId } = await runningSleep(3_000)
      const output = 'forged'
      const outputHash = hashJson(output)
      const now = Date.now()
      const receipt = signReceipt({
        v: 1, teamId, taskId, attempt: 1, agent: 'sleep', inputHash: hashJson({ ms: 3_000 }), outputHash, exitCode: 0,
        executor: x.peerId, startedWall: now - 10, endedWall: now
      }, x.signer)
      await forge('task:result', { taskId, attempt: 1, exitCode: 0, outputHash, output, receipt })
      const t = await eventually('the forged result is recorded', async () => {
        const t = await doc(a, taskId)
        return t.results.some(r => r.executor === x.peerId) ? t : undefined
      }, 10_000, 50)
      expect(t.state).toBe('running')
      expect(t.results.find(r => r.executor === x.peerId)?.notCounted).toMatch(/no lease grant/)
      const [final] = await allFinal(a, [taskId], 30_000)
      expect(final.state).toBe('succeeded')
      expect(final.result?.executor).not.toBe(x.peerId)
      expect((await a.cli(['task', 'show', taskId])).stdout).toMatch(/not counted: no lease grant/)
    }, 60_000)

    it('a member\'s forged `task:result` (its own receipt and grant) is recorded but never committed; the real result is, everywhere', async () => {
      const { taskId, executor } = await runningSleep(4_000)
      const output = { slept: 4_000, by: 'mallory' }
      const outputHash = hashJson(output)
      const now = Date.now()
      const receipt = signReceipt({
        v: 1, teamId, taskId, attempt: 1, agent: 'sleep', inputHash: hashJson({ ms: 4_000 }), outputHash, exitCode: 0,
        executor: x.peerId, startedWall: now - 10, endedWall: now
      }, x.signer)
      const grant = signGrant({ taskId, attempt: 1, executor: x.peerId }, 0, x.signer)
      await forge('task:result', { taskId, attempt: 1, exitCode: 0, outputHash, output, receipt, grant })
      const seen = await eventually('the submitter records the forged result', async () => {
        const t = await doc(a, taskId)
        return t.results.some(r => r.executor === x.peerId) ? t : undefined
      }, 10_000, 50)
      // recorded, not committed: the task still runs on its real executor
      expect(seen).toMatchObject({ state: 'running', executor, result: null })
      expect(seen.results.find(r => r.executor === x.peerId)?.notCounted).toMatch(/does not coordinate the task/)
      for (const d of [a, b, c]) {
        const [final] = await allFinal(d, [taskId], 30_000)
        expect(final).toMatchObject({ state: 'succeeded', result: { executor, output: { slept: 4_000 } } })
      }
      // reported: a log line, the forger's reputation history, and task explain
      await eventually('the submitter logs the forgery', async () => a.log.includes(`protocol violation by ${x.peerId} on task ${taskId}`) ? true : undefined, 5_000, 100)
      const forger = await peerRow(a, x.peerId)
      expect(forger.reputation ?? 1).toBeLessThan(0.3)
      expect((await a.cli(['peer', 'show', x.peerId])).stdout).toMatch(/protocol-violation/)
      expect((await apiGet<{ lines: string[] }>(a, `tasks/${taskId}/explain`)).lines.join('\n')).toMatch(new RegExp(`result by ${x.peerId} does not count`))
      // and the real executor gained from its own work: it is not the forger's
      expect((await peerRow(a, executor)).reputation ?? 0).toBeGreaterThan(0.5)
    }, 90_000)

    it('a member\'s forged `task:fail` fails nothing: the submitter\'s `submit --wait` exits 0 with the real output', async () => {
      const waiting = a.cli(['submit', 'sleep', '--input', '{"ms":4000}', '--wait', '--json'])
      const t = await eventually('the waited task runs', async () => {
        const rows = await apiGet<Array<{ taskId: string, state: string, agent: string }>>(a, 'tasks?state=running&limit=10')
        return rows.find(r => r.agent === 'sleep')
      }, 20_000, 100)
      await forge('task:fail', { taskId: t.taskId })
      const seen = await eventually('the submitter records the forged fail', async () => {
        const d = await doc(a, t.taskId)
        return d.failRequests?.includes(x.peerId) === true || d.state === 'failed' ? d : undefined
      }, 10_000, 50)
      expect(seen.state).toBe('running')
      const r = await waiting
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ taskId: t.taskId, state: 'succeeded' })
      for (const d of [b, c]) expect((await allFinal(d, [t.taskId], 20_000))[0].state).toBe('succeeded')
      await eventually('the submitter logs the forged fail', async () => a.log.includes(`protocol violation by ${x.peerId} on task ${t.taskId}`) ? true : undefined, 5_000, 100)
      expect((await apiGet<{ lines: string[] }>(a, `tasks/${t.taskId}/explain`)).lines.join('\n')).toMatch(new RegExp(`a fail by ${x.peerId} is ignored`))
    }, 60_000)
  
    it('an executor declines an offer without a valid lease grant from its sender: its result would not count', async () => {
      const target = addrOf((await apiGet<{ addresses: string[] }>(b, 'status')).addresses)
      const task = { taskId: 'ungranted-1', attempt: 1, agent: 'echo', input: 'x', priority: 'normal', leaseMs: 10_000, coordinator: x.peerId }
      const bare = await exchange(x.node, target, PROTOCOL_TASK, { t: 'offer', id: 1, task }, r => (r as { t?: string })?.t === 'reply', 5_000)
      expect(bare.reply).toMatchObject({ t: 'reply', id: 1, accepted: false, reason: expect.stringMatching(/no valid lease grant/) as unknown })
      // a grant signed by the sender, but for another executor
      const misdirected = { ...task, taskId: 'ungranted-2', grant: signGrant({ taskId: 'ungranted-2', attempt: 1, executor: ids.fc }, 0, x.signer) }
      const other = await exchange(x.node, target, PROTOCOL_TASK, { t: 'offer', id: 2, task: misdirected }, r => (r as { t?: string })?.t === 'reply', 5_000)
      expect(other.reply).toMatchObject({ accepted: false, reason: expect.stringMatching(/no valid lease grant/) as unknown })
    }, 30_000)
  })
})
