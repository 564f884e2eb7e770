import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  acceptInvite, createInvite, createTeam, signerFromSeed,
  type InviteToken, type MemberCertificate, type Role, type Signer, type TeamInfo
} from '../../../src/team/index.js'

export const T0 = Date.UTC(2025, 0, 1)
export const HOUR = 3_600_000

export interface TestPeer {
  peerId: string
  seed: Uint8Array
  signer: Signer
  privateKey: Ed25519PrivateKey
}

export async function makePeer (): Promise<TestPeer> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const seed = privateKey.raw.subarray(0, 32)
  return { peerId, seed, signer: signerFromSeed(peerId, seed), privateKey }
}

export async function makePeers (n: number): Promise<TestPeer[]> {
  return Promise.all(Array.from({ length: n }, async () => makePeer()))
}

export interface TestTeam {
  team: TeamInfo
  teamSeed: Uint8Array
  founder: TestPeer
  founderCert: MemberCertificate
}

export async function makeTeam (name = 'core'): Promise<TestTeam> {
  const founder = await makePeer()
  const { team, teamSeed, founderCert } = createTeam({ name, founder: founder.signer, founderName: 'ada', now: T0 })
  return { team, teamSeed, founder, founderCert }
}

/** `issuer` invites `joiner` with `role`; returns the token and the joiner's certificate. */
export function invite (
  t: { team: TeamInfo }, issuer: { cert: MemberCertificate, signer: Signer }, joiner: TestPeer,
  opts: { role?: Role, now?: number, maxUses?: number, acceptAt?: number } = {}
): { token: InviteToken, cert: MemberCertificate } {
  const now = opts.now ?? T0
  const token = createInvite({
    team: t.team, issuerCert: issuer.cert, signer: issuer.signer, role: opts.role ?? 'member',
    ttlMs: 24 * HOUR, maxUses: opts.maxUses ?? 1, addrs: ['/ip4/127.0.0.1/tcp/4001'], now
  })
  const cert = acceptInvite({ token, signer: joiner.signer, name: 'joiner', now: opts.acceptAt ?? now + 1000 })
  return { token, cert }
}

/** A deep copy that tests can tamper with. */
export function clone<T> (value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
