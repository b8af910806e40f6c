package gateway

import "golang.org/x/sys/unix"

// peerHungUp reports whether the peer of socket fd has shut down its
// side, even with unread data before the end (POLLRDHUP).
func peerHungUp(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0 && pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}
