/**
 * The daemons of the lifecycle model test: one slot per model node, each a real
 * `paired daemon` process. With root, `ip` and `nft`, every slot lives in a network
 * namespace of its own on a private bridge (test/chaos/netns.ts), so the network can be
 * cut; without, they listen on 127.0.0.1 and partition steps are never drawn.
 */
import { rm } from 'node:fs/promises'
import { DaemonProcess, apiGet, apiPost, eventually, tempHome } from '../../e2e/harness.js'
import { TestNetwork, namespaceSupport } from '../netns.js'

export interface Slot {
  index: number
  daemon: DaemonProcess
  peerId: string
  /** the invite token this daemon last joined with */
  token?: string
  /** a new home (identity) per reset */
  generation: number
  /** the daemon is meant to be running: any exit not asked for is a broken invariant */
  expectUp: boolean
  /** the logs of this slot's earlier runs (the harness waits for "ready" in `daemon.log`) */
  pastLog: string
}

export interface Status { peerId: string, team: { teamId: string, name: string, removed?: { by: string, at: string } | null } | null, stateHash?: string, stateDigest?: string }
export interface MemberRow { peerId: string, name: string, connected: boolean }
export interface ApiError { name: string, message: string }

/** the `{ error: { name, message } }` of a refused API call, else undefined */
export function apiError (err: unknown): ApiError | undefined {
  const text = (err as Error)?.message ?? ''
  const at = text.indexOf('{')
  if (at < 0) return undefined
  try {
    const parsed = JSON.parse(text.slice(at)) as { error?: ApiError }
    return parsed.error?.name != null ? parsed.error : undefined
  } catch {
    return undefined
  }
}

export const TEAM_NAME = 'lifecycle'
/** how long a start may take past the harness's 20 s before it counts as failed */
export const READY_MS = 60_000

export class Cluster {
  readonly slots: Slot[] = []
  readonly net?: TestNetwork
  /** why partitions are off (no namespaces), or undefined */
  readonly noPartitions?: string
  teamId = ''

  constructor (readonly size: number, options: { namespaces?: boolean } = {}) {
    const why = options.namespaces === false ? 'namespaces turned off' : namespaceSupport(['ip', 'nft'])
    this.noPartitions = why
    if (why == null) this.net = new TestNetwork(size, `${process.pid}`)
  }

  name (i: number): string {
    const g = this.slots[i]?.generation ?? 0
    return g === 0 ? `lc${i}` : `lc${i}.${g}`
  }

  private async makeDaemon (i: number, generation: number): Promise<DaemonProcess> {
    const name = generation === 0 ? `lc${i}` : `lc${i}-${generation}`
    const home = await tempHome(name)
    if (this.net == null) return new DaemonProcess({ name, home })
    return new DaemonProcess({
      name,
      home,
      netns: this.net.hosts[i],
      args: ['--listen', `/ip4/${this.net.address(i)}/tcp/4801`, '--api-port', '0', '--no-mdns']
    })
  }

  /** starts every daemon and forms the team: node 0 founds it, the others join with invites */
  async start (): Promise<void> {
    this.net?.create()
    for (let i = 0; i < this.size; i++) {
      this.slots.push({ index: i, daemon: await this.makeDaemon(i, 0), peerId: '', generation: 0, expectUp: true, pastLog: '' })
    }
    // one at a time: five node processes loading at once can take a busy machine past the deadline
    for (const s of this.slots) await this.boot(s)
    const admin = this.slots[0].daemon
    const team = await apiPost<{ teamId: string }>(admin, 'team/create', { name: TEAM_NAME })
    this.teamId = team.teamId
    for (const s of this.slots.slice(1)) {
      s.token = (await apiPost<{ token: string }>(admin, 'team/invites', {})).token
      await apiPost(s.daemon, 'team/join', { token: s.token })
    }
  }

  private async boot (s: Slot): Promise<void> {
    s.expectUp = true
    // a fresh log per run, or start() would find the last run's "ready" line at once
    s.pastLog += s.daemon.log
    s.daemon.log = ''
    try {
      await s.daemon.start()
    } catch (err) {
      // the harness gives up after 20 s; on a loaded machine (six test runs on two cores) a
      // start can take longer: keep waiting while the process lives, up to READY_MS
      const p = s.daemon.proc
      if (!/did not get ready/.test((err as Error).message) || p == null) throw err
      await eventually(`${s.daemon.name} ready`, async () => {
        if (p.exitCode != null || p.signalCode != null) throw new Error(`${s.daemon.name} exited before ready:\n${s.daemon.log}`)
        return /\bready\b/.test(s.daemon.log) ? true : undefined
      }, READY_MS, 200)
    }
    s.peerId = (await apiGet<Status>(s.daemon, 'status')).peerId
  }

  daemon (i: number): DaemonProcess { return this.slots[i].daemon }

  /** SIGTERM; resolves with the exit code */
  async stop (i: number): Promise<number | null> {
    const s = this.slots[i]
    s.expectUp = false
    return await s.daemon.stop('SIGTERM')
  }

  async kill9 (i: number): Promise<void> {
    const s = this.slots[i]
    s.expectUp = false
    await s.daemon.kill9()
  }

  async startNode (i: number): Promise<void> {
    await this.boot(this.slots[i])
  }

  /** a new home and identity for slot `i` (the old daemon is stopped and its home deleted) */
  async reset (i: number): Promise<void> {
    const s = this.slots[i]
    s.expectUp = false
    await s.daemon.cleanup()
    if (s.daemon.home !== '') await rm(s.daemon.home, { recursive: true, force: true })
    s.generation++
    s.pastLog += `${s.daemon.log}\n--- reset: a new home and identity ---\n`
    s.daemon.log = ''
    s.daemon = await this.makeDaemon(i, s.generation)
    delete s.token
    await this.boot(s)
  }

  partition (a: number[], b: number[]): void {
    if (this.net == null) throw new Error(`no partitions here: ${this.noPartitions ?? ''}`)
    this.net.partition(a, b)
  }

  heal (): void {
    this.net?.heal()
  }

  /** the slots whose process is not running although it should be, with how it ended */
  unexpectedExits (): Array<{ slot: Slot, how: string }> {
    return this.slots.flatMap(slot => {
      const p = slot.daemon.proc
      if (!slot.expectUp) return []
      if (p == null) return [{ slot, how: 'no process' }]
      if (p.exitCode != null || p.signalCode != null) return [{ slot, how: `exit code ${String(p.exitCode)}, signal ${String(p.signalCode)}` }]
      return []
    })
  }

  async cleanup (): Promise<void> {
    await Promise.all(this.slots.map(async s => {
      s.expectUp = false
      await s.daemon.cleanup().catch(() => {})
      if (s.daemon.home !== '') await rm(s.daemon.home, { recursive: true, force: true }).catch(() => {})
    }))
    this.net?.heal()
    this.net?.destroy()
  }
}

/** everything slot `s` logged, earlier runs included */
export function fullLog (s: Slot): string {
  return s.pastLog + s.daemon.log
}

/** the last `n` lines of a daemon's log */
export function logTail (d: DaemonProcess, n = 25): string {
  return d.log.trimEnd().split('\n').slice(-n).map(l => `    ${l}`).join('\n')
}
