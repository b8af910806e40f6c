package raftfsm

// redisStreamDump is a DUMP payload from redis-server 7.0.15; see
// TestStreamRestoreFromRedis.
var redisStreamDump = ""
