package store

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
)

// memTable is one table of the in-memory backend. Values live in a hash
// map, so Get, and a Put that replaces an existing key, cost one lookup.
// Keys are kept in byte order, for Ascend, in a B-tree that is built the
// first time the table is scanned and kept up to date from then on, so
// tables that are only read by key (S3's object data) never pay for it.
// (With everything in one B-tree, a PutObject spent as long in key
// comparisons and cache misses, five tree walks over thousands of random
// data keys, as in hashing the body with MD5.)
type memTable struct {
	vals map[string][]byte
	// order is nil until the first Ascend. Writers (under the store's
	// write lock) update it when present; readers build it under buildMu,
	// as several Views may scan at once.
	order   atomic.Pointer[btree.BTreeG[orderKey]]
	buildMu sync.Mutex
}

func newMemTable() *memTable {
	return &memTable{vals: map[string][]byte{}}
}

// ordered returns the table's key order, building it on first use. It is
// called under the store's read or write lock, so vals does not change
// meanwhile.
func (tb *memTable) ordered() *btree.BTreeG[orderKey] {
	if o := tb.order.Load(); o != nil {
		return o
	}
	tb.buildMu.Lock()
	defer tb.buildMu.Unlock()
	if o := tb.order.Load(); o != nil {
		return o
	}
	o := btree.NewG(32, lessOrderKey)
	for k := range tb.vals {
		o.ReplaceOrInsert(newOrderKey(k))
	}
	tb.order.Store(o)
	return o
}

// keyAdded and keyRemoved keep the order, if built, in step with vals.
// Only writers call them.
func (tb *memTable) keyAdded(k string) {
	if o := tb.order.Load(); o != nil {
		o.ReplaceOrInsert(newOrderKey(k))
	}
}

func (tb *memTable) keyRemoved(k string) {
	if o := tb.order.Load(); o != nil {
		o.Delete(newOrderKey(k))
	}
}

// orderKey is a key in the B-tree with its first 8 bytes as a big-endian
// integer (zero-padded). Keys that differ there, such as the random ids of
// object data, compare as integers held in the node, without following
// their string pointers into the heap (a cache miss each).
type orderKey struct {
	head uint64
	key  string
}

func newOrderKey(k string) orderKey {
	var b [8]byte
	copy(b[:], k)
	return orderKey{head: binary.BigEndian.Uint64(b[:]), key: k}
}

// lessOrderKey is byte order: if a's and b's heads differ, they differ at
// a byte within the first 8, where a shorter key's padding 0 sorts first
// as its end does.
func lessOrderKey(a, b orderKey) bool {
	if a.head != b.head {
		return a.head < b.head
	}
	return a.key < b.key
}

// memory is the in-memory backend: one memTable per table behind one
// RWMutex. Rollback uses an undo log, so a failed Update leaves no trace.
type memory struct {
	mu     sync.RWMutex
	tables map[string]*memTable
	closed bool
	// rtx is the transaction every View shares: a read-only memTx has no
	// state of its own. wtx is reused by Update, which runs one at a time
	// under mu, so neither costs an allocation per call. A Tx must not be
	// used after its View or Update returns, so nothing sees the reuse.
	rtx, wtx memTx
}

// maxKeptUndo bounds the undo log capacity the reused write transaction
// keeps between Updates, so one huge Update does not pin its log forever.
const maxKeptUndo = 64

// NewMemory returns an empty in-memory store.
func NewMemory() Store {
	m := &memory{tables: map[string]*memTable{}}
	m.rtx = memTx{m: m}
	m.wtx = memTx{m: m, writable: true}
	return m
}

func (m *memory) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return fn(&m.rtx)
}

func (m *memory) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	tx := &m.wtx
	// Deferred so that a panic in fn does not leave its log to the next
	// Update (which would then roll back writes that are not its own).
	defer tx.resetUndo()
	err := fn(tx)
	if err != nil {
		tx.rollback()
	}
	return err
}

// resetUndo empties the log, dropping its references to replaced values so
// they can be freed.
func (t *memTx) resetUndo() {
	clear(t.undo)
	t.undo = t.undo[:0]
	if cap(t.undo) > maxKeptUndo {
		t.undo = nil
	}
}

func (m *memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.tables = nil
	return nil
}

type undo struct {
	table   string
	key     string
	value   []byte
	existed bool
}

type memTx struct {
	m        *memory
	writable bool
	undo     []undo
}

func (t *memTx) table(name string, create bool) *memTable {
	tb := t.m.tables[name]
	if tb == nil && create {
		tb = newMemTable()
		t.m.tables[name] = tb
	}
	return tb
}

func (t *memTx) Get(table, key string) ([]byte, bool) {
	tb := t.table(table, false)
	if tb == nil {
		return nil, false
	}
	v, ok := tb.vals[key]
	return v, ok
}

func (t *memTx) Put(table, key string, value []byte) error {
	v := make([]byte, len(value))
	copy(v, value)
	return t.putOwned(table, key, v)
}

// putOwned stores value itself, not a copy (see PutOwned).
func (t *memTx) putOwned(table, key string, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if value == nil {
		value = []byte{} // present and empty, as Put stores it
	}
	tb := t.table(table, true)
	old, existed := tb.vals[key]
	tb.vals[key] = value
	if !existed {
		tb.keyAdded(key)
	}
	t.undo = append(t.undo, undo{table: table, key: key, value: old, existed: existed})
	return nil
}

func (t *memTx) Delete(table, key string) error {
	if !t.writable {
		return ErrReadOnly
	}
	tb := t.table(table, false)
	if tb == nil {
		return nil
	}
	old, existed := tb.vals[key]
	if existed {
		delete(tb.vals, key)
		tb.keyRemoved(key)
		t.undo = append(t.undo, undo{table: table, key: key, value: old, existed: true})
	}
	return nil
}

func (t *memTx) Ascend(table, prefix, from string, fn func(string, []byte) bool) error {
	tb := t.table(table, false)
	if tb == nil {
		return nil
	}
	start := from
	if start < prefix {
		start = prefix
	}
	tb.ordered().AscendGreaterOrEqual(newOrderKey(start), func(k orderKey) bool {
		if !strings.HasPrefix(k.key, prefix) {
			return false
		}
		return fn(k.key, tb.vals[k.key])
	})
	return nil
}

// rollback undoes the transaction's writes, newest first: each entry
// restores what its key held before that write.
func (t *memTx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		tb := t.table(u.table, true)
		_, present := tb.vals[u.key]
		if u.existed {
			tb.vals[u.key] = u.value
			if !present {
				tb.keyAdded(u.key)
			}
		} else if present {
			delete(tb.vals, u.key)
			tb.keyRemoved(u.key)
		}
	}
}
