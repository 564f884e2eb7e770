/**
 * The contract between the local API (and so the CLI) and the daemon. The API server is
 * a thin shell over a `DaemonControl`; the daemon implements it.
 */
import type { AbortOptions } from '@libp2p/interface'
import type { KvEntryDoc, KvWrite } from './kv.js'
import type { TaskPriority as TaskPriorityName, TaskState as TaskStateName, TaskSubmit } from './task.js'

export type Role = 'admin' | 'member' | 'guest'

/** `GET /api/v1/status`, `paired status --json` (docs/DESIGN.md §7) */
export interface StatusDoc {
  peerId: string
  name: string
  version: string
  team: { teamId: string, name: string, role: Role, removed?: RemovedDoc } | null
  addresses: string[]
  connectedPeers: number
  members: number
  uptimeMs: number
  /** sha256 of the replicated state: equal on members that hold the same state */
  stateHash?: string
  /** short digest of the version vector (which ops are held): cheap, for polling */
  stateDigest?: string
  /** the local API (only in this daemon's own `GET status`, never sent to peers): its URL and unix socket */
  api?: { url: string, socket: string }
}

/** one row of `GET /api/v1/peers` */
export interface PeerDoc {
  peerId: string
  name: string | null
  addresses: string[]
  connected: boolean
  /** 'connected' | 'disconnected' until presence (failure detection) lands */
  state: string
  rttMs: number | null
  capacity: Record<string, unknown> | null
  reputation: number | null
  /** trusted, unproven, probation, quarantined or banned */
  reputationStatus?: string | null
  agents: string[]
  labels: Record<string, string>
}

/** `paired peer show`: one peer, with the history behind its reputation */
export interface PeerDetailDoc extends PeerDoc {
  role: Role | null
  /**
   * this daemon's gossipsub score of the peer (null when it has none): 0 for a well-behaved
   * member, negative after invalid gossip it sent or relayed; below -80 its gossip is ignored
   */
  gossipScore: number | null
  /** newest last: each outcome or behaviour, with the score and status right after it */
  reputationHistory: Array<{ at: number, event: string, score: number, status: string }>
}

export interface MemberDoc {
  peerId: string
  name: string
  role: Role
  self: boolean
  connected: boolean
}

export interface TeamDoc {
  teamId: string
  name: string
  role: Role
  members: number
  /** set when an admin removed this daemon from the team: it then writes and submits nothing */
  removed?: RemovedDoc
}

/** who shut this daemon out of its team, and when */
export interface RemovedDoc {
  kind: 'removed' | 'revoked'
  /** the admin's peer id, and its name if known */
  by: string
  byName: string | null
  /** ms since the epoch */
  at: number
  /** one line: `removed from team crew by alice at <ISO time>` */
  text: string
}

export interface InviteDoc {
  token: string
  inviteId: string
  role: Role
  expiresAt: number
  maxUses: number
}

export interface InviteRequest {
  role?: Role
  /** milliseconds the invite stays valid */
  ttlMs?: number
  uses?: number
  /** include this daemon's addresses in the token (default true) */
  addresses?: boolean
}

/** An event on `GET /api/v1/events` (server-sent events): `event: <type>`, `data: <json>` */
export interface DaemonEvent {
  type: string
  data: unknown
}

export interface DaemonControl {
  /**
   * resolves once the daemon is not switching team networks (a join, leave or key rotation
   * restarts its libp2p node): the API holds each request until then, so a call made
   * during the switch is answered by the new session instead of failing
   */
  settled?(): Promise<void>
  status(): Promise<StatusDoc>
  peers(): Promise<PeerDoc[]>
  /** one peer and its reputation history; throws NotFoundError */
  peer(peer: string): Promise<PeerDetailDoc>
  /** throws PeerUnreachableError, NotFoundError */
  ping(peer: string, options?: AbortOptions): Promise<{ peerId: string, rttMs: number }>
  /** the remote daemon's own status, fetched over libp2p */
  query(peer: string, options?: AbortOptions): Promise<StatusDoc>
  connect(multiaddr: string, options?: AbortOptions): Promise<{ peerId: string }>
  team(): Promise<TeamDoc>
  teamCreate(name: string): Promise<TeamDoc>
  teamInvite(request: InviteRequest): Promise<InviteDoc>
  teamJoin(token: string, options?: AbortOptions): Promise<TeamDoc>
  teamMembers(): Promise<MemberDoc[]>
  teamLeave(): Promise<TeamDoc>
  /** admins: remove a member (replicated; its connections close); throws PermissionDeniedError, NotFoundError */
  teamRemove(peer: string): Promise<{ peerId: string, name: string | null, removed: true }>
  /** admins: a new network key for the members reached now; this daemon switches too */
  teamRotateKey(): Promise<{ keyEpoch: number, delivered: string[], missed: string[] }>
  /** admins: the invite admits nobody new; the members it admitted stay */
  teamRevokeInvite(inviteId: string): Promise<{ inviteId: string, revoked: true, kept: number }>
  /** subscribe to daemon events; returns the unsubscribe function */
  subscribe(listener: (event: DaemonEvent) => void): () => void
}

