package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ContainerConfig configures a chaos cluster of containers started from a
// compose file shaped like deploy/docker-compose.yml: services rc1..rc9 in
// AZs az-a, az-b, az-c (rcN in azs[(N-1)%3]), RESP of rcN published on
// 127.0.0.1:${RC_PORT_PREFIX}(N-1), static IPs ${RC_NET_PREFIX}.(10+N).
type ContainerConfig struct {
	ComposeFile       string // default deploy/docker-compose.yml
	Image             string // RC_IMAGE (default raftcache:dev, built by `make image`)
	Dir               string // node logs are collected here when the cluster closes
	SnapshotThreshold uint64 // RC_SNAPSHOT_THRESHOLD etc. (0 = server default)
	TrailingLogs      uint64
	SnapshotInterval  time.Duration
}

// containerNodes is the size of the compose cluster.
const containerNodes = 9

// StartContainerCluster starts the compose project (a fresh one with its
// own port range, subnet and volumes) and waits until the cluster formed.
func StartContainerCluster(ctx context.Context, cfg ContainerConfig) (*ProcCluster, error) {
	if cfg.ComposeFile == "" {
		cfg.ComposeFile = filepath.Join("deploy", "docker-compose.yml")
	}
	if cfg.Image == "" {
		cfg.Image = "raftcache:dev"
	}
	if cfg.Dir == "" {
		return nil, errors.New("chaos: container cluster needs a directory for node logs")
	}
	if _, err := os.Stat(cfg.ComposeFile); err != nil {
		return nil, fmt.Errorf("chaos: compose file: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	compose, err := composeCommand()
	if err != nil {
		return nil, err
	}
	if _, err := docker(ctx, "image", "inspect", "--format", "{{.Id}}", cfg.Image); err != nil {
		return nil, fmt.Errorf("chaos: image %s is missing (build it with `make image`): %w", cfg.Image, err)
	}
	prefix, err := freePortPrefix()
	if err != nil {
		return nil, err
	}
	subnet, err := freeSubnet(ctx)
	if err != nil {
		return nil, err
	}
	r := &containerRuntime{compose: compose, file: cfg.ComposeFile, dir: cfg.Dir,
		project: fmt.Sprintf("rcchaos%d%d", os.Getpid(), rand.IntN(1000))}
	r.env = append(os.Environ(), "RC_PORT_PREFIX="+strconv.Itoa(prefix), "RC_NET_PREFIX="+subnet, "RC_IMAGE="+cfg.Image)
	if cfg.SnapshotThreshold > 0 {
		r.env = append(r.env, "RC_SNAPSHOT_THRESHOLD="+strconv.FormatUint(cfg.SnapshotThreshold, 10))
	}
	if cfg.TrailingLogs > 0 {
		r.env = append(r.env, "RC_TRAILING_LOGS="+strconv.FormatUint(cfg.TrailingLogs, 10))
	}
	if cfg.SnapshotInterval > 0 {
		r.env = append(r.env, "RC_SNAPSHOT_INTERVAL="+cfg.SnapshotInterval.String())
	}
	c := &ProcCluster{Shards: containerNodes / 3, Runtime: RuntimeDocker, rt: r}
	for i := 0; i < containerNodes; i++ {
		c.Procs = append(c.Procs, &Proc{Index: i, ID: "rc" + strconv.Itoa(i+1), AZ: azs[i%len(azs)],
			Port: prefix*10 + i, Shard: -1, ip: subnet + "." + strconv.Itoa(11+i)})
	}
	if out, err := r.run(ctx, "up", "-d"); err != nil {
		c.Close()
		return nil, fmt.Errorf("chaos: compose up: %w: %s", err, lastLines(out, 10))
	}
	for _, p := range c.Procs {
		id, err := r.run(ctx, "ps", "-q", p.ID)
		if err == nil && strings.TrimSpace(id) == "" {
			err = errors.New("no container")
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("chaos: container of %s: %w", p.ID, err)
		}
		p.container, p.running = strings.TrimSpace(id), true
		p.DataDir = "volume " + r.project + "_" + p.ID + "-data"
		nw, err := docker(ctx, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", p.container)
		if err != nil || len(strings.Fields(nw)) != 1 {
			c.Close()
			return nil, fmt.Errorf("chaos: network of %s: %q %v", p.ID, nw, err)
		}
		p.network = strings.Fields(nw)[0]
	}
	// Images start fast, but nine of them on two cores take a while to
	// gossip, form and elect.
	if err := c.formed(ctx, 120*time.Second); err != nil {
		return nil, err
	}
	return c, nil
}

// containerRuntime drives one compose project with the docker CLI.
type containerRuntime struct {
	compose       []string
	file, project string
	env           []string
	dir           string
}

func (r *containerRuntime) run(ctx context.Context, args ...string) (string, error) {
	full := append(append(append([]string(nil), r.compose[1:]...), "-f", r.file, "-p", r.project), args...)
	cmd := exec.CommandContext(ctx, r.compose[0], full...)
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// docker runs one docker command with a bound on its time: a wedged daemon
// must not hang the run.
func docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, lastLines(string(out), 3))
	}
	return string(out), nil
}

func (r *containerRuntime) start(p *Proc) error {
	_, err := docker(context.Background(), "start", p.container)
	return err
}

// kill sends SIGKILL and waits for the container to stop (docker kill
// only delivers the signal). docker does not apply the restart policy to
// a killed container, so it stays down until start.
func (r *containerRuntime) kill(p *Proc) error {
	if _, err := docker(context.Background(), "kill", p.container); err != nil {
		return err
	}
	_, err := docker(context.Background(), "wait", p.container)
	return err
}

// wipe is refused before a run starts (CheckRuntime): a container's data
// is a named volume that only a removed container could give up.
func (r *containerRuntime) wipe(p *Proc) error {
	return fmt.Errorf("chaos: wipe %s: not supported with containers", p.ID)
}

// pause retries runc's "unable to freeze": the cgroup freezer gives up
// when a task does not freeze in time (seen under heavy I/O), and runc
// thaws the container again, so another attempt is safe.
func (r *containerRuntime) pause(p *Proc) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if _, err = docker(context.Background(), "pause", p.container); err == nil || !strings.Contains(err.Error(), "unable to freeze") {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func (r *containerRuntime) resume(p *Proc) error {
	_, err := docker(context.Background(), "unpause", p.container)
	return err
}

// disconnect takes the container off its only network: its Raft, gossip
// and published client port go with it.
func (r *containerRuntime) disconnect(p *Proc) error {
	_, err := docker(context.Background(), "network", "disconnect", p.network, p.container)
	return err
}

// connect puts it back at the same IP (gossip advertises IPs).
func (r *containerRuntime) connect(p *Proc) error {
	_, err := docker(context.Background(), "network", "connect", "--ip", p.ip, p.network, p.container)
	return err
}

// close collects each container's log (all its restarts) into dir, then
// removes the project with its network and volumes.
func (r *containerRuntime) close(procs []*Proc) {
	ctx := context.Background()
	for _, p := range procs {
		if p.container == "" {
			continue
		}
		if p.paused {
			_, _ = docker(ctx, "unpause", p.container)
		}
		if f, err := os.Create(filepath.Join(r.dir, p.ID+".log")); err == nil {
			cmd := exec.Command("docker", "logs", p.container)
			cmd.Stdout, cmd.Stderr = f, f
			_ = cmd.Run()
			f.Close()
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, _ = r.run(dctx, "down", "-v", "-t", "20")
}

// composeCommand finds compose: the v2 plugin, or the v1 docker-compose.
func composeCommand() ([]string, error) {
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}, nil
	}
	return nil, errors.New("chaos: neither `docker compose` nor docker-compose is installed")
}

// freePortPrefix picks P such that 127.0.0.1:P0..P8 are free, away from
// 6379 and the dev ports 7000-7008.
func freePortPrefix() (int, error) {
	for try := 0; try < 200; try++ {
		p := 410 + rand.IntN(280)
		if p == 637 || p == 700 {
			continue
		}
		ok := true
		for i := 0; i < containerNodes && ok; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p*10+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p, nil
		}
	}
	return 0, errors.New("chaos: no free host port range for the containers")
}

// freeSubnet picks a /24 (as its first three octets) that no docker
// network uses.
func freeSubnet(ctx context.Context) (string, error) {
	ids, err := docker(ctx, "network", "ls", "-q")
	if err != nil {
		return "", err
	}
	used := ""
	if f := strings.Fields(ids); len(f) > 0 {
		if used, err = docker(ctx, append([]string{"network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"}, f...)...); err != nil {
			return "", err
		}
	}
	for try := 0; try < 200; try++ {
		n := "10.209." + strconv.Itoa(1+rand.IntN(254))
		if !strings.Contains(used, n+".") {
			return n, nil
		}
	}
	return "", errors.New("chaos: no free subnet for the containers")
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
