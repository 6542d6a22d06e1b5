/**
 * The four roles by name, and the multicast group each one listens on. A leaf: it imports nothing
 * from the runtime, so that everything (status, health, the runners, the cluster, the page, the
 * command line) can name a role without importing what runs one.
 */
import type { Group } from "../protocol/messages.ts";

export type RoleName = "client" | "proposer" | "acceptor" | "learner";
export const ROLES: readonly RoleName[] = ["client", "proposer", "acceptor", "learner"];

/** The group a role's processes join (and the one others send to, to reach them). */
export const GROUP_OF: Readonly<Record<RoleName, Group>> = {
  client: "clients",
  proposer: "proposers",
  acceptor: "acceptors",
  learner: "learners",
};
