package store

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

func TestPutOwned(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			v := []byte("owned")
			if err := s.Update(func(tx Tx) error {
				if err := PutOwned(tx, "t", "k", v); err != nil {
					return err
				}
				return PutOwned(tx, "t", "nil", nil)
			}); err != nil {
				t.Fatal(err)
			}
			s.View(func(tx Tx) error {
				if got, ok := tx.Get("t", "k"); !ok || string(got) != "owned" {
					t.Errorf("Get k = %q, %v", got, ok)
				}
				if got, ok := tx.Get("t", "nil"); !ok || len(got) != 0 {
					t.Errorf("Get nil = %q, %v; want present and empty", got, ok)
				}
				if err := PutOwned(tx, "t", "x", []byte("x")); !errors.Is(err, ErrReadOnly) {
					t.Errorf("PutOwned in View: %v, want ErrReadOnly", err)
				}
				return nil
			})
			// A failed Update rolls owned values back too, and the reused
			// write transaction starts the next Update with an empty log.
			boom := errors.New("boom")
			s.Update(func(tx Tx) error { PutOwned(tx, "t", "k", []byte("new")); return boom })
			s.Update(func(tx Tx) error { return tx.Put("t", "other", []byte("o")) })
			s.View(func(tx Tx) error {
				if got, _ := tx.Get("t", "k"); string(got) != "owned" {
					t.Errorf("after rollback k = %q", got)
				}
				return nil
			})
		})
	}
}

// TestRandomTransactions runs random transactions, a third of them failing,
// against each backend and a plain map, and compares everything Get and
// Ascend see after each one.
func TestRandomTransactions(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 11))
			model := map[string]string{} // table + "\x00" + key -> value
			keys := func(n int) string { return fmt.Sprintf("k%02d", r.IntN(n)) }
			for round := range 300 {
				next := maps.Clone(model)
				fail := r.IntN(3) == 0
				err := s.Update(func(tx Tx) error {
					for range 1 + r.IntN(8) {
						table, key := []string{"a", "b"}[r.IntN(2)], keys(40)
						switch op := r.IntN(3); op {
						case 0, 1:
							v := fmt.Sprint(round, r.IntN(100))
							var err error
							if op == 0 {
								err = tx.Put(table, key, []byte(v))
							} else {
								err = PutOwned(tx, table, key, []byte(v))
							}
							if err != nil {
								return err
							}
							next[table+"\x00"+key] = v
						case 2:
							if err := tx.Delete(table, key); err != nil {
								return err
							}
							delete(next, table+"\x00"+key)
						}
					}
					if fail {
						return errors.New("fail")
					}
					return nil
				})
				if (err != nil) != fail {
					t.Fatalf("round %d: Update error %v", round, err)
				}
				if !fail {
					model = next
				}
				s.View(func(tx Tx) error {
					for _, table := range []string{"a", "b"} {
						if table == "b" && round < 150 {
							// Only point reads for a while: the memory
							// backend builds b's key order late, from
							// what it holds by then.
							for i := range 40 {
								key := fmt.Sprintf("k%02d", i)
								v, ok := tx.Get(table, key)
								mv, mok := model[table+"\x00"+key]
								if ok != mok || string(v) != mv {
									t.Fatalf("round %d: Get %s/%s = %q, %v; want %q, %v", round, table, key, v, ok, mv, mok)
								}
							}
							continue
						}
						var want []string
						for k, v := range model {
							if tb, key, _ := strings.Cut(k, "\x00"); tb == table {
								want = append(want, key+"="+v)
							}
						}
						slices.Sort(want)
						var got []string
						tx.Ascend(table, "", "", func(k string, v []byte) bool {
							got = append(got, k+"="+string(v))
							if gv, ok := tx.Get(table, k); !ok || string(gv) != string(v) {
								t.Errorf("round %d: Get %s/%s = %q, %v; Ascend saw %q", round, table, k, gv, ok, v)
							}
							return true
						})
						if !slices.Equal(got, want) {
							t.Fatalf("round %d table %s:\n got %v\nwant %v", round, table, got, want)
						}
					}
					return nil
				})
			}
		})
	}
}

// The memory backend orders keys by an integer of their first 8 bytes
// first; byte order must hold for keys around that boundary too.
func TestAscendByteOrder(t *testing.T) {
	keys := []string{"", "\x00", "\x00\x00", "a", "a\x00", "a\x00\x00\x00\x00\x00\x00\x00\x00", "ab", "abcdefgh",
		"abcdefgh\x00", "abcdefgha", "abcdefgi", "abcdefh", "b", "\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff", "0123456789abcdef/00000001"}
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s.Update(func(tx Tx) error {
				for _, i := range rand.Perm(len(keys)) {
					if keys[i] != "" || name == "memory" { // bbolt refuses an empty key
						tx.Put("t", keys[i], []byte(keys[i]))
					}
				}
				return nil
			})
			var got []string
			s.View(func(tx Tx) error {
				return tx.Ascend("t", "", "", func(k string, v []byte) bool { got = append(got, k); return true })
			})
			want := slices.Clone(keys)
			if name != "memory" {
				want = want[1:]
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("Ascend order\n got %q\nwant %q", got, want)
			}
		})
	}
}

// Views may scan a table at the same time, including the first scans,
// which build the memory backend's key order.
func TestConcurrentAscend(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s.Update(func(tx Tx) error {
				for i := range 500 {
					tx.Put("t", fmt.Sprintf("%03d", i), nil)
				}
				return nil
			})
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.View(func(tx Tx) error {
						n := 0
						tx.Ascend("t", "", "", func(string, []byte) bool { n++; return true })
						if n != 500 {
							t.Errorf("Ascend saw %d keys", n)
						}
						return nil
					})
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					s.Update(func(tx Tx) error { return tx.Put("u", fmt.Sprint(i), nil) })
				}
			}()
			wg.Wait()
		})
	}
}

// A panic inside an Update must not leave anything to the next Update.
func TestPanicInUpdate(t *testing.T) {
	s := NewMemory()
	defer s.Close()
	func() {
		defer func() { recover() }()
		s.Update(func(tx Tx) error {
			tx.Put("t", "a", []byte("1"))
			panic("boom")
		})
	}()
	s.Update(func(tx Tx) error { tx.Put("t", "b", []byte("2")); return errors.New("fail") })
	s.View(func(tx Tx) error {
		// "a" stays written, as a panicking Update never rolled back; the
		// failed Update only undid its own write.
		if _, ok := tx.Get("t", "a"); !ok {
			t.Error("the failed Update rolled back the panicked one's write")
		}
		if _, ok := tx.Get("t", "b"); ok {
			t.Error("the failed Update's write survived")
		}
		return nil
	})
}
