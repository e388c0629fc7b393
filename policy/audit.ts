/** Audit messages: high-risk acknowledgements and administrative changes. */
export interface AuditEvent {
  /** e.g. `deployment.highRiskAcknowledged`, `taskSequence.deleted`. */
  readonly action: string;
  /** The object acted on, e.g. a deployment id. */
  readonly target: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** Epoch ms. */
  readonly at: number;
}
