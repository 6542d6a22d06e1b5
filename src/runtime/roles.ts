/** The role runners, one file each under roles/ (this index goes once the CLI imports them directly). */
export { ROLES, type RoleContext, type RoleName } from "./roles/common.ts";
export { runAcceptor } from "./roles/acceptor.ts";
export { runClient, maxValueBytes } from "./roles/client.ts";
export { runLearner } from "./roles/learner.ts";
export { runProposer } from "./roles/proposer.ts";
