/** What a proposer is configured with (proposer.ts); the runtime fills it from the config. */
export interface ProposerOptions {
  /** α of configuration changes (configuration.ts; RECONFIG_ALPHA): the cluster's, tests may shrink it. */
  readonly reconfigAlpha?: number;
  /** 0 ≤ id ≤ PROPOSER_ID_MAX (below ROUND_STRIDE). */
  readonly id: number;
  readonly acceptors: number;
  readonly batchValuesMax: number;
  /** Bound on one batch's wire size; a 2A holding it must fit one datagram. */
  readonly batchBytesMax: number;
  readonly datagramBytesMax: number;
  /** Instances in flight at once. */
  readonly pipelineWindow: number;
  /** Bound on client values heard and not yet decided; more are dropped (clients resend). */
  readonly pendingValuesMax: number;
  readonly retransmitMs: number;
  /** Time without progress after which a standing-by proposer with work takes over. */
  readonly takeoverMs: number;
  /** Clients resend undecided values at least this often (config client.retransmitMs). */
  readonly clientRetransmitMs: number;
  readonly catchupDatagramsMax: number;
  /** Injected randomness in [0, 1), for takeover backoff. */
  readonly random: () => number;
  /**
   * Rounds start above this floor (the runtime passes the clock: milliseconds × ROUND_STRIDE).
   * It only saves a restarted proposer a refused Phase 1: acceptors bind each round to one
   * incarnation (see `incarnation`), so round reuse is impossible whatever the clocks say.
   */
  readonly roundFloor: number;
  /** Decided batches kept below the first undecided instance, to answer learners' Catchup. */
  readonly retainInstances: number;
  /**
   * This process's incarnation nonce, in [1, NONCE_MAX], new at every start (random). It goes in
   * every 1A and 2A; acceptors bind a promised round to it, and answers echo it.
   */
  readonly incarnation: number;
  /**
   * Hellos of another process with this proposer's id heard over this long mean a live process
   * (a shorter burst may be late datagrams of this process's previous incarnation); see
   * id-guard.ts. Default 10 s.
   */
  readonly duplicateGraceMs?: number;
  /** Instances one Catchup is answered for. Default CATCHUP_INSTANCES_MAX. */
  readonly catchupInstancesMax?: number;
  /** Bound on how far above the decided prefix a learner's report makes a hole. Default INSTANCES_AHEAD_MAX. */
  readonly instancesAheadMax?: number;
  /**
   * Gather across a burst of inputs, and act at `flush` (the end of the runtime's event-loop
   * turn): the values of every Submit of the burst are proposed together (fuller batches), and
   * the values decided in the burst are acked together. Default false: in each step's effects.
   */
  readonly gather?: boolean;
  /**
   * A 2A tells the clients where it placed their runs (`notify`: they learn decisions from the
   * acceptors' 2Bs, one message delay sooner than from an Ack) while fewer than this many
   * instances are in flight; under heavier load the leader acks instead (one Ack per turn costs
   * clients less than every acceptor's 2Bs). Default 0: always Acks.
   */
  readonly notifyBelowInflight?: number;
  /**
   * Thrifty 2Bs: a 2A names a majority of the acceptors heard from lately as reporters
   * (`report`): only they send their 2B to the learners (and clients); the others send it to the
   * proposers alone. Learners and clients then get one message per reporter instead of one per
   * acceptor. Retransmissions name every acceptor. Default false: every acceptor reports.
   */
  readonly thriftyReports?: boolean;
  /** A Hello to the other proposers this often (see Hello in messages.ts). Default HELLO_EVERY_MS. */
  readonly helloEveryMs?: number;
  /**
   * A new proposer runs its first Phase 1 no sooner than this after it started, unless it heard
   * a leader meanwhile (a Hello, votes): a leader already there is not taken over for nothing.
   * Default two Hello periods.
   */
  readonly probeWaitMs?: number;
}
