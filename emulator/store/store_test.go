package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// backends opens one store per backend, so every test below is the
// conformance suite both must pass.
func backends(t *testing.T) map[string]Store {
	t.Helper()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "state.db"), BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMemory()
	t.Cleanup(func() { b.Close(); m.Close() })
	return map[string]Store{"memory": m, "bolt": b}
}

func TestPutGetDelete(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Update(func(tx Tx) error {
				if err := tx.Put("t", "a", []byte("1")); err != nil {
					return err
				}
				return tx.Put("t", "empty", nil)
			}); err != nil {
				t.Fatal(err)
			}
			s.View(func(tx Tx) error {
				if v, ok := tx.Get("t", "a"); !ok || string(v) != "1" {
					t.Errorf("Get a = %q, %v", v, ok)
				}
				if v, ok := tx.Get("t", "empty"); !ok || len(v) != 0 {
					t.Errorf("Get empty = %q, %v; want present and empty", v, ok)
				}
				if _, ok := tx.Get("t", "missing"); ok {
					t.Error("Get missing: present")
				}
				if _, ok := tx.Get("nosuchtable", "a"); ok {
					t.Error("Get in missing table: present")
				}
				if err := tx.Put("t", "x", nil); !errors.Is(err, ErrReadOnly) {
					t.Errorf("Put in View: %v, want ErrReadOnly", err)
				}
				return nil
			})
			s.Update(func(tx Tx) error { return tx.Delete("t", "a") })
			s.View(func(tx Tx) error {
				if _, ok := tx.Get("t", "a"); ok {
					t.Error("deleted key still present")
				}
				return nil
			})
		})
	}
}

func TestRollback(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s.Update(func(tx Tx) error { return tx.Put("t", "keep", []byte("old")) })
			boom := errors.New("boom")
			err := s.Update(func(tx Tx) error {
				tx.Put("t", "keep", []byte("new"))
				tx.Put("t", "added", []byte("x"))
				tx.Delete("t", "keep")
				tx.Put("t2", "other", []byte("y"))
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Update error = %v", err)
			}
			s.View(func(tx Tx) error {
				if v, ok := tx.Get("t", "keep"); !ok || string(v) != "old" {
					t.Errorf("keep = %q, %v after rollback", v, ok)
				}
				if _, ok := tx.Get("t", "added"); ok {
					t.Error("added survived rollback")
				}
				if _, ok := tx.Get("t2", "other"); ok {
					t.Error("other survived rollback")
				}
				return nil
			})
		})
	}
}

func TestAscend(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s.Update(func(tx Tx) error {
				for i := 0; i < 2000; i++ {
					tx.Put("objs", fmt.Sprintf("b/%04d", i), []byte{byte(i)})
				}
				tx.Put("objs", "a", nil)
				tx.Put("objs", "c", nil)
				return nil
			})
			var keys []string
			s.View(func(tx Tx) error {
				return tx.Ascend("objs", "b/", "", func(k string, _ []byte) bool {
					keys = append(keys, k)
					return true
				})
			})
			if len(keys) != 2000 || keys[0] != "b/0000" || keys[1999] != "b/1999" {
				t.Fatalf("prefix scan: %d keys, first %q", len(keys), keys[0])
			}
			keys = nil
			s.View(func(tx Tx) error {
				return tx.Ascend("objs", "b/", "b/1990", func(k string, _ []byte) bool {
					keys = append(keys, k)
					return len(keys) < 5
				})
			})
			if len(keys) != 5 || keys[0] != "b/1990" || keys[4] != "b/1994" {
				t.Fatalf("scan from b/1990, stop at 5: %v", keys)
			}
			keys = nil
			s.View(func(tx Tx) error {
				return tx.Ascend("objs", "", "b/1999", func(k string, _ []byte) bool {
					keys = append(keys, k)
					return true
				})
			})
			if fmt.Sprint(keys) != "[b/1999 c]" {
				t.Fatalf("scan from b/1999: %v", keys)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s.Close()
			if err := s.View(func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
				t.Errorf("View after Close: %v", err)
			}
			if err := s.Update(func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
				t.Errorf("Update after Close: %v", err)
			}
		})
	}
}

func TestBoltReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(tx Tx) error { return tx.Put("t", "k", []byte("v")) })
	s.Close()
	s, err = OpenBolt(path, BoltOptions{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.View(func(tx Tx) error {
		if v, ok := tx.Get("t", "k"); !ok || string(v) != "v" {
			t.Errorf("after reopen: %q, %v", v, ok)
		}
		return nil
	})
}
