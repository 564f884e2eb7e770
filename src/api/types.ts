/**
 * The contract between the local API (and so the CLI) and the daemon. The API server is
 * a thin shell over a `DaemonControl`; the daemon implements it.
 */
import type { AbortOptions } from '@libp2p/interface'

export type Role = 'admin' | 'member' | 'guest'

/** `GET /api/v1/status`, `paired status --json` (DESIGN §7) */
export interface StatusDoc {
  peerId: string
  name: string
  version: string
  team: { teamId: string, name: string, role: Role } | null
  addresses: string[]
  connectedPeers: number
  members: number
  uptimeMs: number
  /** sha256 of the replicated state: equal on members that hold the same state */
  stateHash?: string
  /** short digest of the version vector (which ops are held): cheap, for polling */
  stateDigest?: string
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
  agents: string[]
  labels: Record<string, string>
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
  status(): Promise<StatusDoc>
  peers(): Promise<PeerDoc[]>
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
  /** subscribe to daemon events; returns the unsubscribe function */
  subscribe(listener: (event: DaemonEvent) => void): () => void
}

/** one entry of the team's shared key-value state (`paired kv`) */
export interface KvEntryDoc {
  key: string
  value: unknown
  /** peer id of the member whose write holds the key */
  updatedBy: string
  /** hybrid logical clock of that write, encoded so that it sorts */
  hlc: string
}

export interface KvWrite {
  key: string
  /** any JSON value; `paired kv set K V` writes a string */
  value: unknown
}

/** the shared key-value state; writes resolve once durable on this machine */
export interface KvControl {
  /** one atomic, signed batch; all or nothing */
  kvSet(writes: KvWrite[]): Promise<KvEntryDoc[]>
  /** throws NotFoundError */
  kvGet(key: string): Promise<KvEntryDoc>
  kvList(prefix: string): Promise<KvEntryDoc[]>
  kvDel(key: string): Promise<{ key: string, deleted: boolean }>
}
