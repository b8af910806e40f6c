package gateway

import "strings"

// Command metadata copied from Redis 7.0.15's command JSON files
// (cmdmeta_gen.go): what COMMAND, COMMAND INFO and COMMAND DOCS report beyond
// arity and key positions (which come from our own tables).

type redisFlag uint32

// In Redis's COMMAND output order (addReplyFlagsForCommand).
const (
	rfWrite redisFlag = 1 << iota
	rfReadonly
	rfDenyoom
	rfModule
	rfAdmin
	rfPubsub
	rfNoscript
	rfBlocking
	rfLoading
	rfStale
	rfSkipMonitor
	rfSkipSlowlog
	rfAsking
	rfFast
	rfNoAuth
	rfNoMandatoryKeys
	rfNoAsyncLoading
	rfNoMulti
	rfMovableKeys
	rfAllowBusy
)

var redisFlagNames = [...]string{"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
	"no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy"}

func (f redisFlag) names() []string {
	var out []string
	for i, n := range redisFlagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

type aclCat uint32

// In Redis's ACLCommandCategories order.
const (
	aclKeyspace aclCat = 1 << iota
	aclRead
	aclWrite
	aclSet
	aclSortedset
	aclList
	aclHash
	aclString
	aclBitmap
	aclHyperloglog
	aclGeo
	aclStream
	aclPubsub
	aclAdmin
	aclFast
	aclSlow
	aclBlocking
	aclDangerous
	aclConnection
	aclTransaction
	aclScripting
)

var aclNames = [...]string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
	"connection", "transaction", "scripting"}

// implicitACL adds the categories Redis derives from the flags
// (setImplicitACLCategories).
func implicitACL(explicit aclCat, f redisFlag) aclCat {
	c := explicit
	if f&rfWrite != 0 {
		c |= aclWrite
	}
	if f&rfReadonly != 0 && c&aclScripting == 0 {
		c |= aclRead
	}
	if f&rfAdmin != 0 {
		c |= aclAdmin | aclDangerous
	}
	if f&rfPubsub != 0 {
		c |= aclPubsub
	}
	if f&rfFast != 0 {
		c |= aclFast
	}
	if f&rfBlocking != 0 {
		c |= aclBlocking
	}
	if c&aclFast == 0 {
		c |= aclSlow
	}
	return c
}

func (c aclCat) names() []string {
	var out []string
	for i, n := range aclNames {
		if c&(1<<i) != 0 {
			out = append(out, "@"+n)
		}
	}
	return out
}

type keyFlag uint32

const (
	kfRo keyFlag = 1 << iota
	kfRw
	kfOw
	kfRm
	kfAccess
	kfUpdate
	kfInsert
	kfDelete
	kfNotKey
	kfIncomplete
	kfVariableFlags
)

var keyFlagNames = [...]string{"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
	"incomplete", "variable_flags"}

type docFlag uint8

const (
	docDeprecated docFlag = 1 << iota
	docSyscmd
)

type bsKind uint8

const (
	bsUnknown bsKind = iota
	bsIndex
	bsKeyword
)

type fkKind uint8

const (
	fkUnknown fkKind = iota
	fkRange
	fkKeynum
)

type keySpec struct {
	flags     keyFlag
	notes     string
	bs        bsKind
	bsIndex   int
	bsKeyword string
	bsStart   int
	fk        fkKind
	lastKey   int
	keyStep   int
	limit     int
	keynumIdx int
	firstKey  int
}

type cmdMeta struct {
	group           string
	since           string
	summary         string
	complexity      string
	arity           int
	flags           redisFlag
	acl             aclCat
	docFlags        docFlag
	deprecatedSince string
	replacedBy      string
	tips            []string
	keySpecs        []keySpec
}

// docGroup renders a JSON group name as COMMAND DOCS does ("sorted-set").
func docGroup(g string) string { return strings.ReplaceAll(g, "_", "-") }
