/**
 * The shapes and constants of placement (`placement.ts`), apart so the share rule
 * (`placement-share.ts`) and the explain table (`placement-explain.ts`) use them without
 * an import cycle.
 */
import type { ReputationStatus } from '../reputation/index.js'

export interface Candidate {
  peerId: string
  /** this daemon (no network hop) */
  self: boolean
  state: 'alive' | 'suspect' | 'dead' | 'left'
  /** agents it serves */
  agents: string[]
  labels: Record<string, string>
  cores: number
  load1: number
  memFreeMb: number
  /** task slots (config) */
  slots: number
  /** from its last heartbeat */
  running: number
  queued: number
  /** tasks this coordinator has placed on it and not seen finish; heartbeats lag, so this counts when larger */
  inflight: number
  /** tasks it takes beyond `slots` to queue ahead (when every slot is busy): free for the choice, no part of its share */
  queueAhead?: number
  /** per-agent slot cap, when the agent declares one */
  agentSlots?: number
  /** this coordinator's inflight of this agent on it */
  agentInflight?: number
  /** tasks this coordinator placed on it lately (decayed, see `executor-load.ts`); @default 0 */
  recent?: number
  reputation: { score: number, status: ReputationStatus }
  rttMs: number | null
  /** why it takes no work now, e.g. 'on battery' */
  paused?: string
}

export interface PlacementRequest {
  agent: string
  /** every key must match exactly */
  labels?: Record<string, string>
  needs?: { cores?: number, memMb?: number }
  /** executors of earlier failed attempts: used only when no other candidate is eligible */
  avoid?: string[]
  /** never (e.g. executors already holding a replica of this task) */
  exclude?: string[]
  /** distinct executors wanted; @default 1 */
  replicas?: number
}

export interface ScoreParts { slots: number, load: number, memory: number, reputation: number, rtt: number }

export interface Scored {
  peerId: string
  score: number
  freeSlots: number
  parts: ScoreParts
  /** its part of this coordinator's work, in [0, 1]: its slots free of other coordinators' work × its quality, over all eligible */
  share: number
  /** tasks this coordinator placed on it lately (decayed) */
  recent: number
  /** why the score or the choice is unusual ('suspect: score × 0.5', an avoided executor taken anyway) */
  note?: string
}

export interface Refused { peerId: string, reason: string }

export interface Placement {
  /** eligible candidates with a free slot that may take work now, best first */
  ranked: Scored[]
  /** eligible but no free slot now (would take the task when one frees), best first */
  full: Scored[]
  /** eligible with a free slot, but ahead of its share of the recent work: takes more once the others catch up */
  held: Scored[]
  /** ineligible, with why */
  refused: Refused[]
  /** up to `replicas` distinct peer ids from `ranked`, picked by share */
  chosen: string[]
  /** when `chosen` is shorter than `replicas`: why */
  waiting?: string
}

export interface PlacementOptions {
  /** floats in [0, 1); @default Math.random */
  random?: () => number
  /** only quoted in refusals: the status decides; @default 0.3 */
  quarantineThreshold?: number
  /**
   * members ahead of their share take the task too: it has waited long enough for the others
   * (the coordinator sets this after `MAX_HOLD_MS`), so no slot stays idle while work waits
   */
  ignoreHold?: boolean
}

/** Weight of each score part; they sum to 1. Being this daemon earns nothing. */
export const PLACEMENT_WEIGHTS: Readonly<ScoreParts> = Object.freeze({
  slots: 0.55, load: 0.15, memory: 0.1, reputation: 0.15, rtt: 0.05
})
/** A suspect candidate's score and quality are multiplied by this. */
export const SUSPECT_FACTOR = 0.5
/** A candidate on probation has its reputation part multiplied by this. */
export const PROBATION_FACTOR = 0.5
/** This much free memory (MB) or more scores the full memory part. */
export const MEMORY_FULL_MB = 8192
/** A round-trip time (ms) that scores half the rtt part. */
export const RTT_HALF_MS = 50
/** The rtt value (before weighting) of an unknown round-trip time. */
export const NEUTRAL_RTT = 0.5
/** A reputation score this high counts in full towards a share: a stranger's prior (0.5) is not held against it */
export const FULL_SHARE_REPUTATION = 0.5
/** The least quality an eligible candidate has, so it keeps a (small) share */
export const MIN_QUALITY = 0.05
