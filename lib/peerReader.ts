/**
 * How the name of every peer reader ServiceAccount starts (`peer-reader-<peer trust domain>`). The
 * policy pack recognises peer credentials by it: the tokens peers receive must belong to such an
 * account, and whatever such an account is bound to is judged by `peer-reader-rbac`.
 */
export const peerReaderServiceAccountPrefix = "peer-reader-";
