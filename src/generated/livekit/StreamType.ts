// Original file: proto/livekit_analytics.proto

export const StreamType = {
  UPSTREAM: 0,
  DOWNSTREAM: 1,
} as const;

export type StreamType =
  | 'UPSTREAM'
  | 0
  | 'DOWNSTREAM'
  | 1

export type StreamType__Output = typeof StreamType[keyof typeof StreamType]
