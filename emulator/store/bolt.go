package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltOptions tunes OpenBolt.
type BoltOptions struct {
	// Sync flushes the file to stable storage on every commit, so that an
	// acknowledged write survives a power loss, not just a process crash.
	Sync bool
}

type boltStore struct{ db *bolt.DB }

// OpenBolt opens (creating if needed) a bbolt-backed store at path. Only one
// process may hold the file; a second opener fails after one second instead
// of waiting forever.
func OpenBolt(path string, opts BoltOptions) (Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: !opts.Sync, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &boltStore{db: db}, nil
}

func (b *boltStore) View(fn func(Tx) error) error {
	err := b.db.View(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
	return mapBoltErr(err)
}

func (b *boltStore) Update(fn func(Tx) error) error {
	err := b.db.Update(func(tx *bolt.Tx) error { return fn(&boltTx{tx: tx}) })
	return mapBoltErr(err)
}

func (b *boltStore) Close() error { return b.db.Close() }

func mapBoltErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	if errors.Is(err, bolt.ErrTxNotWritable) {
		return ErrReadOnly
	}
	return err
}

type boltTx struct{ tx *bolt.Tx }

func (t *boltTx) Get(table, key string) ([]byte, bool) {
	bk := t.tx.Bucket([]byte(table))
	if bk == nil {
		return nil, false
	}
	v := bk.Get([]byte(key))
	if v == nil {
		return nil, false
	}
	return v, true
}

func (t *boltTx) Put(table, key string, value []byte) error {
	if !t.tx.Writable() {
		return ErrReadOnly
	}
	bk, err := t.tx.CreateBucketIfNotExists([]byte(table))
	if err != nil {
		return fmt.Errorf("store: table %q: %w", table, err)
	}
	if value == nil {
		value = []byte{}
	}
	return bk.Put([]byte(key), value)
}

func (t *boltTx) Delete(table, key string) error {
	if !t.tx.Writable() {
		return ErrReadOnly
	}
	bk := t.tx.Bucket([]byte(table))
	if bk == nil {
		return nil
	}
	return bk.Delete([]byte(key))
}

func (t *boltTx) Ascend(table, prefix, from string, fn func(string, []byte) bool) error {
	bk := t.tx.Bucket([]byte(table))
	if bk == nil {
		return nil
	}
	start := from
	if start < prefix {
		start = prefix
	}
	c := bk.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek([]byte(start)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if !fn(string(k), v) {
			break
		}
	}
	return nil
}
