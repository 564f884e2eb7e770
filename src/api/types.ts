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
