// Package chaos tests raftcache's promises under faults: many concurrent
// clients record a history of register, counter and list-append operations
// against a cluster while a nemesis kills, pauses and partitions nodes; the
// history is then checked for linearizability with porcupine (per key) and
// for lost or duplicated list appends with a linear-time checker.
//
// The history client speaks RESP itself (no client-library retries), follows
// MOVED, ASK and TRYAGAIN (definite "not executed" replies) and treats a
// write whose outcome it cannot know (timeout, broken connection, UNCERTAIN,
// CLUSTERDOWN after sending) as pending forever.
package chaos
