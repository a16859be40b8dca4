package store

import (
	"strings"
	"sync"

	"github.com/google/btree"
)

type entry struct {
	key   string
	value []byte
}

func lessEntry(a, b entry) bool { return a.key < b.key }

// memory is the in-memory backend: one B-tree per table behind one RWMutex.
// Rollback uses an undo log, so a failed Update leaves no trace.
type memory struct {
	mu     sync.RWMutex
	tables map[string]*btree.BTreeG[entry]
	closed bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() Store {
	return &memory{tables: map[string]*btree.BTreeG[entry]{}}
}

func (m *memory) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return fn(&memTx{m: m})
}

func (m *memory) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	tx := &memTx{m: m, writable: true}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	return nil
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

func (t *memTx) tree(table string, create bool) *btree.BTreeG[entry] {
	tr := t.m.tables[table]
	if tr == nil && create {
		tr = btree.NewG(32, lessEntry)
		t.m.tables[table] = tr
	}
	return tr
}

func (t *memTx) Get(table, key string) ([]byte, bool) {
	tr := t.tree(table, false)
	if tr == nil {
		return nil, false
	}
	e, ok := tr.Get(entry{key: key})
	return e.value, ok
}

func (t *memTx) Put(table, key string, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	v := make([]byte, len(value))
	copy(v, value)
	old, existed := t.tree(table, true).ReplaceOrInsert(entry{key: key, value: v})
	t.undo = append(t.undo, undo{table: table, key: key, value: old.value, existed: existed})
	return nil
}

func (t *memTx) Delete(table, key string) error {
	if !t.writable {
		return ErrReadOnly
	}
	tr := t.tree(table, false)
	if tr == nil {
		return nil
	}
	old, existed := tr.Delete(entry{key: key})
	if existed {
		t.undo = append(t.undo, undo{table: table, key: key, value: old.value, existed: true})
	}
	return nil
}

func (t *memTx) Ascend(table, prefix, from string, fn func(string, []byte) bool) error {
	tr := t.tree(table, false)
	if tr == nil {
		return nil
	}
	start := from
	if start < prefix {
		start = prefix
	}
	tr.AscendGreaterOrEqual(entry{key: start}, func(e entry) bool {
		if !strings.HasPrefix(e.key, prefix) {
			return false
		}
		return fn(e.key, e.value)
	})
	return nil
}

func (t *memTx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		tr := t.tree(u.table, true)
		if u.existed {
			tr.ReplaceOrInsert(entry{key: u.key, value: u.value})
		} else {
			tr.Delete(entry{key: u.key})
		}
	}
	t.undo = nil
}
