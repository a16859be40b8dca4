package asl

import (
	"context"
	"sync"
)

// parallel runs every branch on the effective input; the result is the
// array of branch outputs. The first failing branch fails the state with
// its own error and cancels the others.
func (r *stateRun) parallel(ctx context.Context, eff any) (any, *Error) {
	st := r.st
	r.th.emit("ParallelStateStarted", nil)
	results := make([]any, len(st.branches))
	errs := make([]*Error, len(st.branches))
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := func(i int, th *thread) {
		out, err := r.ex.runMachine(bctx, th, st.branches[i], eff, newScope(r.vars))
		if err != nil {
			errs[i] = err
			cancel()
			return
		}
		results[i] = out
	}
	if r.ex.opts.Sequential {
		for i := range st.branches {
			run(i, r.th.fork())
			if errs[i] != nil {
				break
			}
		}
	} else {
		var wg sync.WaitGroup
		threads := make([]*thread, len(st.branches))
		for i := range st.branches {
			threads[i] = r.th.fork()
		}
		for i := range st.branches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(i, threads[i])
			}()
		}
		wg.Wait()
	}
	r.th.join()
	var failure *Error
	for _, e := range errs {
		if e != nil && e != errAbort {
			failure = e
			break
		}
	}
	if failure == nil {
		for _, e := range errs {
			if e != nil {
				failure = e
			}
		}
	}
	if failure != nil {
		if failure == errAbort && ctx.Err() != nil {
			r.th.emit("ParallelStateAborted", nil)
			return nil, errAbort
		}
		r.th.emit("ParallelStateFailed", nil)
		return nil, failure
	}
	r.th.emit("ParallelStateSucceeded", nil)
	return results, nil
}
