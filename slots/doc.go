// Package slots maps keys to Redis Cluster hash slots: CRC16-XMODEM of the
// key (or of its {hash tag}) modulo 16384. It is a pure, dependency-free leaf
// package used by the engine, the gateway and the cluster view.
package slots
