package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/raftcache/raftcache/shard"
)

// FaultMatrix is the harness side of `raftcache server --fault-file`: the
// current transport faults of a process cluster, written atomically to the
// one file every node watches. The nemesis's faults and the migrate
// fault's gRPC cuts (CutLinks) are kept apart, so that healing one leaves
// the other; both may be changed concurrently.
type FaultMatrix struct {
	mu   sync.Mutex
	path string
	spec shard.FaultSpec
	mig  [][2]string // the migrator's cuts
}

// NewFaultMatrix returns an empty matrix kept in path.
func NewFaultMatrix(path string) *FaultMatrix { return &FaultMatrix{path: path} }

// Isolate cuts addr off from others in both directions.
func (m *FaultMatrix) Isolate(addr string, others []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range others {
		m.spec.Cut = append(m.spec.Cut, [2]string{addr, o}, [2]string{o, addr})
	}
	return m.write()
}

// CutOneWay loses messages from addr to each of others.
func (m *FaultMatrix) CutOneWay(addr string, others []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range others {
		m.spec.Cut = append(m.spec.Cut, [2]string{addr, o})
	}
	return m.write()
}

// Noise sets message loss and delay on every link.
func (m *FaultMatrix) Noise(drop float64, delayMS int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.spec.Drop, m.spec.DelayMS = drop, delayMS
	return m.write()
}

// Heal removes every fault of the nemesis (the migrator heals its own).
func (m *FaultMatrix) Heal() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.spec = shard.FaultSpec{}
	return m.write()
}

// CutLinks replaces the migrator's cuts with links ([from, to]: messages
// from->to are lost); nil heals them.
func (m *FaultMatrix) CutLinks(links [][2]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mig = slices.Clone(links)
	return m.write()
}

func (m *FaultMatrix) write() error {
	spec := m.spec
	spec.Cut = append(slices.Clip(spec.Cut), m.mig...)
	raw, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("chaos: fault file: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(m.path), "."+filepath.Base(m.path)+".tmp")
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("chaos: fault file: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("chaos: fault file: %w", err)
	}
	return nil
}
