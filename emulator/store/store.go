// Package store holds the emulator's state: named tables of byte-ordered
// keys, read and written in transactions.
//
// Every emulated service keeps its state here and nowhere else, so one flag
// (--data-dir) makes all of them durable. Two backends implement the same
// interface and pass the same conformance suite (store_test.go):
//
//   - NewMemory: ordered in-memory tables (B-trees), the default. Nothing
//     touches the disk.
//   - OpenBolt: a bbolt file. A write is acknowledged only after its
//     transaction has been written to the file, so state survives a clean
//     stop and a kill -9 of the process. By default the file is not fsynced
//     on each commit (the kernel still holds every write a killed process
//     made); Sync makes each commit also survive a power loss, at a cost of
//     a disk flush per write.
package store

import "errors"

// Store is a transactional, ordered key-value store of named tables.
// Update transactions are serialised; View transactions run concurrently
// with each other.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction. If fn returns an error,
	// none of its writes take effect.
	Update(fn func(Tx) error) error
	// Close releases the store. Further calls fail with ErrClosed.
	Close() error
}

// Tx is a transaction. Byte slices it returns are valid only until the
// transaction ends; copy them to keep them.
type Tx interface {
	// Get returns the value stored under key, or nil and false.
	Get(table, key string) ([]byte, bool)
	// Put stores value under key. The store keeps its own copy.
	Put(table, key string, value []byte) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(table, key string) error
	// Ascend calls fn for each key of table that starts with prefix and is
	// >= from, in byte order, until fn returns false. Writes to the same
	// table from inside fn are not allowed.
	Ascend(table, prefix, from string, fn func(key string, value []byte) bool) error
}

// PutOwned is tx.Put for a value the caller hands over: the caller must
// not modify or reuse value afterwards. The in-memory backend then keeps
// value itself instead of a copy (one allocation and copy less per write
// of object data); other backends copy it as Put does.
func PutOwned(tx Tx, table, key string, value []byte) error {
	if o, ok := tx.(interface {
		putOwned(table, key string, value []byte) error
	}); ok {
		return o.putOwned(table, key, value)
	}
	return tx.Put(table, key, value)
}

// ErrReadOnly is returned by writes inside a View transaction.
var ErrReadOnly = errors.New("store: write in a read-only transaction")

// ErrClosed is returned by every call on a closed store.
var ErrClosed = errors.New("store: closed")
