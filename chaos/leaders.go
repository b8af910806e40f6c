package chaos

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// LeaderResult is the outcome of CheckLeaders (invariant I3 of
// consistency-and-chaos.md: at most one leader per shard and term).
type LeaderResult struct {
	Elections  int      `json:"elections"`            // elections won, all shards
	Violations []string `json:"violations,omitempty"` // "shard S term T: n1,n2"
	Unreadable []string `json:"unreadable,omitempty"` // node logs that could not be read
}

var electionWon = regexp.MustCompile(`msg="election won".* term=(\d+)`)

// CheckLeaders reads the nodes' logs (info level, kept across restarts) in
// dir and reports any shard term won by two different nodes. Raft's
// "election won" line carries the term; the node and its shard come from
// the process.
func CheckLeaders(dir string, procs []*Proc) LeaderResult {
	var res LeaderResult
	type st struct{ shard, term int }
	winners := map[st]map[string]bool{}
	for _, p := range procs {
		opened, err := scanLog(dir, p.ID, electionWon, func(m [][]byte) {
			term, err := strconv.Atoi(string(m[1]))
			if err != nil {
				return
			}
			res.Elections++
			k := st{p.Shard, term}
			if winners[k] == nil {
				winners[k] = map[string]bool{}
			}
			winners[k][p.ID] = true
		})
		switch {
		case !opened:
			res.Unreadable = append(res.Unreadable, p.ID)
		case err != nil:
			res.Unreadable = append(res.Unreadable, p.ID+": "+err.Error())
		}
	}
	for k, ids := range winners {
		if len(ids) < 2 {
			continue
		}
		var names []string
		for id := range ids {
			names = append(names, id)
		}
		sort.Strings(names)
		res.Violations = append(res.Violations, fmt.Sprintf("shard %d term %d: %v", k.shard, k.term, names))
	}
	sort.Strings(res.Violations)
	return res
}

// scanLog calls fn with the submatches of every line of node id's log in
// dir that re matches; opened is false when the log cannot be opened.
func scanLog(dir, id string, re *regexp.Regexp, fn func(m [][]byte)) (opened bool, err error) {
	f, err := os.Open(filepath.Join(dir, id+".log"))
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := re.FindSubmatch(sc.Bytes()); m != nil {
			fn(m)
		}
	}
	return true, sc.Err()
}