/** a kv entry and a kv write: defined in `kv.ts` */
export type { KvEntryDoc, KvWrite } from './kv.js'

/** the shared key-value state; writes resolve once durable on this machine */
export interface KvControl {
  /** one atomic, signed batch; all or nothing */
  kvSet(writes: KvWrite[]): Promise<KvEntryDoc[]>
  /** throws NotFoundError */
  kvGet(key: string): Promise<KvEntryDoc>
  kvList(prefix: string): Promise<KvEntryDoc[]>
  kvDel(key: string): Promise<{ key: string, deleted: boolean }>
}

// ---- tasks (docs/DESIGN.md §5) ------------------------------------------------------

/** the task's priorities and states, and what `paired submit` sends: defined in `task.ts` */
export type { TaskPriority as TaskPriorityName, TaskState as TaskStateName, TaskSubmit } from './task.js'
/** one line of `paired tasks` */
export interface TaskSummaryDoc {
  taskId: string
  agent: string
  state: TaskStateName
  submitter: string
  /** the committed result's executor, else the current attempt's; null when not placed */
  executor: string | null
  priority: TaskPriorityName
  attempt: number
  /** when it was submitted (wall ms) */
  createdWall: number
}

/** one executor's report of one attempt */
export interface TaskResultDoc {
  executor: string
  attempt: number
  exitCode: number
  outputHash: string
  output?: unknown
  error?: string
  /** the signed receipt (see `paired task verify`) */
  receipt?: unknown
  /** why the agent failed, as it typed it (`invalid-input`, `timeout`, ...) */
  reason?: string
  /** why this result does not count (a forgery, or a grant by a non-coordinator) */
  notCounted?: string
}

/** `paired task show` (and the answer of submit and cancel) */
export interface TaskDoc extends TaskSummaryDoc {
  input: unknown
  labels: Record<string, string>
  needs: { cores?: number, memMb?: number }
  timeoutMs: number | null
  retries: number
  replicas: number
  coordinator: string
  /** survivors that took the task over, with the epoch of each adoption (oldest first) */
  adoptions: Array<{ peerId: string, epoch: number }>
  cancelled: boolean
  /** peers that asked to cancel; only the submitter's counts */
  cancelRequests: string[]
  /** peers that wrote a fail; only the submitter's and coordinators' count */
  failRequests?: string[]
  /** the committed result; null until one commits */
  result: TaskResultDoc | null
  results: TaskResultDoc[]
  leases: Array<{ executor: string, attempt: number, expiresWall: number, startedWall: number | null }>
  /** the current attempt's start on its executor (wall ms), if started */
  startedWall: number | null
  /** for a waiting task: why nothing runs it yet */
  waiting: string | null
}

/** `paired task explain` */
export interface TaskExplainDoc {
  taskId: string
  state: TaskStateName
  /** human lines: ranking table, refusals, why it waits */
  lines: string[]
  /** the placement as computed now by this daemon (see `src/tasks/placement.ts` `Placement`) */
  placement: unknown
  /** where it ran or runs, from its results and leases: peer id, member name, attempt, outcome (`committed`, `succeeded`, `failed`, `running`) */
  ranOn?: Array<{ peerId: string, name: string | null, attempt: number, outcome: string }>
}

/** `paired task logs` */
export interface TaskLogsDoc {
  taskId: string
  /** stderr lines of the agent, as the executor streamed them */
  lines: string[]
  truncated: boolean
  /** where they came from (this daemon or the executor) */
  source: string | null
}

/** `paired task verify` */
export interface TaskVerifyDoc {
  taskId: string
  ok: boolean
  /** why not, when not ok */
  reason?: string
  executor: string | null
  receipt: unknown
}

/** the daemon's task subsystem, as the API uses it */
export interface TaskControl {
  /** durable and placed (or queued) when it resolves; throws InvalidArgumentError, PermissionDeniedError */
  taskSubmit(spec: TaskSubmit): Promise<TaskDoc>
  /** several at once: one durable write */
  taskSubmitMany(specs: TaskSubmit[]): Promise<Array<{ taskId: string }>>
  taskList(filter: { state?: TaskStateName, limit?: number }): Promise<TaskSummaryDoc[]>
  /** throws NotFoundError */
  taskGet(taskId: string): Promise<TaskDoc>
  taskCancel(taskId: string): Promise<TaskDoc>
  taskExplain(taskId: string): Promise<TaskExplainDoc>
  taskLogs(taskId: string): Promise<TaskLogsDoc>
  taskVerify(taskId: string): Promise<TaskVerifyDoc>
}
